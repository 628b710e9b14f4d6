"""The SMART authors' demo classifier: a 3-layer MLP on the flattened clip.

Their MLP ends with a ReLU on the logits, which clips every negative logit to zero and so flattens
the softmax the attack differentiates; ours returns the raw logits of the last linear layer.
The clip length is fixed at build time (``frames``): the MLP sees ``T * V * 3`` numbers.
Inputs are standardised inside ``forward`` with per-coordinate ``mean``/``std`` buffers (saved in
the state dict, set by training), so the model takes metres like every recognizer.

**Input normalisation (issue 11).** Built with ``normalize=True`` (or a dict of options), as every
model ``smart-train`` makes and every shipped HDM05 checkpoint, the model first turns each clip about
``y`` to face ``+z`` at its first frame and moves its first root to ``x = z = 0``
(:mod:`engine.models.normalize`; differentiable, recorded in ``options["normalize"]``), before
anything above; its predictions are then invariant to where the take stands and which way it faces.
Without it (official files) the model sees the motion as given.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import LayoutMismatchError
from ..skeleton import Layout
from ._registry import register


class MLP(nn.Module):
    def __init__(self, layout: Layout, num_classes: int, frames: int = 60,
                 hidden: tuple[int, ...] = (1024, 512), dropout: float = 0.2) -> None:
        super().__init__()
        self.frames = frames
        d = frames * layout.num_joints * 3
        self.register_buffer("mean", torch.zeros(layout.num_joints, 3))
        self.register_buffer("std", torch.ones(layout.num_joints, 3))
        layers: list[nn.Module] = []
        for h in hidden:
            layers += [nn.Linear(d, h), nn.ReLU(), nn.Dropout(dropout)]
            d = h
        layers.append(nn.Linear(d, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.frames or x.shape[-1] != 3:
            raise LayoutMismatchError(
                f"mlp expects (N, {self.frames}, V, 3) motions, got {tuple(x.shape)}"
            )
        x = (x - self.mean) / self.std
        return self.net(x.flatten(1))


@register("mlp")
def build_mlp(layout: Layout, num_classes: int, **options) -> nn.Module:
    return MLP(layout, num_classes, **options)
