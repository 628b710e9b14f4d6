"""SMART, the attack of "Understanding the Robustness of Skeleton-based Action Recognition under
Adversarial Attack" (Wang et al., CVPR 2021), and its baselines.

``attack(model, motions, labels, layout, config, callback=None) -> AttackResult`` is the entry
point; :class:`SmartAttack` exposes the per-iteration generator ``steps()`` the GUI worker uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from ..skeleton import Layout
from . import losses
from .base import Attack, AttackResult, StepReport
from .config import CLASSIFICATION_LOSSES, PERCEPTUAL, STRATEGIES, AttackConfig
from .iaa import IAAAttack, IAAConfig, iaa_attack
from .smart import SmartAttack, smart_objective

__all__ = [
    "CLASSIFICATION_LOSSES", "PERCEPTUAL", "STRATEGIES", "Attack", "AttackConfig", "AttackResult",
    "IAAAttack", "IAAConfig", "SmartAttack", "StepReport", "attack", "iaa_attack", "losses",
    "smart_objective",
]


def attack(model: nn.Module, motions: Any, labels: Any, layout: Layout | str,
           config: AttackConfig | None = None, callback: Callable[[StepReport], Any] | None = None,
           targets: Any = None, with_motion: bool = False) -> AttackResult:
    """Attack ``motions`` ``(N, T, V, 3)`` (metres, in ``layout``) whose clean labels are ``labels``.

    ``callback(report)`` is called after every iteration with a :class:`StepReport`; returning a
    true value (e.g. ``True`` or ``"stop"``) cancels within one iteration, and the result holds what
    was found so far (``result.cancelled``). SA targets come from ``targets`` or ``config.targets``.
    """
    return SmartAttack(model, layout, config).run(motions, labels, targets, callback=callback,
                                                  with_motion=with_motion)
