"""ST-GCN (Yan, Xiong, Lin, AAAI 2018): spatial temporal graph convolutional network.

Registered as ``stgcn``. Options: ``preprocess=True``, ``pad_to=300``, ``num_person=2``,
``width=64`` (base channels; published: 64), ``edge_importance=True``, ``dropout=0.5``
(training only).

Parameter names follow the official ``net/st_gcn.py`` so the NTU-60 files load with
``strict=True``: the graph ``A`` ``(3, V, V)`` is a *persistent* buffer and the first state-dict
entry (the official model saves it), then ``data_bn`` (BatchNorm1d(V*3) indexed ``v*3 + c``,
applied to each body separately, i.e. shared by both bodies), ``st_gcn_networks.0..9`` (``gcn.conv``
a 1x1 conv to ``3 * C_out`` channels; ``tcn`` = BN, ReLU, (9 x 1) conv, BN, Dropout; ``residual``
conv + BN at the stride-2 blocks), ``edge_importance.0..9`` (multiplied elementwise with ``A``)
and ``fcn`` (a 1x1 conv classifier). Graph product: ``einsum('nkctv,kvw->nctw')``, i.e. output
joint ``w`` sums ``A[k, v, w] * x[v]``. ``A`` is the spatial-configuration partition of
:func:`engine.models.graph.stgcn_spatial` (centre: NTU 20; hdm05_25 13).

How ``forward`` reproduces the official NTU test input (``tools/ntu_gendata.py``; its test
feeder applies no transform), on one body ``(N, T, V, 3)`` in camera metres:

* the body becomes ``m = 0`` of ``(N, 3, T, V, 2)`` and the second body is all zeros (it still
  goes through the network and is averaged over bodies, as in the official model);
* with ``preprocess=True`` (default) the clip is zero-padded at the end to ``pad_to = 300``
  frames, since padded frames take part in the batch norm, the temporal convolutions and the
  global average pool. Nothing else: no centring, rotation or scaling. A longer clip is not cut.

``preprocess=False`` skips the padding (for already clean data of any length).

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
from ._registry import register
from .agcn import check_motion, pack_bodies

__all__ = ["STGCN"]


class ConvTemporalGraphical(nn.Module):
    """1x1 conv to ``K * C_out`` channels, then the graph product with ``A`` (K, V, V)."""

    def __init__(self, cin: int, cout: int, k: int) -> None:
        super().__init__()
        self.k = k
        self.conv = nn.Conv2d(cin, cout * k, kernel_size=(1, 1))

    def forward(self, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        n, kc, t, v = x.shape
        x = x.view(n, self.k, kc // self.k, t, v)
        return torch.einsum("nkctv,kvw->nctw", x, a)


class STGCNBlock(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, dropout: float = 0.0,
                 residual: bool = True, t_kernel: int = 9) -> None:
        super().__init__()
        pad = (t_kernel - 1) // 2
        self.gcn = ConvTemporalGraphical(cin, cout, k)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, (t_kernel, 1), (stride, 1), (pad, 0)),
            nn.BatchNorm2d(cout), nn.Dropout(dropout),
        )
        if not residual:
            self.residual = None
        elif cin == cout and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(nn.Conv2d(cin, cout, kernel_size=1, stride=(stride, 1)),
                                          nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        y = self.tcn(self.gcn(x, a))
        if self.residual is not None:
            y = y + self.residual(x)
        return torch.relu(y)


class STGCN(nn.Module):
    #: the official file may lack ``A`` (it is the graph, not a learned weight): rebuilt when absent
    REBUILT_BUFFERS = ("A",)

    def __init__(self, layout: Layout, num_classes: int, preprocess: bool = True, pad_to: int | None = 300,
                 num_person: int = 2, width: int = 64, edge_importance: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        if not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be an int >= 1, got {width!r}")
        if not isinstance(num_person, int) or num_person < 1:
            raise ValueError(f"num_person must be an int >= 1, got {num_person!r}")
        if pad_to is not None and (not isinstance(pad_to, int) or pad_to < 1):
            raise ValueError(f"pad_to must be None or an int >= 1, got {pad_to!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self._layout = layout
        self.preprocess = preprocess
        self.pad_to = pad_to
        self.num_person = num_person
        a = torch.from_numpy(graph.stgcn_spatial(layout))
        self.register_buffer("A", a)
        k = a.shape[0]
        v = layout.num_joints
        self.data_bn = nn.BatchNorm1d(3 * v)
        w = width
        spec = [(3, w, 1), (w, w, 1), (w, w, 1), (w, w, 1), (w, 2 * w, 2), (2 * w, 2 * w, 1),
                (2 * w, 2 * w, 1), (2 * w, 4 * w, 2), (4 * w, 4 * w, 1), (4 * w, 4 * w, 1)]
        self.st_gcn_networks = nn.ModuleList(
            STGCNBlock(cin, cout, k, stride, dropout=0.0 if i == 0 else dropout, residual=i != 0)
            for i, (cin, cout, stride) in enumerate(spec)
        )
        if edge_importance:
            self.edge_importance = nn.ParameterList(
                nn.Parameter(torch.ones(a.shape)) for _ in self.st_gcn_networks
            )
        else:
            self.edge_importance = None
        self.fcn = nn.Conv2d(4 * w, num_classes, kernel_size=1)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """The official network input ``(N, 3, T', V, M)`` for motions ``(N, T, V, 3)``."""
        check_motion(x, self._layout, "stgcn")
        x5 = pack_bodies(x, self.num_person)
        if self.preprocess and self.pad_to is not None and x5.shape[2] < self.pad_to:
            x5 = F.pad(x5, (0, 0, 0, 0, 0, self.pad_to - x5.shape[2]))
        return x5

    def forward_official(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v, m = x.shape
        x = x.permute(0, 4, 3, 1, 2).reshape(n * m, v * c, t)
        x = self.data_bn(x)
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)
        for i, block in enumerate(self.st_gcn_networks):
            a = self.A if self.edge_importance is None else self.A * self.edge_importance[i]
            x = block(x, a)
        x = F.avg_pool2d(x, x.shape[2:])
        x = x.view(n, m, -1, 1, 1).mean(dim=1)
        return self.fcn(x).view(n, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_official(self.prepare(x))


@register("stgcn")
def build_stgcn(layout: Layout, num_classes: int, **options) -> nn.Module:
    return STGCN(layout, num_classes, **options)
