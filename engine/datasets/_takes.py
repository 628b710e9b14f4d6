"""What every take-based loader shares: one options object, one take-reading loop, one way from takes to
clips.

A loader names its files, says how to read one into a :class:`Take` and which options it takes (a
:class:`LoaderOptions` subclass); :func:`load_takes` does the rest: parse every file (skipping bad ones
with ``skip_bad``), resample to ``fps``, rescale bones, face +z / root-centre, cut windows of ``window``
frames every ``stride`` frames, and cache the result keyed by the files' content and the options. A
take shorter than a window gives one clip padded by holding its last frame (``padded``);
``window=None`` keeps whole takes, padded to the longest one.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import DatasetError
from ..skeleton import Layout
from ._cache import cached
from ._dataset import MotionDataset, face_and_centre, resample, set_bone_lengths, window_take

__all__ = [
    "LoaderOptions",
    "ClipOptions",
    "MocapOptions",
    "Take",
    "TakeSet",
    "take_loader",
    "merge_facts",
    "read_takes",
    "takes_dataset",
    "find_files",
    "file_or_folder",
    "class_folder_takes",
    "take_name_fields",
    "check_finite_take",
]


# -- options --------------------------------------------------------------------------------------------
def _number(name: str, value: Any, *, integer: bool = False, optional: bool = False) -> Any:
    """``value`` as a positive int/float (numpy numbers too, bools refused); ``None`` where allowed."""
    if value is None and optional:
        return None
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if (
        isinstance(value, bool | np.bool_)
        or not isinstance(value, kinds)
        or not math.isfinite(value)
        or value <= 0
    ):
        what = "a positive whole number" if integer else "a positive number"
        raise DatasetError(f"{name} must be {what}{' or None' if optional else ''}, got {value!r}")
    return int(value) if integer else float(value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise DatasetError(f"{name} must be True or False, got {value!r}")
    return bool(value)


@dataclass(frozen=True)
class LoaderOptions:
    """Base of every loader's options: a frozen dataclass checked when built.

    Its fields are the loader's keyword options, the dataset cache key (:meth:`record`) and
    ``info['options']``. Number fields take Python or numpy numbers (bools refused); flags take bools.
    """

    NUMBERS: ClassVar[Mapping[str, tuple[bool, bool]]] = {}
    """The number fields, ``{name: (integer, optional)}``."""
    FLAGS: ClassVar[tuple[str, ...]] = ()
    """The True/False fields."""

    def __post_init__(self) -> None:
        for name, (integer, optional) in self.NUMBERS.items():
            object.__setattr__(
                self, name, _number(name, getattr(self, name), integer=integer, optional=optional)
            )
        for name in self.FLAGS:
            object.__setattr__(self, name, _flag(name, getattr(self, name)))

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls) if f.init]

    @classmethod
    def make(cls, options: Mapping[str, Any], loader: str):
        """``cls(**options)``; a name it does not take raises :class:`DatasetError` listing those it does."""
        unknown = sorted(set(options) - set(cls.names()))
        if unknown:
            raise DatasetError(f"{loader} takes no option(s) {unknown}; it takes {cls.names()}")
        return cls(**options)

    def record(self) -> dict[str, Any]:
        """The options as plain JSON data: the cache key and ``info['options']``."""

        def plain(v):
            if isinstance(v, Mapping):
                return {str(k): plain(x) for k, x in v.items()}
            if isinstance(v, tuple | list):
                return [plain(x) for x in v]
            return str(v) if isinstance(v, os.PathLike) else v

        return {name: plain(getattr(self, name)) for name in self.names()}


@dataclass(frozen=True)
class ClipOptions(LoaderOptions):
    """How takes become clips (every take-based format).

    ``window``/``stride``: clips of ``window`` frames every ``stride`` frames (``window=None``: whole
    takes, padded to the longest). ``fps``: resample to this rate (``None`` keeps the takes' own, which
    must then agree). ``centre``: the root at the origin in every frame; ``face``: turned about +y so
    that the hips (``Layout.hips``) face +z at the first frame (the SMART preprocessing does both).
    ``bone_lengths`` (metres, one per bone in ``layout.bones`` order) rescales every bone along its own
    direction (see :func:`engine.datasets.set_bone_lengths`). ``skip_bad``: files that fail to load are
    left out and listed in ``info['skipped']``; otherwise the first failure raises.
    """

    window: int | None = 60
    stride: int = 20
    fps: float | None = 30.0
    centre: bool = False
    face: bool = False
    bone_lengths: tuple[float, ...] | None = None
    skip_bad: bool = False

    NUMBERS: ClassVar = {"window": (True, True), "stride": (True, False), "fps": (False, True)}
    FLAGS: ClassVar = ("centre", "face", "skip_bad")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.bone_lengths is not None:
            try:
                arr = np.asarray(self.bone_lengths, dtype=np.float64).reshape(-1)
            except (TypeError, ValueError):
                arr = np.array([np.nan])
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise DatasetError(f"bone_lengths must be finite and >= 0, got {self.bone_lengths!r:.80}")
            object.__setattr__(self, "bone_lengths", tuple(float(x) for x in arr))


@dataclass(frozen=True)
class MocapOptions(ClipOptions):
    """:class:`ClipOptions` plus what motion capture files leave open: ``source_fps`` (the capture rate,
    overriding the file's or its name's) and ``metres_per_unit`` (the length unit, overriding the
    skeleton's or the guess)."""

    source_fps: float | None = None
    metres_per_unit: float | None = None

    NUMBERS: ClassVar = {**ClipOptions.NUMBERS, "source_fps": (False, True), "metres_per_unit": (False, True)}


# -- takes ----------------------------------------------------------------------------------------------
@dataclass
class Take:
    """One source file's motion: ``positions`` ``(F, V, 3)`` in metres at ``fps``.

    ``per_clip`` values become per-clip lists in ``info`` (e.g. NTU cameras); ``facts`` say how the file
    was read (units, dropped bodies) and are merged into ``info`` by the loader's ``describe``.
    """

    positions: np.ndarray
    fps: float
    source: str
    subject: str | None
    label: int
    per_clip: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)


def check_finite_take(pos: np.ndarray, path: Path) -> None:
    """Refuse a take whose forward kinematics overflowed, naming the first bad frame."""
    bad = ~np.isfinite(pos).all(axis=(1, 2))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise DatasetError(
            f"{path}: frame {k} gives non-finite joint positions (overflow in forward kinematics); "
            "expected finite, moderate channel values"
        )


def read_takes(
    files: Sequence[Path], read: Callable[[Path], Take], *, skip_bad: bool, where: Path
) -> tuple[list[Take], list[str]]:
    """``(takes, skipped)``: ``read`` every file; with ``skip_bad`` a :class:`DatasetError` skips the
    file (its message listed), otherwise it raises. None readable raises naming the first error."""
    takes, skipped = [], []
    for f in files:
        try:
            takes.append(read(f))
        except DatasetError as exc:
            if not skip_bad:
                raise
            skipped.append(str(exc))
    if not takes:
        raise DatasetError(
            f"{where}: none of its {len(files)} takes could be read; first error: {skipped[0]}"
        )
    return takes, skipped


def takes_dataset(
    takes: list[Take],
    class_names: Sequence[str],
    *,
    layout: Layout,
    options: ClipOptions,
    name: str,
    info: dict,
    origin: Path | None = None,
) -> MotionDataset:
    """Clips of ``takes`` as :class:`ClipOptions` say, with ``info`` recording how they were made."""
    rates = sorted({float(t.fps) for t in takes})
    if options.fps is None and len(rates) > 1:
        raise DatasetError(
            f"{name}: takes come at {rates} fps; with fps=None they must share one rate (give fps=...)"
        )
    if options.face and layout.hips is None:
        raise DatasetError(
            f"{name}: face=True needs the hips of layout {layout.name!r}, which it does not name"
        )
    processed = []
    for t in takes:
        frames, idx = (t.positions, np.arange(t.positions.shape[0]))
        if options.fps is not None:
            frames, idx = resample(frames, t.fps, options.fps)
        if options.bone_lengths is not None:
            frames = set_bone_lengths(frames, layout, options.bone_lengths)
        frames = face_and_centre(
            frames, layout.root, *(layout.hips or (0, 0)), centre=options.centre, face=options.face
        )
        processed.append((t, frames, idx))
    window = options.window or max(frames.shape[0] for _, frames, _ in processed)
    stride = options.stride if options.window is not None else None
    cols: dict[str, list] = {k: [] for k in ("motions", "take", "first_frames", "padded")}
    for t, frames, idx in processed:
        clips, starts, pads = window_take(frames, window, options.stride)
        cols["motions"].extend(c.astype(np.float32) for c in clips)
        cols["take"].extend([t] * len(clips))
        cols["first_frames"].extend(int(idx[s]) for s in starts)
        cols["padded"].extend(pads)
    clip_takes = cols["take"]
    info = {
        **info,
        **{k: [t.per_clip[k] for t in clip_takes] for k in takes[0].per_clip},
        "options": options.record(),
        "window": int(window),
        "stride": stride,
        "fps": options.fps if options.fps is not None else rates[0],
        "source_fps": rates,
        "centred": options.centre,
        "faced": options.face,
        "bone_lengths": None if options.bone_lengths is None else list(options.bone_lengths),
        "takes": len(takes),
        "source_frames": int(sum(t.positions.shape[0] for t in takes)),
        "padded_clips": int(sum(cols["padded"])),
    }
    return MotionDataset(
        np.stack(cols["motions"]),
        [t.label for t in clip_takes],
        class_names,
        layout,
        info["fps"],
        sources=[t.source for t in clip_takes],
        first_frames=cols["first_frames"],
        subjects=[t.subject for t in clip_takes],
        padded=cols["padded"],
        name=name,
        info=info,
        origin=origin,
    )


@dataclass
class TakeSet:
    """What a take loader finds for a path: the ``files`` to read (each by ``read`` into a
    :class:`Take`), the ``layout`` and ``class_names`` (a list, or a function of the takes read).
    ``info`` is added to the dataset's; ``describe(takes)`` adds what the takes say about how they were
    read (default :func:`merge_facts`); ``key_files`` are other files the result depends on (ASF
    skeletons), part of the cache key like ``files`` and the options."""

    files: Sequence[Path]
    read: Callable[[Path], Take]
    layout: Layout
    class_names: Sequence[str] | Callable[[list[Take]], Sequence[str]]
    info: Mapping[str, Any] = field(default_factory=dict)
    describe: Callable[[list[Take]], dict] | None = None
    key_files: Sequence[Path] = ()


def merge_facts(takes: list[Take]) -> dict[str, Any]:
    """The takes' ``facts``: one value where all takes agree, else ``{source: value}``."""
    out: dict[str, Any] = {}
    for k in takes[0].facts:
        values = [t.facts.get(k) for t in takes]
        same = all(v == values[0] for v in values)
        out[k] = values[0] if same else {t.source: v for t, v in zip(takes, values, strict=True)}
    return out


def take_loader(kind: str, options_type: type[ClipOptions]):
    """Decorator making ``find(path, options) -> TakeSet`` the loader of format ``kind``:
    ``loader(path, *, cache=True, cache_dir=None, **options)``, whose ``options`` are the fields of
    ``options_type`` (also ``loader.options``). The dataset is cached keyed by the content of the files
    and by the options (see :func:`engine.datasets._cache.cached`; ``cache=False`` turns it off)."""

    def decorate(find: Callable[[Path, Any], TakeSet]):
        def loader(
            path: str | os.PathLike, *, cache: bool = True, cache_dir=None, **options
        ) -> MotionDataset:
            opts = options_type.make(options, find.__name__)
            p = Path(path)
            found = find(p, opts)

            def build() -> MotionDataset:
                takes, skipped = read_takes(found.files, found.read, skip_bad=opts.skip_bad, where=p)
                names = found.class_names(takes) if callable(found.class_names) else found.class_names
                info = {
                    "format": kind,
                    **found.info,
                    **(found.describe or merge_facts)(takes),
                    "skipped": skipped,
                }
                return takes_dataset(
                    takes, names, layout=found.layout, options=opts, name=p.stem, info=info, origin=p
                )

            files = [*found.files, *found.key_files]
            return cached(kind, files, opts.record(), build, cache=cache, cache_dir=cache_dir)

        for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
            setattr(loader, attr, getattr(find, attr))
        loader.options = options_type
        return loader

    return decorate


# -- files and names ------------------------------------------------------------------------------------
_HDM_RE = re.compile(r"^HDM_([A-Za-z0-9]+)_(.+?)_(\d+)_(\d+)$")
_CMU_RE = re.compile(r"^(\d+)_(\d+)$")


def take_name_fields(stem: str) -> tuple[str, str | None, float | None]:
    """``(motion, subject, fps)`` from an HDM05 (``HDM_bd_kickLFront1Reps_001_120``) or CMU name."""
    m = _HDM_RE.match(stem)
    if m:
        return m.group(2), m.group(1), float(m.group(4))
    m = _CMU_RE.match(stem)
    if m:
        return stem, m.group(1), None
    return stem, None, None


def find_files(root: Path, suffix: str) -> Iterator[Path]:
    """Files under ``root`` whose suffix is ``suffix``, ignoring case (HDM05 has an ``.AMC`` take)."""
    for f in root.rglob("*"):
        if f.suffix.lower() == suffix and f.is_file():
            yield f


def file_or_folder(path: Path, suffix: str, pattern: re.Pattern | None, expected: str) -> list[Path]:
    """``[path]`` for a file, else the ``suffix`` files under the folder (names matching ``pattern``)."""
    if path.is_dir():
        files = sorted(f for f in find_files(path, suffix) if pattern is None or pattern.match(f.stem))
        if not files:
            raise DatasetError(f"{path}: no {expected} files in it")
        return files
    if not path.is_file():
        raise DatasetError(f"{path}: not found")
    if pattern is not None and not pattern.match(path.stem):
        raise DatasetError(f"{path}: not named as {expected} files are")
    return [path]


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
        motions = [take_name_fields(f.stem)[0] for f in files]
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
            motions = {take_name_fields(f.stem)[0] for f in files}
            names.append(motions.pop() if len(motions) == 1 and g.isdigit() else g)
            if len(set(names)) != len(names):
                names[-1] = g
    pairs = [(names[i], f) for i, (_, files) in enumerate(groups) for f in files]
    return pairs, names


def class_folder_takes(
    root: Path, ext: str, class_names: Sequence[str] | Mapping[str, str] | None
) -> tuple[list[Path], dict[Path, int], list[str]]:
    """``(files, label of each file, class names)`` of takes in class sub-folders (see
    :func:`_resolve_classes`)."""
    if isinstance(class_names, str | bytes) or not (
        class_names is None or isinstance(class_names, Sequence | Mapping)
    ):
        raise DatasetError(f"class_names must be a list of names or a mapping, got {class_names!r:.60}")
    pairs, names = _resolve_classes(_class_folders(root, ext), class_names, root)
    return [f for _, f in pairs], {f: names.index(c) for c, f in pairs}, names
