"""DGNN: directed graph neural network over joints and bones (Shi, Zhang, Cheng, Lu, CVPR 2019).

The skeleton is a directed acyclic graph whose vertices are the joints and whose edges are the
bones, pointing away from the centre joint. Each block updates every vertex from its own features
and the aggregated features of its outgoing and incoming edges, and every edge from its own
features and those of its source and target vertex (learnable incidence matrices ``source_M`` and
``target_M``), then applies one temporal convolution shared by the vertex and edge streams.

The layer names and shapes follow the public PyTorch implementation the paper's results are
usually reproduced with (``kenziyuliu/DGNN-PyTorch``: the authors released no code), so its
published NTU-60 cross-subject checkpoint loads with ``strict=True``.

What ``forward`` does with a motion ``(N, T, V, 3)`` in metres (``preprocess=True``, the default,
reproduces the repository's NTU test pipeline; it is the 2s-AGCN ``pre_normalization``):

1. zero-pad the clip to ``pad_to`` (300) frames -- a longer clip is kept whole; ``pad_to=None``
   pads nothing (steps 2-4 still run);
2. null frames (:func:`fill_null_frames`): if the first frame is empty the non-empty frames move to
   the front; the empty tail is filled by repeating the clip cyclically (``out[t] = x[t mod L]``);
3. centring (:func:`centre_frames`): every frame subtracts its own mid-spine joint (``ntu25`` joint
   1; the ``spine_mid`` landmark of :mod:`.graph` elsewhere); joints that were exactly zero stay zero;
4. two rotations (:func:`align_axes`) fixed by frame 0: spine base -> mid spine onto +z, then left
   -> right shoulder onto +x, each the single rotation about ``v x axis`` by the angle between them
   (identity when that axis or angle is below 1e-6, as in the official ``rotation_matrix``);
5. the bone stream inside ``forward``: slot ``v`` holds ``joint[v] - joint[u]`` for the pairs of
   :func:`.graph.bone_pairs` (the 2s-AGCN ``gen_bone_data`` list on ``ntu25``; the centre's slot is
   zero), fed **in slot order** -- not in the order of the incidence-matrix columns, exactly as the
   repository does (its hand bones differ from its directed edges; we reproduce, not fix, that);
6. a zero second body is packed beside the first, ``(N, 3, T, V, 2)``, and ``data_bn_v`` /
   ``data_bn_e`` normalise channel ``m * 3V + 3v + c``.

Every step is differentiable in the input; the data-dependent choices (which frames are empty) are
index selections. ``preprocess=False`` skips steps 1-4 (for demo training on clean, normalised data);
the bone stream and the two-body packing are part of the model and always happen
(``num_person=1`` drops the zero body for demo variants; the published model has 2).
``stream="motion"`` feeds the temporal differences of joints and bones instead (the repository's
motion stream: ``x[t+1] - x[t]``, last frame zero). :meth:`DGNN.forward_official` runs the network
on the repository's own two inputs ``(N, 3, T, V, M)``.

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

from ..errors import LayoutMismatchError
from ..skeleton import Layout
from . import graph
from ._blocks import UnitTCN
from ._registry import register
from .preprocess import (  # noqa: F401  (re-exported: the models import them from here too)
    align_axes,
    bone_stream,
    centre_frames,
    check_motion,
    data_bn_mvc,
    fill_null_frames,
    motion_stream,
    pack_two_bodies,
    pad_frames,
    pre_normalize,
)

__all__ = [
    "DGNN", "align_axes", "bone_stream", "centre_frames", "check_common_options", "check_motion",
    "fill_null_frames", "init_input_options", "motion_stream", "pad_frames", "pack_two_bodies",
    "pre_normalize",
]

DEFAULT_CHANNELS = (64, 64, 64, 64, 128, 128, 128, 256, 256, 256)

# The repository's 25 directed edges (source, target), 0-based, in incidence-matrix column order:
# pointing away from the centre joint 20, plus a self-loop on the centre.
NTU_DIRECTED_EDGES = (
    (0, 12), (0, 16), (1, 0), (2, 3), (4, 5), (5, 6), (6, 7), (7, 21), (7, 22), (8, 9), (9, 10),
    (10, 11), (11, 23), (11, 24), (12, 13), (13, 14), (14, 15), (16, 17), (17, 18), (18, 19),
    (20, 1), (20, 2), (20, 4), (20, 8), (20, 20),
)


# -- DGNN layers -----------------------------------------------------------------------------------
def directed_edges(lay: Layout) -> np.ndarray:
    """``(V, 2)`` directed edges ``(source, target)`` in incidence-column order.

    ``ntu25``: the repository's list. Other layouts: the outward edges of :func:`.graph.inward_edges`
    sorted by (source, target), plus a self-loop on the centre, so that there are as many edges as
    joints (the bone slots).
    """
    if lay.name == "ntu25":
        return np.asarray(NTU_DIRECTED_EDGES, dtype=np.int64)
    out = sorted((int(j), int(i)) for i, j in graph.inward_edges(lay))
    c = graph.center(lay)
    edges = np.asarray(out + [(c, c)], dtype=np.int64)
    if len(edges) != lay.num_joints:
        raise LayoutMismatchError(
            f"dgnn: layout {lay.name!r} gives {len(edges)} directed edges for {lay.num_joints} joints"
        )
    return edges


def incidence(lay: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Initial ``source_M`` and ``target_M`` ``(V, E)``: ``1/deg(v)`` on each incidence, + 1e-6."""
    edges = directed_edges(lay)
    v, e = lay.num_joints, len(edges)
    src = np.zeros((v, e), dtype=np.float64)
    tgt = np.zeros((v, e), dtype=np.float64)
    for k, (s, t) in enumerate(edges):
        src[s, k] = 1.0
        tgt[t, k] = 1.0
    deg = (src + tgt).sum(1, keepdims=True)
    deg[deg == 0] = 1.0
    return (src / deg + 1e-6).astype(np.float32), (tgt / deg + 1e-6).astype(np.float32)


class _BiTemporalConv(nn.Module):
    """One temporal convolution applied to both the vertex and the edge stream (shared weights)."""

    def __init__(self, cin: int, cout: int, kernel: int = 9, stride: int = 1) -> None:
        super().__init__()
        self.tempconv = UnitTCN(cin, cout, kernel, stride)

    def forward(self, fv: torch.Tensor, fe: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.tempconv(fv), self.tempconv(fe)


class _DGNBlock(nn.Module):
    def __init__(self, cin: int, cout: int, source_m: np.ndarray, target_m: np.ndarray) -> None:
        super().__init__()
        self.source_M = nn.Parameter(torch.from_numpy(source_m.copy()))
        self.target_M = nn.Parameter(torch.from_numpy(target_m.copy()))
        self.H_v = nn.Linear(3 * cin, cout)
        self.H_e = nn.Linear(3 * cin, cout)
        self.bn_v = nn.BatchNorm2d(cout)
        self.bn_e = nn.BatchNorm2d(cout)

    def forward(self, fv: torch.Tensor, fe: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # fv (N, C, T, V) vertices, fe (N, C, T, E) edges; channel groups [self, via source, via target]
        fe_src = torch.einsum("ncte,ve->nctv", fe, self.source_M)
        fe_tgt = torch.einsum("ncte,ve->nctv", fe, self.target_M)
        hv = torch.cat([fv, fe_src, fe_tgt], dim=1).permute(0, 2, 3, 1)
        hv = F.relu(self.bn_v(self.H_v(hv).permute(0, 3, 1, 2)))
        fv_src = torch.einsum("nctv,ve->ncte", fv, self.source_M)
        fv_tgt = torch.einsum("nctv,ve->ncte", fv, self.target_M)
        he = torch.cat([fe, fv_src, fv_tgt], dim=1).permute(0, 2, 3, 1)
        he = F.relu(self.bn_e(self.H_e(he).permute(0, 3, 1, 2)))
        return hv, he


class _GraphTemporalConv(nn.Module):
    def __init__(self, cin: int, cout: int, source_m: np.ndarray, target_m: np.ndarray,
                 stride: int = 1, residual: bool = True, kernel: int = 9) -> None:
        super().__init__()
        self.dgn = _DGNBlock(cin, cout, source_m, target_m)
        self.tcn = _BiTemporalConv(cout, cout, kernel, stride)
        self._res = "none" if not residual else ("identity" if cin == cout and stride == 1 else "conv")
        if self._res == "conv":
            self.residual = _BiTemporalConv(cin, cout, kernel, stride)

    def forward(self, fv: torch.Tensor, fe: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self._res == "conv":
            rv, re = self.residual(fv, fe)
        elif self._res == "identity":
            rv, re = fv, fe
        else:
            rv = re = 0.0
        fv, fe = self.dgn(fv, fe)
        fv, fe = self.tcn(fv, fe)
        return F.relu(fv + rv), F.relu(fe + re)


def check_common_options(model: str, pad_to: int | None, num_person: int) -> None:
    """Raise ``ValueError`` for a bad ``pad_to`` (None or int >= 1) or ``num_person`` (int >= 1)."""
    if pad_to is not None and (not isinstance(pad_to, int) or pad_to < 1):
        raise ValueError(f"{model}: pad_to must be None or an int >= 1, got {pad_to!r}")
    if not isinstance(num_person, int) or num_person < 1:
        raise ValueError(f"{model}: num_person must be an int >= 1, got {num_person!r}")


def init_input_options(module: nn.Module, model: str, layout: Layout, preprocess: bool,
                       pad_to: int | None, num_person: int) -> None:
    """Check the input options shared by DGNN, MS-G3D and AS-GCN (:func:`check_common_options`; with
    ``preprocess``, the layout's preprocessing landmarks) and keep them on ``module`` as ``lay``,
    ``preprocess``, ``pad_to`` and ``num_person``."""
    check_common_options(model, pad_to, num_person)
    if preprocess:
        graph.landmarks(layout)  # raises for a layout without preprocessing landmarks
    module.lay = layout
    module.preprocess = bool(preprocess)
    module.pad_to = pad_to
    module.num_person = int(num_person)


class DGNN(nn.Module):
    """DGNN on motions ``(N, T, V, 3)`` in metres; see the module docstring for the input pipeline.

    ``width`` (64) is the width of the first blocks: the published ten are ``4 x width``,
    ``3 x 2 width``, ``3 x 4 width``. ``channels`` overrides them with any list of block widths; a
    block whose width differs from the previous one (except ``l1``) has temporal stride 2 and a
    convolutional residual.
    """

    def __init__(self, layout: Layout, num_classes: int, width: int = 64,
                 channels: tuple[int, ...] | None = None, preprocess: bool = True, pad_to: int | None = 300,
                 stream: str = "spatial", num_person: int = 2) -> None:
        super().__init__()
        if not isinstance(width, int) or width < 1:
            raise ValueError(f"dgnn: width must be an int >= 1, got {width!r}")
        if channels is None:
            channels = tuple(c * width // 64 for c in DEFAULT_CHANNELS)
        channels = tuple(int(c) for c in channels)
        if not channels or min(channels) < 1:
            raise ValueError(f"dgnn: channels must be positive widths, got {channels}")
        if stream not in ("spatial", "motion"):
            raise ValueError(f"dgnn: stream must be 'spatial' or 'motion', got {stream!r}")
        init_input_options(self, "dgnn", layout, preprocess, pad_to, num_person)
        self.stream = stream
        v = layout.num_joints
        src, tgt = incidence(layout)
        self.data_bn_v = nn.BatchNorm1d(num_person * 3 * v)
        self.data_bn_e = nn.BatchNorm1d(num_person * 3 * v)
        self.num_layers = len(channels)
        cin = 3
        for i, cout in enumerate(channels):
            stride = 2 if (i > 0 and cout != cin) else 1
            self.add_module(f"l{i + 1}", _GraphTemporalConv(cin, cout, src, tgt, stride=stride,
                                                            residual=i > 0))
            cin = cout
        self.fc = nn.Linear(2 * cin, num_classes)
        nn.init.normal_(self.fc.weight, 0, math.sqrt(2.0 / num_classes))
        self.register_buffer("bone_partner", torch.as_tensor(graph.bone_pairs(layout)[:, 1]),
                             persistent=False)

    def inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The official two inputs as ``(N, T', V, 3)`` body-0 tensors: joints and bones (slot order)."""
        check_motion(x, self.lay, "dgnn")
        if self.preprocess:
            x = pre_normalize(x, self.lay, self.pad_to, null_frames="first")
        bones = x - x.index_select(2, self.bone_partner)
        if self.stream == "motion":
            x, bones = motion_stream(x), motion_stream(bones)
        return x, bones

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        joints, bones = self.inputs(x)
        m = self.num_person
        return self._network(pack_two_bodies(joints, m), pack_two_bodies(bones, m))

    def forward_official(self, fv: torch.Tensor, fe: torch.Tensor) -> torch.Tensor:
        """The network on the repository's own inputs: joints and bones ``(N, 3, T, V, M)``."""
        return self._network(fv.permute(0, 4, 2, 3, 1), fe.permute(0, 4, 2, 3, 1))

    def _network(self, joints: torch.Tensor, bones: torch.Tensor) -> torch.Tensor:
        """Bodies ``(N, M, T, V, 3)`` of joints and bones -> logits."""
        n, m = joints.shape[:2]
        fv = data_bn_mvc(self.data_bn_v, joints)
        fe = data_bn_mvc(self.data_bn_e, bones)
        for i in range(self.num_layers):
            fv, fe = getattr(self, f"l{i + 1}")(fv, fe)
        c = fv.shape[1]
        fv = fv.reshape(n, m, c, -1).mean(3).mean(1)
        fe = fe.reshape(n, m, c, -1).mean(3).mean(1)
        return self.fc(torch.cat([fv, fe], dim=-1))


@register("dgnn")
def build_dgnn(layout: Layout, num_classes: int, **options) -> nn.Module:
    return DGNN(layout, num_classes, **options)
