"""The record of one attack run (plain data, no Qt): what was attacked (dataset, motion, model), with
which parameters, its outcome (success / failed / stopped at k), its curves and the engine's metrics.

Runs are compared only with runs on the same motion of the same dataset: :func:`compare_reason` says
why two runs can't be compared. Metric names, units and labels come from :data:`engine.metrics.METRICS`.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np

from engine import metrics as metrics_mod
from engine.attack import AttackResult

__all__ = ["RunRecord", "compare_reason", "make_record", "metric_rows", "strategy_text"]

_RUN_IDS = itertools.count(1)


def strategy_text(params: dict) -> str:
    """'AB', 'ABN3', 'SA'."""
    s = str(params.get("strategy", "ab"))
    return s.upper() + (str(params.get("top_n", "")) if s == "abn" else "")


@dataclass
class RunRecord:
    """One attack on one motion.

    ``dataset``: the dataset's source (a path or ``demo:<name>``), ``dataset_title`` its short name;
    ``motion``: the motion's index there; ``model``: the model's title, ``model_source`` its
    checkpoint. ``label`` / ``predicted`` / ``target`` / ``probabilities`` are in the model's classes.
    """

    run_id: int
    dataset: str
    dataset_title: str
    motion: int
    model: str
    model_source: str
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
    history: dict[str, np.ndarray]  # term -> (I+1,)
    metrics: dict[str, float]
    per_joint: np.ndarray  # (V,) mean displacement per joint, metres
    cancelled: bool
    warnings: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)

    @property
    def motion_key(self) -> tuple[str, int]:
        return (self.dataset, int(self.motion))

    @property
    def outcome(self) -> str:
        """'stopped' (the user stopped it), 'success' or 'failed'."""
        if self.cancelled:
            return "stopped"
        return "success" if self.success else "failed"

    def outcome_text(self) -> str:
        """'success after 12 it.', 'failed after 300 it.', 'stopped at 77 / 300' (', goal reached' when the
        label had flipped before the stop)."""
        if self.outcome == "stopped":
            budget = int(self.params.get("iterations", self.iterations))
            return f"stopped at {self.iterations} / {budget}" + (", goal reached" if self.success else "")
        return f"{self.outcome} after {self.iterations} it."

    def caption(self) -> str:
        p = self.params
        return (f"SMART {strategy_text(p)} w={float(p['w']):.2f} α={float(p['alpha']):.2f} · {self.model} · "
                f"{self.outcome_text()}")

    def summary(self) -> str:
        return f"#{self.run_id} {strategy_text(self.params)} {self.model} · {self.outcome_text()}"

    def to_json(self, class_names: list[str] | None = None) -> dict:
        """Plain data; ``class_names``: the model's, to name labels."""
        def name(c: int) -> str | int:
            return class_names[c] if class_names and 0 <= c < len(class_names) else c

        return {
            "run": self.run_id, "dataset": self.dataset, "motion": int(self.motion), "model": self.model,
            "model_source": self.model_source,
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.params.items()},
            "outcome": self.outcome, "label": int(self.label), "label_name": name(self.label),
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


def make_record(result: AttackResult, params: dict, *, dataset: str, dataset_title: str, motion: int,
                model: str, model_source: str, layout, fps: float) -> RunRecord:
    """A :class:`RunRecord` of motion 0 of ``result`` with the engine's perceptual metrics."""
    orig = result.original[0].numpy().astype(np.float32)
    adv = result.adversarial[0].numpy().astype(np.float32)
    m = metrics_mod.sample_metrics(orig[None], adv[None], layout, fps)
    per_joint = np.asarray(metrics_mod.per_joint_displacement(orig[None], adv[None]), dtype=np.float64)
    return RunRecord(
        run_id=next(_RUN_IDS), dataset=dataset, dataset_title=dataset_title, motion=int(motion), model=model,
        model_source=model_source, params=dict(params), original=orig, adversarial=adv,
        label=int(result.labels[0]), target=int(result.targets[0]), success=bool(result.success[0]),
        iterations=int(result.iterations[0]), flip_iteration=int(result.flip_iteration[0]),
        predicted=int(result.predicted[0]), probabilities=result.probabilities[0].numpy().astype(np.float64),
        history={k: np.asarray(v)[:, 0].astype(np.float64) for k, v in result.history.items()},
        metrics={k: float(np.asarray(v).reshape(-1)[0]) for k, v in m.items()},
        per_joint=per_joint.reshape(-1), cancelled=bool(result.cancelled), warnings=list(result.warnings),
    )


def metric_rows(values: dict[str, float]) -> list[tuple[str, str, str]]:
    """``(key, label, formatted value)`` in the order of :data:`engine.metrics.METRICS`."""
    return [(m.key, m.label, m.format(values[m.key])) for m in metrics_mod.METRICS if m.key in values]


def compare_reason(a: RunRecord, b: RunRecord) -> str:
    """Empty when ``a`` and ``b`` may be compared (same motion of the same dataset), else why not."""
    if a.dataset != b.dataset:
        return (f"Run #{a.run_id} is on {a.dataset_title} and run #{b.run_id} on {b.dataset_title}: only "
                "runs on the same motion can be compared.")
    if a.motion != b.motion:
        return (f"Run #{a.run_id} is on motion #{a.motion} and run #{b.run_id} on motion #{b.motion}: only "
                "runs on the same motion can be compared.")
    return ""
