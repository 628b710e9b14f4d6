"""Motion datasets from the formats researchers bring: one :class:`MotionDataset`, many loaders.

``load(path, **options)`` detects the format from the path (file or folder) and calls one of the
per-format loaders, which can also be called directly:

========================  ==========================================================================
``smart_npz``             :func:`load_smart_npz` -- the SMART authors' normalised HDM05 clips
``workbench_npz``         :func:`load_workbench_npz` -- our own file, written by :func:`save`
``amc``                   :func:`load_amc` -- one ASF/AMC take (HDM05, CMU)
``amc_folder``            :func:`load_amc_folder` -- ASF/AMC takes in per-class sub-folders
``bvh``                   :func:`load_bvh` -- one BVH take
``bvh_folder``            :func:`load_bvh_folder` -- BVH takes in per-class sub-folders
``mhad``                  :func:`load_mhad` -- Berkeley MHAD ``skl_sXX_aYY_rZZ.bvh`` (file or folder)
``ntu_skeleton``          :func:`load_ntu_skeleton` -- NTU RGB+D raw ``.skeleton`` (file or folder)
``ntu_npy``               :func:`load_ntu_npy` -- ST-GCN / 2s-AGCN ``*_data_joint.npy`` + label ``.pkl``
========================  ==========================================================================

Each loader lives beside its parser (:mod:`.asf`, :mod:`.bvh`, :mod:`.ntu`, :mod:`.io`); the take-based
ones share one options object (:class:`ClipOptions` and its subclasses, e.g. ``window``, ``stride``,
``fps``, ``centre``, ``face``, ``bone_lengths``, ``skip_bad``), whose fields are the loader's keyword
options, the cache key and ``info['options']``, and one take-reading loop (:mod:`._takes`).

Motions are float32 ``(N, T, V, 3)`` in metres on ``hdm05_25`` (mocap formats) or ``ntu25`` (NTU).
Text formats are parsed once and cached by content (see :func:`engine.datasets._cache.cache_root`;
``cache=False`` turns it off, ``cache_dir=`` moves it). Bad input raises
:class:`engine.errors.DatasetError` naming the file, the line or frame and what was expected; a
motion holding NaN or inf raises :class:`NonFiniteMotionError` naming the file, motion and take.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DatasetError
from ._cache import cache_root
from ._dataset import MotionDataset, NonFiniteMotionError, bone_lengths, set_bone_lengths
from ._takes import ClipOptions, MocapOptions, find_files
from .asf import AmcFolderOptions, AmcOptions, load_amc, load_amc_folder
from .bvh import BvhFolderOptions, BvhOptions, load_bvh, load_bvh_folder, load_mhad
from .io import _open_npz, load_smart_npz, load_workbench_npz, save
from .ntu import NpyOptions, NtuOptions, load_ntu_npy, load_ntu_skeleton

__all__ = [
    "MotionDataset",
    "NonFiniteMotionError",
    "load",
    "save",
    "formats",
    "detect_format",
    "cache_root",
    "bone_lengths",
    "set_bone_lengths",
    "load_smart_npz",
    "load_workbench_npz",
    "load_amc",
    "load_amc_folder",
    "load_bvh",
    "load_bvh_folder",
    "load_mhad",
    "load_ntu_skeleton",
    "load_ntu_npy",
    "ClipOptions",
    "MocapOptions",
    "AmcOptions",
    "AmcFolderOptions",
    "BvhOptions",
    "BvhFolderOptions",
    "NtuOptions",
    "NpyOptions",
]

_LOADERS = {
    "smart_npz": load_smart_npz,
    "workbench_npz": load_workbench_npz,
    "amc": load_amc,
    "amc_folder": load_amc_folder,
    "bvh": load_bvh,
    "bvh_folder": load_bvh_folder,
    "mhad": load_mhad,
    "ntu_skeleton": load_ntu_skeleton,
    "ntu_npy": load_ntu_npy,
}


def formats() -> list[str]:
    """Names of the supported formats (the ``format=`` values of :func:`load`), sorted."""
    return sorted(_LOADERS)


def _has(root: Path, suffix: str, stem: str = "") -> bool:
    """Whether a file under ``root`` has ``suffix`` (any case: HDM05 has ``.AMC`` takes) and a stem
    starting with ``stem``."""
    return any(f.stem.lower().startswith(stem) for f in find_files(root, suffix))


def detect_format(path: str | os.PathLike) -> str:
    """The format name for ``path`` (see :func:`formats`)."""
    p = Path(path)
    if p.is_dir():
        if _has(p, ".amc"):
            return "amc_folder"
        if _has(p, ".bvh", "skl_s"):
            return "mhad"
        if _has(p, ".bvh"):
            return "bvh_folder"
        if _has(p, ".skeleton"):
            return "ntu_skeleton"
        raise DatasetError(
            f"{p}: no dataset files found in it; expected .amc, .bvh or .skeleton files "
            "(in class sub-folders)"
        )
    if not p.is_file():
        raise DatasetError(f"{p}: no such file or folder")
    ext = p.suffix.lower()
    if ext == ".amc":
        return "amc"
    if ext == ".bvh":
        return "mhad" if p.stem.lower().startswith("skl_s") else "bvh"
    if ext == ".skeleton":
        return "ntu_skeleton"
    if ext == ".npy":
        return "ntu_npy"
    if ext == ".npz":
        keys = set(_open_npz(p, keys_only=True).files)
        if "format" in keys and "motions" in keys:
            return "workbench_npz"
        if {"clips", "classes"} <= keys:
            return "smart_npz"
        raise DatasetError(
            f"{p}: npz with arrays {sorted(keys)[:10]}; expected a workbench dataset (motions, format) "
            "or SMART clips + classes"
        )
    if ext == ".asf":
        raise DatasetError(f"{p}: an ASF is a skeleton only; open the .amc motion (or its folder)")
    raise DatasetError(
        f"{p}: unknown dataset file type {ext or '(none)'!r}; expected one of .npz .amc .bvh .skeleton .npy"
    )


def load(path: str | os.PathLike, *, format: str | None = None, **options) -> MotionDataset:  # noqa: A002
    """Open a dataset file or folder; the format is detected unless ``format`` names it.

    ``options`` go to the format's loader (e.g. ``window``, ``stride``, ``centre``, ``face``,
    ``skip_bad``, ``cache``, ``cache_dir``); an option the loader does not take raises
    :class:`DatasetError`.
    """
    fmt = format or detect_format(path)
    if fmt not in _LOADERS:
        raise DatasetError(f"unknown dataset format {fmt!r}; known: {formats()}")
    loader = _LOADERS[fmt]
    takes = options_of(loader)
    unknown = [k for k in options if k not in takes]
    if unknown:
        raise DatasetError(f"{path}: the {fmt} loader takes no option(s) {unknown}; it takes {takes}")
    return loader(path, **options)


def options_of(loader) -> list[str]:
    """The option names ``loader`` takes: the fields of its options object (``loader.options``) and
    its other keyword parameters (``cache``, ``cache_dir``, ...)."""
    import inspect

    params = inspect.signature(loader).parameters.values()
    named = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
    fields = getattr(loader, "options", None)
    return (fields.names() if fields is not None else []) + named
