"""Metrics of an attack: success rates, perceptual deviations, and the vulnerability analysis (§4.6).

All functions take motions ``(N, T, V, 3)`` in metres (torch tensors or numpy arrays) and return
numpy arrays. Derivative deviations are reported in physical units: the n-th forward difference
multiplied by fpsⁿ (m/s, m/s², m/s³), unlike the attack's loss, which uses per-frame differences
(see :mod:`engine.attack.losses`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .skeleton import Layout, bone_lengths, resolve

__all__ = [
    "bone_length_deviation",
    "correlation_matrices",
    "derivative_deviation",
    "joint_displacement",
    "per_joint_displacement",
    "sample_metrics",
    "success_rate",
    "success_rates",
    "summarize",
]


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def _pair(original: Any, adversarial: Any) -> tuple[np.ndarray, np.ndarray]:
    q, a = _np(original), _np(adversarial)
    if q.shape != a.shape or q.ndim != 4 or q.shape[-1] != 3:
        raise ValueError(f"original and adversarial must both be (N, T, V, 3); got {q.shape} and {a.shape}")
    return q, a


def success_rate(success: Any) -> float:
    """Fraction of successful attacks (NaN for none)."""
    s = np.asarray(_np(success), dtype=bool).ravel()
    return float(s.mean()) if s.size else float("nan")


def success_rates(results: dict[str, Any]) -> dict[str, float]:
    """Success rate per strategy, e.g. ``{'AB': …, 'AB3': …, 'SA': …}`` from ``{name: AttackResult}``."""
    return {name: success_rate(r.success if hasattr(r, "success") else r) for name, r in results.items()}


def joint_displacement(original: Any, adversarial: Any) -> np.ndarray:
    """‖q̂ − q‖ per motion, frame and joint: ``(N, T, V)`` metres."""
    q, a = _pair(original, adversarial)
    return np.linalg.norm(a - q, axis=-1)


def per_joint_displacement(original: Any, adversarial: Any) -> np.ndarray:
    """Mean displacement of each joint over frames: ``(N, V)`` metres."""
    return joint_displacement(original, adversarial).mean(axis=1)


def bone_length_deviation(original: Any, adversarial: Any, layout: Layout | str) -> dict[str, np.ndarray]:
    """Per motion: mean and max |Bl(q̂) − Bl(q)| over frames and bones (m), and the same relative to
    the original lengths (a fraction)."""
    q, a = _pair(original, adversarial)
    lay = resolve(layout)
    lq, la = bone_lengths(q, lay), bone_lengths(a, lay)
    d = np.abs(la - lq)
    rel = d / np.maximum(lq, 1e-6)
    return {"bone_abs_mean": d.mean(axis=(1, 2)), "bone_abs_max": d.max(axis=(1, 2)),
            "bone_rel_mean": rel.mean(axis=(1, 2)), "bone_rel_max": rel.max(axis=(1, 2))}


def _diff(x: np.ndarray, order: int) -> np.ndarray:
    for _ in range(order):
        x = x[:, 1:] - x[:, :-1]
    return x


def derivative_deviation(original: Any, adversarial: Any, order: int, fps: float) -> np.ndarray:
    """Per motion: mean over frames and joints of ‖Δⁿq̂ − Δⁿq‖·fpsⁿ (m/sⁿ); NaN if the clip is too short."""
    q, a = _pair(original, adversarial)
    d = _diff(a - q, order)
    if d.shape[1] == 0:
        return np.full(q.shape[0], np.nan)
    return np.linalg.norm(d, axis=-1).mean(axis=(1, 2)) * fps**order


def sample_metrics(original: Any, adversarial: Any, layout: Layout | str, fps: float | None = None
                   ) -> dict[str, np.ndarray]:
    """Every per-motion perceptual metric: displacement (mean, max; m), bone-length deviation
    (absolute m and relative), velocity / acceleration / jerk deviation (m/s, m/s², m/s³)."""
    lay = resolve(layout)
    fps = float(fps or lay.fps)
    disp = joint_displacement(original, adversarial)
    out = {"displacement_mean": disp.mean(axis=(1, 2)), "displacement_max": disp.max(axis=(1, 2))}
    out.update(bone_length_deviation(original, adversarial, lay))
    for name, order in (("velocity_dev", 1), ("acceleration_dev", 2), ("jerk_dev", 3)):
        out[name] = derivative_deviation(original, adversarial, order, fps)
    return out


def summarize(metrics: dict[str, np.ndarray], mask: Any = None) -> dict[str, float]:
    """Mean of each per-motion metric (over ``mask`` where given, e.g. the successful attacks)."""
    out = {}
    for k, v in metrics.items():
        v = np.asarray(v, dtype=np.float64)
        if mask is not None:
            v = v[np.asarray(_np(mask), dtype=bool)]
        out[k] = float(np.nanmean(v)) if v.size and not np.all(np.isnan(v)) else float("nan")
    return out


def _pearson_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation between every column of ``a`` (N, V) and every column of ``b`` (N, W)."""
    a = a - a.mean(0)
    b = b - b.mean(0)
    na, nb = np.linalg.norm(a, axis=0), np.linalg.norm(b, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = (a.T @ b) / np.outer(na, nb)
    # a constant column (a joint that never moves; std below 1e-9 in the metric's SI unit: rounding
    # noise) correlates with nothing
    flat_a = na / np.sqrt(len(a)) < 1e-9
    flat_b = nb / np.sqrt(len(b)) < 1e-9
    c[flat_a, :] = 0.0
    c[:, flat_b] = 0.0
    c[~np.isfinite(c)] = 0.0
    return c


def correlation_matrices(original: Any, adversarial: Any, fps: float = 30.0) -> dict[str, np.ndarray]:
    """The vulnerability analysis of §4.6 (Figure 3), three ``(V, V)`` Pearson matrices over motions.

    For every motion n and joint i: d[n, i] the mean displacement of joint i, s[n, j] the mean speed
    and a[n, j] the mean acceleration magnitude of joint j in the *original* motion. Entry (i, j) is
    the correlation across motions of d[:, i] with d[:, j] ('displacement'), with s[:, j] ('speed')
    and with a[:, j] ('acceleration'). Needs at least two motions.
    """
    q, a = _pair(original, adversarial)
    if q.shape[0] < 2:
        raise ValueError("correlation matrices need at least two motions")
    d = np.linalg.norm(a - q, axis=-1).mean(axis=1)
    speed = np.linalg.norm(_diff(q, 1), axis=-1).mean(axis=1) * fps if q.shape[1] > 1 else np.zeros_like(d)
    acc = np.linalg.norm(_diff(q, 2), axis=-1).mean(axis=1) * fps**2 if q.shape[1] > 2 else np.zeros_like(d)
    return {"displacement": _pearson_columns(d, d), "speed": _pearson_columns(d, speed),
            "acceleration": _pearson_columns(d, acc)}
