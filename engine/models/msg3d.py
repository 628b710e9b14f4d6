"""MS-G3D: disentangled multi-scale aggregation and unified spatial-temporal graph convolution
(Liu, Zhang, Chen, Wang, Ouyang, CVPR 2020).

Three stages, each the sum of a factorised pathway (a multi-scale GCN over k-hop adjacencies
``A_powers``, followed by two multi-scale temporal convolutions) and a G3D pathway (multi-scale
graph convolution over ``tau x tau``-tiled spatial-temporal windows, ``A_scales``, for windows 3 and
5), then one more multi-scale temporal convolution. Every fixed adjacency gets a learnable residual
mask ``A_res`` of the same shape. Aggregation is ``out[v] = sum_u A[v, u] x[u]``.

Parameter names and shapes follow the official implementation (``kenziyuliu/MS-G3D``), so its
published NTU-60 checkpoints load with ``strict=True``. ``A_powers`` and ``A_scales`` are not in the
official state dict: here they are non-persistent buffers rebuilt from :mod:`.graph`.

What ``forward`` does with a motion ``(N, T, V, 3)`` in metres. With ``preprocess=True`` (the
default) it is MS-G3D's copy of the 2s-AGCN ``pre_normalization`` that made the NTU test data
(see :mod:`.dgnn`, :func:`~engine.models.dgnn.pre_normalize`): zero padding to ``pad_to`` = 300
frames (``None``: no padding), the empty tail filled by repeating the clip cyclically (a leading
empty stretch removed first), frame-by-frame centring on the mid-spine joint (zero joints stay
zero), and the two rotations fixed by frame 0 (spine onto +z, shoulders onto +x). Then a zero
second body is packed beside the first (``(N, 3, T, V, 2)``) and ``data_bn`` normalises channel
``m * 3V + 3v + c``.
``stream="bone"`` feeds the bone stream (``joint[v] - joint[u]`` over :func:`.graph.bone_pairs`,
computed after the normalisation like ``gen_bone_data``) for the published bone checkpoints.
Everything is differentiable; ``preprocess=False`` skips padding, centring and rotation for demo
training on clean data (the packing and the bone stream stay; ``num_person=1`` drops the zero body
for demo variants). :meth:`MSG3D.forward_official` runs the network on the official input
``(N, 3, T, V, M)``.

**Input normalisation (issue 11).** Built with ``normalize=True`` (or a dict of options), as every
model ``smart-train`` makes and every shipped HDM05 checkpoint, the model first turns each clip about
``y`` to face ``+z`` at its first frame and moves its first root to ``x = z = 0``
(:mod:`engine.models.normalize`; differentiable, recorded in ``options["normalize"]``), before
anything above; its predictions are then invariant to where the take stands and which way it faces.
Without it (official files) the model sees the motion as given.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..skeleton import Layout
from . import graph
from ._blocks import UnitTCN
from ._registry import register
from .dgnn import check_motion, data_bn_mvc, init_input_options, pack_two_bodies, pre_normalize

__all__ = ["MSG3D"]


class _MLP(nn.Module):
    """1x1 convolution + BatchNorm + ReLU (MS-G3D's ``MLP`` with one layer and no dropout)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Conv2d(cin, cout, 1), nn.BatchNorm2d(cout), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def _aggregate(a: torch.Tensor, x: torch.Tensor, scales: int) -> torch.Tensor:
    """``a`` (K*V, V), ``x`` (N, C, T, V) -> (N, K*C, T, V), channel ``k*C + c``."""
    n, c, t, v = x.shape
    y = torch.einsum("vu,nctu->nctv", a, x).reshape(n, c, t, scales, v)
    return y.permute(0, 3, 1, 2, 4).reshape(n, scales * c, t, v)


class _MSGCN(nn.Module):
    """Disentangled multi-scale GCN over ``A_powers`` (k-hop adjacencies) + ``A_res``."""

    def __init__(self, scales: int, cin: int, cout: int, lay: Layout) -> None:
        super().__init__()
        self.scales = scales
        a = torch.from_numpy(graph.ms_gcn_powers(lay, scales))
        self.register_buffer("A_powers", a, persistent=False)
        self.A_res = nn.Parameter(torch.empty_like(a).uniform_(-1e-6, 1e-6))
        self.mlp = _MLP(cin * scales, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(_aggregate(self.A_powers.to(x.dtype) + self.A_res, x, self.scales))


class _MSTCN(nn.Module):
    """Multi-scale temporal convolution: 4 dilated branches, a max-pool and a 1x1 branch."""

    def __init__(self, cin: int, cout: int, stride: int = 1, kernel: int = 3,
                 dilations: tuple[int, ...] = (1, 2, 3, 4), activation: bool = True) -> None:
        super().__init__()
        nb = len(dilations) + 2
        if cout % nb:
            raise ValueError(f"msg3d: temporal width {cout} is not a multiple of {nb} branches")
        bc = cout // nb
        branches = [
            nn.Sequential(nn.Conv2d(cin, bc, 1), nn.BatchNorm2d(bc), nn.ReLU(),
                          UnitTCN(bc, bc, kernel, stride, d, init=False))
            for d in dilations
        ]
        branches.append(nn.Sequential(
            nn.Conv2d(cin, bc, 1), nn.BatchNorm2d(bc), nn.ReLU(),
            nn.MaxPool2d((3, 1), stride=(stride, 1), padding=(1, 0)), nn.BatchNorm2d(bc)))
        branches.append(nn.Sequential(nn.Conv2d(cin, bc, 1, stride=(stride, 1)), nn.BatchNorm2d(bc)))
        self.branches = nn.ModuleList(branches)
        self._identity = cin == cout and stride == 1
        if not self._identity:
            self.residual = UnitTCN(cin, cout, 1, stride, init=False)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        res = x if self._identity else self.residual(x)
        out = torch.cat([b(x) for b in self.branches], dim=1) + res
        return F.relu(out) if self.activation else out


class _UnfoldWindows(nn.Module):
    """(N, C, T, V) -> (N, C, T', w*V): temporal windows of ``w`` frames, index ``i*V + v``."""

    def __init__(self, window: int, stride: int) -> None:
        super().__init__()
        self.window, self.stride = window, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v = x.shape
        pad = (self.window - 1) // 2
        y = F.unfold(x, kernel_size=(self.window, 1), stride=(self.stride, 1), padding=(pad, 0))
        y = y.view(n, c, self.window, -1, v).permute(0, 1, 3, 2, 4)
        return y.reshape(n, c, -1, self.window * v)


class _STMSGCN(nn.Module):
    """Multi-scale GCN over a tiled spatial-temporal window graph (``A_scales`` + ``A_res``)."""

    def __init__(self, cin: int, cout: int, lay: Layout, scales: int, window: int) -> None:
        super().__init__()
        self.scales = scales
        a = torch.from_numpy(graph.ms_g3d_scales(lay, scales, window))
        self.register_buffer("A_scales", a, persistent=False)
        self.A_res = nn.Parameter(torch.empty_like(a).uniform_(-1e-6, 1e-6))
        self.mlp = _MLP(cin * scales, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(_aggregate(self.A_scales.to(x.dtype) + self.A_res, x, self.scales))


class _MSG3D(nn.Module):
    """One G3D pathway for one window size; the first block changes width inside the graph
    convolution, later ones in the collapsing 3D convolution (as the official code does)."""

    def __init__(self, cin: int, cout: int, lay: Layout, scales: int, window: int, stride: int,
                 first: bool) -> None:
        super().__init__()
        self.window = window
        self.embed = cout if first else cin
        self.in1x1 = nn.Identity()
        self.gcn3d = nn.Sequential(_UnfoldWindows(window, stride),
                                   _STMSGCN(cin, self.embed, lay, scales, window))
        self.out_conv = nn.Conv3d(self.embed, cout, kernel_size=(1, window, 1))
        self.out_bn = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, _, v = x.shape
        x = self.gcn3d(self.in1x1(x))
        x = x.view(n, self.embed, -1, self.window, v)
        return self.out_bn(self.out_conv(x).squeeze(3))


class _MultiWindowG3D(nn.Module):
    def __init__(self, cin: int, cout: int, lay: Layout, scales: int, stride: int, first: bool,
                 windows: tuple[int, ...] = (3, 5)) -> None:
        super().__init__()
        self.gcn3d = nn.ModuleList(
            [_MSG3D(cin, cout, lay, scales, w, stride, first) for w in windows]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = 0
        for g in self.gcn3d:
            out = out + g(x)
        return out


class MSG3D(nn.Module):
    """MS-G3D on motions ``(N, T, V, 3)`` in metres; see the module docstring for the input pipeline.

    ``width`` (96) is the first stage's width; the stages are ``width, 2 width, 4 width`` (a
    multiple of 6, for the six temporal branches). ``num_gcn_scales`` / ``num_g3d_scales`` are the
    numbers of k-hop scales (13 and 6 for NTU).
    """

    def __init__(self, layout: Layout, num_classes: int, width: int = 96, num_gcn_scales: int = 13,
                 num_g3d_scales: int = 6, preprocess: bool = True, pad_to: int | None = 300,
                 stream: str = "joint", num_person: int = 2) -> None:
        super().__init__()
        if not isinstance(width, int) or width < 6 or width % 6:
            raise ValueError(f"msg3d: width must be a multiple of 6 (>= 6), got {width!r}")
        if num_gcn_scales < 1 or num_g3d_scales < 1:
            raise ValueError(f"msg3d: scale counts must be >= 1, got {num_gcn_scales}, {num_g3d_scales}")
        if stream not in ("joint", "bone"):
            raise ValueError(f"msg3d: stream must be 'joint' or 'bone', got {stream!r}")
        init_input_options(self, "msg3d", layout, preprocess, pad_to, num_person)
        self.stream = stream
        c1, c2, c3 = width, 2 * width, 4 * width
        v = layout.num_joints
        self.data_bn = nn.BatchNorm1d(num_person * 3 * v)

        self.gcn3d1 = _MultiWindowG3D(3, c1, layout, num_g3d_scales, stride=1, first=True)
        self.sgcn1 = nn.Sequential(_MSGCN(num_gcn_scales, 3, c1, layout), _MSTCN(c1, c1),
                                   _MSTCN(c1, c1, activation=False))
        self.tcn1 = _MSTCN(c1, c1)

        self.gcn3d2 = _MultiWindowG3D(c1, c2, layout, num_g3d_scales, stride=2, first=False)
        self.sgcn2 = nn.Sequential(_MSGCN(num_gcn_scales, c1, c1, layout), _MSTCN(c1, c2, stride=2),
                                   _MSTCN(c2, c2, activation=False))
        self.tcn2 = _MSTCN(c2, c2)

        self.gcn3d3 = _MultiWindowG3D(c2, c3, layout, num_g3d_scales, stride=2, first=False)
        self.sgcn3 = nn.Sequential(_MSGCN(num_gcn_scales, c2, c2, layout), _MSTCN(c2, c3, stride=2),
                                   _MSTCN(c3, c3, activation=False))
        self.tcn3 = _MSTCN(c3, c3)

        self.fc = nn.Linear(c3, num_classes)
        self.register_buffer("bone_partner", torch.as_tensor(graph.bone_pairs(layout)[:, 1]),
                             persistent=False)

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """The official input of body 0 as ``(N, T', V, 3)`` (joints or bones)."""
        check_motion(x, self.lay, "msg3d")
        if self.preprocess:
            x = pre_normalize(x, self.lay, self.pad_to, null_frames="first")
        if self.stream == "bone":
            x = x - x.index_select(2, self.bone_partner)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._network(pack_two_bodies(self.inputs(x), self.num_person))

    def forward_official(self, x: torch.Tensor) -> torch.Tensor:
        """The network on the official input ``(N, 3, T, V, M)``."""
        return self._network(x.permute(0, 4, 2, 3, 1))

    def _network(self, x: torch.Tensor) -> torch.Tensor:
        """Bodies ``(N, M, T, V, 3)`` -> logits."""
        n, m = x.shape[:2]
        x = data_bn_mvc(self.data_bn, x)
        x = F.relu(self.sgcn1(x) + self.gcn3d1(x))
        x = self.tcn1(x)
        x = F.relu(self.sgcn2(x) + self.gcn3d2(x))
        x = self.tcn2(x)
        x = F.relu(self.sgcn3(x) + self.gcn3d3(x))
        x = self.tcn3(x)
        c = x.shape[1]
        out = x.reshape(n, m, c, -1).mean(3).mean(1)
        return self.fc(out)


@register("msg3d")
def build_msg3d(layout: Layout, num_classes: int, **options) -> nn.Module:
    return MSG3D(layout, num_classes, **options)
