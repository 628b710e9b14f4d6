"""The attack's settings: a frozen dataclass checked when it is built."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

STRATEGIES = ("ab", "abn", "sa")
PERCEPTUAL = ("smart", "l2", "l2_acc", "l2_bone")
CLASSIFICATION_LOSSES = ("ce", "margin")
MAX_ORDER = 4  # the paper explores derivatives up to n = 4 (position ... snap)


@dataclass(frozen=True)
class AttackConfig:
    """Settings of one SMART attack (paper §3, Eq. 2–8; defaults from §3.1–3.2 and §4.3).

    strategy: ``'ab'`` Anything-but (Eq. 6), ``'abn'`` Anything-but-N (Eq. 7, with ``top_n``),
        ``'sa'`` Specified (Eq. 8, with ``targets``).
    targets: SA only: one class for every motion, or one per motion (may also be given to
        :func:`~engine.attack.attack` directly).
    w: weight of the classification loss in L = w·Lc + (1−w)·Lp (Eq. 2).
    alpha: weight of l_dyn in Lp = α·l_dyn + (1−α)·l_bl (Eq. 3).
    betas: β₀…β₄ of l_dyn (Eq. 5). Eq. 5 requires Σβ = 1: betas are normalised to sum to 1.
    lr: Adam's learning rate in metres (the paper uses 0.005 … 0.0005).
    iterations: the budget of Adam steps (the paper: at most 300).
    perceptual: ``'smart'`` (Eq. 3) or the ablations of §4.5: ``'l2'`` (joint positions only),
        ``'l2_acc'`` (positions + accelerations, β₀ and β₂ of ``betas``), ``'l2_bone'``
        (positions + bone lengths, α of this config).
    stop_on_success: the paper's protocol (True): a motion stops once the attack succeeds.
        With False every motion runs the whole budget and success is judged on the last iterate.
    classification_loss: ``'ce'`` (the paper's cross-entropy / entropy losses) or ``'margin'``
        (a logit-margin loss that does not saturate on over-confident models).
    confidence: κ of the margin loss: the margin is clamped at −κ once the goal is reached.
    device: ``None`` (the model's device), ``'cpu'``, ``'cuda'``, ``'cuda:1'``, or ``'auto'``.
    seed: seeds torch for the run (and the choice of random SA targets).
    saturation_tol: below this norm of ∂Lc/∂logits the classification loss counts as saturated.
    """

    strategy: str = "ab"
    top_n: int = 3
    targets: int | tuple[int, ...] | None = None
    w: float = 0.4
    alpha: float = 0.3
    betas: tuple[float, ...] = (0.6, 0.0, 0.4, 0.0, 0.0)
    lr: float = 0.005
    iterations: int = 300
    perceptual: str = "smart"
    stop_on_success: bool = True
    classification_loss: str = "ce"
    confidence: float = 0.0
    device: str | None = None
    seed: int = 0
    saturation_tol: float = 1e-4
    _norm_betas: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if self.perceptual not in PERCEPTUAL:
            raise ValueError(f"perceptual must be one of {PERCEPTUAL}, got {self.perceptual!r}")
        if self.classification_loss not in CLASSIFICATION_LOSSES:
            raise ValueError(f"classification_loss must be one of {CLASSIFICATION_LOSSES}, "
                             f"got {self.classification_loss!r}")
        if not isinstance(self.top_n, int) or isinstance(self.top_n, bool) or self.top_n < 1:
            raise ValueError(f"top_n must be an int >= 1, got {self.top_n!r}")
        for name in ("w", "alpha"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and 0.0 <= v <= 1.0):
                raise ValueError(f"{name} must be in [0, 1], got {v!r}")
        betas = tuple(float(b) for b in self.betas)
        if len(betas) == 0 or len(betas) > MAX_ORDER + 1:
            raise ValueError(f"betas must hold 1 to {MAX_ORDER + 1} values (β₀…β₄), got {len(betas)}")
        if any(not math.isfinite(b) or b < 0 for b in betas):
            raise ValueError(f"betas must be finite and >= 0, got {betas}")
        if sum(betas) <= 0:
            raise ValueError(f"betas must not all be zero, got {betas}")
        betas = betas + (0.0,) * (MAX_ORDER + 1 - len(betas))
        object.__setattr__(self, "betas", betas)
        s = sum(betas)
        object.__setattr__(self, "_norm_betas", tuple(b / s for b in betas))
        if not (isinstance(self.lr, int | float) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if not isinstance(self.iterations, int) or isinstance(self.iterations, bool) or self.iterations < 0:
            raise ValueError(f"iterations must be an int >= 0, got {self.iterations!r}")
        if not (math.isfinite(self.confidence) and self.confidence >= 0):
            raise ValueError(f"confidence must be >= 0, got {self.confidence!r}")
        if not (self.saturation_tol > 0):
            raise ValueError(f"saturation_tol must be > 0, got {self.saturation_tol!r}")
        if self.targets is not None:
            t = self.targets
            if isinstance(t, Sequence) and not isinstance(t, str):
                object.__setattr__(self, "targets", tuple(int(x) for x in t))
            elif isinstance(t, int) and not isinstance(t, bool):
                pass
            else:
                raise ValueError(f"targets must be an int or a sequence of ints, got {t!r}")
        if self.device is not None and not isinstance(self.device, str):
            object.__setattr__(self, "device", str(self.device))

    def replace(self, **changes) -> AttackConfig:
        """A copy with some fields changed (checked again)."""
        return replace(self, **changes)

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
