"""Layers shared by the 2s-AGCN family (2s-AGCN and CTR-GCN; the temporal convolution also MS-G3D, DGNN).

Only construction and wiring live here; the parameter names each model registers (``conv``,
``bn``, ``down``, ``gcn1``, ``tcn1``, ``residual``, ``data_bn``, ``l1..l10``, ``fc``) and the order
in which modules are built (and so draw from the random generator) are those of the official code.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

__all__ = [
    "AGCNBackbone", "GCNTCNUnit", "UnitTCN", "agcn_widths", "bn_init", "conv_init", "down_block",
]


def conv_init(conv: nn.Conv2d) -> None:
    nn.init.kaiming_normal_(conv.weight, mode="fan_out")
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def bn_init(bn: nn.BatchNorm2d | nn.BatchNorm1d, scale: float) -> None:
    nn.init.constant_(bn.weight, scale)
    nn.init.zeros_(bn.bias)


class UnitTCN(nn.Module):
    """The temporal convolution of the GCN family: (k x 1) conv + BatchNorm, official names ``conv``, ``bn``.

    One block for 2s-AGCN's ``unit_tcn``, CTR-GCN's and MS-G3D's ``TemporalConv`` (dilated; ``init=False``:
    PyTorch's default initialisation, as in their code) and DGNN's temporal convolution. ``init=True``:
    Kaiming (fan out) conv weights, zero bias, BatchNorm weight 1 -- the 2s-AGCN / DGNN initialisation.
    Padding keeps the length at stride 1: ``(k + (k - 1)(d - 1) - 1) // 2``.
    """

    def __init__(self, cin: int, cout: int, kernel_size: int = 9, stride: int = 1, dilation: int = 1,
                 init: bool = True) -> None:
        super().__init__()
        pad = (kernel_size + (kernel_size - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(cin, cout, (kernel_size, 1), padding=(pad, 0), stride=(stride, 1),
                              dilation=(dilation, 1))
        self.bn = nn.BatchNorm2d(cout)
        if init:
            conv_init(self.conv)
            bn_init(self.bn, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


def down_block(cin: int, cout: int) -> nn.Module:
    """A graph unit's ``down`` path: 1x1 conv + BatchNorm when the width changes, else identity."""
    if cin == cout:
        return nn.Identity()
    down = nn.Sequential(nn.Conv2d(cin, cout, 1), nn.BatchNorm2d(cout))
    conv_init(down[0])
    bn_init(down[1], 1)
    return down


class GCNTCNUnit(nn.Module):
    """``relu(tcn1(gcn1(x)) + residual(x))``; the residual is absent, identity or a (1 x 1) UnitTCN."""

    def __init__(self, gcn1: nn.Module, tcn1: nn.Module, cin: int, cout: int, stride: int = 1,
                 residual: bool = True) -> None:
        super().__init__()
        self.gcn1 = gcn1
        self.tcn1 = tcn1
        if not residual:
            self.residual = None
        elif cin == cout and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = UnitTCN(cin, cout, kernel_size=1, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.tcn1(self.gcn1(x))
        if self.residual is not None:
            y = y + self.residual(x)
        return torch.relu(y)


def agcn_widths(width: int) -> list[tuple[int, int, int]]:
    """``(cin, cout, stride)`` of the ten layers for base width ``width`` (a multiple of 8)."""
    if not isinstance(width, int) or width < 8 or width % 8:
        raise ValueError(f"width must be a multiple of 8 (>= 8), got {width!r}")
    w = width
    return [(3, w, 1), (w, w, 1), (w, w, 1), (w, w, 1), (w, 2 * w, 2), (2 * w, 2 * w, 1),
            (2 * w, 2 * w, 1), (2 * w, 4 * w, 2), (4 * w, 4 * w, 1), (4 * w, 4 * w, 1)]


class AGCNBackbone(nn.Module):
    """``data_bn``, ten units ``l1..l10`` and ``fc``, run on the official input ``(N, 3, T, V, M)``."""

    def _build_backbone(self, unit: Callable[..., nn.Module], a: object, num_joints: int,
                        num_classes: int, num_person: int, width: int) -> None:
        """Register the layers; ``unit(cin, cout, a, stride=, residual=)`` builds one of ``l1..l10``."""
        self.data_bn = nn.BatchNorm1d(num_person * 3 * num_joints)
        for k, (cin, cout, stride) in enumerate(agcn_widths(width), start=1):
            setattr(self, f"l{k}", unit(cin, cout, a, stride=stride, residual=k != 1))
        self.fc = nn.Linear(4 * width, num_classes)
        nn.init.normal_(self.fc.weight, 0, math.sqrt(2.0 / num_classes))
        bn_init(self.data_bn, 1)

    def forward_official(self, x: torch.Tensor) -> torch.Tensor:
        """The official network on its own input ``(N, 3, T, V, M)``."""
        n, c, t, v, m = x.shape
        x = x.permute(0, 4, 3, 1, 2).reshape(n, m * v * c, t)
        x = self.data_bn(x)
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)
        for k in range(1, 11):
            x = getattr(self, f"l{k}")(x)
        c_new = x.shape[1]
        x = x.view(n, m, c_new, -1).mean(3).mean(1)
        return self.fc(x)
