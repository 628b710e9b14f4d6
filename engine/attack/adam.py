"""Adam for the attacks' one optimised tensor: torch.optim.Adam's update, without the optimizer framework.

The update is torch.optim.Adam's (no weight decay, no AMSGrad), tested equal step by step. On a small
recognizer ``torch.optim.Adam.step`` (fused or not) costs about a quarter of an attack's iteration in
Python bookkeeping, and the attack drops the rows of finished motions from the optimised batch
(:meth:`Adam.keep`), which needs the moments in hand. So the state lives here and each step is
torch's fused Adam kernel called directly — one kernel for the whole update (measured 7× faster
than the written-out update at batch 1 on a CPU) — or, where this torch has no such kernel for the
device, the same update written out (six element-wise passes, the bias corrections as Python
numbers). Neither reads anything back from the device.
"""

from __future__ import annotations

import math

import torch

from .grad_mode import without_grad


class Adam:
    """Adam's moments for a tensor shaped like ``like``; :meth:`step` updates a tensor in place."""

    def __init__(self, like: torch.Tensor, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 fused: bool = True):
        self.beta1, self.beta2 = (float(b) for b in betas)
        self.eps = float(eps)
        self.exp_avg = torch.zeros_like(like, memory_format=torch.preserve_format)
        self.exp_avg_sq = torch.zeros_like(like, memory_format=torch.preserve_format)
        self.steps = 0
        # the step count as the fused kernel reads it: a float32 scalar on the device (no host sync)
        self._step = torch.zeros((), dtype=torch.float32, device=like.device)
        self.fused = fused and hasattr(torch, "_fused_adam_")

    @without_grad
    def step(self, param: torch.Tensor, grad: torch.Tensor, lr: float | torch.Tensor) -> None:
        """One Adam step of ``param`` (in place) along ``grad`` with learning rate ``lr`` (a number, or
        a one-element tensor on the device when fused — read there, as a CUDA graph replay needs)."""
        self.steps += 1
        if self.fused:
            self._step += 1
            lr = lr if isinstance(lr, torch.Tensor) else float(lr)
            try:
                torch._fused_adam_([param], [grad], [self.exp_avg], [self.exp_avg_sq], [], [self._step],
                                   lr=lr, beta1=self.beta1, beta2=self.beta2, weight_decay=0.0,
                                   eps=self.eps, amsgrad=False, maximize=False)
                return
            except (RuntimeError, NotImplementedError):  # no kernel for this device or dtype: written out
                self.fused = False  # the kernel raised before touching the tensors
        b1, b2 = self.beta1, self.beta2
        lr = float(lr)
        self.exp_avg.lerp_(grad, 1.0 - b1)
        self.exp_avg_sq.mul_(b2).addcmul_(grad, grad, value=1.0 - b2)
        bias1 = 1.0 - b1 ** self.steps
        bias2_sqrt = math.sqrt(1.0 - b2 ** self.steps)
        # torch's m̂/(√v̂ + ε) with v̂ = v/bias2, written as bias2_sqrt·m/(√v + ε·bias2_sqrt): one pass less
        denom = self.exp_avg_sq.sqrt().add_(self.eps * bias2_sqrt)
        param.addcdiv_(self.exp_avg, denom, value=-lr * bias2_sqrt / bias1)

    def keep(self, rows: torch.Tensor) -> None:
        """Keep only the moments of ``rows`` (a mask or indices along the first dimension)."""
        self.exp_avg = self.exp_avg[rows]
        self.exp_avg_sq = self.exp_avg_sq[rows]
