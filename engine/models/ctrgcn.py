"""CTR-GCN (Chen, Zhang, Yuan, Li, Deng, Hu, ICCV 2021): channel-wise topology refinement GCN.

Registered as ``ctrgcn``. Options: ``stream='joint' | 'bone'``, ``preprocess=True``,
``window=64``, ``p_interval=0.95``, ``num_person=2``, ``width=64`` (base channels; published: 64).

Parameter names follow the official ``model/ctrgcn.py`` (``adaptive=True``) so the published
files load with ``strict=True``: ``data_bn`` (BatchNorm1d over ``m*V*3 + v*3 + c``),
``l1..l10`` each ``gcn1`` (``PA`` initialised from the spatial labelling -- there is no fixed ``A``
at all --, ``alpha``, three ``CTRGC`` ``convs.i.conv1..4``, ``down``, ``bn``) + ``tcn1`` (the
multi-scale temporal convolution: two dilated (5 x 1) branches, a max-pool branch and a 1x1
branch, ``branches.0..3``) + ``residual`` at the stride-2 layers; ``fc``. ``l1`` has no residual.
Graph product: ``out[u] = sum_v A[u, v] x[v]`` with ``A = conv4(tanh(x1_u - x2_v)) * alpha + PA[i]``
(the transpose of 2s-AGCN's convention).

How ``forward`` reproduces the official NTU test input (SGN-style ``seq_transformation.py`` +
``feeders/feeder_ntu.py`` at test time), on one body ``(N, T, V, 3)`` in camera metres, with
``preprocess=True`` (default):

1. frames where every value is zero are dropped (the denoising step removes frames without a
   body);
2. **translation**: the mid spine (joint index 1; hdm05_25: upperback) of the first remaining
   frame is subtracted from every frame (one constant offset);
3. **packing**: body 0 of ``(N, 3, T, V, 2)``, the second body zeros;
4. **crop and resample**: with ``F`` the number of frames whose values do not sum to zero,
   ``int((1 - p_interval) * F / 2)`` frames are cut from each end of the valid span and the rest is
   linearly resampled to ``window = 64`` frames (``align_corners=False``; the official bilinear
   interpolation with an unchanged second axis);
5. **bone stream** (``stream='bone'``): ``bone[v] = joint[v] - joint[u]`` over the official pairs.

Each step is a gather, a subtraction or a linear interpolation of the input, so forward is
differentiable (the frame selection is a constant of the gradient). ``preprocess=False`` only
packs the bodies (and forms bones), for clean fixed-length data.

**Input normalisation (issue 11).** Built with ``normalize=True`` (or a dict of options), as every
model ``smart-train`` makes and every shipped HDM05 checkpoint, the model first turns each clip about
``y`` to face ``+z`` at its first frame and moves its first root to ``x = z = 0``
(:mod:`engine.models.normalize`; differentiable, recorded in ``options["normalize"]``), before
anything above; its predictions are then invariant to where the take stands and which way it faces.
Without it (official files) the model sees the motion as given.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..skeleton import Layout
from . import graph
from ._blocks import AGCNBackbone, GCNTCNUnit, UnitTCN, bn_init, conv_init, down_block
from ._registry import register
from .agcn import bone_stream, check_motion, pack_bodies

__all__ = ["CTRGCN", "official_ctrgcn_input"]


def official_ctrgcn_input(x: torch.Tensor, layout: Layout, num_person: int = 2, window: int = 64,
                          p_interval: float = 0.95, preprocess: bool = True) -> torch.Tensor:
    """CTR-GCN's test input ``(N, 3, window, V, M)`` from motions ``(N, T, V, 3)`` (joint stream).

    The official steps per take: drop the all-zero frames, subtract the first frame's spine-mid joint,
    count the frames whose coordinates do not sum to 0 (``valid``), keep ``[bias, valid − bias)`` with
    ``bias = ⌊(1 − p)·valid/2⌋`` and resample that to ``window`` frames linearly (``F.interpolate``,
    ``align_corners=False``). Written for the whole batch on the device — the frames kept, the crop and the
    sampling positions are index tensors, never read back — so the input costs no host synchronisation
    and an attack on CTR-GCN can be captured as a CUDA graph. Differentiable in the coordinates."""
    if not preprocess:
        return pack_bodies(x, num_person)
    n, t, v, _ = x.shape
    mid = graph.landmarks(layout)["spine_mid"]
    frames = torch.arange(t, device=x.device)
    with torch.no_grad():
        kept = (x != 0).flatten(2).any(-1)  # (N, T)
        count = kept.sum(1)  # K per take
        # the kept frames first, in their order: a stable sort on (dropped, time)
        order = torch.argsort(torch.where(kept, frames, frames + t), dim=1)
    clip = x.gather(1, order[:, :, None, None].expand(n, t, v, 3))
    clip = clip - clip[:, :1, mid:mid + 1]  # the first kept frame's spine mid
    with torch.no_grad():
        in_clip = frames[None] < count[:, None]
        valid = ((clip.sum((2, 3)) != 0) & in_clip).sum(1)
        bias = ((1.0 - p_interval) * valid.double() / 2.0).floor().long()
        length = valid - 2 * bias  # may be 0 or less: a zero take, as the official code gives
        scale = length.float() / window
        j = torch.arange(window, device=x.device, dtype=torch.float32)
        src = (scale[:, None] * (j[None] + 0.5) - 0.5).clamp_min(0.0)  # (N, window)
        i0 = src.floor().long()
        i1 = torch.minimum(i0 + 1, (length - 1).clamp_min(0)[:, None])
        lam = (src - i0.to(src.dtype)).to(x.dtype)
        i0 = (i0 + bias[:, None]).clamp(0, t - 1)
        i1 = (i1 + bias[:, None]).clamp(0, t - 1)
        empty = (count == 0) | (length <= 0)
    a = clip.gather(1, i0[:, :, None, None].expand(n, window, v, 3))
    b = clip.gather(1, i1[:, :, None, None].expand(n, window, v, 3))
    lam = lam[:, :, None, None]
    seq = a * (1 - lam) + b * lam  # (N, window, V, 3)
    seq = torch.where(empty[:, None, None, None], torch.zeros_like(seq), seq)
    return pack_bodies(seq, num_person)


class MultiScaleTemporalConv(nn.Module):
    """Branches: dilated (5 x 1) convs (d = 1, 2), max pool (3 x 1), 1x1; concatenated."""

    def __init__(self, cin: int, cout: int, kernel_size: int = 5, stride: int = 1,
                 dilations: tuple[int, ...] = (1, 2)) -> None:
        super().__init__()
        nb = len(dilations) + 2
        if cout % nb:
            raise ValueError(f"ctrgcn: {cout} channels do not split into {nb} temporal branches")
        bc = cout // nb
        branches: list[nn.Module] = [
            nn.Sequential(nn.Conv2d(cin, bc, 1), nn.BatchNorm2d(bc), nn.ReLU(),
                          UnitTCN(bc, bc, kernel_size, stride, d, init=False))
            for d in dilations
        ]
        branches.append(nn.Sequential(nn.Conv2d(cin, bc, 1), nn.BatchNorm2d(bc), nn.ReLU(),
                                      nn.MaxPool2d((3, 1), stride=(stride, 1), padding=(1, 0)),
                                      nn.BatchNorm2d(bc)))
        branches.append(nn.Sequential(nn.Conv2d(cin, bc, 1, stride=(stride, 1)), nn.BatchNorm2d(bc)))
        self.branches = nn.ModuleList(branches)
        for mod in self.modules():
            if isinstance(mod, nn.Conv2d):
                conv_init(mod)
            elif isinstance(mod, nn.BatchNorm2d):
                nn.init.normal_(mod.weight, 1.0, 0.02)
                nn.init.zeros_(mod.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([b(x) for b in self.branches], dim=1)


class CTRGC(nn.Module):
    def __init__(self, cin: int, cout: int, rel_reduction: int = 8) -> None:
        super().__init__()
        rel = 8 if cin in (3, 9) else max(cin // rel_reduction, 1)
        self.conv1 = nn.Conv2d(cin, rel, 1)
        self.conv2 = nn.Conv2d(cin, rel, 1)
        self.conv3 = nn.Conv2d(cin, cout, 1)
        self.conv4 = nn.Conv2d(rel, cout, 1)
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            conv_init(conv)

    def forward(self, x: torch.Tensor, a: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        x1 = self.conv1(x).mean(-2)
        x2 = self.conv2(x).mean(-2)
        x3 = self.conv3(x)
        rel = torch.tanh(x1.unsqueeze(-1) - x2.unsqueeze(-2))  # (N, R, U, V)
        adj = self.conv4(rel) * alpha + a  # (N, C, U, V)
        return torch.einsum("ncuv,nctv->nctu", adj, x3)


class UnitGCN(nn.Module):
    def __init__(self, cin: int, cout: int, a: np.ndarray) -> None:
        super().__init__()
        self.num_subset = a.shape[0]
        self.convs = nn.ModuleList(CTRGC(cin, cout) for _ in range(self.num_subset))
        self.down = down_block(cin, cout)
        self.PA = nn.Parameter(torch.from_numpy(a.astype(np.float32)))
        self.alpha = nn.Parameter(torch.zeros(1))
        self.bn = nn.BatchNorm2d(cout)
        bn_init(self.bn, 1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = None
        for i in range(self.num_subset):
            z = self.convs[i](x, self.PA[i], self.alpha)
            y = z if y is None else y + z
        return torch.relu(self.bn(y) + self.down(x))


class TCNGCNUnit(GCNTCNUnit):
    def __init__(self, cin: int, cout: int, a: np.ndarray, stride: int = 1, residual: bool = True) -> None:
        super().__init__(UnitGCN(cin, cout, a),
                         MultiScaleTemporalConv(cout, cout, kernel_size=5, stride=stride),
                         cin, cout, stride, residual)


class CTRGCN(AGCNBackbone):
    def __init__(self, layout: Layout, num_classes: int, stream: str = "joint", preprocess: bool = True,
                 window: int = 64, p_interval: float = 0.95, num_person: int = 2, width: int = 64) -> None:
        super().__init__()
        if stream not in ("joint", "bone"):
            raise ValueError(f"ctrgcn stream must be 'joint' or 'bone', got {stream!r}")
        if not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be an int >= 1, got {window!r}")
        if not 0.0 < p_interval <= 1.0:
            raise ValueError(f"p_interval must be in (0, 1], got {p_interval!r}")
        if not isinstance(num_person, int) or num_person < 1:
            raise ValueError(f"num_person must be an int >= 1, got {num_person!r}")
        if preprocess:
            graph.landmarks(layout)
        self._layout = layout
        self.stream = stream
        self.preprocess = preprocess
        self.window = window
        self.p_interval = float(p_interval)
        self.num_person = num_person
        self._build_backbone(TCNGCNUnit, graph.spatial_labelling(layout), layout.num_joints, num_classes,
                             num_person, width)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """The official network input ``(N, 3, window, V, M)`` for motions ``(N, T, V, 3)``."""
        check_motion(x, self._layout, "ctrgcn")
        x5 = official_ctrgcn_input(x, self._layout, self.num_person, self.window, self.p_interval,
                                   self.preprocess)
        return bone_stream(x5, self._layout) if self.stream == "bone" else x5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_official(self.prepare(x))


@register("ctrgcn")
def build_ctrgcn(layout: Layout, num_classes: int, **options) -> nn.Module:
    return CTRGCN(layout, num_classes, **options)
