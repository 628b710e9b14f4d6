"""2s-AGCN (Shi, Zhang, Cheng, Lu, CVPR 2019): two-stream adaptive graph convolutional network.

Registered as ``agcn``. Options: ``stream='joint' | 'bone' | 'ensemble'`` (default ``'joint'``),
``alpha=1.0`` (ensemble weight: logits = joint + alpha * bone), ``preprocess=True``,
``pad_to=300``, ``num_person=2``, ``width=64`` (base channels; the published model uses 64).

Layers and parameter names follow the official ``model/agcn.py`` so the NTU-60 release files load
with ``strict=True`` (see :mod:`engine.models.checkpoint` for the release files' key map):
``data_bn`` (BatchNorm1d over ``m*V*3 + v*3 + c``), ``l1..l10`` each ``gcn1`` (``PA``,
``conv_a/b/d``, ``down``, ``bn``) + ``tcn1`` (+ ``residual`` at the stride-2 layers), ``fc``.
The fixed graph ``A`` is a non-persistent buffer (the official code keeps it as a plain
attribute, so it is not in the checkpoints). Adaptive aggregation multiplies ``x (N, C*T, V)``
on the right by ``A + PA + softmax_{dim -2}(theta^T phi / (inter_channels * T))``, so the output
at joint ``w`` sums over column ``w``: the official orientation, with the attention scaled by the
*current* temporal length ``T``.

How ``forward`` reproduces the official NTU test pipeline (``data_gen/ntu_gendata.py`` +
``pre_normalization``; with ``preprocess=True``, which is the default), on motions
``(N, T, V, 3)`` of one body in metres:

1. **Packing.** The body goes to ``m = 0`` of ``(N, 3, T, V, M)``; the other bodies are zeros
   (they still pass through ``data_bn`` and the network and are averaged over ``M``, as in the
   official code).
2. **Padding and null frames** (:func:`.preprocess.fill_null_frames`): zero-pad to ``pad_to`` (300) frames;
   per non-empty body, if its first frame is empty the non-empty frames move to the front; the
   trailing empty frames are filled by repeating the body's frames cyclically.
3. **Centring** (:func:`.preprocess.centre_frames`): subtract body 0's mid spine (joint index 1) frame by
   frame from every body, keeping exactly-zero joints at zero.
4. **Rotations** (:func:`.preprocess.align_axes`): rotate body 0's frame-0 spine (base -> mid) onto +z, then
   its frame-0 shoulder line (left -> right) onto +x, applied to every joint of every body.
5. **Bone stream** (:func:`bone_stream`, for ``stream='bone'`` / the bone half of the ensemble):
   ``bone[v] = joint[v] - joint[u]`` over the official pair list (the centre's bone is zero).

All steps are gathers, subtractions and products with matrices computed from the input, so the
whole pipeline is differentiable (the choices of which frames are empty are constants of the
gradient). On ``hdm05_25`` the same steps use that layout's landmarks
(:func:`engine.models.graph.landmarks`). ``preprocess=False`` skips steps 2--4 (for already clean
data); packing and the bone stream stay. A take longer than ``pad_to`` is not cut.
Steps 2-4 are :func:`.preprocess.pre_normalize`, shared with MS-G3D, DGNN and AS-GCN.

**Input normalisation (issue 11).** Built with ``normalize=True`` (or a dict of options), as every
model ``smart-train`` makes and every shipped HDM05 checkpoint, the model first turns each clip about
``y`` to face ``+z`` at its first frame and moves its first root to ``x = z = 0``
(:mod:`engine.models.normalize`; differentiable, recorded in ``options["normalize"]``), before
anything above; its predictions are then invariant to where the take stands and which way it faces.
Without it (official files) the model sees the motion as given.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..skeleton import Layout
from . import graph
from ._blocks import AGCNBackbone, GCNTCNUnit, UnitTCN, bn_init, conv_init, down_block
from ._registry import register
from .preprocess import bone_pairs_on, check_motion, pre_normalize, rotation_onto

__all__ = [
    "AGCN", "AGCNEnsemble", "bone_stream", "check_motion", "official_agcn_input", "pack_bodies",
    "rotation_onto",
]


# -- input handling shared by the GCN family ---------------------------------------------------------

def pack_bodies(x: torch.Tensor, num_person: int = 2) -> torch.Tensor:
    """``(N, T, V, C)`` -> ``(N, C, T, V, M)`` with the motion as body 0 and zero bodies after it."""
    x = x.permute(0, 3, 1, 2).unsqueeze(-1)
    if num_person > 1:
        x = F.pad(x, (0, num_person - 1))
    return x


def bone_stream(x: torch.Tensor, layout: Layout | str) -> torch.Tensor:
    """Bones on ``(N, C, T, V, M)``: ``bone[v] = joint[v] - joint[u]`` over :func:`graph.bone_pairs`."""
    pairs = bone_pairs_on(layout, x.device)
    return x[:, :, :, pairs[:, 0]] - x[:, :, :, pairs[:, 1]]


def official_agcn_input(x: torch.Tensor, layout: Layout, num_person: int = 2, pad_to: int | None = 300,
                        preprocess: bool = True) -> torch.Tensor:
    """The 2s-AGCN / MS-G3D network input ``(N, 3, T', V, M)`` made from motions ``(N, T, V, 3)``:
    the family's :func:`~engine.models.preprocess.pre_normalize` of the body (``preprocess``), then
    the body packed as ``m = 0`` beside zero bodies (which the official steps leave zero)."""
    if preprocess:
        x = pre_normalize(x, layout, pad_to, null_frames="first")
    return pack_bodies(x, num_person)


# -- network -------------------------------------------------------------------------------------------

class UnitGCN(nn.Module):
    """Adaptive graph convolution: ``A`` (fixed, not saved) + ``PA`` (learned) + attention."""

    def __init__(self, cin: int, cout: int, a: np.ndarray, coff_embedding: int = 4) -> None:
        super().__init__()
        self.inter_c = cout // coff_embedding
        self.num_subset = a.shape[0]
        self.PA = nn.Parameter(torch.full(a.shape, 1e-6, dtype=torch.float32))
        self.register_buffer("A", torch.from_numpy(a.astype(np.float32)), persistent=False)
        self.conv_a = nn.ModuleList(nn.Conv2d(cin, self.inter_c, 1) for _ in range(self.num_subset))
        self.conv_b = nn.ModuleList(nn.Conv2d(cin, self.inter_c, 1) for _ in range(self.num_subset))
        self.conv_d = nn.ModuleList(nn.Conv2d(cin, cout, 1) for _ in range(self.num_subset))
        self.down = down_block(cin, cout)
        self.bn = nn.BatchNorm2d(cout)
        for conv in (*self.conv_a, *self.conv_b):
            conv_init(conv)
        for conv in self.conv_d:  # the official "conv_branch_init"
            n, k1, k2 = conv.weight.shape[0], conv.weight.shape[1], conv.weight.shape[2]
            nn.init.normal_(conv.weight, 0, math.sqrt(2.0 / (n * k1 * k2 * self.num_subset)))
            nn.init.zeros_(conv.bias)
        bn_init(self.bn, 1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v = x.shape
        a = self.A + self.PA
        flat = x.reshape(n, c * t, v)
        y = None
        for i in range(self.num_subset):
            a1 = self.conv_a[i](x).permute(0, 3, 1, 2).reshape(n, v, self.inter_c * t)
            a2 = self.conv_b[i](x).reshape(n, self.inter_c * t, v)
            att = torch.softmax(torch.matmul(a1, a2) / (self.inter_c * t), dim=-2)
            z = self.conv_d[i](torch.matmul(flat, att + a[i]).view(n, c, t, v))
            y = z if y is None else y + z
        return torch.relu(self.bn(y) + self.down(x))


class TCNGCNUnit(GCNTCNUnit):
    def __init__(self, cin: int, cout: int, a: np.ndarray, stride: int = 1, residual: bool = True) -> None:
        super().__init__(UnitGCN(cin, cout, a), UnitTCN(cout, cout, stride=stride), cin, cout, stride,
                         residual)


class AGCN(AGCNBackbone):
    """One 2s-AGCN stream (``stream='joint'`` or ``'bone'``); see the module docstring."""

    def __init__(self, layout: Layout, num_classes: int, stream: str = "joint", preprocess: bool = True,
                 pad_to: int | None = 300, num_person: int = 2, width: int = 64) -> None:
        super().__init__()
        if stream not in ("joint", "bone"):
            raise ValueError(f"agcn stream must be 'joint' or 'bone', got {stream!r}")
        if not isinstance(num_person, int) or num_person < 1:
            raise ValueError(f"num_person must be an int >= 1, got {num_person!r}")
        if pad_to is not None and (not isinstance(pad_to, int) or pad_to < 1):
            raise ValueError(f"pad_to must be None or an int >= 1, got {pad_to!r}")
        if preprocess:
            graph.landmarks(layout)  # raises for a layout without preprocessing landmarks
        self._layout = layout
        self.stream = stream
        self.preprocess = preprocess
        self.pad_to = pad_to
        self.num_person = num_person
        self._build_backbone(TCNGCNUnit, graph.spatial_labelling(layout), layout.num_joints, num_classes,
                             num_person, width)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """The official network input ``(N, 3, T', V, M)`` for motions ``(N, T, V, 3)``."""
        check_motion(x, self._layout, "agcn")
        x5 = official_agcn_input(x, self._layout, self.num_person, self.pad_to, self.preprocess)
        return bone_stream(x5, self._layout) if self.stream == "bone" else x5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_official(self.prepare(x))


class AGCNEnsemble(nn.Module):
    """Joint + alpha * bone logits (the official ``ensemble.py`` on raw scores).

    The two streams are ``joint`` and ``bone`` submodules (state-dict prefixes ``joint.`` and
    ``bone.``); the official joint and bone files load into them together
    (``load_checkpoint([joint_file, bone_file], model='agcn', stream='ensemble')``).
    """

    CHECKPOINT_PARTS = ("joint", "bone")

    def __init__(self, layout: Layout, num_classes: int, alpha: float = 1.0, **options) -> None:
        super().__init__()
        self.alpha = float(alpha)
        self.joint = AGCN(layout, num_classes, stream="joint", **options)
        self.bone = AGCN(layout, num_classes, stream="bone", **options)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        return self.joint.prepare(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x5 = self.joint.prepare(x)
        return (self.joint.forward_official(x5)
                + self.alpha * self.bone.forward_official(bone_stream(x5, self.joint._layout)))


@register("agcn")
def build_agcn(layout: Layout, num_classes: int, stream: str = "joint", alpha: float = 1.0,
               **options) -> nn.Module:
    if stream == "ensemble":
        return AGCNEnsemble(layout, num_classes, alpha=alpha, **options)
    return AGCN(layout, num_classes, stream=stream, **options)
