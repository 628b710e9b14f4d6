"""SGN: semantics-guided neural network (Zhang, Lan, Zeng, Xing, Xue, Zheng, CVPR 2020).

Joints are embedded from their position and their frame-to-frame velocity, and a one-hot joint
type ("spatial semantics") is embedded and concatenated. Three residual graph convolutions run over
a per-frame adjacency computed from the data (``softmax(theta(x)^T phi(x))``), then a one-hot
frame index ("temporal semantics") embedding is added, joints are max-pooled, and a frame-level
CNN and a temporal max-pool feed the classifier.

Parameter names and shapes follow the official implementation (``microsoft/SGN``), so its
published NTU-60 checkpoints (``results/NTU/SGN/{0,1}_best.pth``, weights under ``state_dict``)
load with ``strict=True``. The one-hot ``spa``/``tem`` tensors are not in the official state dict:
here they are non-persistent ``(1, ...)`` buffers whose embeddings are computed once per call and
broadcast over the batch, so **any batch size works** (the official forward only works at the
batch size its one-hot tensors were built for: 64 in training, 160 = 32 x 5 at test).

What ``forward`` does with a motion ``(N, T, V, 3)`` in metres (one actor):

1. ``preprocess=True`` (default) -- SGN's ``seq_translation`` and collate: the origin is the
   mid-spine joint (``ntu25`` joint 1; :func:`.graph.landmarks` ``spine_mid`` elsewhere) of the first
   non-empty frame, one constant offset subtracted from the whole clip; empty (all-zero) frames are
   reset to zero and then dropped, the remaining ``L`` frames moved to the front.
2. Segment sampling into ``seg`` (20) segments, always (it is the model's input contract): with
   ``d = max(L, seg) // seg`` (a clip shorter than ``seg`` is zero-padded to ``seg`` rows, as the
   official collate does), segment ``i`` takes frame ``i*d + r_i``. The official code draws
   ``r_i`` uniformly in ``[0, d)``, independently per segment, in training as well as at test
   (where it averages the logits of 5 draws). Here:

   * training mode: one random draw per clip, as the official training does;
   * eval mode, ``sampling="mean"`` (default): the mean of the logits over the ``d`` deterministic
     draws ``r_i = r`` for ``r = 0..d-1``. Each of the frames ``0..20d-1`` is used exactly once, so
     every frame the official sampler can reach is weighted as in its expectation; unlike it, the
     offset is shared by all segments of a draw. Deterministic, and it costs ``d`` passes of the
     network (batched);
   * eval mode, ``sampling="centre"``: one draw at the segment centres ``r = (d - 1) // 2``;
   * ``sampling="random"``: the official test protocol (``draws`` = 5 random draws, logits
     averaged); not deterministic.

``preprocess=False`` skips step 1 (for clean, already-centred demo data); sampling stays. The
official training-time random rotation is data augmentation, not part of the model, and is not done. The frame
difference ``dif`` (zero first frame) and the two BatchNorm1d(3V) embeddings with channel
``c * V + v`` are the model's own layers. Everything is differentiable in the input (the sampling
is a gather; which frames are empty is a constant of the gradient).

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

from ..errors import LayoutMismatchError
from ..skeleton import Layout
from . import graph
from ._registry import register
from .dgnn import check_motion

__all__ = ["SGN", "compact_and_translate", "sample_segments"]

SAMPLING = ("mean", "centre", "random")


def compact_and_translate(x: torch.Tensor, origin_joint: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """SGN's translation and empty-row removal on ``(N, T, V, 3)``.

    Returns the clip with its non-empty frames moved to the front (the rest zero) and, when
    ``origin_joint`` is given, translated by the mid-spine position of the first non-empty frame;
    and the number ``L`` of non-empty frames per sample ``(N,)``.
    """
    n, t, v, c = x.shape
    with torch.no_grad():
        valid = (x != 0).flatten(2).any(-1)  # (N, T)
        ar = torch.arange(t, device=x.device)
        order = torch.argsort(torch.where(valid, ar, ar + t), dim=1, stable=True)
        length = valid.sum(1)
        keep = (ar[None] < length[:, None]).to(x.dtype)  # (N, T) after compaction
    y = x.gather(1, order[:, :, None, None].expand(n, t, v, c))
    if origin_joint is not None:
        y = y - y[:, :1, origin_joint:origin_joint + 1, :]  # frame 0 is now the first non-empty one
    return y * keep[:, :, None, None], length


def sample_segments(x: torch.Tensor, length: torch.Tensor, seg: int, offsets: torch.Tensor) -> torch.Tensor:
    """Rows ``i*d + offsets[n, i]`` of each compacted clip, ``d = max(L, seg) // seg``.

    ``x`` (N, T, V, 3) with its ``L`` valid frames at the front, ``offsets`` (N, seg) integers in
    ``[0, d)``; rows at or beyond ``L`` are zero (the official zero padding to ``seg`` rows).
    Returns (N, seg, V, 3).
    """
    n, t, v, c = x.shape
    d = (length.clamp(min=seg) // seg)[:, None]
    pos = torch.arange(seg, device=x.device)[None] * d + offsets
    inside = pos < length[:, None]
    pos = torch.where(inside, pos, torch.zeros_like(pos)).clamp(max=t - 1)
    rows = x.gather(1, pos[:, :, None, None].expand(n, seg, v, c))
    return rows * inside[:, :, None, None].to(x.dtype)


class _Conv1x1(nn.Module):
    def __init__(self, cin: int, cout: int, bias: bool = True) -> None:
        super().__init__()
        self.cnn = nn.Conv2d(cin, cout, kernel_size=1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cnn(x)


class _NormData(nn.Module):
    """BatchNorm1d over channel ``c * V + v`` of ``(N, C, V, T)``."""

    def __init__(self, channels: int, joints: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(channels * joints)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, v, t = x.shape
        return self.bn(x.reshape(n, c * v, t)).view(n, c, v, t)


class _Embed(nn.Module):
    def __init__(self, cin: int, cout: int, hidden: int, joints: int, norm: bool, bias: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = [_NormData(cin, joints)] if norm else []
        layers += [_Conv1x1(cin, hidden, bias), nn.ReLU(), _Conv1x1(hidden, cout, bias), nn.ReLU()]
        self.cnn = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cnn(x)


class _Local(nn.Module):
    """Frame-level module: max over joints, conv (1x3) + BN + ReLU + dropout, conv 1x1 + BN + ReLU."""

    def __init__(self, cin: int, cout: int, bias: bool) -> None:
        super().__init__()
        self.cnn1 = nn.Conv2d(cin, cin, kernel_size=(1, 3), padding=(0, 1), bias=bias)
        self.bn1 = nn.BatchNorm2d(cin)
        self.cnn2 = nn.Conv2d(cin, cout, kernel_size=1, bias=bias)
        self.bn2 = nn.BatchNorm2d(cout)
        self.dropout = nn.Dropout2d(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.amax(dim=2, keepdim=True)  # (N, C, 1, T)
        x = self.dropout(F.relu(self.bn1(self.cnn1(x))))
        return F.relu(self.bn2(self.cnn2(x)))


class _ComputeG(nn.Module):
    def __init__(self, cin: int, cout: int, bias: bool) -> None:
        super().__init__()
        self.g1 = _Conv1x1(cin, cout, bias)
        self.g2 = _Conv1x1(cin, cout, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g1 = self.g1(x).permute(0, 3, 2, 1)  # (N, T, V, C)
        g2 = self.g2(x).permute(0, 3, 1, 2)  # (N, T, C, V)
        return torch.softmax(g1 @ g2, dim=-1)  # (N, T, V, V)


class _GCNSpa(nn.Module):
    def __init__(self, cin: int, cout: int, bias: bool) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(cout)
        self.w = _Conv1x1(cin, cout, bias=False)
        self.w1 = _Conv1x1(cin, cout, bias=bias)

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        y = (g @ x.permute(0, 3, 2, 1)).permute(0, 3, 2, 1)  # out[v] = sum_u g[v, u] x[u]
        return F.relu(self.bn(self.w(y) + self.w1(x)))


class SGN(nn.Module):
    """SGN on motions ``(N, T, V, 3)`` in metres; see the module docstring for the input pipeline.

    ``width`` (64) is the width of the embeddings; the joint-level module is ``4 width`` wide
    (256), the frame-level module ``8 width``. ``seg`` is the number of segments (20).
    """

    def __init__(self, layout: Layout, num_classes: int, width: int = 64, seg: int = 20,
                 preprocess: bool = True, sampling: str = "mean", draws: int = 5, bias: bool = True) -> None:
        super().__init__()
        if not isinstance(seg, int) or seg < 1:
            raise ValueError(f"sgn: seg must be an int >= 1, got {seg!r}")
        if not isinstance(width, int) or width < 1:
            raise ValueError(f"sgn: width must be an int >= 1, got {width!r}")
        if sampling not in SAMPLING:
            raise ValueError(f"sgn: sampling must be one of {SAMPLING}, got {sampling!r}")
        if draws < 1:
            raise ValueError(f"sgn: draws must be >= 1, got {draws}")
        self.lay = layout
        self.seg = int(seg)
        self.preprocess = bool(preprocess)
        self.sampling = sampling
        self.draws = int(draws)
        v = layout.num_joints
        q, dim = width, 4 * width
        self.tem_embed = _Embed(seg, dim, q, v, norm=False, bias=bias)
        self.spa_embed = _Embed(v, q, q, v, norm=False, bias=bias)
        self.joint_embed = _Embed(3, q, q, v, norm=True, bias=bias)
        self.dif_embed = _Embed(3, q, q, v, norm=True, bias=bias)
        self.cnn = _Local(dim, 2 * dim, bias)
        self.compute_g1 = _ComputeG(2 * q, dim, bias)
        self.gcn1 = _GCNSpa(2 * q, 2 * q, bias)
        self.gcn2 = _GCNSpa(2 * q, dim, bias)
        self.gcn3 = _GCNSpa(dim, dim, bias)
        self.fc = nn.Linear(2 * dim, num_classes)
        # one-hot joint type spa[0, c, v, t] = [c == v] and frame index tem[0, c, v, t] = [c == t]
        eye_v = torch.eye(v)
        eye_t = torch.eye(seg)
        self.register_buffer("spa", eye_v[:, :, None].expand(v, v, seg).clone()[None], persistent=False)
        self.register_buffer("tem", eye_t[:, None, :].expand(seg, v, seg).clone()[None], persistent=False)
        try:
            self._origin: int | None = graph.landmarks(layout)["spine_mid"]
        except ValueError:
            if preprocess:
                raise
            self._origin = None
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, 0, (2.0 / fan_out) ** 0.5)
        for g in (self.gcn1, self.gcn2, self.gcn3):
            nn.init.zeros_(g.w.cnn.weight)

    # -- input -----------------------------------------------------------------------------------
    def prepare(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Step 1: the compacted (and, with ``preprocess``, translated) clip and its lengths ``L``."""
        check_motion(x, self.lay, "sgn")
        if self.preprocess:
            return compact_and_translate(x, self._origin)
        n, t = x.shape[:2]
        return x, torch.full((n,), t, dtype=torch.int64, device=x.device)

    def offsets(self, length: torch.Tensor, frames: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The draws of step 2: offsets ``(N, K, seg)`` and logit weights ``(N, K)``. ``frames``: the
        clips' frame count T; with it the "mean" draws are ``K = max(T, seg) // seg`` (a bound known
        from the shape, draws ``r ≥ d`` weighted 0: the same mean without reading ``max d`` back from
        the device, so an attack on SGN never waits on the GPU and can be captured as a CUDA graph);
        without it ``K = max d``."""
        n = length.shape[0]
        d = length.clamp(min=self.seg) // self.seg  # (N,)
        dev = length.device
        if self.training or self.sampling == "random":
            k = 1 if self.training else self.draws
            u = torch.rand(n, k, self.seg, device=dev)
            off = (u * d[:, None, None]).long().clamp(max=(d - 1)[:, None, None])
            return off, torch.full((n, k), 1.0 / k, device=dev)
        if self.sampling == "centre":
            return ((d - 1) // 2)[:, None, None].expand(n, 1, self.seg), torch.ones(n, 1, device=dev)
        k = max(int(frames), self.seg) // self.seg if frames is not None else int(d.max())
        r = torch.arange(k, device=dev)
        w = (r[None] < d[:, None]).float() / d[:, None].float()
        off = torch.minimum(r[None], (d - 1)[:, None])[:, :, None].expand(n, k, self.seg)
        return off, w

    # -- network ---------------------------------------------------------------------------------
    def forward_official(self, rows: torch.Tensor) -> torch.Tensor:
        """The official network on its own input ``(B, seg, 3V)`` (sampled rows, xyz adjacent)."""
        d = 3 * self.lay.num_joints
        if rows.ndim != 3 or rows.shape[1] != self.seg or rows.shape[2] != d:
            raise LayoutMismatchError(
                f"sgn: the official input is (B, {self.seg}, {d}), got {tuple(rows.shape)}"
            )
        return self.network(rows.view(rows.shape[0], self.seg, -1, 3))

    def network(self, rows: torch.Tensor) -> torch.Tensor:
        """The official network on sampled clips ``(B, seg, V, 3)`` -> logits ``(B, C)``."""
        b = rows.shape[0]
        x = rows.permute(0, 3, 2, 1)  # (B, 3, V, seg)
        dif = F.pad(x[..., 1:] - x[..., :-1], (1, 0))
        dy = self.joint_embed(x) + self.dif_embed(dif)
        spa = self.spa_embed(self.spa.to(x.dtype)).expand(b, -1, -1, -1)
        tem = self.tem_embed(self.tem.to(x.dtype)).expand(b, -1, -1, -1)
        h = torch.cat([dy, spa], dim=1)
        g = self.compute_g1(h)
        h = self.gcn3(self.gcn2(self.gcn1(h, g), g), g)
        h = self.cnn(h + tem)
        return self.fc(h.amax(dim=(2, 3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        clip, length = self.prepare(x)
        off, w = self.offsets(length, clip.shape[1])
        n, k = w.shape
        rows = sample_segments(
            clip.repeat_interleave(k, dim=0), length.repeat_interleave(k), self.seg, off.reshape(n * k, -1)
        )
        logits = self.network(rows).view(n, k, -1)
        return (logits * w[:, :, None].to(logits.dtype)).sum(1)


@register("sgn")
def build_sgn(layout: Layout, num_classes: int, **options) -> nn.Module:
    return SGN(layout, num_classes, **options)
