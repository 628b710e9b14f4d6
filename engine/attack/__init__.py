"""SMART, the attack of "Understanding the Robustness of Skeleton-based Action Recognition under
Adversarial Attack" (Wang et al., CVPR 2021), and its baselines.

``attack(model, motions, labels, config=...) -> AttackResult`` is the entry point;
``SmartAttack(model, config)(x, y)`` returns the adversarial motions, and its ``steps()`` yields
a report per iteration (the GUI worker). ``PRESETS`` names the settings: ``'natural'`` (the
default) and ``'paper'`` (the published protocol).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from ..skeleton import Layout
from . import losses
from .base import Attack, AttackResult, StepReport
from .config import CLASSIFICATION_LOSSES, PERCEPTUAL, PRESETS, STRATEGIES, AttackConfig, CommonConfig
from .iaa import IAAAttack, IAAConfig, iaa_attack
from .smart import SmartAttack, smart_objective

__all__ = [
    "CLASSIFICATION_LOSSES", "PERCEPTUAL", "PRESETS", "STRATEGIES", "Attack", "AttackConfig", "AttackResult",
    "CommonConfig", "IAAAttack", "IAAConfig", "SmartAttack", "StepReport", "attack", "iaa_attack", "losses",
    "smart_objective",
]


def attack(model: nn.Module, motions: Any, labels: Any, layout: Layout | str | None = None,
           config: AttackConfig | None = None, callback: Callable[[StepReport], Any] | None = None,
           targets: Any = None, with_motion: bool = False, cancel: Any = None) -> AttackResult:
    """Attack ``motions`` ``(N, T, V, 3)`` (metres) whose clean labels are ``labels``.

    ``layout`` defaults to the model's (``model.layout``); ``config`` to ``AttackConfig()``, the
    natural preset (``AttackConfig.paper()`` is the paper's protocol). ``callback(report)`` is
    called after every iteration with a :class:`StepReport` (its return value is ignored);
    ``cancel``, a ``threading.Event``, stops the run within one iteration once set, and the result
    holds what was found so far (``result.cancelled``). SA targets come from ``targets`` or
    ``config.targets`` (int, sequence, tensor or ndarray).
    """
    return SmartAttack(model, config, layout).run(motions, labels, targets, callback=callback,
                                                  with_motion=with_motion, cancel=cancel)
