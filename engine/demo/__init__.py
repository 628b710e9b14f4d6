"""The embedded demos: a generated dataset of everyday actions and a sample of HDM05 motion capture.

Two demos are offered by name (:func:`demo_names`):

* ``"demo"`` -- 12 everyday actions made by :func:`generate` (joint angles + forward kinematics on the
  ``ntu25`` layout, 30 fps, metres). It is not shipped: :func:`load_demo` regenerates it from its
  fixed seed (well under a second) and keeps it in memory for the process. Its held-out split is
  the subjects in :data:`DEMO_VAL_SUBJECTS`.
* ``"hdm05-demo"`` -- "HDM05 (real motion capture)": a sample of 60-frame windows (30 fps,
  ``hdm05_25`` layout, float16 on disk) of HDM05 takes of 11 classes by actors bd, bk and dg, shipped
  in ``assets/hdm05-demo/`` with its CC BY-SA 3.0 licence and attribution. Its held-out split is
  the actor the shipped checkpoints never saw (``val_subjects`` in the file).

Trained checkpoints for each demo lie in ``assets/<demo>/<model>.pt`` (:func:`demo_models`,
:func:`demo_checkpoint`); ``scripts/make_demo_assets.py`` makes them all. Nothing here needs
``../shared``.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import WorkbenchError
from .generator import CLASS_NAMES, FPS, generate_arrays

__all__ = [
    "ASSETS", "CLASS_NAMES", "DEMO_PARAMS", "DEMO_VAL_SUBJECTS", "HDM05_TITLE", "demo_checkpoint",
    "demo_models", "demo_names", "demo_split", "demo_title", "demo_val_subjects", "generate",
    "generate_arrays", "load_demo", "resolve_checkpoint",
]

ASSETS = Path(str(resources.files("assets")))
"""The folder of what ships (``<repo>/assets`` in a checkout): the ``assets`` package's data, found with
:mod:`importlib.resources`, so an installed wheel has the demos too."""

DEMO_PARAMS = {"n_per_class": 60, "seed": 2021, "frames": 60, "n_subjects": 10}
"""How the ``"demo"`` dataset is generated (12 classes x 60 clips of 60 frames, 10 subjects)."""

DEMO_VAL_SUBJECTS = ("s08", "s09")
"""The subjects of the ``"demo"`` held-out split (144 clips); its checkpoints never saw them."""

HDM05_TITLE = "HDM05 (real motion capture)"
HDM05_FILE = "windows.npz"

_TITLES = {"demo": "Generated everyday actions (12 classes)", "hdm05-demo": HDM05_TITLE}


def generate(n_per_class: int = 60, seed: int = 0, frames: int = 60, n_subjects: int = 10,
             classes: tuple[str, ...] | list[str] | None = None, name: str = ""):
    """A :class:`engine.datasets.MotionDataset` of generated actions (see :mod:`.generator`)."""
    MotionDataset = _dataset_cls()
    motions, labels, class_names, subjects = generate_arrays(n_per_class, seed, frames, n_subjects, classes)
    return MotionDataset(
        motions, labels, class_names, "ntu25", FPS, subjects=subjects,
        sources=[f"generated:seed={seed}:{class_names[k]}:{i}" for i, k in enumerate(labels)],
        name=name or f"generated (seed {seed})",
        info={"generator": {"n_per_class": n_per_class, "seed": seed, "frames": frames,
                            "n_subjects": n_subjects}},
    )


def _dataset_cls():
    try:
        from ..datasets import MotionDataset
    except ImportError:  # the datasets package is still being written: use its container directly
        from ..datasets._dataset import MotionDataset
    return MotionDataset


def demo_names() -> list[str]:
    """The demos the app and the commands offer: ``['demo', 'hdm05-demo']``."""
    return ["demo", "hdm05-demo"]


def demo_title(name: str) -> str:
    """A human title for a demo ("HDM05 (real motion capture)" ...)."""
    _check(name)
    return _TITLES[name]


def _check(name: str) -> None:
    if name not in demo_names():
        raise WorkbenchError(f"unknown demo {name!r}; demos: {demo_names()}")


@functools.lru_cache(maxsize=1)
def _demo_arrays() -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    return generate_arrays(**DEMO_PARAMS)


def _hdm05_file() -> Path:
    return ASSETS / "hdm05-demo" / HDM05_FILE


@functools.lru_cache(maxsize=1)
def _hdm05_arrays() -> dict:
    path = _hdm05_file()
    if not path.is_file():
        raise WorkbenchError(
            f"{path}: the HDM05 demo is not in the assets; run scripts/make_demo_assets.py"
        )
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def load_demo(name: str):
    """The dataset of demo ``name`` as a :class:`engine.datasets.MotionDataset` (a fresh copy)."""
    MotionDataset = _dataset_cls()
    _check(name)
    if name == "demo":
        motions, labels, class_names, subjects = _demo_arrays()
        return MotionDataset(
            motions.copy(), labels.copy(), class_names, "ntu25", FPS, subjects=subjects,
            sources=[f"generated:{class_names[k]}:{i}" for i, k in enumerate(labels)],
            name="demo", info={"generator": dict(DEMO_PARAMS), "val_subjects": list(DEMO_VAL_SUBJECTS),
                               "title": _TITLES[name]},
        )
    z = _hdm05_arrays()
    return MotionDataset(
        z["motions"].astype(np.float32), z["labels"], [str(c) for c in z["class_names"]], "hdm05_25",
        float(z["fps"]), subjects=[str(s) for s in z["subjects"]], sources=[str(s) for s in z["sources"]],
        first_frames=z["first_frames"], name="hdm05-demo",
        info={"val_subjects": [str(s) for s in z["val_subjects"]], "title": _TITLES[name],
              "licence": "CC BY-SA 3.0 (HDM05, see assets/hdm05-demo/LICENSE.txt)"},
    )


def demo_val_subjects(name: str) -> list[str]:
    """The held-out subjects of demo ``name``."""
    _check(name)
    if name == "demo":
        return list(DEMO_VAL_SUBJECTS)
    return [str(s) for s in _hdm05_arrays()["val_subjects"]]


def demo_split(name: str):
    """``(train, held_out)`` datasets of demo ``name``, split by its held-out subjects."""
    return load_demo(name).split_by_subject(demo_val_subjects(name))


def demo_models(name: str) -> list[str]:
    """Names of the models with a shipped checkpoint for demo ``name`` (sorted; empty if none)."""
    _check(name)
    folder = ASSETS / name
    return sorted(p.stem for p in folder.glob("*.pt")) if folder.is_dir() else []


def demo_checkpoint(name: str, model_name: str) -> Path:
    """Path of the shipped checkpoint of ``model_name`` for demo ``name``."""
    _check(name)
    path = ASSETS / name / f"{model_name}.pt"
    if not path.is_file():
        raise WorkbenchError(
            f"no shipped {model_name!r} checkpoint for demo {name!r} ({path}); "
            f"shipped: {demo_models(name)}"
        )
    return path


def resolve_checkpoint(spec: str | Path, demo: str = "demo") -> Path:
    """A checkpoint from a model argument: the name of a shipped model of ``demo`` (``"stgcn"``) or a
    path to a checkpoint file."""
    if isinstance(spec, str) and demo in demo_names() and spec in demo_models(demo):
        return demo_checkpoint(demo, spec)
    path = Path(spec)
    if path.is_file():
        return path
    shipped = demo_models(demo) if demo in demo_names() else []
    raise WorkbenchError(f"{spec}: neither a shipped model of demo {demo!r} ({shipped}) nor a file")
