"""The attacks' settings: frozen dataclasses checked when they are built, and the two presets.

:class:`AttackConfig` is SMART's; its defaults are the **natural** preset (issue 12: the paper's
objective and weights, with the choices the paper leaves open made so that its §4.5 claim —
adversarial motions people cannot tell from the original — holds). ``AttackConfig.paper()`` is the
paper's protocol as written. :data:`PRESETS` names both; the GUI's panel, the CLIs and the docs read
the defaults from here and nowhere else. :class:`IAAConfig` (the IAA-style baseline) shares the
fields and checks every attack has (:class:`CommonConfig`).

Numbers may be Python or numpy numbers (or 0-d tensors); ``bool`` is refused where a number is
expected. SA targets may be an int, a sequence, a tensor or an ndarray.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

STRATEGIES = ("ab", "abn", "sa")
PERCEPTUAL = ("smart", "l2", "l2_acc", "l2_bone")
CLASSIFICATION_LOSSES = ("ce", "margin")
AB_REFERENCES = ("prediction", "label")
SELECTIONS = ("last", "best")
LR_SCHEDULES = ("constant", "cosine", "anneal")
MAX_ORDER = 4  # the paper explores derivatives up to n = 4 (position ... snap)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool | np.bool_) or str(getattr(v, "dtype", "")) == "torch.bool"


def _scalar(v: Any) -> Any:
    """A 0-d tensor or ndarray as its Python number; anything else unchanged."""
    if hasattr(v, "ndim") and getattr(v, "ndim", None) == 0 and hasattr(v, "item"):
        return v.item()
    return v


def as_int(name: str, v: Any, minimum: int) -> int:
    """``v`` as a Python int >= ``minimum`` (ints and numpy integers; bools refused)."""
    v = v if _is_bool(v) else _scalar(v)
    if _is_bool(v) or not isinstance(v, numbers.Integral) or int(v) < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {v!r}")
    return int(v)


def as_float(name: str, v: Any, lo: float = -math.inf, hi: float = math.inf, *,
             lo_open: bool = False) -> float:
    """``v`` as a finite Python float in [lo, hi] (or (lo, hi] with ``lo_open``); bools refused."""
    v = v if _is_bool(v) else _scalar(v)
    ok = not _is_bool(v) and isinstance(v, numbers.Real) and math.isfinite(float(v))
    if ok:
        f = float(v)
        ok = (f > lo if lo_open else f >= lo) and f <= hi
    if not ok:
        rng = f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
        raise ValueError(f"{name} must be a finite number in {rng}, got {v!r}")
    return f


def _as_choice(name: str, v: Any, choices: tuple[str, ...]) -> str:
    if v not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {v!r}")
    return v


def as_targets(v: Any) -> int | tuple[int, ...] | None:
    """SA targets as one int or a tuple of ints, from an int, a sequence, a tensor or an ndarray."""
    if v is None:
        return None
    if hasattr(v, "detach"):
        v = v.detach().cpu().numpy()
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v.item()
    if _is_bool(v) or isinstance(v, str | bytes):
        raise ValueError(f"targets must be an int or a sequence of ints, got {v!r}")
    if isinstance(v, numbers.Integral):
        return int(v)
    try:
        items = list(np.asarray(v).ravel()) if isinstance(v, np.ndarray) else list(v)
    except TypeError:
        raise ValueError(f"targets must be an int or a sequence of ints, got {v!r}") from None
    if any(_is_bool(x) or not isinstance(_scalar(x), numbers.Integral) for x in items):
        raise ValueError(f"targets must be integers, got {v!r}")
    return tuple(int(_scalar(x)) for x in items)


@dataclass(frozen=True)
class CommonConfig:
    """Fields every attack has (SMART and the IAA-style baseline); see :class:`AttackConfig`."""

    strategy: str = "ab"
    top_n: int = 3
    targets: int | tuple[int, ...] | None = None
    iterations: int = 300
    stop_on_success: bool = False
    classification_loss: str = "margin"
    confidence: float = 0.5
    ab_reference: str = "label"
    device: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        put = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        _as_choice("strategy", self.strategy, STRATEGIES)
        _as_choice("classification_loss", self.classification_loss, CLASSIFICATION_LOSSES)
        _as_choice("ab_reference", self.ab_reference, AB_REFERENCES)
        put("top_n", as_int("top_n", self.top_n, 1))
        put("iterations", as_int("iterations", self.iterations, 0))
        put("seed", as_int("seed", self.seed, 0))
        put("confidence", as_float("confidence", self.confidence, 0.0))
        if not isinstance(self.stop_on_success, bool | np.bool_):
            raise ValueError(f"stop_on_success must be True or False, got {self.stop_on_success!r}")
        put("stop_on_success", bool(self.stop_on_success))
        put("targets", as_targets(self.targets))
        if self.device is not None and not isinstance(self.device, str):
            put("device", str(self.device))

    def replace(self, **changes) -> Any:
        """A copy with some fields changed (checked again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain Python values (tuples as lists), for JSON, TOML and the GUI."""
        out = {}
        for f in fields(self):
            if f.init:
                v = getattr(self, f.name)
                out[f.name] = list(v) if isinstance(v, tuple) else v
        return out


@dataclass(frozen=True)
class AttackConfig(CommonConfig):
    """Settings of one SMART attack (paper §3, Eq. 2–8). The defaults are the *natural* preset;
    :meth:`paper` gives the paper's literal protocol. Fields:

    strategy: ``'ab'`` Anything-but (Eq. 6), ``'abn'`` Anything-but-N (Eq. 7, with ``top_n``),
        ``'sa'`` Specified (Eq. 8, with ``targets``).
    top_n: N of Anything-but-N: the attack succeeds when the clean label leaves the top N.
    targets: SA only: one class for every motion, or one per motion (may also be given to
        :func:`~engine.attack.attack` directly).
    w: weight of the classification loss in L = w·Lc + (1−w)·Lp (Eq. 2). Paper: 0.4.
    alpha: weight of l_dyn in Lp = α·l_dyn + (1−α)·l_bl (Eq. 3). Paper: 0.3.
    betas: β₀…β₄ of l_dyn (Eq. 5), normalised to sum to 1 as Eq. 5 requires. Paper: (0.6, 0, 0.4, 0, 0).
    lr: Adam's learning rate in metres (the paper: 0.005 … 0.0005; 0.005).
    iterations: the budget of Adam steps (the paper: at most 300).
    perceptual: ``'smart'`` (Eq. 3) or the ablations of §4.5: ``'l2'`` (joint positions only),
        ``'l2_acc'`` (positions + accelerations, β₀ and β₂ of ``betas``), ``'l2_bone'``
        (positions + bone lengths, α of this config).
    classification_loss: ``'ce'`` the paper's cross-entropy / entropy losses (Eq. 6–8), or
        ``'margin'``: their hinge (C&W) form, which stops pushing once the goal holds by ``confidence``
        (natural). Either way success is judged by the paper's tests (top-1 ≠ label, label not in the
        top N, top-1 = target).
    confidence: κ of the margin loss, in logits: the hinge is flat once the goal holds by κ.
    ab_reference: Eq. 6's Φ(q) in AB's cross entropy: ``'label'`` the one-hot clean label (= the
        clean predicted label y_q on the attacked, correctly classified motions; the authors' code),
        or ``'prediction'``, the clean predicted distribution. Eq. 6 read with the distribution is
        stationary where §3.1 starts the attack: at q̂₀ = q, ∂Lc/∂logits = Φ(q̂) − Φ(q) = 0 exactly
        (the cross entropy is at its minimum), so Adam's first steps are driven by float round-off
        between two forward passes, and success depends on it (measured in the README). The paper's
        Eq. 6, §3.1 (q̂₀ = q, Adam) and its reported success rates hold together only with the
        one-hot label, which is therefore what :meth:`paper` uses.
    stop_on_success: True: a motion stops at its first success (the paper's protocol). False: every
        motion runs the whole budget so that Lp keeps shaping it once the goal holds (natural).
    select: which iterate a motion returns: ``'last'`` (with ``stop_on_success`` that is the first
        successful one), or ``'best'`` — the successful iterate with the lowest Lp (natural; a motion
        that never succeeded returns its last iterate). The returned motion is successful whenever
        any iterate was.
    lr_schedule: ``'constant'`` (the paper), ``'cosine'`` (cosine decay to 0 over the budget), or
        ``'anneal'`` (constant for the first half, then a cosine decay to 0: Lp acts at full steps,
        and the end carries no ±lr dither of Adam's sign-like steps) (natural).
    tie_coincident: joints that coincide in the layout (``Layout.coincident``: root and hips,
        thorax and neck, wrist and thumb on ``hdm05_25``) move together: one joint of each group is
        optimised and the others keep their offset to it, so the adversarial motion stays a valid
        skeleton (natural). False: every joint is free (the paper).
    smoothing: σ in frames of a temporal preconditioner (natural: 3, i.e. 0.1 s at 30 fps — scale it
        with the frame rate, 12 for the same 0.1 s at 120 fps; 0: none, the paper). Adam's variable is
        the displacement z with q̂ = q + S·z, S a row-normalised Gaussian along time lifted by 0.01·I
        (positive definite, so invertible: the objective and its stationary points are unchanged —
        only the path to them; see ``smart.TemporalSmoother``). Adam's per-coordinate, sign-like steps
        put white noise into every frame, and the models whose input is built from frame differences
        or sampled frames (2s-AGCN, DGNN, MS-G3D, SGN) have temporally rough input gradients: without
        S their adversarial motions carry high-frequency jitter that Lp removes only slowly.
    adam_beta2: Adam's β₂ (natural: 0.9; torch's and the paper's default 0.999). With 0.999 the
        second-moment estimate remembers the large classification gradients of the first iterations
        for ~1000 steps, so once the goal holds Adam's steps on Lp alone are tiny and Lp (bone lengths
        above all) is far from converged after 300 iterations; 0.9 forgets them within ~10 steps.
    adam_eps: Adam's ε (torch's default 1e-8).
    device: ``None`` (the model's device), ``'cpu'``, ``'cuda'``, ``'cuda:1'``, or ``'auto'``.
    seed: seeds torch for the run (and the choice of random SA targets).
    saturation_tol: below this norm of ∂Lc/∂logits the classification loss counts as saturated.

    l_bl (Eq. 4) always runs over every bone of the kinematic tree, as Eq. 4's bone vector does
    (24 bones for 25 joints), including the zero-length ones between coincident joints.
    """

    w: float = 0.4
    alpha: float = 0.3
    betas: tuple[float, ...] = (0.6, 0.0, 0.4, 0.0, 0.0)
    lr: float = 0.005
    perceptual: str = "smart"
    select: str = "best"
    lr_schedule: str = "anneal"
    tie_coincident: bool = True
    smoothing: float = 3.0
    adam_beta2: float = 0.9
    adam_eps: float = 1e-8
    saturation_tol: float = 1e-4
    _norm_betas: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        put = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        _as_choice("perceptual", self.perceptual, PERCEPTUAL)
        _as_choice("select", self.select, SELECTIONS)
        _as_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        for name in ("w", "alpha"):
            put(name, as_float(name, getattr(self, name), 0.0, 1.0))
        raw = self.betas
        if hasattr(raw, "detach"):
            raw = raw.detach().cpu().numpy()
        if isinstance(raw, str | bytes) or not hasattr(raw, "__len__"):
            raise ValueError(f"betas must be a sequence of 1 to {MAX_ORDER + 1} numbers (β₀…β₄), got {raw!r}")
        betas = tuple(as_float(f"betas[{i}]", b, 0.0) for i, b in enumerate(raw))
        if len(betas) == 0 or len(betas) > MAX_ORDER + 1:
            raise ValueError(f"betas must hold 1 to {MAX_ORDER + 1} values (β₀…β₄), got {len(betas)}")
        if sum(betas) <= 0:
            raise ValueError(f"betas must not all be zero, got {betas}")
        betas = betas + (0.0,) * (MAX_ORDER + 1 - len(betas))
        put("betas", betas)
        s = sum(betas)
        put("_norm_betas", tuple(b / s for b in betas))
        put("lr", as_float("lr", self.lr, 0.0, lo_open=True))
        put("smoothing", as_float("smoothing", self.smoothing, 0.0))
        put("adam_beta2", as_float("adam_beta2", self.adam_beta2, 0.0, 0.999999))
        put("adam_eps", as_float("adam_eps", self.adam_eps, 0.0, lo_open=True))
        put("saturation_tol", as_float("saturation_tol", self.saturation_tol, 0.0, lo_open=True))
        if not isinstance(self.tie_coincident, bool | np.bool_):
            raise ValueError(f"tie_coincident must be True or False, got {self.tie_coincident!r}")
        put("tie_coincident", bool(self.tie_coincident))

    @classmethod
    def natural(cls, **changes) -> AttackConfig:
        """The default: the paper's objective (Eq. 2–5) and weights, with the choices the paper
        leaves open made for natural motions (hinge loss, whole budget, best successful iterate,
        annealed learning rate, coincident joints tied, a temporal preconditioner, Adam's β₂ 0.9)."""
        return cls(**changes)

    @classmethod
    def paper(cls, **changes) -> AttackConfig:
        """The paper's protocol as written (§3–4.3): Eq. 2–8, cross entropy (Eq. 6 with Φ(q) the
        one-hot clean label: see ``ab_reference``), stop at the first success, w 0.4, α 0.3,
        β (0.6, 0, 0.4, 0, 0), Adam (torch's defaults) at lr 0.005 on q̂ itself, at most 300
        iterations, every joint free."""
        base = dict(w=0.4, alpha=0.3, betas=(0.6, 0.0, 0.4, 0.0, 0.0), lr=0.005, iterations=300,
                    perceptual="smart", classification_loss="ce", confidence=0.0,
                    ab_reference="label", stop_on_success=True, select="last",
                    lr_schedule="constant", tie_coincident=False, smoothing=0.0, adam_beta2=0.999,
                    adam_eps=1e-8)
        return cls(**{**base, **changes})

    # -- the perceptual weights the variant actually uses ----------------------------------------
    def perceptual_weights(self) -> tuple[float, tuple[float, ...]]:
        """``(alpha, betas)`` of Lp = α·Σβₙ lₙ + (1−α)·l_bl for the chosen perceptual variant.

        ``smart``: the configured α and normalised β. ``l2``: α = 1, β = (1, 0, 0, 0, 0).
        ``l2_acc``: α = 1, β₀ and β₂ of the config renormalised (0.6 / 0.4 by default).
        ``l2_bone``: the configured α, β = (1, 0, 0, 0, 0).
        """
        one = (1.0, 0.0, 0.0, 0.0, 0.0)
        if self.perceptual == "smart":
            return float(self.alpha), self._norm_betas
        if self.perceptual == "l2":
            return 1.0, one
        if self.perceptual == "l2_acc":
            b0, b2 = self.betas[0], self.betas[2]
            if b0 + b2 <= 0:
                b0, b2 = 0.6, 0.4
            return 1.0, (b0 / (b0 + b2), 0.0, b2 / (b0 + b2), 0.0, 0.0)
        return float(self.alpha), one  # l2_bone

    def learning_rate(self, iteration: int) -> float:
        """The learning rate of Adam step ``iteration`` (0-based) under :attr:`lr_schedule`."""
        n = max(self.iterations, 1)
        if self.lr_schedule == "cosine":
            return self.lr * 0.5 * (1.0 + math.cos(math.pi * iteration / n))
        if self.lr_schedule == "anneal":
            half = n / 2
            if iteration < half:
                return self.lr
            return self.lr * 0.5 * (1.0 + math.cos(math.pi * (iteration - half) / (n - half)))
        return self.lr


PRESETS: dict[str, Callable[[], AttackConfig]] = {
    "natural": AttackConfig.natural,
    "paper": AttackConfig.paper,
}
"""The named settings: ``'natural'`` (the default) and ``'paper'`` (the published protocol)."""
