"""Per-format loaders: ASF/AMC, BVH, Berkeley MHAD, NTU RGB+D (raw and ST-GCN arrays).

Every mocap loader goes the same way: parse, forward kinematics, the 25 ``hdm05_25`` joints in metres,
resample to ``fps`` (120 -> 30 fps takes every 4th frame), optionally turn the take to face +z at its
first frame and root-centre every frame, then cut windows of ``window`` frames every ``stride``
frames. A take shorter than a window gives one clip padded by holding its last frame (``padded``).
``window=None`` keeps whole takes, padded to the longest one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from ..skeleton import HDM05_25, HDM05_FROM_ASF31, NTU25, Layout
from ._cache import cached
from ._dataset import (
    MotionDataset,
    NonFiniteMotionError,
    check_window,
    face_and_centre,
    resample,
    set_bone_lengths,
    window_take,
)
from .asf import ASF31_NAMES, SMART_ZERO_BONES, amc_positions, asf_beside, parse_amc, parse_asf
from .bvh import bvh_positions, map_joints_by_name, parse_bvh, select_hdm05_25
from .io import METRES_PER_UNIT_HDM05, open_npy
from .ntu import ntu_class_names, ntu_name_fields, parse_ntu_skeleton, read_label_pkl, select_body_npy

__all__ = [
    "load_amc",
    "load_amc_folder",
    "load_bvh",
    "load_bvh_folder",
    "load_mhad",
    "load_ntu_skeleton",
    "load_ntu_npy",
    "MHAD_CLASS_NAMES",
]

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

_HDM_RE = re.compile(r"^HDM_([A-Za-z0-9]+)_(.+?)_(\d+)_(\d+)$")
_CMU_RE = re.compile(r"^(\d+)_(\d+)$")
_MHAD_RE = re.compile(r"^skl_s(\d+)_a(\d+)_r(\d+)$", re.IGNORECASE)


@dataclass
class _Take:
    positions: np.ndarray  # (F, V, 3) metres
    fps: float
    source: str
    subject: str | None
    label: int


def find_files(root: Path, suffix: str):
    """Files under ``root`` whose suffix is ``suffix``, ignoring case (HDM05 has an ``.AMC`` take)."""
    for f in root.rglob("*"):
        if f.suffix.lower() == suffix and f.is_file():
            yield f


def _take_name_fields(stem: str) -> tuple[str, str | None, float | None]:
    """``(motion, subject, fps)`` from an HDM05 (``HDM_bd_kickLFront1Reps_001_120``) or CMU name."""
    m = _HDM_RE.match(stem)
    if m:
        return m.group(2), m.group(1), float(m.group(4))
    m = _CMU_RE.match(stem)
    if m:
        return stem, m.group(1), None
    return stem, None, None


def _clips(
    takes: list[_Take],
    *,
    layout: Layout,
    fps: float | None,
    window: int | None,
    stride: int,
    centre: bool,
    face: bool,
    bone_lengths=None,
) -> dict:
    root = layout.root
    lhip, rhip = (1, 6) if layout is HDM05_25 else (12, 16)
    out = {"motions": [], "labels": [], "sources": [], "first_frames": [], "subjects": [], "padded": []}
    processed = []
    for t in takes:
        frames = t.positions
        if fps is not None:
            frames, idx = resample(frames, t.fps, fps)
        else:
            idx = np.arange(frames.shape[0])
        if bone_lengths is not None:
            frames = set_bone_lengths(frames, layout, bone_lengths)
        frames = face_and_centre(frames, root, lhip, rhip, centre=centre, face=face)
        processed.append((t, frames, idx))
    if window is None:
        length = max(p[1].shape[0] for p in processed)
    for t, frames, idx in processed:
        if window is None:
            clips, starts, pads = window_take(frames, length, stride)
        else:
            clips, starts, pads = window_take(frames, window, stride)
        for c, s, p in zip(clips, starts, pads, strict=True):
            out["motions"].append(c.astype(np.float32))
            out["labels"].append(t.label)
            out["sources"].append(t.source)
            out["first_frames"].append(int(idx[s]))
            out["subjects"].append(t.subject)
            out["padded"].append(p)
    return out


def _dataset(
    takes, class_names, *, layout, fps, window, stride, centre, face, name, info, bone_lengths=None
) -> MotionDataset:
    if not takes:
        raise DatasetError(f"{name}: no takes to load")
    rates = sorted({float(t.fps) for t in takes})
    if fps is None and len(rates) > 1:
        raise DatasetError(
            f"{name}: takes come at {rates} fps; with fps=None they must share one rate (give fps=...)"
        )
    c = _clips(
        takes,
        layout=layout,
        fps=fps,
        window=window,
        stride=stride,
        centre=centre,
        face=face,
        bone_lengths=bone_lengths,
    )
    rate = fps if fps is not None else takes[0].fps
    info = dict(info)
    info.setdefault("skipped", [])
    info.update(
        window=window if window is not None else int(c["motions"][0].shape[0]),
        stride=stride if window is not None else None,
        fps=rate,
        source_fps=sorted({float(t.fps) for t in takes}),
        centred=centre,
        faced=face,
        takes=len(takes),
        bone_lengths=None if bone_lengths is None else [float(x) for x in bone_lengths],
        source_frames=int(sum(t.positions.shape[0] for t in takes)),
        padded_clips=int(sum(c["padded"])),
    )
    return MotionDataset(
        np.stack(c["motions"]),
        c["labels"],
        class_names,
        layout,
        rate,
        sources=c["sources"],
        first_frames=c["first_frames"],
        subjects=c["subjects"],
        padded=c["padded"],
        name=name,
        info=info,
    )


# -- ASF / AMC --------------------------------------------------------------------------------------
def _asf31_selection(skel, path) -> list[int]:
    missing = [n for n in ASF31_NAMES if n not in skel.names]
    if missing:
        raise DatasetError(
            f"{path}: ASF skeleton lacks bones {missing[:8]}; expected the 31-bone HDM05/CMU skeleton"
        )
    return [skel.names.index(ASF31_NAMES[k]) for k in HDM05_FROM_ASF31]


def _amc_take(
    amc: Path,
    asf: Path | None,
    skels: dict,
    smart_skeleton: bool,
    source_fps: float | None,
    metres_per_unit: float | None,
    label: int,
) -> _Take:
    if asf is None:
        asf = asf_beside(amc)
    if asf not in skels:
        skels[asf] = parse_asf(asf)
    skel = skels[asf]
    motion = parse_amc(amc, skel)
    sel = _asf31_selection(skel, asf)
    with np.errstate(all="ignore"):
        pos = amc_positions(skel, motion, SMART_ZERO_BONES if smart_skeleton else ())
        scale = skel.metres_per_unit if metres_per_unit is None else metres_per_unit
        pos = pos[:, sel] * scale
    _check_finite(pos, amc)
    _, subject, name_fps = _take_name_fields(amc.stem)
    rate = source_fps or name_fps or 120.0
    if not rate > 0:
        raise DatasetError(f"{amc}: frame rate {rate} from its name; expected > 0")
    return _Take(pos, rate, str(amc), subject, label)


def _lengths_option(bone_lengths) -> list[float] | None:
    if bone_lengths is None:
        return None
    arr = np.asarray(bone_lengths, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise DatasetError(f"bone_lengths must be finite and >= 0, got {arr.tolist()[:8]}...")
    return arr.tolist()


def _check_finite(pos: np.ndarray, path: Path) -> None:
    bad = ~np.isfinite(pos).all(axis=(1, 2))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise DatasetError(
            f"{path}: frame {k} gives non-finite joint positions (overflow in forward kinematics); "
            "expected finite, moderate channel values"
        )


def _mocap_options(window, stride, fps, centre, face) -> None:
    check_window(window, stride)
    if fps is not None and not fps > 0:
        raise DatasetError(f"fps must be > 0 or None, got {fps}")


def load_amc(
    path: str | os.PathLike,
    *,
    asf: str | os.PathLike | None = None,
    window: int | None = 60,
    stride: int = 20,
    fps: float | None = 30.0,
    source_fps: float | None = None,
    centre: bool = False,
    face: bool = False,
    bone_lengths: Sequence[float] | None = None,
    smart_skeleton: bool = True,
    metres_per_unit: float | None = None,
    class_name: str | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> MotionDataset:
    """One ASF/AMC take (HDM05, CMU) as a dataset of windows on ``hdm05_25``, in metres.

    ``asf`` defaults to the skeleton beside the AMC (``HDM_<actor>.asf`` or CMU ``<subject>.asf``).
    ``smart_skeleton`` gives the thorax and wrist bones zero length as the SMART data and the HDM05/CMU
    BVH exports do, so that the coincident joints of ``hdm05_25`` coincide. The source frame rate is
    ``source_fps``, else the ``_120`` of an HDM05 name, else 120. ``centre``/``face``: root at the
    origin in every frame / turned to face +z at the first frame (the SMART preprocessing does both).
    ``bone_lengths`` (metres, one per ``hdm05_25`` bone in ``layout.bones`` order) rescales every bone
    along its own direction, e.g. onto the SMART reference skeleton (see :func:`set_bone_lengths`).
    """
    amc = Path(path)
    if not amc.is_file():
        raise DatasetError(f"{amc}: AMC file not found")
    _mocap_options(window, stride, fps, centre, face)
    asf_path = Path(asf) if asf is not None else asf_beside(amc)
    motion_name, _, _ = _take_name_fields(amc.stem)
    opts = dict(
        bone_lengths=_lengths_option(bone_lengths),
        window=window,
        stride=stride,
        fps=fps,
        source_fps=source_fps,
        centre=centre,
        face=face,
        smart=smart_skeleton,
        mpu=metres_per_unit,
        cls=class_name,
    )

    def build() -> MotionDataset:
        take = _amc_take(amc, asf_path, {}, smart_skeleton, source_fps, metres_per_unit, 0)
        return _dataset(
            [take],
            [class_name or motion_name],
            layout=HDM05_25,
            fps=fps,
            window=window,
            stride=stride,
            centre=centre,
            face=face,
            bone_lengths=bone_lengths,
            name=amc.stem,
            info={"format": "amc", "asf": str(asf_path), "smart_skeleton": smart_skeleton},
        )

    return cached("amc", [amc, asf_path], opts, build, cache=cache, cache_dir=cache_dir)


def _class_folders(root: Path, ext: str) -> list[tuple[str, list[Path]]]:
    """``[(folder name, takes)]`` for class sub-folders; the root itself when it holds the takes."""
    if not root.is_dir():
        raise DatasetError(f"{root}: folder not found")
    subs = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(f for f in d.iterdir() if f.is_file() and f.suffix.lower() == ext)
        if files:
            subs.append((d.name, files))
    if subs:
        if all(n.isdigit() for n, _ in subs):
            subs.sort(key=lambda s: int(s[0]))
        return subs
    files = sorted(f for f in root.iterdir() if f.is_file() and f.suffix.lower() == ext)
    if not files:
        raise DatasetError(
            f"{root}: no {ext} files in it or in its sub-folders; expected class folders of takes"
        )
    return [("", files)]


def _resolve_classes(
    groups: list[tuple[str, list[Path]]], class_names: Sequence[str] | Mapping[str, str] | None, root: Path
) -> tuple[list[tuple[str, Path]], list[str]]:
    """``[(class name, file)]`` and the class-name list.

    Sub-folders: the class is the folder, named by ``class_names`` (a list in folder order, or a
    ``{folder: name}`` mapping), else by the one motion name its file names share (HDM05:
    ``HDM_bd_squat1Reps_001_120.amc`` -> ``squat1Reps``), else by the folder name. Takes directly in
    the folder: one class per motion name, renamed by a ``{motion: class}`` mapping or looked up in
    a given list of class names (so that labels can index e.g. the 65 SMART classes).
    """
    if len(groups) == 1 and groups[0][0] == "":
        files = groups[0][1]
        motions = [_take_name_fields(f.stem)[0] for f in files]
        if isinstance(class_names, Mapping):
            missing = sorted({m for m in motions if m not in class_names})
            if missing:
                raise DatasetError(f"{root}: class_names has no entry for motions {missing[:8]}")
            motions = [str(class_names[m]) for m in motions]
            names = sorted(set(motions))
        elif class_names is not None:
            names = [str(c) for c in class_names]
            missing = sorted({m for m in motions if m not in names})
            if missing:
                raise DatasetError(f"{root}: motions {missing[:8]} are not among the given class names")
        else:
            names = sorted(set(motions))
        return list(zip(motions, files, strict=True)), names
    if isinstance(class_names, Mapping):
        missing = [g for g, _ in groups if g not in class_names]
        if missing:
            raise DatasetError(f"{root}: class_names has no entry for folders {missing}")
        names = [str(class_names[g]) for g, _ in groups]
    elif class_names is not None:
        if len(class_names) != len(groups):
            raise DatasetError(
                f"{root}: {len(class_names)} class names for {len(groups)} class folders "
                f"{[g for g, _ in groups]}; expected one name per folder"
            )
        names = [str(c) for c in class_names]
    else:
        names = []
        for g, files in groups:
            motions = {_take_name_fields(f.stem)[0] for f in files}
            names.append(motions.pop() if len(motions) == 1 and g.isdigit() else g)
            if len(set(names)) != len(names):
                names[-1] = g
    pairs = [(names[i], f) for i, (_, files) in enumerate(groups) for f in files]
    return pairs, names


def _load_folder(
    root: Path,
    ext: str,
    take_fn: Callable[[Path, int], _Take],
    *,
    class_names,
    skip_bad: bool,
    extra_files: list[Path],
    kind: str,
    opts: dict,
    cache: bool,
    cache_dir,
    layout: Layout,
    dataset_kw: dict,
) -> MotionDataset:
    groups = _class_folders(root, ext)
    pairs, names = _resolve_classes(groups, class_names, root)
    files = [f for _, f in pairs] + extra_files

    def build() -> MotionDataset:
        takes, skipped = [], []
        for cls, f in pairs:
            try:
                takes.append(take_fn(f, names.index(cls)))
            except DatasetError as exc:
                if not skip_bad:
                    raise
                skipped.append(str(exc))
        if not takes:
            raise DatasetError(
                f"{root}: none of its {len(pairs)} takes could be read; first error: {skipped[0]}"
            )
        return _dataset(
            takes,
            names,
            layout=layout,
            name=root.name,
            info={"format": kind, "skipped": skipped, "folder": str(root)},
            **dataset_kw,
        )

    return cached(
        kind,
        files,
        dict(
            opts,
            skip_bad=skip_bad,
            cls=class_names
            if class_names is None
            else (dict(class_names) if isinstance(class_names, Mapping) else list(class_names)),
        ),
        build,
        cache=cache,
        cache_dir=cache_dir,
    )


def load_amc_folder(
    path: str | os.PathLike,
    *,
    class_names: Sequence[str] | Mapping[str, str] | None = None,
    skip_bad: bool = False,
    window: int | None = 60,
    stride: int = 20,
    fps: float | None = 30.0,
    source_fps: float | None = None,
    centre: bool = False,
    face: bool = False,
    bone_lengths: Sequence[float] | None = None,
    smart_skeleton: bool = True,
    metres_per_unit: float | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> MotionDataset:
    """A folder of ASF/AMC takes in per-class sub-folders (e.g. HDM05 ``train/1`` ... ``train/11``).

    Classes come from the sub-folders (sorted numerically when all are numbers), named as
    :func:`_resolve_classes` says; the subject is the actor of an HDM05 name (``HDM_bd_...`` -> ``bd``).
    With ``skip_bad`` takes that fail to load are left out and listed in ``info['skipped']``;
    otherwise the first failure raises. Other options as :func:`load_amc`.
    """
    root = Path(path)
    _mocap_options(window, stride, fps, centre, face)
    asfs = sorted(find_files(root, ".asf")) if root.is_dir() else []
    skels: dict = {}

    def take(f: Path, label: int) -> _Take:
        return _amc_take(f, None, skels, smart_skeleton, source_fps, metres_per_unit, label)

    opts = dict(
        bone_lengths=_lengths_option(bone_lengths),
        window=window,
        stride=stride,
        fps=fps,
        source_fps=source_fps,
        centre=centre,
        face=face,
        smart=smart_skeleton,
        mpu=metres_per_unit,
    )
    return _load_folder(
        root,
        ".amc",
        take,
        class_names=class_names,
        skip_bad=skip_bad,
        extra_files=asfs,
        kind="amc_folder",
        opts=opts,
        cache=cache,
        cache_dir=cache_dir,
        layout=HDM05_25,
        dataset_kw=dict(
            fps=fps, window=window, stride=stride, centre=centre, face=face, bone_lengths=bone_lengths
        ),
    )


# -- BVH ----------------------------------------------------------------------------------------------
_UNIT_CANDIDATES = {"m": 1.0, "cm": 0.01, "mm": 0.001, "inch": 0.0254, "hdm05/cmu": METRES_PER_UNIT_HDM05}


def guess_metres_per_unit(rest_height: float) -> tuple[float, str]:
    """The unit under which a skeleton ``rest_height`` units tall (feet to neck/head) is nearest 1.6 m."""
    if not rest_height > 0:
        return 1.0, "m"
    best = min(_UNIT_CANDIDATES.items(), key=lambda kv: abs(np.log(rest_height * kv[1] / 1.6)))
    return best[1], best[0]


def _bvh_take(path: Path, *, metres_per_unit, source_fps, joints, label: int, subject: str | None):
    bvh = parse_bvh(path)
    if joints is None:
        mapping, missing = map_joints_by_name(bvh.names)
    else:
        mapping, missing = _explicit_joints(joints, bvh.names, path), []
    with np.errstate(all="ignore"):
        sel = select_hdm05_25(bvh_positions(bvh), mapping)
        if metres_per_unit is None:
            zero = bvh_positions_rest(bvh)
            height = float(np.ptp(zero[:, 1])) if zero.size else 0.0
            scale, unit = guess_metres_per_unit(height if np.isfinite(height) else 0.0)
        else:
            scale, unit = float(metres_per_unit), "given"
        sel = sel * scale
    _check_finite(sel, path)
    rate = source_fps or bvh.fps
    if abs(rate - round(rate)) < 0.01:
        rate = float(round(rate))
    take = _Take(sel, rate, str(path), subject, label)
    return take, {"metres_per_unit": scale, "unit": unit, "missing_joints": missing}


def bvh_positions_rest(bvh) -> np.ndarray:
    """Rest-pose joint positions (all channels zero)."""
    from .bvh import Bvh

    rest = Bvh(
        bvh.path,
        bvh.names,
        bvh.parents,
        bvh.offsets,
        bvh.channels,
        bvh.frame_time,
        np.zeros((1, bvh.motion.shape[1])),
    )
    return bvh_positions(rest)[0]


def _explicit_joints(joints, names: list[str], path: Path) -> list[int]:
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


def load_bvh(
    path: str | os.PathLike,
    *,
    window: int | None = 60,
    stride: int = 20,
    fps: float | None = 30.0,
    source_fps: float | None = None,
    centre: bool = False,
    face: bool = False,
    bone_lengths: Sequence[float] | None = None,
    metres_per_unit: float | None = None,
    joints: Sequence[str | int] | None = None,
    class_name: str | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> MotionDataset:
    """One BVH take on ``hdm05_25`` in metres (joints found by name, see ``bvh.HDM05_25_NAME_MAP``).

    ``metres_per_unit`` defaults to a guess from the rest skeleton's height (m, cm, mm, inches or the
    HDM05/CMU unit 0.0254/0.45 m), recorded in ``info``. ``joints`` may give the 25 BVH joints (names
    or indices; -1 = parent's position) in ``hdm05_25`` order. ``fps=None`` keeps the file's rate and
    ``window=None`` the whole take. Other options as :func:`engine.datasets.load_amc`.
    """
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"{p}: BVH file not found")
    _mocap_options(window, stride, fps, centre, face)
    motion_name, subject, _ = _take_name_fields(p.stem)
    opts = dict(
        bone_lengths=_lengths_option(bone_lengths),
        window=window,
        stride=stride,
        fps=fps,
        source_fps=source_fps,
        centre=centre,
        face=face,
        mpu=metres_per_unit,
        joints=list(joints) if joints is not None else None,
        cls=class_name,
    )

    def build() -> MotionDataset:
        take, extra = _bvh_take(
            p, metres_per_unit=metres_per_unit, source_fps=source_fps, joints=joints, label=0, subject=subject
        )
        return _dataset(
            [take],
            [class_name or motion_name],
            layout=HDM05_25,
            fps=fps,
            window=window,
            stride=stride,
            centre=centre,
            face=face,
            bone_lengths=bone_lengths,
            name=p.stem,
            info={"format": "bvh", **extra},
        )

    return cached("bvh", [p], opts, build, cache=cache, cache_dir=cache_dir)


def load_bvh_folder(
    path: str | os.PathLike,
    *,
    class_names: Sequence[str] | Mapping[str, str] | None = None,
    skip_bad: bool = False,
    window: int | None = 60,
    stride: int = 20,
    fps: float | None = 30.0,
    source_fps: float | None = None,
    centre: bool = False,
    face: bool = False,
    bone_lengths: Sequence[float] | None = None,
    metres_per_unit: float | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> MotionDataset:
    """A folder of BVH takes in per-class sub-folders, as :func:`load_amc_folder` does for AMC."""
    root = Path(path)
    _mocap_options(window, stride, fps, centre, face)
    units: list[dict] = []

    def take(f: Path, label: int) -> _Take:
        t, extra = _bvh_take(
            f,
            metres_per_unit=metres_per_unit,
            source_fps=source_fps,
            joints=None,
            label=label,
            subject=_take_name_fields(f.stem)[1],
        )
        units.append(extra)
        return t

    opts = dict(
        bone_lengths=_lengths_option(bone_lengths),
        window=window,
        stride=stride,
        fps=fps,
        source_fps=source_fps,
        centre=centre,
        face=face,
        mpu=metres_per_unit,
    )
    return _load_folder(
        root,
        ".bvh",
        take,
        class_names=class_names,
        skip_bad=skip_bad,
        extra_files=[],
        kind="bvh_folder",
        opts=opts,
        cache=cache,
        cache_dir=cache_dir,
        layout=HDM05_25,
        dataset_kw=dict(
            fps=fps, window=window, stride=stride, centre=centre, face=face, bone_lengths=bone_lengths
        ),
    )


def load_mhad(
    path: str | os.PathLike,
    *,
    skip_bad: bool = False,
    window: int | None = 60,
    stride: int = 20,
    fps: float | None = 30.0,
    source_fps: float | None = None,
    centre: bool = False,
    face: bool = False,
    bone_lengths: Sequence[float] | None = None,
    metres_per_unit: float | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> MotionDataset:
    """Berkeley MHAD skeleton BVH files ``skl_sXX_aYY_rZZ.bvh`` (a file or a folder, searched recursively).

    Class ``aYY`` -> index ``YY - 1`` of :data:`MHAD_CLASS_NAMES`, subject ``sXX``, repetition ``rZZ``
    (in ``info['repetitions']``). Captured at 480 Hz (the file's ``Frame Time``, or ``source_fps``),
    resampled to ``fps`` (every 16th frame). Joints mapped by name onto ``hdm05_25``
    (``bvh.HDM05_25_NAME_MAP``).
    """
    p = Path(path)
    _mocap_options(window, stride, fps, centre, face)
    if p.is_dir():
        files = sorted(f for f in find_files(p, ".bvh") if _MHAD_RE.match(f.stem))
        if not files:
            raise DatasetError(
                f"{p}: no skl_sXX_aYY_rZZ.bvh files in it; expected Berkeley MHAD skeleton files"
            )
    elif p.is_file():
        if not _MHAD_RE.match(p.stem):
            raise DatasetError(f"{p}: not an MHAD skeleton name; expected skl_sXX_aYY_rZZ.bvh")
        files = [p]
    else:
        raise DatasetError(f"{p}: not found")
    opts = dict(
        bone_lengths=_lengths_option(bone_lengths),
        window=window,
        stride=stride,
        fps=fps,
        source_fps=source_fps,
        centre=centre,
        face=face,
        mpu=metres_per_unit,
        skip_bad=skip_bad,
    )

    def build() -> MotionDataset:
        takes, skipped, reps, extras = [], [], [], []
        for f in files:
            s, a, r = (int(g) for g in _MHAD_RE.match(f.stem).groups())
            try:
                if not 1 <= a <= len(MHAD_CLASS_NAMES):
                    raise DatasetError(f"{f}: action a{a:02d}; expected a01 ... a{len(MHAD_CLASS_NAMES):02d}")
                t, extra = _bvh_take(
                    f,
                    metres_per_unit=metres_per_unit,
                    source_fps=source_fps,
                    joints=None,
                    label=a - 1,
                    subject=f"s{s:02d}",
                )
            except DatasetError as exc:
                if not skip_bad:
                    raise
                skipped.append(str(exc))
                continue
            takes.append(t)
            reps.append(r)
            extras.append(extra)
        if not takes:
            raise DatasetError(
                f"{p}: none of its {len(files)} takes could be read; first error: {skipped[0]}"
            )
        info = {
            "format": "mhad",
            "skipped": skipped,
            "metres_per_unit": extras[0]["metres_per_unit"],
            "unit": extras[0]["unit"],
            "missing_joints": extras[0]["missing_joints"],
        }
        ds = _dataset(
            takes,
            list(MHAD_CLASS_NAMES),
            layout=HDM05_25,
            fps=fps,
            window=window,
            stride=stride,
            centre=centre,
            face=face,
            bone_lengths=bone_lengths,
            name=p.stem,
            info=info,
        )
        rep_of = {t.source: r for t, r in zip(takes, reps, strict=True)}
        ds.info["repetitions"] = [rep_of[s] for s in ds.sources]
        return ds

    return cached("mhad", files, opts, build, cache=cache, cache_dir=cache_dir)


# -- NTU RGB+D ----------------------------------------------------------------------------------------
def load_ntu_skeleton(
    path: str | os.PathLike,
    *,
    skip_bad: bool = False,
    window: int | None = None,
    stride: int = 20,
    centre: bool = False,
    face: bool = False,
    bone_lengths: Sequence[float] | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> MotionDataset:
    """NTU RGB+D raw ``.skeleton`` files (a file or a folder) on ``ntu25``, metres, 30 fps.

    The label is ``A0xx`` of the name (class ``xx - 1``), the subject ``Pxxx``; cameras are in
    ``info['cameras']``. One body is kept per file (the most active, see :mod:`engine.datasets.ntu`);
    ``info['bodies_dropped']`` counts the others. ``window=None`` keeps each file as one clip, padded
    (holding the last frame) to the longest file.
    """
    p = Path(path)
    check_window(window, stride)
    if p.is_dir():
        files = sorted(find_files(p, ".skeleton"))
        if not files:
            raise DatasetError(f"{p}: no .skeleton files in it; expected NTU RGB+D skeleton files")
    elif p.is_file():
        files = [p]
    else:
        raise DatasetError(f"{p}: not found")
    opts = dict(
        window=window,
        stride=stride,
        centre=centre,
        face=face,
        skip_bad=skip_bad,
        bone_lengths=_lengths_option(bone_lengths),
    )

    def build() -> MotionDataset:
        takes, skipped, cams, dropped, per_file = [], [], {}, 0, {}
        for f in files:
            try:
                fields = ntu_name_fields(f.stem)
                if fields is None:
                    raise DatasetError(
                        f"{f}: name has no SxxxCxxxPxxxRxxxAxxx part; expected an NTU sample name"
                    )
                if fields["action"] < 1 or fields["action"] > 120:
                    raise DatasetError(f"{f}: action A{fields['action']:03d}; expected A001 ... A120")
                pos, drop, _ = parse_ntu_skeleton(f)
            except DatasetError as exc:
                if not skip_bad:
                    raise
                skipped.append(str(exc))
                continue
            takes.append(_Take(pos, 30.0, str(f), str(fields["subject"]), int(fields["action"]) - 1))
            cams[str(f)] = fields["camera"]
            dropped += drop
            per_file[f.name] = drop
        if not takes:
            raise DatasetError(
                f"{p}: none of its {len(files)} files could be read; first error: {skipped[0]}"
            )
        names = ntu_class_names(max(t.label for t in takes))
        ds = _dataset(
            takes,
            names,
            layout=NTU25,
            fps=30.0,
            window=window,
            stride=stride,
            centre=centre,
            face=face,
            bone_lengths=bone_lengths,
            name=p.stem,
            info={
                "format": "ntu_skeleton",
                "skipped": skipped,
                "bodies_dropped": dropped,
                "bodies_dropped_per_file": per_file,
                "body_rule": "most active: largest summed joint-position variance",
            },
        )
        ds.info["cameras"] = [cams[s] for s in ds.sources]
        return ds

    return cached("ntu_skeleton", files, opts, build, cache=cache, cache_dir=cache_dir)


def load_ntu_npy(
    path: str | os.PathLike,
    *,
    labels: str | os.PathLike | None = None,
    centre: bool = False,
    cache: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> MotionDataset:
    """The ST-GCN / 2s-AGCN arrays: ``*_data_joint.npy`` ``(N, C=3, T, V=25, M)`` and its label pickle.

    ``labels`` defaults to ``<prefix>_label.pkl`` beside ``<prefix>_data_joint.npy``; it holds
    ``(sample_names, labels)``. Per sample the most active of the M bodies is kept
    (``info['bodies_dropped']`` counts non-empty others); trailing all-zero frames (the padding of
    these arrays) hold the last real frame and mark the sample ``padded``. Sources are the sample names.
    The array is memory-mapped and already binary, so ``cache`` is off by default here.
    """
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"{p}: file not found")
    if labels is None:
        stem = p.name[: -len("_data_joint.npy")] if p.name.endswith("_data_joint.npy") else p.stem
        lp = p.parent / f"{stem}_label.pkl"
    else:
        lp = Path(labels)
    if not lp.is_file():
        raise DatasetError(
            f"{lp}: label file not found; expected the (sample_names, labels) pickle for {p.name}"
        )

    def build() -> MotionDataset:
        data = open_npy(p)
        if data.ndim != 5 or data.shape[1] != 3 or data.shape[3] != 25:
            raise DatasetError(f"{p}: array of shape {data.shape}; expected (N, 3, T, 25, M)")
        names, labs = read_label_pkl(lp)
        if len(names) != data.shape[0]:
            raise DatasetError(
                f"{lp}: {len(names)} labels for the {data.shape[0]} samples of {p}; expected equal"
            )
        n, _, t, v, _ = data.shape
        motions = np.empty((n, t, v, 3), dtype=np.float32)
        padded = np.zeros(n, dtype=bool)
        dropped = 0
        for i in range(n):
            sample = np.asarray(data[i])
            if not np.all(np.isfinite(sample)):
                c, f, j, m = (int(k) for k in np.argwhere(~np.isfinite(sample))[0])
                raise NonFiniteMotionError(
                    f"{p}: sample {i} ({names[i]}) holds non-finite values (NaN or inf), first at "
                    f"frame {f}, joint {j}, body {m}; expected finite joint positions. Repair or drop "
                    "the sample at its source and load again"
                )
            b, length, drop = select_body_npy(sample)
            if length == 0:
                raise DatasetError(f"{p}: sample {i} ({names[i]}) is all zeros; expected a skeleton")
            if length < t:
                b[length:] = b[length - 1]
                padded[i] = True
            if centre:
                b = b - b[:, :1]
            motions[i] = b
            dropped += drop
        subjects = []
        for nm in names:
            f = ntu_name_fields(nm)
            subjects.append(str(f["subject"]) if f else None)
        return MotionDataset(
            motions,
            labs,
            ntu_class_names(int(labs.max()) if labs.size else 0),
            NTU25,
            30.0,
            sources=names,
            first_frames=np.zeros(n, dtype=np.int64),
            subjects=subjects,
            padded=padded,
            name=p.stem,
            info={
                "format": "ntu_npy",
                "labels": str(lp),
                "bodies_dropped": dropped,
                "window": t,
                "stride": None,
                "centred": centre,
            },
        )

    return cached("ntu_npy", [p, lp], dict(centre=centre), build, cache=cache, cache_dir=cache_dir)
