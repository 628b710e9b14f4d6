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
from dataclasses import dataclass

import numpy as np

from ..errors import DatasetError
from ..skeleton import HDM05_25
from ._rotations import euler
from ._text import read_text, to_float, to_int, where

__all__ = ["Bvh", "parse_bvh", "bvh_positions", "HDM05_25_NAME_MAP", "map_joints_by_name"]

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
HDM05_25_NAME_MAP: dict[str, tuple[str, ...]] = {
    # hdm05_25 joint: BVH joint names that stand for it, tried in order (case-insensitive). ASF names,
    # the CMU/HDM05 BVH export names and common MotionBuilder/MHAD-style names.
    "root": ("root", "hip", "hips", "pelvis"),
    "lhipjoint": ("lhipjoint",),
    "lfemur": ("lfemur", "leftupleg", "lefthip", "lhip", "leftthigh", "lupleg"),
    "ltibia": ("ltibia", "leftleg", "leftknee", "lknee", "leftshin", "lleg"),
    "lfoot": ("lfoot", "leftfoot", "leftankle", "lankle"),
    "ltoes": ("ltoes", "lefttoebase", "lefttoe", "lefttoes", "ltoe", "ltoebase"),
    "rhipjoint": ("rhipjoint",),
    "rfemur": ("rfemur", "rightupleg", "righthip", "rhip", "rightthigh", "rupleg"),
    "rtibia": ("rtibia", "rightleg", "rightknee", "rknee", "rightshin", "rleg"),
    "rfoot": ("rfoot", "rightfoot", "rightankle", "rankle"),
    "rtoes": ("rtoes", "righttoebase", "righttoe", "righttoes", "rtoe", "rtoebase"),
    "upperback": ("upperback", "spine", "spine1", "chest"),
    "thorax": ("thorax", "spine1", "spine2", "chest", "chest2"),
    "lowerneck": ("lowerneck", "neck"),
    "upperneck": ("upperneck", "neck1", "neck2", "head"),
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
    "rhumerus": ("rhumerus", "rightarm", "rightshoulder", "rshoulder", "rightuparm", "ruparm"),
    "rradius": ("rradius", "rightforearm", "rightelbow", "relbow", "rightlowarm", "rlowarm"),
    "rwrist": ("rwrist", "righthand", "rightwrist", "rhand"),
    "rfingers": (
        "rfingers",
        "righthandindex1",
        "rightfingerbase",
        "righthandend",
        "rightfingers",
        "righthandfinger",
    ),
    "rthumb": ("rthumb", "righthandthumb", "rightthumb", "righthandthumb1"),
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
