"""SMART (paper §3): minimise L = w·Lc + (1−w)·Lp over q̂ with Adam, q̂₀ = q.

Where this differs from the SMART authors' public code (the paper is our spec):

* one objective (Eq. 2) and one backward pass per iteration — their code runs two backward passes
  (classification and perceptual) and normalises each gradient per frame before combining them;
* ``torch.optim.Adam`` on q̂ as §3.1 says — their code takes plain gradient-descent steps;
* the perceptual loss on motions in metres — theirs is on the normalised network input;
* ABN maximises the entropy of Φ(q̂) (Eq. 7) and stops when the clean label leaves the top N —
  their ABN loss is an MSE against zeros and their top-N test never fires.

Batching: N motions are attacked at once; the objective is the sum of per-motion objectives, so
under Adam's element-wise update the motions are independent. A motion that reaches its goal
(with ``stop_on_success``) is frozen and leaves the computed batch: its parameters and its Adam
moments are sliced out, so no further forward pass touches it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from ..skeleton import Layout
from . import losses as L
from .base import Attack, AttackResult, StepReport
from .config import MAX_ORDER, AttackConfig

TERMS = ("total", "Lc", "Lp", "l_dyn", *(f"l_dyn_{n}" for n in range(MAX_ORDER + 1)), "l_bl")


def smart_objective(logits: torch.Tensor, q: torch.Tensor, q_hat: torch.Tensor, labels: torch.Tensor,
                    bones: torch.Tensor, config: AttackConfig, targets: torch.Tensor | None = None,
                    q_lengths: torch.Tensor | None = None, operators: dict | None = None
                    ) -> dict[str, torch.Tensor]:
    """Every term of Eq. 2–5 per motion, ``(N,)`` each, for logits Φ(q̂) already computed.
    ``operators`` ('bone': the bone incidence matrix) are precomputed by a caller that loops."""
    operators = operators or {}
    alpha, betas = config.perceptual_weights()
    lc = L.classification_loss(logits, labels, config.strategy, targets=targets, top_n=config.top_n,
                               kind=config.classification_loss, confidence=config.confidence)
    weighted = [k for k, b in enumerate(betas) if b > 0]
    # the orders with β = 0 are only reported, never differentiated
    dyn = L.dynamics_losses(q, q_hat, MAX_ORDER, weighted,
                            report=[k for k in range(MAX_ORDER + 1) if k not in weighted])
    l_dyn = sum(betas[k] * dyn[k] for k in weighted)
    terms = {"Lc": lc, "l_dyn": l_dyn}
    for n in range(MAX_ORDER + 1):
        terms[f"l_dyn_{n}"] = dyn[n]
    if alpha < 1.0:
        l_bl = L.bone_length_loss(q, q_hat, bones, q_lengths, operators.get("bone"))
    else:  # not in the objective: reported only
        with torch.no_grad():
            l_bl = L.bone_length_loss(q, q_hat.detach(), bones, q_lengths, operators.get("bone"))
    terms["l_bl"] = l_bl
    terms["Lp"] = alpha * l_dyn + (1.0 - alpha) * l_bl
    terms["total"] = config.w * lc + (1.0 - config.w) * terms["Lp"]
    return terms


class SmartAttack(Attack):
    """The SMART attack. ``SmartAttack(model, layout, config).run(motions, labels)``."""

    def __init__(self, model: nn.Module, layout: Layout | str, config: AttackConfig | None = None) -> None:
        config = config or AttackConfig()
        if not isinstance(config, AttackConfig):
            raise ValueError(f"config must be an AttackConfig, got {type(config).__name__}")
        super().__init__(model, layout, config)
        self._out: dict[str, Any] | None = None

    def steps(self, motions: Any, labels: Any, targets: Any = None, with_motion: bool = False
              ) -> Iterator[StepReport]:
        cfg = self.config
        self.prepare(motions, labels, targets)
        q_all, y_all = self.q, self.labels
        n = q_all.shape[0]
        bones = torch.as_tensor(self.layout.bone_array(), device=self.device)
        with self.model_mode() as model:
            logits0, t_all = self.evaluate_clean(model)
            ops = {}
            if bones.numel():
                ops["bone"] = L.bone_operator(bones, self.layout.num_joints, q_all.dtype, self.device)
            q_len_all = L.bone_lengths(q_all, bones, ops["bone"]) if bones.numel() else None
            iters = cfg.iterations
            out = {
                "adv": q_all.clone(),
                "prob": torch.softmax(logits0, 1),
                "success": torch.zeros(n, dtype=torch.bool, device=self.device),
                "iterations": torch.zeros(n, dtype=torch.long),
                "flip": torch.full((n,), -1, dtype=torch.long),
                "sat_count": torch.zeros(n, dtype=torch.long),
                "history": {k: np.full((iters + 1, n), np.nan) for k in (*TERMS, "lc_grad_norm")},
                "targets": t_all, "q": q_all, "labels": y_all, "last_it": 0,
            }
            self._out = out
            idx = torch.arange(n, device=self.device)  # motions still being optimised
            adv = q_all.clone().requires_grad_(True)
            opt = torch.optim.Adam([adv], lr=cfg.lr)
            q, y, t, q_len = q_all, y_all, t_all, q_len_all
            t_arg = t if cfg.strategy == "sa" else None
            for it in range(iters + 1):
                logits = model(adv)
                terms = smart_objective(logits, q, adv, y, bones, cfg, t_arg, q_len, ops)
                with torch.no_grad():
                    prob = torch.softmax(logits, 1)
                    goal = L.goal_reached(logits, y, cfg.strategy, targets=t_arg, top_n=cfg.top_n)
                    gnorm = L.logit_gradient_norm(logits, y, cfg.strategy, targets=t_arg,
                                                  kind=cfg.classification_loss)
                    idx_cpu = idx.cpu()
                    hist = out["history"]
                    values = torch.stack([terms[k].detach() for k in TERMS] + [gnorm]).cpu().numpy()
                    for row, k in enumerate((*TERMS, "lc_grad_norm")):
                        hist[k][it, idx_cpu.numpy()] = values[row]
                    out["adv"][idx] = adv.detach()
                    out["prob"][idx] = prob
                    out["success"][idx] = goal
                    goal_cpu = goal.cpu()
                    newly = goal_cpu & (out["flip"][idx_cpu] < 0)
                    out["flip"][idx_cpu[newly]] = it
                    out["iterations"][idx_cpu] = it
                    out["sat_count"][idx_cpu] += ((gnorm.cpu() < cfg.saturation_tol) & ~goal_cpu).long()
                    out["last_it"] = it
                active = torch.zeros(n, dtype=torch.bool)
                active[idx_cpu] = True
                yield StepReport(
                    iteration=it, total_iterations=iters,
                    losses={k: _masked(hist[k][it], active) for k in TERMS},
                    probabilities=out["prob"].detach().cpu().numpy().copy(),
                    success=out["success"].cpu().numpy().copy(), active=active.numpy(),
                    adversarial=out["adv"].detach().cpu().numpy().copy() if with_motion else None,
                )
                if it == iters:
                    break
                keep = ~goal if cfg.stop_on_success else torch.ones_like(goal)
                if not bool(keep.any()):
                    break
                opt.zero_grad(set_to_none=True)
                terms["total"].sum().backward()
                if not bool(keep.all()):
                    # finished motions leave the batch: slice the parameter, its gradient and Adam's moments
                    grad = adv.grad[keep]
                    adv, opt = _shrink(adv, opt, keep)
                    adv.grad = grad
                    idx, q, y, t = idx[keep], q[keep], y[keep], t[keep]
                    t_arg = t if cfg.strategy == "sa" else None
                    q_len = None if q_len is None else q_len[keep]
                opt.step()

    def result(self) -> AttackResult:
        out = self._out
        if out is None:
            raise RuntimeError("the attack has not run")
        it_done = out["iterations"].clamp_min(1).float()
        saturated = (out["sat_count"].float() / it_done > 0.5) & ~out["success"].cpu()
        warnings = []
        if saturated.any():
            ids = saturated.nonzero()[:, 0].tolist()
            warnings.append(
                f"the classification loss saturated on {len(ids)} motion(s) {ids[:10]}: the model is so "
                "confident that ∂Lc/∂logits vanished and the perceptual loss won; try "
                "classification_loss='margin' or a larger w"
            )
        prob = out["prob"].detach().cpu()
        return AttackResult(
            adversarial=out["adv"].detach().cpu(), original=out["q"].detach().cpu(),
            labels=out["labels"].cpu(), targets=out["targets"].cpu(), success=out["success"].cpu(),
            iterations=out["iterations"].clone(), flip_iteration=out["flip"].clone(), probabilities=prob,
            predicted=prob.argmax(1), saturated=saturated,
            history={k: v[: out["last_it"] + 1].copy() for k, v in out["history"].items()},
            config=self.config, warnings=warnings,
        )


def _masked(values: np.ndarray, active: torch.Tensor) -> np.ndarray:
    v = values.copy()
    v[~active.numpy()] = np.nan
    return v


def _shrink(adv: torch.Tensor, opt: torch.optim.Adam, keep: torch.Tensor):
    """Drop finished motions from the optimised batch, keeping the others' Adam state exactly."""
    state = opt.state.get(adv, {})
    new = adv.detach()[keep].clone().requires_grad_(True)
    new_opt = torch.optim.Adam([new], **{k: v for k, v in opt.defaults.items()
                                         if k in ("lr", "betas", "eps", "weight_decay", "amsgrad")})
    if state:
        new_opt.state[new] = {
            k: (v[keep].clone() if isinstance(v, torch.Tensor) and v.ndim == adv.ndim else
                (v.clone() if isinstance(v, torch.Tensor) else v))
            for k, v in state.items()
        }
    return new, new_opt
