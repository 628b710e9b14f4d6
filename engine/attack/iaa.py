"""An IAA-style baseline (paper §4.7): iterative sign-gradient steps on the classification loss
with an L∞ clip of the perturbation, no perceptual term (as in BIM / Fawaz et al.'s IAA).

q̂_{k+1} = clip_{[q−ε, q+ε]}(q̂_k − η·sign(∂Lc/∂q̂_k)), q̂₀ = q, with the same Lc and success tests as
SMART for each strategy. ε and η are in metres and independent of each other. The paper tunes ε
until IAA's success rate matches SMART's and then compares perceptually; ``engine.metrics`` gives
the numbers to do the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..skeleton import Layout
from . import losses as L
from .base import Attack, AttackResult, StepReport
from .config import CommonConfig, as_float


@dataclass(frozen=True)
class IAAConfig(CommonConfig):
    """Settings of the IAA-style baseline: the fields every attack has (:class:`CommonConfig`; here
    the literal defaults: cross entropy, stop at the first success) and

    epsilon: the L∞ radius of the perturbation, metres.
    step: η, the size of each sign-gradient step, metres (not tied to ε).
    """

    stop_on_success: bool = True
    classification_loss: str = "ce"
    confidence: float = 0.0
    epsilon: float = 0.02
    step: float = 0.002

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("epsilon", "step"):
            value = as_float(f"{name} (metres)", getattr(self, name), 0.0, lo_open=True)
            object.__setattr__(self, name, value)


class IAAAttack(Attack):
    """The IAA-style baseline: ``IAAAttack(model, IAAConfig(...))(x, y)``, as :class:`SmartAttack`."""

    config_class = IAAConfig

    def _iterate(self, motions: Any, labels: Any, targets: Any, with_motion: bool, report: bool
                 ) -> Iterator[StepReport | None]:
        cfg = self.config
        self.prepare(motions, labels, targets)
        q_all, y_all = self.q, self.labels
        n = q_all.shape[0]
        with self.model_mode() as model:
            logits0, t_all = self.evaluate_clean(model)
            p0_all = torch.softmax(logits0, 1)
            use_ref = (cfg.strategy == "ab" and cfg.ab_reference == "prediction"
                       and cfg.classification_loss == "ce")
            iters = cfg.iterations
            out = {"adv": q_all.clone(), "prob": p0_all.clone(),
                   "success": torch.zeros(n, dtype=torch.bool, device=self.device),
                   "iterations": torch.zeros(n, dtype=torch.long), "flip": torch.full((n,), -1),
                   "history": {k: np.full((iters + 1, n), np.nan) for k in ("total", "Lc")},
                   "targets": t_all, "q": q_all, "labels": y_all, "last_it": 0}
            self._out = out
            idx = torch.arange(n, device=self.device)
            adv = q_all.clone()
            for it in range(iters + 1):
                q, y = q_all[idx], y_all[idx]
                t_arg = t_all[idx] if cfg.strategy == "sa" else None
                x = adv.requires_grad_(True)
                logits = model(x)
                lc = L.classification_loss(logits, y, cfg.strategy, targets=t_arg, top_n=cfg.top_n,
                                           kind=cfg.classification_loss, confidence=cfg.confidence,
                                           reference=p0_all[idx] if use_ref else None)
                with torch.no_grad():
                    goal = L.goal_reached(logits, y, cfg.strategy, targets=t_arg, top_n=cfg.top_n)
                    ic = idx.cpu()
                    out["history"]["Lc"][it, ic.numpy()] = lc.detach().cpu().numpy()
                    out["history"]["total"][it, ic.numpy()] = lc.detach().cpu().numpy()
                    out["adv"][idx] = x.detach()
                    out["prob"][idx] = torch.softmax(logits, 1)
                    out["success"][idx] = goal
                    g = goal.cpu()
                    out["flip"][ic[g & (out["flip"][ic] < 0)]] = it
                    out["iterations"][ic] = it
                    out["last_it"] = it
                if report:
                    active = np.zeros(n, bool)
                    active[ic.numpy()] = True
                    yield StepReport(it, iters, {k: v[it].copy() for k, v in out["history"].items()},
                                     out["prob"].cpu().numpy().copy(), out["success"].cpu().numpy().copy(),
                                     active, out["adv"].cpu().numpy().copy() if with_motion else None)
                else:
                    yield None
                if it == iters or self.cancelled():
                    break
                (grad,) = torch.autograd.grad(lc.sum(), x)
                keep = ~goal if cfg.stop_on_success else torch.ones_like(goal)
                if not bool(keep.any()):
                    break
                with torch.no_grad():
                    stepped = x - cfg.step * grad.sign()
                    stepped = torch.max(torch.min(stepped, q + cfg.epsilon), q - cfg.epsilon)
                adv = stepped[keep].detach()
                idx = idx[keep]

    def result(self) -> AttackResult:
        out = self._out
        if out is None:
            raise RuntimeError("the attack has not run")
        prob = out["prob"].cpu()
        return AttackResult(
            adversarial=out["adv"].cpu(), original=out["q"].cpu(), labels=out["labels"].cpu(),
            targets=out["targets"].cpu(), success=out["success"].cpu(), iterations=out["iterations"],
            flip_iteration=out["flip"], probabilities=prob, predicted=prob.argmax(1),
            saturated=torch.zeros(prob.shape[0], dtype=torch.bool),
            history={k: v[: out["last_it"] + 1].copy() for k, v in out["history"].items()},
            config=self.config,
        )


def iaa_attack(model: nn.Module, motions: Any, labels: Any, layout: Layout | str | None = None,
               config: IAAConfig | None = None, callback=None, targets: Any = None,
               cancel: Any = None) -> AttackResult:
    """Run the IAA-style baseline; same calling convention as :func:`engine.attack.attack`."""
    return IAAAttack(model, config, layout).run(motions, labels, targets, callback=callback, cancel=cancel)
