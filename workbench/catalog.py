"""Which models there are and which fit a dataset (no Qt): the shipped checkpoints, the ones that fit a
dataset by :func:`engine.models.fit` (same layout, class names by name, fps), the one to start with, why
none fits, and loading one (cached).

Everything slow here runs in worker threads (:mod:`.tasks`). A model is named by its **source**: the path
of its checkpoint (the shipped ones live in the package's assets). ``resolve_model_spec`` also takes a
shipped model's name (``stgcn``) and picks the shipped checkpoint of that name that fits the dataset.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine import demo as demo_mod
from engine.errors import CheckpointError, WorkbenchError
from engine.models import ModelDataMismatch, fit, load_checkpoint

__all__ = ["LoadedModel", "ModelChoice", "closest_mismatch", "first_fitting", "fitting_models", "load_model",
           "resolve_model_spec", "shipped_models"]

#: shipped models tried first when a dataset needs one
PREFERRED = ("mlp", "stgcn", "hrnn", "agcn")


@dataclass(frozen=True)
class ModelChoice:
    """A model the Model combo offers: ``source`` (checkpoint path), ``title``, ``name`` (architecture),
    ``shipped`` (one of the package's checkpoints)."""

    source: str
    title: str
    name: str
    shipped: bool


@dataclass
class LoadedModel:
    """A recognizer with its checkpoint metadata, loaded from ``source`` (a checkpoint path)."""

    model: torch.nn.Module
    meta: Any
    source: str
    title: str

    @property
    def class_names(self) -> list[str]:
        return list(getattr(self.model, "class_names", None) or self.meta.class_names)

    @property
    def layout(self) -> str:
        lay = self.meta.layout
        return getattr(lay, "name", str(lay))

    @property
    def name(self) -> str:
        return str(self.meta.model)


_CACHE: dict[str, tuple[float, torch.nn.Module, Any]] = {}
_LOCK = threading.Lock()


def _load(path: Path) -> tuple[torch.nn.Module, Any]:
    """``load_checkpoint(path)``, cached by path and modification time (models are never trained here)."""
    key = str(path.resolve())
    mtime = path.stat().st_mtime
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] == mtime:
            return hit[1], hit[2]
    model, meta = load_checkpoint(path)
    model.eval()
    with _LOCK:
        _CACHE[key] = (mtime, model, meta)
    return model, meta


def shipped_models() -> list[ModelChoice]:
    """Every checkpoint shipped with the package (all demos)."""
    out = []
    for demo in demo_mod.demo_names():
        label = "HDM05 demo" if demo == "hdm05-demo" else "demo"
        for name in demo_mod.demo_models(demo):
            path = demo_mod.demo_checkpoint(demo, name)
            out.append(ModelChoice(str(path), f"{name} ({label})", name, True))
    return out


def _title(path: Path) -> str:
    for c in shipped_models():
        if Path(c.source) == path:
            return c.title
    return path.name


def load_model(source: str | Path) -> LoadedModel:
    """The checkpoint at ``source`` (cached)."""
    path = Path(source)
    if not path.is_file():
        raise CheckpointError(f"{source}: no such checkpoint file. Pick a model in the list or open a "
                              "checkpoint (.pt) that exists.")
    model, meta = _load(path)
    return LoadedModel(model, meta, str(path), _title(path))


def fitting_models(dataset, extra: list[str] = ()) -> list[ModelChoice]:
    """The shipped checkpoints (and the checkpoint files in ``extra``) that fit ``dataset``: same layout,
    class names and frame rate (:func:`engine.models.fit`). Unreadable files are left out."""
    choices = shipped_models()
    known = {c.source for c in choices}
    for p in extra:
        if p not in known and Path(p).is_file():
            choices.append(ModelChoice(str(p), Path(p).name, "", False))
            known.add(p)
    out = []
    for c in choices:
        try:
            model, meta = _load(Path(c.source))
            fit(model, dataset)
        except (WorkbenchError, ValueError, OSError):
            continue
        out.append(dataclasses.replace(c, name=str(meta.model)) if not c.name else c)
    return out


def closest_mismatch(dataset) -> str:
    """Why no shipped model fits ``dataset``: the refusal of one with the dataset's layout if there is one
    (its class names or fps differ), else of any ("<title>: <reason>")."""
    reasons = []
    for c in shipped_models():
        try:
            model, meta = _load(Path(c.source))
            fit(model, dataset)
        except ModelDataMismatch as exc:
            same = getattr(meta.layout, "name", str(meta.layout)) == getattr(dataset.layout, "name", "")
            reasons.append((not same, f"{c.title}: {exc}"))
        except (WorkbenchError, ValueError, OSError):
            continue
    return min(reasons)[1] if reasons else ""


def first_fitting(dataset, last: str = "", extra: list[str] = ()) -> LoadedModel | None:
    """The model to start ``dataset`` with: the one used last if it fits, else the first shipped model that
    fits in the order of :data:`PREFERRED`, else any that fits (loading only as many as needed)."""
    shipped = shipped_models()
    ranked = sorted(shipped, key=lambda c: PREFERRED.index(c.name) if c.name in PREFERRED else len(PREFERRED))
    sources = []
    if last:  # a checkpoint path, or a shipped model's name (older settings files)
        try:
            sources.append(resolve_model_spec(last, dataset))
        except WorkbenchError:
            pass
    sources += [c.source for c in ranked] + list(extra)
    for src in dict.fromkeys(sources):
        path = Path(src)
        if not path.is_file():
            continue
        try:
            lm = load_model(path)
            fit(lm.model, dataset)
        except (WorkbenchError, ValueError, OSError):
            continue
        return lm
    return None


def resolve_model_spec(spec: str, dataset=None) -> str:
    """A checkpoint path from ``spec``: a file, or the name of a shipped model (``stgcn``; the one that fits
    ``dataset`` when there are several). Raises :class:`WorkbenchError` saying what is offered."""
    if Path(spec).is_file():
        return str(Path(spec))
    named = [c for c in shipped_models() if c.name == spec]
    if dataset is not None and named:
        fits = [c for c in fitting_models(dataset) if c.name == spec]
        if fits:
            return fits[0].source
        offered = sorted({c.name for c in fitting_models(dataset)})
        raise WorkbenchError(f"no shipped {spec!r} model fits this dataset; the shipped models that fit it: "
                             f"{offered or 'none'}. Give a checkpoint file trained on it instead.")
    if named:
        return named[0].source
    raise WorkbenchError(f"{spec}: neither a checkpoint file nor a shipped model "
                         f"({sorted({c.name for c in shipped_models()})})")
