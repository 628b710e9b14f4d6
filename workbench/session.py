"""Engine-side helpers of the workbench (no Qt): loading models and datasets, evaluating a model over a
dataset, turning the parameter panel's dict into an :class:`AttackConfig`, and the record of one run.

Everything here runs in worker threads or is cheap; the GUI only calls these through :mod:`.worker`.
"""

from __future__ import annotations

import copy
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine import demo as demo_mod
from engine import metrics as metrics_mod
from engine.attack import AttackConfig, AttackResult
from engine.errors import CheckpointError, WorkbenchError
from engine.models import load_checkpoint

__all__ = [
    "LoadedModel", "RunRecord", "check_compatible", "config_from_params", "cuda_available", "evaluate",
    "load_model", "make_record", "metric_rows", "params_from_config", "warm_up",
]

METRIC_LABELS = {
    "displacement_mean": ("Mean joint displacement", 1000.0, "mm"),
    "displacement_max": ("Max joint displacement", 1000.0, "mm"),
    "bone_abs_mean": ("Bone-length deviation (mean)", 1000.0, "mm"),
    "bone_abs_max": ("Bone-length deviation (max)", 1000.0, "mm"),
    "bone_rel_mean": ("Bone-length deviation (relative)", 100.0, "%"),
    "bone_rel_max": ("Bone-length deviation (relative max)", 100.0, "%"),
    "velocity_dev": ("Velocity deviation", 1.0, "m/s"),
    "acceleration_dev": ("Acceleration deviation", 1.0, "m/s²"),
    "jerk_dev": ("Jerk deviation", 1.0, "m/s³"),
}


def cuda_available() -> bool:
    try:
        return bool(torch.cuda.is_available())
    except Exception:  # a broken driver is "not available"
        return False


@dataclass
class LoadedModel:
    """A recognizer with its checkpoint metadata. ``source``: a demo model name or a file path."""

    model: torch.nn.Module
    meta: Any
    source: str
    title: str

    @property
    def class_names(self) -> list[str]:
        return list(self.meta.class_names)

    @property
    def layout(self) -> str:
        return str(self.meta.layout)


def load_model(source: str, demo: str | None = None) -> LoadedModel:
    """A demo model by name (for ``demo``) or a checkpoint file."""
    if demo is not None and source in demo_mod.demo_models(demo):
        path = demo_mod.demo_checkpoint(demo, source)
        title = f"{source} (demo)"
    else:
        path = Path(source)
        if not path.is_file():
            raise CheckpointError(f"{source}: no such checkpoint file")
        title = path.name
    model, meta = load_checkpoint(path)
    model.eval()
    return LoadedModel(model, meta, source, title)


def check_compatible(model: LoadedModel, dataset) -> None:
    """Raise a :class:`WorkbenchError` saying what to do when ``model`` can't classify ``dataset``."""
    lay = dataset.layout.name if hasattr(dataset.layout, "name") else str(dataset.layout)
    if model.layout != lay:
        raise WorkbenchError(
            f"The model {model.title} was trained on the {model.layout!r} skeleton, but the dataset "
            f"{dataset.name!r} uses {lay!r}.\n\nOpen a checkpoint trained on {lay!r} motions, or a dataset "
            f"in the {model.layout!r} layout."
        )
    n_model, n_data = len(model.class_names), len(dataset.class_names)
    if n_model != n_data:
        raise WorkbenchError(
            f"The model {model.title} has {n_model} classes, the dataset {dataset.name!r} has {n_data}.\n\n"
            "Open a checkpoint trained on this dataset's classes."
        )


def evaluate(model: torch.nn.Module, motions: np.ndarray, device: str = "cpu", batch: int = 32,
             progress: Callable[..., Any] | None = None, order: np.ndarray | None = None) -> np.ndarray:
    """Class probabilities ``(N, C)`` of ``model`` on ``motions`` ``(N, T, V, 3)``, in batches.

    Runs on a deep copy of the model (the GUI may attack with the original meanwhile). ``progress(done,
    total)`` is called after each batch (it may raise to cancel). ``order``: indices to evaluate first.
    """
    net = copy.deepcopy(model).to(device).eval()
    n = len(motions)
    idx = np.arange(n) if order is None else np.asarray(order)
    out: np.ndarray | None = None
    done = 0
    with torch.no_grad():
        for start in range(0, n, batch):
            sel = idx[start:start + batch]
            x = torch.as_tensor(np.ascontiguousarray(motions[sel]), dtype=torch.float32, device=device)
            p = torch.softmax(net(x).float(), dim=1).cpu().numpy()
            if out is None:
                out = np.full((n, p.shape[1]), np.nan, dtype=np.float32)
            out[sel] = p
            done += len(sel)
            if progress is not None:
                progress(done, n, "")
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def warm_up(model: torch.nn.Module, layout, motion: np.ndarray, label: int) -> None:
    """One attack iteration on a copy of ``model``: the first attack in a process imports and
    initialises parts of torch (the optimiser, autograd) while holding the GIL, which would freeze the
    GUI for a moment; doing it while the model loads hides that."""
    from engine.attack import SmartAttack

    net = copy.deepcopy(model)
    attack = SmartAttack(net, layout, AttackConfig(iterations=1, stop_on_success=False, device="cpu"))
    for _ in attack.steps(motion[None], np.asarray([label]), with_motion=True):
        pass


def config_from_params(params: dict, device: str | None = None) -> AttackConfig:
    """The parameter panel's dict -> :class:`AttackConfig` (raises ValueError with the engine's message)."""
    p = dict(params)
    target = p.pop("target", None)
    if p.get("strategy") == "sa":
        if target is None:
            raise ValueError("the specified attack (SA) needs a target class: pick one in the Target list")
        p["targets"] = int(target)
    p["betas"] = tuple(float(b) for b in p.get("betas", (0.6, 0.0, 0.4, 0.0, 0.0)))
    p["iterations"] = int(p.get("iterations", 300))
    p["top_n"] = int(p.get("top_n", 3))
    p["seed"] = int(p.get("seed", 0))
    return AttackConfig(device=device, **p)


def params_from_config(cfg: AttackConfig) -> dict:
    """Inverse of :func:`config_from_params` (for the panel)."""
    t = cfg.targets
    if isinstance(t, tuple):
        t = t[0] if t else None
    return {
        "strategy": cfg.strategy, "top_n": cfg.top_n, "target": t, "w": cfg.w, "alpha": cfg.alpha,
        "betas": tuple(cfg.betas), "lr": cfg.lr, "iterations": cfg.iterations, "perceptual": cfg.perceptual,
        "classification_loss": cfg.classification_loss, "stop_on_success": cfg.stop_on_success,
        "seed": cfg.seed,
    }


_RUN_IDS = itertools.count(1)


@dataclass
class RunRecord:
    """One attack on one motion: its parameters, curves and result (numpy), for the run history."""

    run_id: int
    motion_key: tuple
    params: dict
    original: np.ndarray  # (T, V, 3)
    adversarial: np.ndarray  # (T, V, 3)
    label: int
    target: int
    success: bool
    iterations: int
    flip_iteration: int
    predicted: int
    probabilities: np.ndarray  # (C,)
    history: dict[str, np.ndarray]  # name -> (I+1,)
    metrics: dict[str, float]
    per_joint: np.ndarray  # (V,) mean displacement per joint, metres
    cancelled: bool
    warnings: list[str] = field(default_factory=list)
    model: str = ""
    created: float = field(default_factory=time.time)

    def summary(self) -> str:
        p = self.params
        strat = p["strategy"].upper() + (str(p["top_n"]) if p["strategy"] == "abn" else "")
        return f"#{self.run_id} {strat} w={p['w']:.2f} α={p['alpha']:.2f}"

    def to_json(self, class_names: list[str] | None = None) -> dict:
        def name(c: int) -> str | int:
            return class_names[c] if class_names and 0 <= c < len(class_names) else c

        return {
            "run": self.run_id, "motion": list(self.motion_key), "model": self.model,
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.params.items()},
            "label": int(self.label), "label_name": name(self.label),
            "target": int(self.target), "success": bool(self.success), "cancelled": bool(self.cancelled),
            "iterations": int(self.iterations), "flip_iteration": int(self.flip_iteration),
            "predicted": int(self.predicted), "predicted_name": name(self.predicted),
            "probabilities": [float(x) for x in self.probabilities],
            "metrics": {k: _finite(v) for k, v in self.metrics.items()},
            "per_joint_displacement_m": [float(x) for x in self.per_joint],
            "history": {k: [_finite(x) for x in v] for k, v in self.history.items()},
            "warnings": list(self.warnings),
        }


def _finite(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def make_record(result: AttackResult, params: dict, motion_key: tuple, layout, fps: float,
                model: str = "") -> RunRecord:
    """A :class:`RunRecord` of motion 0 of ``result`` with the engine's perceptual metrics."""
    orig = result.original[0].numpy().astype(np.float32)
    adv = result.adversarial[0].numpy().astype(np.float32)
    m = metrics_mod.sample_metrics(orig[None], adv[None], layout, fps)
    per_joint = metrics_mod.per_joint_displacement(orig[None], adv[None])
    per_joint = np.asarray(per_joint, dtype=np.float64).reshape(-1)
    return RunRecord(
        run_id=next(_RUN_IDS), motion_key=motion_key, params=dict(params), original=orig, adversarial=adv,
        label=int(result.labels[0]), target=int(result.targets[0]), success=bool(result.success[0]),
        iterations=int(result.iterations[0]), flip_iteration=int(result.flip_iteration[0]),
        predicted=int(result.predicted[0]), probabilities=result.probabilities[0].numpy().astype(np.float64),
        history={k: np.asarray(v)[:, 0].astype(np.float64) for k, v in result.history.items()},
        metrics={k: float(np.asarray(v).reshape(-1)[0]) for k, v in m.items()},
        per_joint=per_joint, cancelled=bool(result.cancelled), warnings=list(result.warnings), model=model,
    )


def metric_rows(metrics: dict[str, float]) -> list[tuple[str, str, str]]:
    """``(key, label, formatted value)`` for the Results panel, known metrics first."""
    rows = []
    for key, (label, scale, unit) in METRIC_LABELS.items():
        if key in metrics:
            v = metrics[key]
            rows.append((key, label, "—" if not math.isfinite(v) else f"{v * scale:.3g} {unit}"))
    for key, v in metrics.items():
        if key not in METRIC_LABELS:
            rows.append((key, key, "—" if not math.isfinite(v) else f"{v:.4g}"))
    return rows
