"""Our own dataset file (``save`` / ``load_workbench_npz``) and the SMART preprocessed npz."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DatasetError, WorkbenchError
from ..skeleton import Layout
from ..skeleton import layout as get_layout
from ..skeleton import names as layout_names
from ._dataset import MotionDataset
from ._text import read_text

__all__ = [
    "save",
    "load_workbench_npz",
    "load_smart_npz",
    "open_npy",
    "unreadable",
    "WORKBENCH_FORMAT",
    "INCHES_PER_UNIT_HDM05",
]

WORKBENCH_FORMAT = "smart-workbench-dataset"
WORKBENCH_VERSION = 1
INCHES_PER_UNIT_HDM05 = 1 / 0.45
METRES_PER_UNIT_HDM05 = 0.0254 / 0.45
"""ASF/BVH units of HDM05 and CMU (``:units length 0.45``): one unit is 0.0254 / 0.45 m."""


def _jsonable(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"info value of type {type(o).__name__} cannot be saved")


def _layout_json(lay: Layout) -> str:
    return json.dumps(
        {
            "name": lay.name,
            "joint_names": list(lay.joint_names),
            "parents": list(lay.parents),
            "fps": lay.fps,
            "coincident": [list(g) for g in lay.coincident],
            "parts": [[p, list(j)] for p, j in lay.parts],
            "description": lay.description,
            "hips": lay.hips,
            "shoulders": lay.shoulders,
            "spine": lay.spine,
        }
    )


def _landmark(value, pair: bool):
    """A landmark read back from the layout record: ``None``, a joint index or a pair of them."""
    if value is None:
        return None
    return tuple(int(j) for j in value) if pair else int(value)


def _layout_from_json(text: str, path: Path) -> Layout:
    try:
        d = json.loads(text)
        lay = Layout(
            name=str(d["name"]),
            joint_names=tuple(d["joint_names"]),
            parents=tuple(int(p) for p in d["parents"]),
            fps=float(d["fps"]),
            coincident=tuple(tuple(int(j) for j in g) for g in d["coincident"]),
            parts=tuple((str(p), tuple(int(j) for j in js)) for p, js in d["parts"]),
            description=str(d.get("description", "")),
            hips=_landmark(d.get("hips"), True),
            shoulders=_landmark(d.get("shoulders"), True),
            spine=_landmark(d.get("spine"), False),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DatasetError(f"{path}: layout record not readable ({exc})") from None
    if lay.name in layout_names():
        reg = get_layout(lay.name)
        # files written before the landmarks existed lack them: the registered layout supplies them
        old = "hips" not in d and "shoulders" not in d and "spine" not in d
        if reg == lay or (old and replace(reg, hips=None, shoulders=None, spine=None) == lay):
            return reg
    return lay


def save(dataset: MotionDataset, path: str | os.PathLike, *, compress: bool = True) -> Path:
    """Write ``dataset`` to our npz (no pickles); :func:`load_workbench_npz` reads it back exactly."""
    path = Path(path)
    try:
        info = json.dumps(dataset.info, default=_jsonable)
    except TypeError as exc:
        raise DatasetError(f"{path}: dataset info cannot be saved: {exc}") from None
    subjects = dataset.subjects
    arrays = {
        "format": np.array(WORKBENCH_FORMAT),
        "version": np.array(WORKBENCH_VERSION, dtype=np.int64),
        "motions": np.ascontiguousarray(dataset.motions, dtype=np.float32),
        "labels": dataset.labels.astype(np.int64),
        "class_names": np.array(dataset.class_names, dtype=str).reshape(-1),
        "fps": np.array(dataset.fps, dtype=np.float64),
        "name": np.array(dataset.name),
        "layout": np.array(_layout_json(dataset.layout)),
        "sources": np.array(dataset.sources, dtype=str).reshape(-1),
        "first_frames": dataset.first_frames.astype(np.int64),
        "subjects": np.array(["" if s is None else s for s in subjects], dtype=str).reshape(-1),
        "subject_known": np.array([s is not None for s in subjects], dtype=bool).reshape(-1),
        "padded": dataset.padded.astype(bool),
        "info": np.array(info),
    }
    with open(path, "wb") as fh:
        (np.savez_compressed if compress else np.savez)(fh, **arrays)
    return path


class _NpzArrays(dict):
    """All arrays of an npz, read eagerly so that no file handle outlives the call."""

    @property
    def files(self) -> list[str]:
        return list(self)

    def __enter__(self) -> _NpzArrays:
        return self

    def __exit__(self, *exc) -> None:
        return None


_MAGIC = {"npz": b"PK\x03\x04", "npy": b"\x93NUMPY"}


def unreadable(path: Path, exc: BaseException, kind: str) -> DatasetError:
    """A :class:`DatasetError` saying in our words why ``path`` (an ``npz`` or ``npy`` ``kind``) could
    not be read, and what to do; raise it ``from exc`` so the library's text stays in ``__cause__``.

    The library's own message is never repeated: numpy answers a file that is not an array with
    advice to allow pickles, which must not be followed for a file of unknown origin.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        size, head = -1, b""
    if isinstance(exc, PermissionError | IsADirectoryError):
        problem = "cannot be opened (no permission, or not a file)"
    elif size == 0:
        problem = "the file is empty (0 bytes)"
    elif not head.startswith(_MAGIC[kind]):
        problem = (
            f"its {size} bytes do not start as a .{kind} file does (another kind of file under a "
            f".{kind} name, or random data)"
        )
    elif isinstance(exc, ValueError) and "pickle" in str(exc):
        problem = "it holds an array of Python objects (pickled data), never loaded as it could run code"
    else:
        problem = f"it is damaged or truncated ({size} bytes; an array in it or its index cannot be read)"
    return DatasetError(
        f"{path}: not a readable {kind} file: {problem}; expected arrays written by numpy "
        f"(a workbench dataset comes from engine.datasets.save). Copy or export the file again"
    )


def _open_npz(path: Path, keys_only: bool = False) -> _NpzArrays:
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            if keys_only:
                return _NpzArrays.fromkeys(z.files)
            arrays = _NpzArrays({k: z[k] for k in z.files})
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except Exception as exc:  # noqa: BLE001 - zipfile, zlib and numpy raise many kinds on a bad file
        raise unreadable(path, exc, "npz") from exc
    odd = [k for k, v in arrays.items() if not isinstance(v, np.ndarray)]
    if odd:
        raise DatasetError(
            f"{path}: not a readable npz file: its entry {odd[0]!r} is not a numpy array (damaged, or "
            "not written by numpy); expected arrays written by numpy. Copy or export the file again"
        )
    return arrays


def open_npy(path: Path) -> np.ndarray:
    """A memory-mapped ``.npy`` array; a bad file raises :class:`DatasetError` in our words."""
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except Exception as exc:  # noqa: BLE001 - see _open_npz
        raise unreadable(path, exc, "npy") from exc


def load_workbench_npz(path: str | os.PathLike) -> MotionDataset:
    """Read a dataset written by :func:`save`."""
    path = Path(path)
    with _open_npz(path) as z:
        keys = set(z.files)
        need = {"format", "motions", "labels", "class_names", "fps", "layout"}
        if not need <= keys:
            raise DatasetError(f"{path}: not a workbench dataset; missing {sorted(need - keys)}")
        try:
            if str(z["format"]) != WORKBENCH_FORMAT:
                raise DatasetError(f"{path}: format {str(z['format'])!r}; expected {WORKBENCH_FORMAT!r}")
            version = int(z["version"]) if "version" in keys else 1
            if version > WORKBENCH_VERSION:
                raise DatasetError(f"{path}: dataset version {version} is newer than this workbench reads")
            lay = _layout_from_json(str(z["layout"]), path)
            subjects = [str(s) for s in z["subjects"]] if "subjects" in keys else None
            if subjects is not None and "subject_known" in keys:
                subjects = [s if k else None for s, k in zip(subjects, z["subject_known"], strict=True)]
            info = json.loads(str(z["info"])) if "info" in keys else {}
            return MotionDataset(
                z["motions"],
                z["labels"],
                [str(c) for c in z["class_names"]],
                lay,
                float(z["fps"]),
                sources=[str(s) for s in z["sources"]] if "sources" in keys else None,
                first_frames=z["first_frames"] if "first_frames" in keys else None,
                subjects=subjects,
                padded=z["padded"] if "padded" in keys else None,
                name=str(z["name"]) if "name" in keys else path.stem,
                info=info,
                origin=path,
            )
        except (ValueError, KeyError, OSError, EOFError) as exc:
            if isinstance(exc, DatasetError):
                raise
            if isinstance(exc, WorkbenchError):  # our own words already (e.g. a layout mismatch)
                raise DatasetError(f"{path}: {exc}") from exc
            raise DatasetError(
                f"{path}: a workbench dataset whose records do not fit together "
                f"({type(exc).__name__}); expected a file written by engine.datasets.save. Save it again"
            ) from exc


def load_smart_npz(
    path: str | os.PathLike,
    *,
    stats: str | os.PathLike | None = None,
    class_names: str | os.PathLike | list[str] | None = None,
    metres_per_unit: float = METRES_PER_UNIT_HDM05,
) -> MotionDataset:
    """The SMART authors' HDM05 npz: ``clips`` ``(N, T, 75)`` normalised and ``classes`` ``(N,)``.

    ``stats`` (default ``preprocess_core.npz`` beside it) holds ``Xmean``/``Xstd`` ``(1, 75, 1)``; the
    stored value is ``(x - Xmean) / Xstd`` per coordinate ``3j + a``. ``class_names`` is a file with
    one name per line (default ``hdm05_classes.txt`` beside it) or a list. Coordinates are hip-centred,
    facing +z, y up, in ASF units; they come back in metres (``x * 0.0254 / 0.45``) on ``hdm05_25``
    at 30 fps (the 120 Hz capture, every 4th frame; windows of 60 frames, stride 20).
    """
    from ..skeleton import HDM05_25

    path = Path(path)
    with _open_npz(path) as z:
        for k in ("clips", "classes"):
            if k not in z.files:
                raise DatasetError(f"{path}: no {k!r} array; expected SMART 'clips' (N, T, 75) and 'classes'")
        clips = np.asarray(z["clips"], dtype=np.float64)
        classes = np.asarray(z["classes"])
    if clips.ndim != 3 or clips.shape[2] != 75:
        raise DatasetError(f"{path}: 'clips' has shape {clips.shape}; expected (N, T, 75) for 25 joints x 3")
    if classes.shape != (clips.shape[0],) or not np.issubdtype(classes.dtype, np.integer):
        raise DatasetError(
            f"{path}: 'classes' has shape {classes.shape} ({classes.dtype}); "
            f"expected ({clips.shape[0]},) integers"
        )
    stats_path = Path(stats) if stats is not None else path.parent / "preprocess_core.npz"
    with _open_npz(stats_path) as s:
        if "Xmean" not in s.files or "Xstd" not in s.files:
            raise DatasetError(f"{stats_path}: expected 'Xmean' and 'Xstd' arrays")
        mean = np.asarray(s["Xmean"], dtype=np.float64).reshape(-1)
        std = np.asarray(s["Xstd"], dtype=np.float64).reshape(-1)
    if mean.shape != (75,) or std.shape != (75,):
        raise DatasetError(f"{stats_path}: Xmean/Xstd hold {mean.size}/{std.size} values; expected 75 each")
    if isinstance(class_names, list | tuple):
        names = [str(c) for c in class_names]
        names_src = "the given list"
    else:
        cpath = Path(class_names) if class_names is not None else path.parent / "hdm05_classes.txt"
        names = [ln.strip() for ln in read_text(cpath).splitlines() if ln.strip()]
        names_src = str(cpath)
    if classes.size and (classes.min() < 0 or classes.max() >= len(names)):
        raise DatasetError(
            f"{path}: class indices span {classes.min()}..{classes.max()} but {names_src} names "
            f"{len(names)} classes; expected a class-name file that matches"
        )
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):
        raise DatasetError(
            f"{stats_path}: Xmean/Xstd hold NaN or inf; expected the SMART normalisation statistics"
        )
    with np.errstate(all="ignore"):
        x = clips * std + mean
    n, t = clips.shape[:2]
    with np.errstate(all="ignore"):
        motions = (x.reshape(n, t, 25, 3) * metres_per_unit).astype(np.float32)
    return MotionDataset(
        motions,
        classes.astype(np.int64),
        names,
        HDM05_25,
        30.0,
        sources=[str(path)] * n,
        first_frames=np.full(n, -1),
        subjects=[None] * n,
        padded=np.zeros(n, dtype=bool),
        name=path.stem,
        info={
            "format": "smart_npz",
            "stats": str(stats_path),
            "class_file": names_src,
            "window": t,
            "stride": 20,
            "source_fps": 120.0,
            "centred": True,
            "faced": True,
            "metres_per_unit": metres_per_unit,
            "first_frames": "unknown (-1): the SMART npz keeps no provenance",
        },
        origin=path,
    )
