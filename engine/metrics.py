"""Metrics of an attack: success rates with their uncertainty, perceptual deviations, and the
vulnerability analysis (§4.6).

All functions take motions ``(N, T, V, 3)`` in metres (torch tensors or numpy arrays) and return
numpy arrays. Derivative deviations are reported in physical units: the n-th forward difference
multiplied by fpsⁿ (m/s, m/s², m/s³), unlike the attack's loss, which uses per-frame differences
(see :mod:`engine.attack.losses`).

:data:`METRICS` is the one table of the per-motion metrics :func:`sample_metrics` returns (key,
label, unit, display scale, description): the GUI, the batch report and the CSV files take names,
labels and units from it and nowhere else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .skeleton import Layout, bone_lengths, resolve

__all__ = [
    "HF_CUTOFF_HZ",
    "METRICS",
    "Metric",
    "Summary",
    "bone_length_deviation",
    "clean_statistics",
    "coincident_gap",
    "correlation_matrices",
    "derivative_deviation",
    "describe",
    "hf_share",
    "joint_displacement",
    "joint_profile",
    "metric",
    "per_joint_displacement",
    "rate_summary",
    "sample_metrics",
    "success_rate",
    "success_rates",
    "summarize",
    "wilson_interval",
]

#: the high-frequency share counts the perturbation's power strictly above this frequency
HF_CUTOFF_HZ = 5.0


@dataclass(frozen=True)
class Metric:
    """One per-motion metric: ``key`` in :func:`sample_metrics`' dict, a short ``label``, the display
    ``unit`` and ``scale`` (display value = SI value × scale, e.g. metres × 1000 = mm), and a one-line
    ``description``."""

    key: str
    label: str
    unit: str
    scale: float
    description: str

    def format(self, value: float | None, digits: int = 3) -> str:
        """``value`` (SI) in the display unit, e.g. ``'12.3 mm'``; ``'—'`` for None / NaN."""
        if value is None or not math.isfinite(float(value)):
            return "—"
        return f"{float(value) * self.scale:.{digits}g} {self.unit}".rstrip()


METRICS: tuple[Metric, ...] = (
    Metric("displacement_mean", "Mean joint displacement", "mm", 1000.0,
           "mean over frames and joints of ‖q̂ − q‖"),
    Metric("displacement_max", "Max joint displacement", "mm", 1000.0,
           "largest ‖q̂ − q‖ over frames and joints"),
    Metric("bone_abs_mean", "Bone-length deviation (mean)", "mm", 1000.0,
           "mean over frames and bones of |Bl(q̂) − Bl(q)|"),
    Metric("bone_abs_max", "Bone-length deviation (max)", "mm", 1000.0,
           "largest |Bl(q̂) − Bl(q)| over frames and bones"),
    Metric("bone_rel_mean", "Bone-length deviation (relative)", "%", 100.0,
           "mean over frames and bones of |Bl(q̂) − Bl(q)| / Bl(q)"),
    Metric("bone_rel_max", "Bone-length deviation (relative max)", "%", 100.0,
           "largest |Bl(q̂) − Bl(q)| / Bl(q) over frames and bones"),
    Metric("velocity_dev", "Velocity deviation", "m/s", 1.0,
           "mean over frames and joints of ‖Δ(q̂ − q)‖·fps"),
    Metric("acceleration_dev", "Acceleration deviation", "m/s²", 1.0,
           "mean over frames and joints of ‖Δ²(q̂ − q)‖·fps²"),
    Metric("jerk_dev", "Jerk deviation", "m/s³", 1.0,
           "mean over frames and joints of ‖Δ³(q̂ − q)‖·fps³"),
    Metric("perturbation_acceleration", "Perturbation acceleration", "m/s²", 1.0,
           "the perturbation's own mean joint acceleration, mean of ‖Δ²(q̂ − q)‖·fps² (the same number "
           "as acceleration_dev, named for the comparison with clean_acceleration)"),
    Metric("clean_acceleration", "Clean motion acceleration", "m/s²", 1.0,
           "the original motion's mean joint acceleration, mean of ‖Δ²q‖·fps²"),
    Metric("acceleration_ratio", "Acceleration ratio", "×", 1.0,
           "perturbation_acceleration / clean_acceleration (≤ 1: the perturbation moves no more "
           "abruptly than the motion itself)"),
    Metric("clean_speed", "Clean motion speed", "m/s", 1.0,
           "the original motion's mean joint speed, mean of ‖Δq‖·fps"),
    Metric("clean_bone_length", "Clean bone length", "mm", 1000.0,
           "the original motion's mean bone length over frames and bones"),
    Metric("coincident_gap", "Coincident-joint gap", "mm", 1000.0,
           "largest distance in q̂ between two joints of one of the layout's coincident groups, over "
           "frames (0 for a layout without such groups)"),
    Metric("hf_share", "High-frequency share", "%", 100.0,
           f"share of the perturbation's power above {HF_CUTOFF_HZ:g} Hz (FFT over time, all joints "
           "and axes; NaN for a zero perturbation)"),
)

_BY_KEY = {m.key: m for m in METRICS}


def metric(key: str) -> Metric:
    """The :class:`Metric` of ``key`` (``KeyError`` naming the known keys)."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown metric {key!r}; metrics: {list(_BY_KEY)}") from None


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def _pair(original: Any, adversarial: Any) -> tuple[np.ndarray, np.ndarray]:
    q, a = _np(original), _np(adversarial)
    if q.shape != a.shape or q.ndim != 4 or q.shape[-1] != 3:
        raise ValueError(f"original and adversarial must both be (N, T, V, 3); got {q.shape} and {a.shape}")
    return q, a


# -- rates ------------------------------------------------------------------------------------------

def success_rate(success: Any) -> float:
    """Fraction of successful attacks (NaN for none)."""
    s = np.asarray(_np(success), dtype=bool).ravel()
    return float(s.mean()) if s.size else float("nan")


def success_rates(results: dict[str, Any]) -> dict[str, float]:
    """Success rate per strategy, e.g. ``{'AB': …, 'AB3': …, 'SA': …}`` from ``{name: AttackResult}``."""
    return {name: success_rate(r.success if hasattr(r, "success") else r) for name, r in results.items()}


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a rate ``successes / n`` (NaNs for ``n = 0``).

    With z the two-sided normal quantile of ``confidence`` (1.96 for 95 %) and p = k/n:
    centre = (p + z²/2n) / (1 + z²/n), half-width = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n).
    """
    k, n = int(successes), int(n)
    if n < 0 or not 0 <= k <= max(n, 0):
        raise ValueError(f"need 0 <= successes <= n, got {k} of {n}")
    if n == 0:
        return float("nan"), float("nan")
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    # the bounds are exactly 0 for k = 0 and 1 for k = n (rounding would leave 1e-17)
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == n else min(1.0, centre + half))


def rate_summary(success: Any, confidence: float = 0.95) -> dict[str, Any]:
    """``{rate, n, k, low, high}``: the success rate of a boolean array with its Wilson interval
    (rate, low and high None for an empty array)."""
    s = np.asarray(_np(success), dtype=bool).ravel()
    n, k = int(s.size), int(s.sum())
    lo, hi = wilson_interval(k, n, confidence)
    none = n == 0
    return {"rate": None if none else k / n, "n": n, "k": k, "low": None if none else lo,
            "high": None if none else hi}


# -- per-motion metrics -----------------------------------------------------------------------------

def joint_displacement(original: Any, adversarial: Any) -> np.ndarray:
    """‖q̂ − q‖ per motion, frame and joint: ``(N, T, V)`` metres."""
    q, a = _pair(original, adversarial)
    return np.linalg.norm(a - q, axis=-1)


def per_joint_displacement(original: Any, adversarial: Any) -> np.ndarray:
    """Mean displacement of each joint over frames: ``(N, V)`` metres (the paper's joint-wise
    deviation, Figure 2 Right)."""
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


def _derivative_magnitude(x: np.ndarray, order: int, fps: float) -> np.ndarray:
    """Per motion: mean over frames and joints of ‖Δⁿx‖·fpsⁿ; NaN if the clip is too short."""
    d = _diff(x, order)
    if d.shape[1] == 0:
        return np.full(x.shape[0], np.nan)
    return np.linalg.norm(d, axis=-1).mean(axis=(1, 2)) * fps**order


def derivative_deviation(original: Any, adversarial: Any, order: int, fps: float) -> np.ndarray:
    """Per motion: mean over frames and joints of ‖Δⁿq̂ − Δⁿq‖·fpsⁿ (m/sⁿ); NaN if the clip is too short."""
    q, a = _pair(original, adversarial)
    return _derivative_magnitude(a - q, order, fps)


def coincident_gap(adversarial: Any, layout: Layout | str) -> np.ndarray:
    """Per motion: the largest distance (m) over frames between two joints of one of the layout's
    ``coincident`` groups (joints that sit at one place by construction); 0 without such groups."""
    a = _np(adversarial)
    lay = resolve(layout)
    gap = np.zeros(a.shape[0])
    for group in lay.coincident:
        g = a[:, :, list(group)]  # (N, T, G, 3)
        d = np.linalg.norm(g[:, :, :, None] - g[:, :, None, :], axis=-1)  # (N, T, G, G)
        if d.size:
            gap = np.maximum(gap, d.max(axis=(1, 2, 3)))
    return gap


def hf_share(original: Any, adversarial: Any, fps: float, cutoff: float = HF_CUTOFF_HZ) -> np.ndarray:
    """Per motion: the share of the perturbation's power above ``cutoff`` Hz.

    The perturbation q̂ − q is transformed over time (a real FFT per joint and axis, the constant
    component included); its power |X(f)|² is summed over joints and axes, each one-sided bin counted
    twice except 0 Hz and the Nyquist bin (Parseval), and the share above ``cutoff`` returned. NaN
    where the perturbation is zero."""
    q, a = _pair(original, adversarial)
    t = q.shape[1]
    spec = np.fft.rfft(a - q, axis=1)  # (N, F, V, 3)
    power = (np.abs(spec) ** 2).sum(axis=(2, 3))  # (N, F)
    freqs = np.fft.rfftfreq(t, d=1.0 / fps)
    weight = np.full(freqs.shape, 2.0)
    weight[0] = 1.0
    if t % 2 == 0:
        weight[-1] = 1.0
    power = power * weight
    total = power.sum(axis=1)
    high = power[:, freqs > cutoff].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, high / np.where(total > 0, total, 1.0), np.nan)


def clean_statistics(original: Any, layout: Layout | str, fps: float | None = None) -> dict[str, np.ndarray]:
    """Per motion, the original motion's own scale: mean joint speed (m/s), mean joint acceleration
    (m/s²), mean bone length (m) -- what a deviation is to be judged against."""
    q = _np(original)
    lay = resolve(layout)
    fps = float(fps or lay.fps)
    return {"clean_speed": _derivative_magnitude(q, 1, fps),
            "clean_acceleration": _derivative_magnitude(q, 2, fps),
            "clean_bone_length": bone_lengths(q, lay).mean(axis=(1, 2))}


def sample_metrics(original: Any, adversarial: Any, layout: Layout | str, fps: float | None = None, *,
                   per_joint: bool = False) -> dict[str, np.ndarray]:
    """Every per-motion metric of :data:`METRICS`, each an ``(N,)`` array in SI units (metres,
    m/sⁿ, fractions): displacement, bone-length deviation, velocity / acceleration / jerk deviation,
    the perturbation's and the clean motion's acceleration and their ratio, the clean speed and bone
    length, the coincident-joint gap and the high-frequency share. With ``per_joint=True`` also
    ``'per_joint'``: the ``(N, V)`` mean displacement of each joint (Figure 2; not in METRICS)."""
    lay = resolve(layout)
    fps = float(fps or lay.fps)
    q, a = _pair(original, adversarial)
    disp = np.linalg.norm(a - q, axis=-1)
    out = {"displacement_mean": disp.mean(axis=(1, 2)), "displacement_max": disp.max(axis=(1, 2))}
    out.update(bone_length_deviation(q, a, lay))
    for name, order in (("velocity_dev", 1), ("acceleration_dev", 2), ("jerk_dev", 3)):
        out[name] = _derivative_magnitude(a - q, order, fps)
    out["perturbation_acceleration"] = out["acceleration_dev"].copy()
    clean = clean_statistics(q, lay, fps)
    out["clean_acceleration"] = clean["clean_acceleration"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["acceleration_ratio"] = np.where(clean["clean_acceleration"] > 0,
                                             out["perturbation_acceleration"] / clean["clean_acceleration"],
                                             np.nan)
    out["clean_speed"] = clean["clean_speed"]
    out["clean_bone_length"] = clean["clean_bone_length"]
    out["coincident_gap"] = coincident_gap(a, lay)
    out["hf_share"] = hf_share(q, a, fps)
    out = {m.key: out[m.key] for m in METRICS}  # the table's order
    if per_joint:
        out["per_joint"] = disp.mean(axis=1)
    return out


# -- summaries --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    """Mean, median, quartiles (q1, q3; iqr = q3 − q1), standard deviation and count of the finite
    values of one metric (NaNs when there are none). For an ``(N, V)`` metric each is a ``(V,)``
    array."""

    mean: Any
    median: Any
    q1: Any
    q3: Any
    std: Any
    n: int

    @property
    def iqr(self) -> Any:
        return self.q3 - self.q1

    def as_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "median": self.median, "q1": self.q1, "q3": self.q3, "iqr": self.iqr,
                "std": self.std, "n": self.n}


def _masked(v: Any, mask: Any) -> np.ndarray:
    v = np.asarray(_np(v), dtype=np.float64)
    if mask is not None:
        v = v[np.asarray(_np(mask), dtype=bool)]
    return v


def _describe_one(v: np.ndarray) -> Summary:
    if v.ndim == 1:
        f = v[np.isfinite(v)]
        if f.size == 0:
            nan = float("nan")
            return Summary(nan, nan, nan, nan, nan, 0)
        q1, med, q3 = np.percentile(f, [25, 50, 75])
        return Summary(float(f.mean()), float(med), float(q1), float(q3), float(f.std()), int(f.size))
    rows = np.all(np.isfinite(v.reshape(len(v), -1)), axis=1)
    f = v[rows]
    if f.shape[0] == 0:
        nan = np.full(v.shape[1:], np.nan)
        return Summary(nan, nan, nan, nan, nan, 0)
    q1, med, q3 = np.percentile(f, [25, 50, 75], axis=0)
    return Summary(f.mean(0), med, q1, q3, f.std(0), int(f.shape[0]))


def describe(metrics: dict[str, Any], mask: Any = None) -> dict[str, Summary]:
    """A :class:`Summary` (mean, median, IQR, std, n) of each per-motion metric over ``mask``
    (e.g. the successful attacks); an ``(N, V)`` entry such as ``'per_joint'`` per column."""
    return {k: _describe_one(_masked(v, mask)) for k, v in metrics.items()}


def summarize(metrics: dict[str, Any], mask: Any = None) -> dict[str, float]:
    """Mean of each per-motion metric (over ``mask`` where given, e.g. the successful attacks),
    NaN-aware; :func:`describe` gives the median and spread as well."""
    out = {}
    for k, v in metrics.items():
        v = _masked(v, mask)
        if v.ndim != 1:
            continue
        out[k] = float(np.nanmean(v)) if v.size and not np.all(np.isnan(v)) else float("nan")
    return out


def joint_profile(original: Any, adversarial: Any, mask: Any = None) -> dict[str, np.ndarray]:
    """The paper's Figure 2 (Right): per joint, the mean, standard deviation, median and quartiles
    over motions (``mask`` selects them) of the joint's mean displacement over frames; ``(V,)`` arrays
    in metres."""
    s = _describe_one(_masked(per_joint_displacement(original, adversarial), mask))
    return {"mean": np.asarray(s.mean), "std": np.asarray(s.std), "median": np.asarray(s.median),
            "q1": np.asarray(s.q1), "q3": np.asarray(s.q3)}


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
