"""HRNN: hierarchical bidirectional RNN (Du, Wang, Wang, CVPR 2015), written from the paper.

Registered as ``hrnn``. There is no official code; we follow the paper's HBRNN-L:

* **bl1**: the skeleton is split into five parts (:attr:`Layout.parts`: trunk, left/right arm,
  left/right leg); each part's joint coordinates per frame feed its own bidirectional tanh RNN.
* **fl1**: the trunk's representation is concatenated with each limb's: left arm + trunk,
  right arm + trunk, left leg + trunk, right leg + trunk.
* **bl2**: four bidirectional tanh RNNs on those.
* **fl2**: the two arm subnets fuse into the upper body, the two leg subnets into the lower body.
* **bl3**: two bidirectional tanh RNNs.
* **fl3**: upper + lower body fuse into the whole body.
* **bl4**: one bidirectional LSTM.
* **fc**: a fully connected layer applied at every frame, its outputs accumulated over time
  (``pool='sum'``, the paper's "temporally accumulated output"; ``'mean'`` is offered for
  clips of varying length) and returned as logits; the softmax belongs to the loss.

Fusion is concatenation of the forward and backward hidden states of the subnets. Options:
``hidden=(32, 64, 96, 128)`` (per-direction units of bl1..bl4; the paper tunes them per data set,
these are our defaults), ``pool``, ``preprocess=True`` and ``dropout=0.0``.
Preprocessing (``preprocess=True``): the clip is translated so that the spine base (``ntu25``
joint 0; ``hdm05_25`` root) of its first frame is at the origin -- the paper normalises the
skeletons' position, and this keeps the model translation invariant; it is a subtraction, so
differentiable. ``preprocess=False`` feeds the coordinates as they are.

**Input normalisation (issue 11).** Built with ``normalize=True`` (or a dict of options), as every
model ``smart-train`` makes and every shipped HDM05 checkpoint, the model first turns each clip about
``y`` to face ``+z`` at its first frame and moves its first root to ``x = z = 0``
(:mod:`engine.models.normalize`; differentiable, recorded in ``options["normalize"]``), before
anything above; its predictions are then invariant to where the take stands and which way it faces.
Without it (official files) the model sees the motion as given.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from ..skeleton import Layout
from ._registry import register
from .agcn import check_motion

__all__ = ["HRNN"]

_PARTS = ("trunk", "left_arm", "right_arm", "left_leg", "right_leg")


def _root_joint(layout: Layout) -> int:
    from . import graph

    try:
        return graph.landmarks(layout)["spine_base"]
    except ValueError:
        return layout.root


class HRNN(nn.Module):
    def __init__(self, layout: Layout, num_classes: int,
                 hidden: tuple[int, int, int, int] = (32, 64, 96, 128),
                 pool: str = "sum", preprocess: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        hidden = tuple(hidden)
        if len(hidden) != 4 or any(not isinstance(h, int) or h < 1 for h in hidden):
            raise ValueError(f"hidden must be four positive ints (bl1..bl4), got {hidden!r}")
        if pool not in ("sum", "mean"):
            raise ValueError(f"pool must be 'sum' or 'mean', got {pool!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        names = [p for p, _ in layout.parts]
        missing = [p for p in _PARTS if p not in names]
        if missing:
            raise ValueError(f"hrnn needs the body parts {_PARTS}; layout {layout.name!r} lacks {missing}")
        self._layout = layout
        self.pool = pool
        self.preprocess = preprocess
        self.root = _root_joint(layout)
        for p in _PARTS:
            self.register_buffer(f"idx_{p}", torch.as_tensor(layout.part(p), dtype=torch.long),
                                 persistent=False)
        h1, h2, h3, h4 = hidden

        def brnn(inp: int, hid: int) -> nn.RNN:
            return nn.RNN(inp, hid, batch_first=True, bidirectional=True, nonlinearity="tanh")

        self.bl1 = nn.ModuleDict({p: brnn(3 * len(layout.part(p)), h1) for p in _PARTS})
        self.bl2 = nn.ModuleDict({p: brnn(4 * h1, h2) for p in _PARTS[1:]})  # limb + trunk
        self.bl3 = nn.ModuleDict({"upper": brnn(4 * h2, h3), "lower": brnn(4 * h2, h3)})
        self.bl4 = nn.LSTM(4 * h3, h4, batch_first=True, bidirectional=True)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * h4, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_motion(x, self._layout, "hrnn")
        if self.preprocess:
            x = x - x[:, :1, self.root:self.root + 1, :]
        n, t = x.shape[:2]
        # cuDNN's RNN backward runs only in training mode, and an attack needs ∂logits/∂x of the model in
        # eval mode: on a GPU with gradients wanted, torch's native RNN kernels instead (same results)
        native = x.is_cuda and torch.is_grad_enabled() and not self.training
        with torch.backends.cudnn.flags(enabled=False) if native else contextlib.nullcontext():
            return self._network(x, n, t)

    def _network(self, x: torch.Tensor, n: int, t: int) -> torch.Tensor:
        h1 = {p: self.bl1[p](x[:, :, getattr(self, f"idx_{p}")].reshape(n, t, -1))[0] for p in _PARTS}
        h2 = {p: self.bl2[p](torch.cat([h1[p], h1["trunk"]], -1))[0] for p in _PARTS[1:]}
        upper = self.bl3["upper"](torch.cat([h2["left_arm"], h2["right_arm"]], -1))[0]
        lower = self.bl3["lower"](torch.cat([h2["left_leg"], h2["right_leg"]], -1))[0]
        body = self.bl4(torch.cat([upper, lower], -1))[0]
        out = self.fc(self.drop(body))  # (N, T, C)
        return out.sum(1) if self.pool == "sum" else out.mean(1)


@register("hrnn")
def build_hrnn(layout: Layout, num_classes: int, **options) -> nn.Module:
    return HRNN(layout, num_classes, **options)
