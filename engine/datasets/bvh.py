"""BVH motion files: parsing and vectorised forward kinematics, plus the joint-name map onto hdm05_25.

Joint positions are the BVH joints' world positions (``End Site``\\ s are not joints), in the file's own
units, in the order the joints appear in the file. Rotation channels apply in the order listed
(``Zrotation Yrotation Xrotation`` gives ``R = Rz Ry Rx``); position channels add to the joint's
``OFFSET``. For an HDM05/CMU BVH export the 31 joints come in the ASF order (``hip`` = root first), so
``HDM05_FROM_ASF31`` selects the 25 ``hdm05_25`` joints directly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from ..skeleton import HDM05_25
from ._rotations import euler
from ._takes import (
    MocapOptions,
    Take,
    TakeSet,
    check_finite_take,
    class_folder_takes,
    file_or_folder,
    take_loader,
    take_name_fields,
)
from ._text import read_text, to_float, to_int, where
from .io import METRES_PER_UNIT_HDM05

__all__ = [
    "Bvh",
    "parse_bvh",
    "bvh_positions",
    "HDM05_25_NAME_MAP",
    "map_joints_by_name",
    "BvhOptions",
    "BvhFolderOptions",
    "MHAD_CLASS_NAMES",
    "guess_metres_per_unit",
    "load_bvh",
    "load_bvh_folder",
    "load_mhad",
]

_MAX_JOINTS = 1000
_CHANNELS = {"xposition", "yposition", "zposition", "xrotation", "yrotation", "zrotation"}


@dataclass
class Bvh:
    path: str
    names: list[str]
    parents: list[int]
    offsets: np.ndarray  # (J, 3)
    channels: list[tuple[str, ...]]  # per joint, lower case, e.g. ('xposition', ..., 'zrotation')
    frame_time: float
    motion: np.ndarray  # (F, total channels)

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])


def parse_bvh(path: str | os.PathLike, text: str | None = None) -> Bvh:
    """Parse a BVH file (or ``text`` given for it); every error names the line and what was expected."""
    path = str(path)
    if text is None:
        text = read_text(path)
    lines = text.splitlines()
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[tuple[str, ...]] = []
    stack: list[int] = []  # joint index per open brace; -2 for an End Site
    pending: int | None = None  # joint declared, waiting for '{'
    ln = 0
    started = False
    i = 0

    def err(line: int, msg: str) -> DatasetError:
        return DatasetError(f"{where(path, line)}: {msg}")

    while i < len(lines):
        ln = i + 1
        tok = lines[i].split()
        i += 1
        if not tok:
            continue
        key = tok[0].upper()
        if not started:
            if key != "HIERARCHY":
                raise err(ln, f"expected 'HIERARCHY' to start a BVH file, got {tok[0][:40]!r}")
            started = True
            continue
        if key in ("ROOT", "JOINT"):
            if pending is not None:
                raise err(ln, f"expected '{{' after joint {names[pending]!r}")
            if (key == "ROOT") != (not names):
                raise err(
                    ln, "expected one ROOT, as the first joint" if key == "ROOT" else "expected ROOT first"
                )
            if key == "JOINT" and (not stack or stack[-1] < 0):
                raise err(ln, "JOINT outside a joint's braces")
            if len(tok) < 2:
                raise err(ln, f"{tok[0]} needs a name")
            if len(names) >= _MAX_JOINTS:
                raise err(ln, f"more than {_MAX_JOINTS} joints")
            names.append(" ".join(tok[1:]))
            parents.append(stack[-1] if stack else -1)
            offsets.append([])
            channels.append(())
            pending = len(names) - 1
        elif key == "END":
            if not stack or stack[-1] < 0:
                raise err(ln, "End Site outside a joint")
            if pending is not None:
                raise err(ln, f"expected '{{' after joint {names[pending]!r}")
            pending = -2
        elif key == "{":
            if pending is None:
                raise err(ln, "'{' without a ROOT, JOINT or End Site before it")
            stack.append(pending)
            pending = None
            if len(tok) > 1:
                raise err(ln, "expected '{' alone on its line")
        elif key == "}":
            if not stack:
                raise err(ln, "'}' without a matching '{'")
            j = stack.pop()
            if j >= 0 and len(offsets[j]) != 3:
                raise err(ln, f"joint {names[j]!r} has no OFFSET")
            if not stack:
                break
        elif key == "OFFSET":
            if not stack:
                raise err(ln, "OFFSET outside a joint")
            if len(tok) != 4:
                raise err(ln, f"OFFSET needs 3 numbers, got {len(tok) - 1}")
            vals = [to_float(t, path, ln, "OFFSET") for t in tok[1:]]
            if stack[-1] >= 0:
                offsets[stack[-1]] = vals
        elif key == "CHANNELS":
            if not stack or stack[-1] < 0:
                raise err(ln, "CHANNELS outside a joint")
            if len(tok) < 2:
                raise err(ln, "CHANNELS needs a count")
            n = to_int(tok[1], path, ln, "the channel count", minimum=0)
            chans = tuple(t.lower() for t in tok[2:])
            if n != len(chans):
                raise err(ln, f"CHANNELS says {n} but lists {len(chans)}")
            bad = [c for c in chans if c not in _CHANNELS]
            if bad or len(set(chans)) != len(chans):
                raise err(
                    ln, f"unknown or repeated channels {bad or list(chans)}; expected X/Y/Z position/rotation"
                )
            channels[stack[-1]] = chans
        elif key == "MOTION":
            raise err(ln, "MOTION before the hierarchy was closed; expected '}'")
        else:
            raise err(ln, f"unexpected {tok[0][:40]!r} in the hierarchy")
    if not names:
        raise DatasetError(f"{path}: no ROOT joint; expected a BVH hierarchy")
    if stack or pending is not None:
        raise DatasetError(f"{path}: hierarchy not closed at the end of the file (truncated?); expected '}}'")
    # MOTION header
    header: list[tuple[int, list[str]]] = []
    while i < len(lines) and len(header) < 3:
        tok = lines[i].split()
        i += 1
        if tok:
            header.append((i, tok))
    if len(header) < 3 or header[0][1][0].upper() != "MOTION":
        raise DatasetError(
            f"{where(path, header[0][0] if header else ln)}: expected 'MOTION', 'Frames:' "
            "and 'Frame Time:' after the hierarchy"
        )
    ln_f, tok_f = header[1]
    if tok_f[0].lower() != "frames:" or len(tok_f) != 2:
        raise err(ln_f, "expected 'Frames: <count>'")
    n_frames = to_int(tok_f[1], path, ln_f, "the frame count", minimum=1)
    ln_t, tok_t = header[2]
    if [t.lower() for t in tok_t[:2]] != ["frame", "time:"] or len(tok_t) != 3:
        raise err(ln_t, "expected 'Frame Time: <seconds>'")
    frame_time = to_float(tok_t[2], path, ln_t, "the frame time")
    if not 1e-6 <= frame_time <= 1e3:
        raise err(ln_t, f"frame time {tok_t[2]} s; expected seconds per frame between 1e-6 and 1000")
    n_ch = sum(len(c) for c in channels)
    first = i
    rows = lines[first:]
    while rows and not rows[-1].strip():
        rows.pop()
    if len(rows) < n_frames:
        raise DatasetError(
            f"{path}: 'Frames: {n_frames}' but only {len(rows)} frame lines follow (line {first + 1} on); "
            "file truncated?"
        )
    if len(rows) > n_frames:
        raise err(first + n_frames + 1, f"more frame lines than 'Frames: {n_frames}'")
    motion = _parse_rows(path, rows, first, n_ch)
    return Bvh(
        path=path,
        names=names,
        parents=parents,
        offsets=np.asarray(offsets, dtype=np.float64).reshape(-1, 3),
        channels=channels,
        frame_time=frame_time,
        motion=motion,
    )


def _parse_rows(path: str, rows: list[str], first: int, n_ch: int) -> np.ndarray:
    tokens = " ".join(rows).split()
    if len(tokens) == n_ch * len(rows):
        try:
            arr = np.array(tokens, dtype=np.float64).reshape(len(rows), n_ch)
        except (ValueError, OverflowError):
            arr = None
        if arr is not None and np.all(np.isfinite(arr)):
            return arr
    # locate the offending line
    for k, row in enumerate(rows):
        tok = row.split()
        ln = first + k + 1
        if len(tok) != n_ch:
            raise DatasetError(
                f"{where(path, ln)}: frame {k} has {len(tok)} values; expected {n_ch} (one per channel)"
            )
        for t in tok:
            to_float(t, path, ln, f"a channel value of frame {k}")
    raise DatasetError(f"{path}: frame data could not be read")  # pragma: no cover - defensive


def bvh_positions(bvh: Bvh) -> np.ndarray:
    """World positions ``(F, J, 3)`` of the BVH joints in the file's units (vectorised over frames)."""
    n = len(bvh.names)
    frames = bvh.num_frames
    rot = np.zeros((n, frames, 3, 3))
    pos = np.zeros((n, frames, 3))
    col = 0
    for j in range(n):
        chans = bvh.channels[j]
        vals = bvh.motion[:, col : col + len(chans)]
        col += len(chans)
        rot_axes = "".join(c[0] for c in chans if c.endswith("rotation"))
        rot_vals = (
            np.stack([vals[:, k] for k, c in enumerate(chans) if c.endswith("rotation")], axis=-1)
            if rot_axes
            else np.zeros((frames, 0))
        )
        local_r = euler(np.deg2rad(rot_vals), rot_axes)
        t = np.broadcast_to(bvh.offsets[j], (frames, 3)).copy()
        for k, c in enumerate(chans):
            if c.endswith("position"):
                t[:, "xyz".index(c[0])] += vals[:, k]
        p = bvh.parents[j]
        if p < 0:
            rot[j] = local_r
            pos[j] = t
        else:
            rot[j] = rot[p] @ local_r
            pos[j] = pos[p] + (rot[p] @ t[..., None])[..., 0]
    return pos.transpose(1, 0, 2)


# -- joint names onto hdm05_25 ---------------------------------------------------------------------
_LEFT_NAMES: dict[str, tuple[str, ...]] = {
    "lhipjoint": ("lhipjoint",),
    "lfemur": ("lfemur", "leftupleg", "lefthip", "lhip", "leftthigh", "lupleg"),
    "ltibia": ("ltibia", "leftleg", "leftknee", "lknee", "leftshin", "lleg"),
    "lfoot": ("lfoot", "leftfoot", "leftankle", "lankle"),
    "ltoes": ("ltoes", "lefttoebase", "lefttoe", "lefttoes", "ltoe", "ltoebase"),
    "lhumerus": ("lhumerus", "leftarm", "leftshoulder", "lshoulder", "leftuparm", "luparm"),
    "lradius": ("lradius", "leftforearm", "leftelbow", "lelbow", "leftlowarm", "llowarm"),
    "lwrist": ("lwrist", "lefthand", "leftwrist", "lhand"),
    "lfingers": (
        "lfingers",
        "lefthandindex1",
        "leftfingerbase",
        "lefthandend",
        "leftfingers",
        "lefthandfinger",
    ),
    "lthumb": ("lthumb", "lefthandthumb", "leftthumb", "lefthandthumb1"),
}


def _right(name: str) -> str:
    """The right-side name of a left-side one (``left...`` -> ``right...``, ``l...`` -> ``r...``)."""
    return "right" + name[4:] if name.startswith("left") else "r" + name[1:]


HDM05_25_NAME_MAP: dict[str, tuple[str, ...]] = {
    # hdm05_25 joint: BVH joint names that stand for it, tried in order (case-insensitive). ASF names,
    # the CMU/HDM05 BVH export names and common MotionBuilder/MHAD-style names; the right side
    # mirrors the left.
    "root": ("root", "hip", "hips", "pelvis"),
    **_LEFT_NAMES,
    **{_right(j): tuple(_right(n) for n in names) for j, names in _LEFT_NAMES.items()},
    "upperback": ("upperback", "spine", "spine1", "chest"),
    "thorax": ("thorax", "spine1", "spine2", "chest", "chest2"),
    "lowerneck": ("lowerneck", "neck"),
    "upperneck": ("upperneck", "neck1", "neck2", "head"),
}
"""How BVH joints are found for each ``hdm05_25`` joint (MHAD and other non-ASF exports).

``leftshoulder`` is only used for ``lhumerus`` when there is no ``leftarm`` (in MotionBuilder naming
``LeftShoulder`` is the clavicle). A joint with no match takes its ``hdm05_25`` parent's position
(a zero-length bone) and is listed in ``info['missing_joints']``; the required joints below must exist.
"""

REQUIRED_JOINTS = (
    "root",
    "lfemur",
    "ltibia",
    "lfoot",
    "rfemur",
    "rtibia",
    "rfoot",
    "lhumerus",
    "lradius",
    "lwrist",
    "rhumerus",
    "rradius",
    "rwrist",
)

_NORM = re.compile(r"[^a-z0-9]")


def map_joints_by_name(names: list[str], root_index: int = 0) -> tuple[list[int], list[str]]:
    """For each ``hdm05_25`` joint, the BVH joint index standing for it (``-1`` = take the parent's).

    Returns ``(indices, missing joint names)``; raises :class:`DatasetError` when a required joint
    (legs, arms, root) has no match.
    """
    norm = {}
    for i, n in enumerate(names):
        norm.setdefault(_NORM.sub("", n.lower()), i)
    out: list[int] = []
    missing: list[str] = []
    used: set[int] = set()
    for jn in HDM05_25.joint_names:
        idx = -1
        if jn == "root":
            idx = root_index
        else:
            for cand in HDM05_25_NAME_MAP[jn]:
                k = norm.get(cand, -1)
                if k >= 0 and (k not in used or jn in ("lthumb", "rthumb")):
                    idx = k
                    break
        if idx < 0:
            missing.append(jn)
        else:
            used.add(idx)
        out.append(idx)
    lost = [j for j in REQUIRED_JOINTS if out[HDM05_25.index(j)] < 0]
    if lost:
        raise DatasetError(
            f"BVH joints {names[:40]} do not name the hdm05_25 joints {lost}; "
            "expected names such as those in engine.datasets.bvh.HDM05_25_NAME_MAP"
        )
    return out, missing


def select_hdm05_25(positions: np.ndarray, mapping: list[int]) -> np.ndarray:
    """``(F, 25, 3)`` from BVH positions ``(F, J, 3)``; unmapped joints take their parent's position."""
    out = np.zeros(positions.shape[:1] + (25, 3), dtype=positions.dtype)
    order = _topological(HDM05_25.parents)
    for j in order:
        k = mapping[j]
        out[:, j] = positions[:, k] if k >= 0 else out[:, HDM05_25.parents[j]]
    return out


def _topological(parents: tuple[int, ...]) -> list[int]:
    order: list[int] = []
    done: set[int] = set()
    while len(order) < len(parents):
        for j, p in enumerate(parents):
            if j not in done and (p < 0 or p in done):
                order.append(j)
                done.add(j)
    return order


# -- loaders: one take, a folder of takes in class sub-folders, Berkeley MHAD ------------------------------
_UNIT_CANDIDATES = {"m": 1.0, "cm": 0.01, "mm": 0.001, "inch": 0.0254, "hdm05/cmu": METRES_PER_UNIT_HDM05}


def guess_metres_per_unit(rest_height: float) -> tuple[float, str]:
    """The unit under which a skeleton ``rest_height`` units tall (feet to neck/head) is nearest 1.6 m."""
    if not rest_height > 0:
        return 1.0, "m"
    best = min(_UNIT_CANDIDATES.items(), key=lambda kv: abs(np.log(rest_height * kv[1] / 1.6)))
    return best[1], best[0]


def bvh_positions_rest(bvh: Bvh) -> np.ndarray:
    """Rest-pose joint positions (all channels zero)."""
    zero = np.zeros((1, bvh.motion.shape[1]))
    return bvh_positions(
        Bvh(bvh.path, bvh.names, bvh.parents, bvh.offsets, bvh.channels, bvh.frame_time, zero)
    )[0]


def _explicit_joints(joints: Sequence[str | int], names: list[str], path: Path) -> list[int]:
    if len(joints) != 25:
        raise DatasetError(
            f"{path}: joints= gives {len(joints)} entries; expected 25 (one per hdm05_25 joint)"
        )
    out = []
    for j in joints:
        if isinstance(j, str):
            if j not in names:
                raise DatasetError(f"{path}: no BVH joint named {j!r}; joints are {names[:40]}")
            out.append(names.index(j))
        else:
            k = int(j)
            if not -1 <= k < len(names):
                raise DatasetError(f"{path}: joint index {k} out of range for {len(names)} BVH joints")
            out.append(k)
    return out


def bvh_take(
    path: Path,
    options: MocapOptions,
    label: int,
    subject: str | None,
    joints: Sequence[str | int] | None = None,
) -> Take:
    """One BVH take on ``hdm05_25`` in metres; its ``facts`` are the unit used and the joints missing."""
    bvh = parse_bvh(path)
    if joints is None:
        try:
            mapping, missing = map_joints_by_name(bvh.names)
        except DatasetError as exc:
            raise DatasetError(f"{path}: {exc}") from None
    else:
        mapping, missing = _explicit_joints(joints, bvh.names, path), []
    with np.errstate(all="ignore"):
        sel = select_hdm05_25(bvh_positions(bvh), mapping)
        if options.metres_per_unit is None:
            zero = bvh_positions_rest(bvh)
            height = float(np.ptp(zero[:, 1])) if zero.size else 0.0
            scale, unit = guess_metres_per_unit(height if np.isfinite(height) else 0.0)
        else:
            scale, unit = options.metres_per_unit, "given"
        sel = sel * scale
    check_finite_take(sel, path)
    rate = options.source_fps or bvh.fps
    if abs(rate - round(rate)) < 0.01:
        rate = float(round(rate))
    facts = {"metres_per_unit": scale, "unit": unit, "missing_joints": missing}
    return Take(sel, rate, str(path), subject, label, facts=facts)


@dataclass(frozen=True)
class BvhOptions(MocapOptions):
    """:func:`load_bvh`'s options: :class:`~engine.datasets._takes.MocapOptions` plus ``joints`` (the 25
    BVH joints in ``hdm05_25`` order, names or indices, -1 = the parent's position; default: found by
    name, see :data:`HDM05_25_NAME_MAP`) and ``class_name`` (default: the take's motion name).
    ``metres_per_unit`` defaults to a guess from the rest skeleton's height (m, cm, mm, inches or the
    HDM05/CMU unit 0.0254/0.45 m), recorded in ``info``; ``source_fps`` to the file's ``Frame Time``."""

    joints: Sequence[str | int] | None = None
    class_name: str | None = None


@dataclass(frozen=True)
class BvhFolderOptions(MocapOptions):
    """:func:`load_bvh_folder`'s options: ``class_names`` names the classes (see
    :func:`engine.datasets._takes.class_folder_takes`)."""

    class_names: Sequence[str] | Mapping[str, str] | None = None


@take_loader("bvh", BvhOptions)
def load_bvh(p: Path, opts: BvhOptions) -> TakeSet:
    """One BVH take on ``hdm05_25`` in metres (joints found by name, see :data:`HDM05_25_NAME_MAP`).

    ``options`` are the fields of :class:`BvhOptions`; ``fps=None`` keeps the file's rate and
    ``window=None`` the whole take.
    """
    if not p.is_file():
        raise DatasetError(f"{p}: BVH file not found")
    motion, subject, _ = take_name_fields(p.stem)
    read = lambda f: bvh_take(f, opts, 0, subject, opts.joints)
    return TakeSet([p], read, HDM05_25, [opts.class_name or motion])


@take_loader("bvh_folder", BvhFolderOptions)
def load_bvh_folder(root: Path, opts: BvhFolderOptions) -> TakeSet:
    """A folder of BVH takes in per-class sub-folders, as :func:`engine.datasets.load_amc_folder` does
    for AMC; ``options`` are the fields of :class:`BvhFolderOptions`."""
    files, label, names = class_folder_takes(root, ".bvh", opts.class_names)
    read = lambda f: bvh_take(f, opts, label[f], take_name_fields(f.stem)[1])
    return TakeSet(files, read, HDM05_25, names, info={"folder": str(root)})


MHAD_CLASS_NAMES = (
    "jumping in place",
    "jumping jacks",
    "bending",
    "punching",
    "waving two hands",
    "waving one hand",
    "clapping hands",
    "throwing a ball",
    "sit down then stand up",
    "sit down",
    "stand up",
)
"""Berkeley MHAD's 11 actions, ``a01`` ... ``a11``."""

_MHAD_RE = re.compile(r"^skl_s(\d+)_a(\d+)_r(\d+)$", re.IGNORECASE)


def _mhad_take(f: Path, options: MocapOptions) -> Take:
    s, a, r = (int(g) for g in _MHAD_RE.match(f.stem).groups())
    if not 1 <= a <= len(MHAD_CLASS_NAMES):
        raise DatasetError(f"{f}: action a{a:02d}; expected a01 ... a{len(MHAD_CLASS_NAMES):02d}")
    take = bvh_take(f, options, a - 1, f"s{s:02d}")
    take.per_clip["repetitions"] = r
    return take


@take_loader("mhad", MocapOptions)
def load_mhad(p: Path, opts: MocapOptions) -> TakeSet:
    """Berkeley MHAD skeleton BVH files ``skl_sXX_aYY_rZZ.bvh`` (a file or a folder, searched recursively).

    Class ``aYY`` -> index ``YY - 1`` of :data:`MHAD_CLASS_NAMES`, subject ``sXX``, repetition ``rZZ``
    (in ``info['repetitions']``). Captured at 480 Hz (the file's ``Frame Time``, or ``source_fps``),
    resampled to ``fps`` (every 16th frame). Joints mapped by name onto ``hdm05_25``
    (:data:`HDM05_25_NAME_MAP`). ``options`` are the fields of
    :class:`~engine.datasets._takes.MocapOptions`.
    """
    files = file_or_folder(p, ".bvh", _MHAD_RE, "Berkeley MHAD skeleton skl_sXX_aYY_rZZ.bvh")
    return TakeSet(files, lambda f: _mhad_take(f, opts), HDM05_25, list(MHAD_CLASS_NAMES))
