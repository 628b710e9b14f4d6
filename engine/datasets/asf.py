"""Acclaim ASF skeletons and AMC motions (HDM05, CMU): parsing and vectorised forward kinematics.

Joint convention (the same as the CMU/HDM05 BVH exports and the SMART preprocessing): the 31
"joints" are the root followed by the ASF bones, and the position of joint ``b`` is where bone ``b``
*starts* (the end of its parent bone; the root's position for bones hanging off the root). So
``lhipjoint``, ``rhipjoint`` and ``lowerback`` sit at the root, ``lfemur`` at the hip socket,
``ltibia`` at the knee, ``lfoot`` at the ankle and ``ltoes`` at the ball of the foot.

Forward kinematics follows the Acclaim definition: with ``C`` the bone's ``axis`` rotation and ``M``
the AMC rotation of the frame (both applied X, then Y, then Z for order ``XYZ``), the bone's world
rotation is ``R = R_parent C M C^T`` and its end is ``start + length * R @ direction``. All frames are
computed at once, bone by bone.

Units: ASF lengths and AMC root translations are in the ASF's length unit; with ``:units length L``
one unit is ``0.0254 / L`` metres (HDM05 and CMU: ``L = 0.45``). Angles are in degrees unless the ASF
says ``angle rad``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..errors import DatasetError
from ..skeleton import HDM05_25, HDM05_FROM_ASF31
from ._rotations import euler
from ._takes import (
    MocapOptions,
    Take,
    TakeSet,
    check_finite_take,
    class_folder_takes,
    find_files,
    take_loader,
    take_name_fields,
)
from ._text import read_text, to_float, where

__all__ = [
    "AsfSkeleton",
    "parse_asf",
    "parse_amc",
    "amc_positions",
    "ASF31_NAMES",
    "SMART_ZERO_BONES",
    "AmcOptions",
    "AmcFolderOptions",
    "load_amc",
    "load_amc_folder",
]

ASF31_NAMES = (
    "root",
    "lhipjoint",
    "lfemur",
    "ltibia",
    "lfoot",
    "ltoes",
    "rhipjoint",
    "rfemur",
    "rtibia",
    "rfoot",
    "rtoes",
    "lowerback",
    "upperback",
    "thorax",
    "lowerneck",
    "upperneck",
    "head",
    "lclavicle",
    "lhumerus",
    "lradius",
    "lwrist",
    "lhand",
    "lfingers",
    "lthumb",
    "rclavicle",
    "rhumerus",
    "rradius",
    "rwrist",
    "rhand",
    "rfingers",
    "rthumb",
)
"""The 31 joints of the HDM05/CMU ASF skeleton, in the order ``HDM05_FROM_ASF31`` indexes."""

SMART_ZERO_BONES = ("thorax", "lwrist", "rwrist")
"""Bones that the CMU/HDM05 BVH export (and so the SMART data) give zero length. Collapsing them makes
``thorax``/``lowerneck``, ``lwrist``/``lthumb`` and ``rwrist``/``rthumb`` coincide as ``hdm05_25`` says."""

_ROT_DOFS = ("rx", "ry", "rz")
_ALL_DOFS = ("rx", "ry", "rz", "tx", "ty", "tz", "l")
_ROOT_CHANNELS = ("tx", "ty", "tz", "rx", "ry", "rz")
_MAX_BONES = 1000


@dataclass
class AsfSkeleton:
    """A parsed ASF file. Index 0 is the root; ``dofs[j]`` are bone ``j``'s AMC channels in order."""

    path: str
    names: list[str]
    parents: list[int]
    directions: np.ndarray  # (J, 3) unit vectors, world frame at rest
    lengths: np.ndarray  # (J,)
    axes: np.ndarray  # (J, 3, 3) the C matrices
    dofs: list[tuple[str, ...]]
    order: list[int]  # topological order (parents first)
    length_unit: float
    degrees: bool
    root_position: np.ndarray
    axis_orders: list[str]

    @property
    def metres_per_unit(self) -> float:
        return 0.0254 / self.length_unit

    def index(self, name: str) -> int:
        return self.names.index(name)


def _axis_matrix(angles_deg: tuple[float, float, float], order: str, degrees: bool) -> np.ndarray:
    """``C`` for ``axis ax ay az ORDER``: the rotation applying the listed axes first to last."""
    a = np.asarray(angles_deg, dtype=np.float64)
    if degrees:
        a = np.deg2rad(a)
    by_axis = dict(zip("xyz", a, strict=True))
    seq = order.lower()
    return euler(np.array([by_axis[c] for c in reversed(seq)]), seq[::-1])


def parse_asf(path: str | os.PathLike, text: str | None = None) -> AsfSkeleton:
    """Parse an ASF skeleton file (or ``text`` given for it)."""
    path = str(path)
    if text is None:
        text = read_text(path)
    lines = text.splitlines()
    units = {"length": 1.0, "angle": "deg"}
    root_order: list[str] | None = None
    root_axis = "XYZ"
    root_position = np.zeros(3)
    root_orientation = (0.0, 0.0, 0.0)
    bones: list[dict] = []
    hierarchy: list[tuple[int, list[str]]] = []
    section = None
    current: dict | None = None
    in_hier = False
    seen_sections: set[str] = set()

    def err(ln: int, msg: str) -> DatasetError:
        return DatasetError(f"{where(path, ln)}: {msg}")

    for ln, raw in enumerate(lines, start=1):
        s = raw.split("#", 1)[0].strip()
        if not s:
            continue
        tok = s.split()
        if tok[0].startswith(":"):
            if current is not None:
                raise err(ln, f"bone {current.get('name')!r} has no 'end'; expected 'end' before {tok[0]}")
            section = tok[0][1:].lower()
            seen_sections.add(section)
            in_hier = False
            if section == "units":
                continue
            continue
        key = tok[0].lower()
        if section == "units":
            if len(tok) >= 2 and key == "length":
                units["length"] = to_float(tok[1], path, ln, "the length unit")
                if units["length"] <= 0:
                    raise err(ln, f"length unit must be > 0, got {tok[1]}")
            elif len(tok) >= 2 and key == "angle":
                if tok[1].lower() not in ("deg", "rad"):
                    raise err(ln, f"angle unit must be 'deg' or 'rad', got {tok[1]!r}")
                units["angle"] = tok[1].lower()
        elif section == "root":
            if key == "order":
                root_order = [t.lower() for t in tok[1:]]
                if sorted(root_order) != sorted(_ROOT_CHANNELS):
                    raise err(ln, f"root order must list TX TY TZ RX RY RZ, got {' '.join(tok[1:])!r}")
            elif key == "axis":
                if len(tok) != 2 or sorted(tok[1].lower()) != ["x", "y", "z"]:
                    raise err(ln, f"root axis must be a permutation of XYZ, got {' '.join(tok[1:])!r}")
                root_axis = tok[1].upper()
            elif key == "position":
                if len(tok) != 4:
                    raise err(ln, f"root position needs 3 numbers, got {len(tok) - 1}")
                root_position = np.array([to_float(t, path, ln, "root position") for t in tok[1:]])
            elif key == "orientation":
                if len(tok) != 4:
                    raise err(ln, f"root orientation needs 3 numbers, got {len(tok) - 1}")
                root_orientation = tuple(to_float(t, path, ln, "root orientation") for t in tok[1:])
        elif section == "bonedata":
            if key == "begin":
                if current is not None:
                    raise err(ln, "'begin' inside a bone; expected 'end' first")
                if len(bones) >= _MAX_BONES:
                    raise err(ln, f"more than {_MAX_BONES} bones")
                current = {"line": ln, "dof": ()}
            elif key == "end":
                if current is None:
                    raise err(ln, "'end' without 'begin'")
                for need in ("name", "direction", "length"):
                    if need not in current:
                        raise err(ln, f"bone starting at line {current['line']} has no {need!r}")
                current.setdefault("axis", ((0.0, 0.0, 0.0), "XYZ"))
                bones.append(current)
                current = None
            elif current is None:
                raise err(ln, f"{tok[0]!r} outside a begin/end bone block")
            elif key == "name":
                if len(tok) != 2:
                    raise err(ln, "expected 'name <bone>'")
                current["name"] = tok[1]
            elif key == "id":
                pass
            elif key == "direction":
                if len(tok) != 4:
                    raise err(ln, f"direction needs 3 numbers, got {len(tok) - 1}")
                d = np.array([to_float(t, path, ln, "direction") for t in tok[1:]])
                nrm = float(np.linalg.norm(d))
                if not np.isfinite(nrm):
                    raise err(ln, "direction is not finite")
                current["direction"] = d / nrm if nrm > 0 else d
            elif key == "length":
                if len(tok) != 2:
                    raise err(ln, "expected 'length <number>'")
                current["length"] = to_float(tok[1], path, ln, "bone length")
            elif key == "axis":
                if len(tok) != 5 or sorted(tok[4].lower()) != ["x", "y", "z"]:
                    raise err(ln, "expected 'axis <ax> <ay> <az> <order>' with order a permutation of XYZ")
                ang = tuple(to_float(t, path, ln, "axis angle") for t in tok[1:4])
                current["axis"] = (ang, tok[4].upper())
            elif key == "dof":
                dof = tuple(t.lower() for t in tok[1:])
                bad = [d for d in dof if d not in _ALL_DOFS]
                if bad or len(set(dof)) != len(dof):
                    raise err(ln, f"dof must list distinct rx ry rz tx ty tz l, got {' '.join(tok[1:])!r}")
                current["dof"] = dof
            # 'limits' and continuation lines of limits are ignored
        elif section == "hierarchy":
            if key == "begin":
                in_hier = True
            elif key == "end":
                in_hier = False
            elif in_hier:
                hierarchy.append((ln, tok))
    if current is not None:
        raise DatasetError(f"{where(path, current['line'])}: bone block has no 'end' (file truncated?)")
    for sec in ("root", "bonedata", "hierarchy"):
        if sec not in seen_sections:
            raise DatasetError(f"{path}: no ':{sec}' section; expected an ASF skeleton file")

    names = ["root"] + [b["name"] for b in bones]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise DatasetError(f"{path}: bone names repeated: {dup}")
    index = {n: i for i, n in enumerate(names)}
    parents = [-1] * len(names)
    children: dict[int, list[int]] = {i: [] for i in range(len(names))}
    for ln, tok in hierarchy:
        if tok[0] not in index:
            raise DatasetError(f"{where(path, ln)}: hierarchy names unknown bone {tok[0]!r}")
        p = index[tok[0]]
        for c in tok[1:]:
            if c not in index or c == "root":
                raise DatasetError(f"{where(path, ln)}: hierarchy names unknown bone {c!r}")
            ci = index[c]
            if parents[ci] != -1:
                raise DatasetError(f"{where(path, ln)}: bone {c!r} has two parents")
            parents[ci] = p
            children[p].append(ci)
    order: list[int] = []
    stack = [0]
    while stack:
        j = stack.pop()
        order.append(j)
        stack.extend(reversed(children[j]))
    if len(order) != len(names):
        loose = [names[j] for j in range(len(names)) if j not in set(order)]
        raise DatasetError(f"{path}: bones not reachable from the root in ':hierarchy': {loose[:8]}")
    degrees = units["angle"] == "deg"
    n = len(names)
    directions = np.zeros((n, 3))
    lengths = np.zeros(n)
    axes = np.zeros((n, 3, 3))
    axes[0] = _axis_matrix(root_orientation, root_axis, degrees)
    dofs: list[tuple[str, ...]] = [tuple(root_order or _ROOT_CHANNELS)]
    for i, b in enumerate(bones, start=1):
        directions[i] = b["direction"]
        lengths[i] = b["length"]
        axes[i] = _axis_matrix(b["axis"][0], b["axis"][1], degrees)
        dofs.append(b["dof"])
    return AsfSkeleton(
        path=path,
        names=names,
        parents=parents,
        directions=directions,
        lengths=lengths,
        axes=axes,
        dofs=dofs,
        order=order,
        length_unit=float(units["length"]),
        degrees=degrees,
        root_position=root_position,
        axis_orders=[root_axis] + [b["axis"][1] for b in bones],
    )


_INT_RE = re.compile(r"^\s*\d+\s*$")


def parse_amc(path: str | os.PathLike, skel: AsfSkeleton, text: str | None = None) -> dict[str, np.ndarray]:
    """Parse an AMC motion for ``skel``: ``{bone name: (F, ndof) float64}`` (root included).

    Bones with degrees of freedom that a frame leaves out keep 0; a frame that names a bone twice, an
    unknown bone, a wrong value count, a non-finite value, a missing or out-of-sequence frame number
    or a truncated last frame raise :class:`DatasetError` with the line.
    """
    path = str(path)
    if text is None:
        text = read_text(path)
    lines = text.splitlines()
    start = 0
    while start < len(lines):
        s = lines[start].strip()
        if s and not s.startswith("#") and not s.startswith(":"):
            break
        start += 1
    body = lines[start:]
    while body and not body[-1].strip():
        body.pop()
    if not body:
        raise DatasetError(f"{path}: no frames; expected frame numbers followed by one line per bone")
    fast = _parse_amc_fast(body, skel)
    if fast is not None:
        return fast
    return _parse_amc_slow(path, body, start, skel)


def _parse_amc_fast(body: list[str], skel: AsfSkeleton) -> dict[str, np.ndarray] | None:
    """Regular files (same bones in the same order in every frame): one numpy pass. ``None`` otherwise."""
    k = 1
    while k < len(body) and not _INT_RE.match(body[k]):
        k += 1
    if k >= len(body) or len(body) % k:
        return None
    if not _INT_RE.match(body[0]):
        return None
    names = [ln.split(None, 1)[0] if ln.strip() else "" for ln in body[1:k]]
    index = {n: i for i, n in enumerate(skel.names)}
    if len(set(names)) != len(names) or any(n not in index for n in names):
        return None
    counts = [len(skel.dofs[index[n]]) for n in names]
    tpf = 1 + sum(1 + c for c in counts)
    tokens = "\n".join(body).split()
    frames = len(body) // k
    if len(tokens) != tpf * frames:
        return None
    arr = np.array(tokens, dtype=object).reshape(frames, tpf)
    col = 1
    cols: dict[str, tuple[int, int]] = {}
    for n, c in zip(names, counts, strict=True):
        if not np.all(arr[:, col] == n):
            return None
        cols[n] = (col + 1, col + 1 + c)
        col += 1 + c
    try:
        nums = arr[:, 0].astype(np.int64)
    except (ValueError, OverflowError):
        return None
    if not np.array_equal(nums, nums[0] + np.arange(frames)):
        return None
    value_cols = np.concatenate([np.arange(a, b) for a, b in cols.values()]) if cols else np.zeros(0, int)
    try:
        vals = arr[:, value_cols].astype(np.float64)
    except (ValueError, OverflowError):
        return None
    if not np.all(np.isfinite(vals)):
        return None
    out: dict[str, np.ndarray] = {}
    pos = 0
    for n, c in zip(names, counts, strict=True):
        out[n] = vals[:, pos : pos + c]
        pos += c
    for j, n in enumerate(skel.names):
        if n not in out:
            out[n] = np.zeros((frames, len(skel.dofs[j])))
    return out


def _parse_amc_slow(path: str, body: list[str], offset: int, skel: AsfSkeleton) -> dict[str, np.ndarray]:
    index = {n: i for i, n in enumerate(skel.names)}
    frames: list[dict[str, list[float]]] = []
    frame_lines: list[int] = []
    expected_bones = {n for j, n in enumerate(skel.names) if skel.dofs[j]}
    last_num = None
    for i, raw in enumerate(body):
        ln = offset + i + 1
        s = raw.split("#", 1)[0].strip()
        if not s:
            continue
        tok = s.split()
        if len(tok) == 1 and _INT_RE.match(tok[0]):
            num = int(tok[0])
            if last_num is not None and num != last_num + 1:
                raise DatasetError(
                    f"{where(path, ln)}: frame number {num} after {last_num}; expected {last_num + 1}"
                )
            last_num = num
            frames.append({})
            frame_lines.append(ln)
            continue
        if not frames:
            raise DatasetError(f"{where(path, ln)}: expected a frame number, got {s[:40]!r}")
        name = tok[0]
        if name not in index:
            raise DatasetError(
                f"{where(path, ln)}: unknown bone {name[:40]!r} in frame {last_num}; "
                f"expected one of the {len(skel.names)} bones of {skel.path}"
            )
        dof = skel.dofs[index[name]]
        if len(tok) - 1 != len(dof):
            raise DatasetError(
                f"{where(path, ln)}: bone {name!r} in frame {last_num} has {len(tok) - 1} values; "
                f"expected {len(dof)} ({' '.join(dof) or 'none'})"
            )
        if name in frames[-1]:
            raise DatasetError(f"{where(path, ln)}: bone {name!r} appears twice in frame {last_num}")
        frames[-1][name] = [to_float(t, path, ln, f"{name} in frame {last_num}") for t in tok[1:]]
    if not frames:
        raise DatasetError(f"{path}: no frames; expected frame numbers followed by one line per bone")
    first_bones = set(frames[0])
    for f, ln in zip(frames, frame_lines, strict=True):
        if set(f) != first_bones:
            missing = sorted((first_bones | expected_bones) - set(f))
            num = ln
            raise DatasetError(
                f"{where(path, num)}: frame starting here lacks bones {missing[:6]} "
                f"(has {len(f)} of {len(first_bones)}); file truncated or frame incomplete?"
            )
    out = {}
    for j, n in enumerate(skel.names):
        c = len(skel.dofs[j])
        out[n] = np.array([f.get(n, [0.0] * c) for f in frames], dtype=np.float64).reshape(len(frames), c)
    return out


def amc_positions(
    skel: AsfSkeleton, motion: dict[str, np.ndarray], zero_bones: tuple[str, ...] = ()
) -> np.ndarray:
    """World positions ``(F, J, 3)`` of the joints (bone starts, root first) in ASF units.

    ``zero_bones`` are given zero length (see :data:`SMART_ZERO_BONES`).
    """
    n = len(skel.names)
    frames = next(iter(motion.values())).shape[0]
    rot = np.zeros((n, frames, 3, 3))
    end = np.zeros((n, frames, 3))
    start = np.zeros((n, frames, 3))
    root_vals = motion["root"]
    ch = {c: root_vals[:, i] for i, c in enumerate(skel.dofs[0])}
    trans = (
        np.stack(
            [
                ch.get("tx", 0.0 * root_vals[:, 0]),
                ch.get("ty", 0 * root_vals[:, 0]),
                ch.get("tz", 0 * root_vals[:, 0]),
            ],
            axis=-1,
        )
        + skel.root_position
    )
    local = _local_rotations(skel, motion, frames)
    rot[0] = local[0]
    end[0] = trans
    start[0] = trans
    lengths = skel.lengths.copy()
    for b in zero_bones:
        if b in skel.names:
            lengths[skel.index(b)] = 0.0
    for j in skel.order[1:]:
        p = skel.parents[j]
        rot[j] = rot[p] @ local[j]
        start[j] = end[p]
        end[j] = end[p] + lengths[j] * (rot[j] @ skel.directions[j])
    return start.transpose(1, 0, 2)


def _local_rotations(skel: AsfSkeleton, motion: dict[str, np.ndarray], frames: int) -> np.ndarray:
    """``C M C^T`` for every joint and frame, ``(J, F, 3, 3)``; ``M`` from the frame's rx/ry/rz applied
    in the bone's axis order (``XYZ``: ``M = Rz Ry Rx``). Joints sharing an order are done at once."""
    n = len(skel.names)
    angles = np.zeros((n, frames, 3))
    for j, name in enumerate(skel.names):
        vals = motion[name]
        for i, c in enumerate(skel.dofs[j]):
            if c in _ROT_DOFS:
                angles[j, :, _ROT_DOFS.index(c)] = vals[:, i]
    if skel.degrees:
        angles = np.deg2rad(angles)
    out = np.empty((n, frames, 3, 3))
    for seq in set(skel.axis_orders):
        idx = [j for j in range(n) if skel.axis_orders[j] == seq]
        s = seq.lower()
        a = angles[idx]
        m = euler(np.stack([a[..., "xyz".index(c)] for c in reversed(s)], axis=-1), s[::-1])
        c = skel.axes[idx][:, None]
        out[idx] = c @ m @ np.swapaxes(c, -1, -2)
    return out


def asf_beside(amc: Path) -> Path:
    """The ASF for ``HDM_<actor>_..._120.amc`` (``HDM_<actor>.asf``) or CMU ``<subject>_<take>.amc``."""
    folder = amc.parent
    stem = amc.stem
    candidates = []
    m = re.match(r"^(HDM_[A-Za-z0-9]+)_", stem)
    if m:
        candidates.append(folder / f"{m.group(1)}.asf")
    m = re.match(r"^([A-Za-z0-9]+)_\d+$", stem)
    if m:
        candidates.append(folder / f"{m.group(1)}.asf")
    candidates.append(folder / f"{stem}.asf")
    for c in candidates:
        if c.is_file():
            return c
    asfs = sorted(folder.glob("*.asf"))
    if len(asfs) == 1:
        return asfs[0]
    raise DatasetError(
        f"{amc}: no ASF skeleton beside it; expected {' or '.join(str(c.name) for c in candidates)}"
        + (f" (found {len(asfs)} .asf files, ambiguous)" if asfs else "")
    )


# -- loaders: one take, or a folder of takes in class sub-folders --------------------------------------------
@dataclass(frozen=True)
class AmcOptions(MocapOptions):
    """:func:`load_amc`'s options: :class:`~engine.datasets._takes.MocapOptions` plus

    ``smart_skeleton``: the thorax and wrist bones get zero length as in the SMART data and the
    HDM05/CMU BVH exports, so that the coincident joints of ``hdm05_25`` coincide. ``asf``: the
    skeleton (default: the one beside the AMC, ``HDM_<actor>.asf`` or CMU ``<subject>.asf``).
    ``class_name``: the take's class (default: its motion name). The unit is the ASF's
    (``metres_per_unit`` overrides it), the source rate the ``_120`` of an HDM05 name, else 120
    (``source_fps`` overrides it).
    """

    smart_skeleton: bool = True
    asf: str | os.PathLike | None = None
    class_name: str | None = None

    FLAGS: ClassVar = (*MocapOptions.FLAGS, "smart_skeleton")


@dataclass(frozen=True)
class AmcFolderOptions(MocapOptions):
    """:func:`load_amc_folder`'s options: ``smart_skeleton`` as :class:`AmcOptions`; ``class_names``
    names the classes (see :func:`engine.datasets._takes.class_folder_takes`)."""

    smart_skeleton: bool = True
    class_names: Sequence[str] | Mapping[str, str] | None = None

    FLAGS: ClassVar = AmcOptions.FLAGS


def _asf31_selection(skel: AsfSkeleton, path: Path) -> list[int]:
    missing = [n for n in ASF31_NAMES if n not in skel.names]
    if missing:
        raise DatasetError(
            f"{path}: ASF skeleton lacks bones {missing[:8]}; expected the 31-bone HDM05/CMU skeleton"
        )
    return [skel.names.index(ASF31_NAMES[k]) for k in HDM05_FROM_ASF31]


def amc_take(amc: Path, asf: Path, options: AmcOptions | AmcFolderOptions, skels: dict, label: int) -> Take:
    """One AMC take on ``hdm05_25`` in metres (ASF skeletons parsed once into ``skels``)."""
    if asf not in skels:
        skels[asf] = parse_asf(asf)
    skel = skels[asf]
    motion = parse_amc(amc, skel)
    sel = _asf31_selection(skel, asf)
    with np.errstate(all="ignore"):
        pos = amc_positions(skel, motion, SMART_ZERO_BONES if options.smart_skeleton else ())
        pos = pos[:, sel] * (options.metres_per_unit or skel.metres_per_unit)
    check_finite_take(pos, amc)
    _, subject, name_fps = take_name_fields(amc.stem)
    return Take(pos, options.source_fps or name_fps or 120.0, str(amc), subject, label)


@take_loader("amc", AmcOptions)
def load_amc(amc: Path, opts: AmcOptions) -> TakeSet:
    """One ASF/AMC take (HDM05, CMU) as a dataset of windows on ``hdm05_25``, in metres.

    ``options`` are the fields of :class:`AmcOptions` (window, stride, fps, centre, face, bone_lengths,
    ...); ``cache=False`` reads the file again instead of the cached dataset, ``cache_dir=`` moves it.
    """
    if not amc.is_file():
        raise DatasetError(f"{amc}: AMC file not found")
    asf = Path(opts.asf) if opts.asf is not None else asf_beside(amc)
    name = opts.class_name or take_name_fields(amc.stem)[0]
    read = lambda f: amc_take(f, asf, opts, {}, 0)
    return TakeSet([amc], read, HDM05_25, [name], info={"asf": str(asf)}, key_files=[asf])


@take_loader("amc_folder", AmcFolderOptions)
def load_amc_folder(root: Path, opts: AmcFolderOptions) -> TakeSet:
    """A folder of ASF/AMC takes in per-class sub-folders (e.g. HDM05 ``train/1`` ... ``train/11``).

    Classes come from the sub-folders (sorted numerically when all are numbers), named as
    :func:`engine.datasets._takes.class_folder_takes` says; the subject is the actor of an HDM05 name
    (``HDM_bd_...`` -> ``bd``). ``options`` are the fields of :class:`AmcFolderOptions`.
    """
    files, label, names = class_folder_takes(root, ".amc", opts.class_names)
    skels: dict = {}
    read = lambda f: amc_take(f, asf_beside(f), opts, skels, label[f])
    asfs = sorted(find_files(root, ".asf"))
    return TakeSet(files, read, HDM05_25, names, info={"folder": str(root)}, key_files=asfs)
