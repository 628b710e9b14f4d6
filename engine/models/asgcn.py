"""AS-GCN: actional-structural graph convolution (Li, Chen, Chen, Zhang, Wang, Tian, CVPR 2019).

Two modules that the official code trains and saves separately, held here in one ``nn.Module``:

* the **A-link inference module** (AIM, ``self.aim``; official ``AdjacencyLearn``, file
  ``epoch*_model2.pt``): an NRI-style encoder over the 25 joints of each body, each joint described by
  its 50-frame trajectory, which scores three edge types for each of the 600 ordered joint pairs.
  Types 1 and 2 become two per-sample "actional" adjacencies ``A_act``: the one-hot edge choice on
  the off-diagonal (row = sender, column = receiver), plus the identity, each column divided by its
  sum, times 0.1. Its recurrent decoder only serves the AIM's training loss: its weights are held
  (so the official file loads strictly) but never run.
* the **classifier** (official ``as_gcn.Model``, file ``epoch*_model1.pt``): nine ST-GCN blocks
  whose graph convolutions have 11 kernels -- 9 structural (ST-GCN's spatial partition over hops
  0..4, ``A * edge_importance[i]``) and 2 actional (``A_act``, weighted by ``lamda_act`` = 0.5),
  ``out[w] = sum_v x[v] A[v, w]`` -- then average pooling over time, joints and bodies and a 1x1
  convolution. The future-pose prediction head (``recon_layer_*``, ``edge_importance_recon``) is held
  with its official shapes for strict loading but never run: it does not touch the logits, and it
  is what limited the official forward to clips of 257..320 frames. **Any clip length works.**

The attack differentiates this recognition path: input -> (AIM -> ``A_act``) and input -> classifier.

**Edge sampling, and determinism.** The official AIM draws the edge types with a hard
Gumbel-softmax (tau 0.5) even at test time, so its logits are random. Here, in eval mode
(``aim_sampling="auto"``, the default), each edge takes its most likely type -- the argmax of the
encoder's scores, i.e. the Gumbel-max draw with zero noise, the mode of the official distribution --
with the same straight-through gradient as the official hard sample (the forward value is the
one-hot choice; the gradient is that of ``softmax(scores / tau)``). In training mode the official
random hard Gumbel draw is used. ``aim_sampling="argmax"`` or ``"gumbel"`` forces one of them.
The AIM's frame choice is also random at test time officially (a random offset ``r``, see step 4);
eval mode uses the middle offset (``aim_offset="middle"``; ``"first"``, an int, or ``"random"``).
Eval mode is therefore deterministic.

What ``forward`` does with a motion ``(N, T, V, 3)`` in metres (``preprocess=True``, the official
NTU pipeline, ``data_gen`` + the feeder with ``repeat_pad`` and ``down_sample``):

1. zero padding to ``pad_to`` (300) frames; ``L`` = the span from the first to the last non-empty
   frame;
2. ``pre_normalization`` without null-frame filling: frame-by-frame centring on the mid spine (zero
   joints stay zero), rotation of frame 0's spine onto +z, then of its shoulders onto +x
   (:func:`~engine.models.dgnn.pre_normalize` with ``null_frames="last"``);
3. the loader's ``repeat_pad``: a leading empty stretch is removed and the empty tail filled by
   repeating the clip cyclically; the classifier sees the first ``pad_to - 10`` = 290 frames (the
   last 10 were the prediction target; a clip longer than ``pad_to`` keeps all but its last 10);
4. the AIM sees 50 of those frames: the first 50 if ``L <= 60``, else frames
   ``floor(j * (L - 10) / 50) + r``, ``j = 0..49``, with ``r`` in ``[0, ceil((L - 10) / 50))``;
5. a zero second body is packed beside the first; ``data_bn`` (BatchNorm1d(3V), channel ``3v + c``)
   runs on bodies folded into the batch (row ``2n + m``), and the AIM sees both bodies too.

``pad_to=None`` keeps step 2 and the null-frame filling but neither pads nor cuts: the classifier
sees all ``T`` frames. ``preprocess=False`` skips steps 1-3 (demo training on clean data): the
classifier sees the clip as it is, ``L = T``, and the AIM frames follow step 4 (repeated cyclically
if the clip is shorter than 50 frames). ``num_person=1`` drops the zero body (demo variants).
Everything is differentiable in the input. :meth:`ASGCN.forward_official` runs the recognition path
on the official inputs (the classifier's ``(N, 3, T, V, M)`` and the AIM's ``(N, 3, 50, V, M)``).

Loading the official files: :func:`combine_official` merges a ``model1`` and a ``model2`` state
dict (``module.`` prefixes stripped) into this module's state dict; :meth:`ASGCN.load_official`
loads them with ``strict=True``.

**Input normalisation (issue 11).** Built with ``normalize=True`` (or a dict of options), as every
model ``smart-train`` makes and every shipped HDM05 checkpoint, the model first turns each clip about
``y`` to face ``+z`` at its first frame and moves its first root to ``x = z = 0``
(:mod:`engine.models.normalize`; differentiable, recorded in ``options["normalize"]``), before
anything above; its predictions are then invariant to where the take stands and which way it faces.
Without it (official files) the model sees the motion as given.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ..skeleton import Layout
from . import graph
from ._registry import register
from .dgnn import check_motion, init_input_options, pack_two_bodies, pad_frames, pre_normalize

__all__ = ["ASGCN", "combine_official"]

AIM_SAMPLING = ("auto", "argmax", "gumbel")
PRED_FRAMES = 10  # frames the official prediction head forecasts (the tail of each 300-frame sample)


# -- classifier ---------------------------------------------------------------------------------------
class _SpatialGcn(nn.Module):
    """1x1 convolution to ``k * C`` channels; the first ``k - types`` groups use the structural
    ``A`` (K, V, V), the last ``types`` the per-sample actional ``B`` (N, types, V, V)."""

    def __init__(self, cin: int, cout: int, k: int, types: int) -> None:
        super().__init__()
        self.k, self.types = k, types
        self.conv = nn.Conv2d(cin, cout * k, kernel_size=1)

    def forward(self, x: torch.Tensor, a: torch.Tensor, b: torch.Tensor, lamda: float) -> torch.Tensor:
        x = self.conv(x)
        n, kc, t, v = x.shape
        x = x.view(n, self.k, kc // self.k, t, v)
        s = self.k - self.types
        x1 = torch.einsum("nkctv,kvw->nctw", x[:, :s], a)
        x2 = torch.einsum("nkctv,nkvw->nctw", x[:, s:], b)
        return x1 + x2 * lamda


class _StgcnBlock(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, types: int, kernel: int = 9, stride: int = 1,
                 padding: bool = True, residual: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        pad = ((kernel - 1) // 2, 0) if padding else (0, 0)
        self.gcn = _SpatialGcn(cin, cout, k, types)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(cout), nn.ReLU(), nn.Conv2d(cout, cout, (kernel, 1), (stride, 1), pad),
            nn.BatchNorm2d(cout), nn.Dropout(dropout),
        )
        self._res = "none" if not residual else ("identity" if cin == cout and stride == 1 else "conv")
        if self._res == "conv":
            self.residual = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=(stride, 1)), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor, a: torch.Tensor, b: torch.Tensor, lamda: float) -> torch.Tensor:
        if self._res == "conv":
            res = self.residual(x)
        elif self._res == "identity":
            res = x
        else:
            res = 0.0
        return F.relu(self.tcn(self.gcn(x, a, b, lamda)) + res)


class _SpatialGcnRecon(nn.Module):
    def __init__(self, cin: int, cout: int, k: int) -> None:
        super().__init__()
        self.deconv = nn.ConvTranspose2d(cin, cout * k, kernel_size=(1, 1))


class _StgcnReconBlock(nn.Module):
    """The prediction head's last block (shapes only; not run)."""

    def __init__(self, cin: int, cout: int, k: int) -> None:
        super().__init__()
        self.gcn_recon = _SpatialGcnRecon(cin, cout, k)
        self.tcn_recon = nn.Sequential(
            nn.BatchNorm2d(cout), nn.ReLU(), nn.ConvTranspose2d(cout, cout, (1, 1)), nn.BatchNorm2d(cout),
            nn.Dropout(0.0),
        )


# -- A-link inference module --------------------------------------------------------------------------
class _NRIMLP(nn.Module):
    """Linear + ELU, dropout, Linear + ELU, BatchNorm over the flattened rows."""

    def __init__(self, cin: int, hidden: int, cout: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.fc1 = nn.Linear(cin, hidden)
        self.fc2 = nn.Linear(hidden, cout)
        self.bn = nn.BatchNorm1d(cout)
        self.dropout = nn.Dropout(dropout)
        for m in (self.fc1, self.fc2):
            nn.init.xavier_normal_(m.weight)
            nn.init.constant_(m.bias, 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.elu(self.fc2(self.dropout(F.elu(self.fc1(x)))))
        b, r, c = x.shape
        return self.bn(x.reshape(b * r, c)).view(b, r, c)


class _Encoder(nn.Module):
    """NRI encoder: node MLP, node->edge, edge MLP, edge->node, node MLP, node->edge + skip, edge MLP."""

    def __init__(self, cin: int, hidden: int, types: int) -> None:
        super().__init__()
        self.mlp1 = _NRIMLP(cin, hidden, hidden)
        self.mlp2 = _NRIMLP(2 * hidden, hidden, hidden)
        self.mlp3 = _NRIMLP(hidden, hidden, hidden)
        self.mlp4 = _NRIMLP(3 * hidden, hidden, hidden)
        self.fc_out = nn.Linear(hidden, types)
        nn.init.xavier_normal_(self.fc_out.weight)
        nn.init.constant_(self.fc_out.bias, 0.1)

    @staticmethod
    def node2edge(x: torch.Tensor, rel_rec: torch.Tensor, rel_send: torch.Tensor) -> torch.Tensor:
        return torch.cat([rel_rec @ x, rel_send @ x], dim=-1)  # [receiver, sender]

    def forward(self, x: torch.Tensor, rel_rec: torch.Tensor, rel_send: torch.Tensor) -> torch.Tensor:
        x = self.mlp1(x)
        x = self.mlp2(self.node2edge(x, rel_rec, rel_send))
        skip = x
        # (the divisor made on the device: a host tensor here would be a copy per call, no CUDA graph)
        x = (rel_rec.t() @ x) / x.new_full((), float(rel_rec.shape[1]))  # mean over receivers' slots
        x = self.mlp3(x)
        x = torch.cat([self.node2edge(x, rel_rec, rel_send), skip], dim=-1)
        return self.fc_out(self.mlp4(x))


class _Decoder(nn.Module):
    """The AIM's recurrent decoder (weights only: it serves the AIM training loss, not the logits)."""

    def __init__(self, cin: int, hidden: int, types: int) -> None:
        super().__init__()
        self.msg_fc1 = nn.ModuleList([nn.Linear(2 * hidden, hidden) for _ in range(types)])
        self.msg_fc2 = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(types)])
        self.hidden_r = nn.Linear(hidden, hidden, bias=False)
        self.hidden_i = nn.Linear(hidden, hidden, bias=False)
        self.hidden_n = nn.Linear(hidden, hidden, bias=False)
        self.input_r = nn.Linear(cin, hidden)
        self.input_i = nn.Linear(cin, hidden)
        self.input_n = nn.Linear(cin, hidden)
        self.out_fc1 = nn.Linear(hidden, hidden)
        self.out_fc2 = nn.Linear(hidden, hidden)
        self.out_fc3 = nn.Linear(hidden, cin)


class _AIM(nn.Module):
    """A-link inference: ``(B, V, F)`` joint trajectories -> edge-type scores ``(B, V(V-1), types)``."""

    def __init__(self, joints: int, features: int, hidden: int, types: int) -> None:
        super().__init__()
        self.encoder = _Encoder(features, hidden, types)
        self.decoder = _Decoder(3, hidden, types)
        off = ~torch.eye(joints, dtype=torch.bool)
        send, rec = off.nonzero(as_tuple=True)  # row-major over the off-diagonal: row = sender
        eye = torch.eye(joints)
        self.register_buffer("rel_rec", eye[rec], persistent=False)
        self.register_buffer("rel_send", eye[send], persistent=False)
        # scatter of the E off-diagonal edges into the flattened (V*V) matrix
        scatter = torch.zeros(len(send), joints * joints)
        scatter[torch.arange(len(send)), send * joints + rec] = 1.0
        self.register_buffer("scatter", scatter, persistent=False)
        self.joints = joints

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x, self.rel_rec.to(x.dtype), self.rel_send.to(x.dtype))

    def adjacency(self, edges: torch.Tensor) -> torch.Tensor:
        """One-hot edge choices ``(B, E, types)`` -> actional adjacencies ``(B, types - 1, V, V)``."""
        b, _, types = edges.shape
        v = self.joints
        a = (edges[:, :, 1:].transpose(1, 2) @ self.scatter.to(edges.dtype)).view(b, types - 1, v, v)
        a = a + torch.eye(v, dtype=a.dtype, device=a.device)
        d = a.sum(dim=2).pow(-1) + 1e-10  # column sums
        return a * d[:, :, None, :] * 0.1


def _hard_sample(scores: torch.Tensor, tau: float, noise: bool) -> torch.Tensor:
    """One-hot choice with a straight-through gradient (the official hard Gumbel-softmax)."""
    if noise:
        u = torch.rand_like(scores)
        scores = scores - torch.log(1e-10 - torch.log(u + 1e-10))
    soft = torch.softmax(scores / tau, dim=-1)
    hard = F.one_hot(soft.argmax(-1), soft.shape[-1]).to(soft.dtype)
    return hard - soft.detach() + soft


def combine_official(model1: Mapping[str, torch.Tensor], model2: Mapping[str, torch.Tensor]) -> dict:
    """Merge the official classifier (``model1``) and AIM (``model2``) state dicts into ours.

    Every ``module.`` is stripped (as the official loader does); the AIM's keys go under ``aim.``.
    """
    def strip(sd: Mapping[str, torch.Tensor]) -> dict:
        return {k.replace("module.", ""): v for k, v in sd.items()}

    out = strip(model1)
    for k, v in strip(model2).items():
        out[f"aim.{k}"] = v
    return out


class ASGCN(nn.Module):
    """AS-GCN's recognition path on motions ``(N, T, V, 3)``; see the module docstring.

    Widths: ``width`` (64) for the classifier, whose three stages are ``width, 2 width, 4 width``;
    ``aim_hidden`` for the AIM (default ``2 width`` = 128). ``max_hop`` (4) sets the structural
    partition (``1 + 2 * max_hop`` kernels).
    The state dict is the official classifier's (``model1``) at the root plus the official AIM's
    (``model2``) under ``aim.``; ``CHECKPOINT_PARTS`` tells a multi-file loader that the first file
    goes to the root (``""``) and the second to ``aim``.
    """

    CHECKPOINT_PARTS = ("", "aim")

    def __init__(self, layout: Layout, num_classes: int, width: int = 64, aim_hidden: int | None = None,
                 max_hop: int = 4, lamda_act: float = 0.5, aim_frames: int = 50, edge_types: int = 3,
                 dropout: float = 0.5, preprocess: bool = True, pad_to: int | None = 300,
                 aim_sampling: str = "auto", aim_offset: str | int = "middle", tau: float = 0.5,
                 num_person: int = 2) -> None:
        super().__init__()
        if not isinstance(width, int) or width < 1:
            raise ValueError(f"asgcn: width must be an int >= 1, got {width!r}")
        if aim_hidden is None:
            aim_hidden = 2 * width
        if max_hop < 1:
            raise ValueError(f"asgcn: max_hop must be >= 1, got {max_hop}")
        if edge_types < 2:
            raise ValueError(f"asgcn: edge_types must be >= 2 (type 0 is 'no link'), got {edge_types}")
        if aim_sampling not in AIM_SAMPLING:
            raise ValueError(f"asgcn: aim_sampling must be one of {AIM_SAMPLING}, got {aim_sampling!r}")
        if not (aim_offset in ("first", "middle", "random") or (isinstance(aim_offset, int)
                                                                and aim_offset >= 0)):
            raise ValueError(f"asgcn: aim_offset must be 'first', 'middle', 'random' or an int >= 0, "
                             f"got {aim_offset!r}")
        if aim_frames < 1 or aim_hidden < 1:
            raise ValueError(f"asgcn: aim_frames and aim_hidden must be >= 1, got {aim_frames}, {aim_hidden}")
        if pad_to is not None and (not isinstance(pad_to, int) or pad_to <= PRED_FRAMES):
            raise ValueError(f"asgcn: pad_to must be None or an int > {PRED_FRAMES}, got {pad_to!r}")
        if tau <= 0:
            raise ValueError(f"asgcn: tau must be > 0, got {tau}")
        init_input_options(self, "asgcn", layout, preprocess, pad_to, num_person)
        self.lamda_act = float(lamda_act)
        self.aim_frames = int(aim_frames)
        self.aim_sampling = aim_sampling
        self.aim_offset = aim_offset
        self.tau = float(tau)
        v = layout.num_joints
        a = torch.from_numpy(graph.stgcn_spatial(layout, max_hop))
        self.register_buffer("A", a)  # persistent: the official classifier file holds it
        self.types = edge_types - 1
        k = a.shape[0] + self.types
        self.data_bn = nn.BatchNorm1d(3 * v)
        c1, c2, c3 = width, 2 * width, 4 * width
        plan = [(3, c1, 1, False), (c1, c1, 1, True), (c1, c1, 1, True), (c1, c2, 2, True), (c2, c2, 1, True),
                (c2, c2, 1, True), (c2, c3, 2, True), (c3, c3, 1, True), (c3, c3, 1, True)]
        for i, (cin, cout, stride, residual) in enumerate(plan):
            self.add_module(f"class_layer_{i}", _StgcnBlock(cin, cout, k, self.types, stride=stride,
                                                            residual=residual, dropout=dropout))
        # the prediction head, with the official shapes (held for strict loading; not run)
        recon = [(c3, c2, 9, 1, True, True), (c2, c2, 9, 2, True, True), (c2, c2, 9, 2, True, True),
                 (c2, c2, 9, 2, True, True), (c2, c2, 3, 2, True, True), (c2, c2, 5, 1, False, False)]
        for i, (cin, cout, kern, stride, pad, residual) in enumerate(recon):
            block = _StgcnBlock(cin, cout, k, self.types, kernel=kern, stride=stride, padding=pad,
                                residual=residual, dropout=dropout)
            self.add_module(f"recon_layer_{i}", block)
        self.recon_layer_6 = _StgcnReconBlock(c2 + 3, 3 * PRED_FRAMES, k)
        self.edge_importance = nn.ParameterList([nn.Parameter(torch.ones_like(a)) for _ in range(9)])
        self.edge_importance_recon = nn.ParameterList([nn.Parameter(torch.ones_like(a)) for _ in range(9)])
        self.fcn = nn.Conv2d(c3, num_classes, kernel_size=1)
        self.aim = _AIM(v, 3 * self.aim_frames, aim_hidden, edge_types)

    # -- loading the official files --------------------------------------------------------------
    def load_official(self, model1: Mapping[str, torch.Tensor], model2: Mapping[str, torch.Tensor]) -> None:
        """Load the official classifier and AIM state dicts together, strictly (the checkpoint loader's
        strict load: missing, unexpected and mis-shaped keys are listed in a :class:`CheckpointError`)."""
        from .checkpoint import _load_state

        _load_state(self, combine_official(model1, model2), "asgcn official files")

    # -- input -----------------------------------------------------------------------------------
    def inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Body 0's classifier input ``(N, T_c, V, 3)`` and AIM input ``(N, aim_frames, V, 3)``."""
        check_motion(x, self.lay, "asgcn")
        if self.preprocess:
            x = pad_frames(x, self.pad_to)
            length = self._span(x)
            x = pre_normalize(x, self.lay, None, null_frames="last")
            if self.pad_to is not None:
                x = x[:, : x.shape[1] - PRED_FRAMES]
        else:
            length = torch.full((x.shape[0],), x.shape[1], dtype=torch.int64, device=x.device)
        idx = self._aim_indices(length, x.shape[1])
        n, _, v, c = x.shape
        sub = x.gather(1, idx[:, :, None, None].expand(n, idx.shape[1], v, c))
        return x, sub

    @staticmethod
    def _span(x: torch.Tensor) -> torch.Tensor:
        """First to last non-empty frame, per sample (the feeder's ``length``)."""
        with torch.no_grad():
            valid = (x != 0).flatten(2).any(-1)
            t = valid.shape[1]
            begin = valid.to(torch.int64).argmax(1)
            end = t - valid.flip(1).to(torch.int64).argmax(1)
            return torch.where(valid.any(1), end - begin, torch.zeros_like(end))

    def _aim_indices(self, length: torch.Tensor, t: int) -> torch.Tensor:
        """The feeder's ``down_sample`` frames (N, aim_frames), with a deterministic offset in eval."""
        f = self.aim_frames
        dev = length.device
        j = torch.arange(f, device=dev, dtype=torch.float64)
        lf = length.to(torch.float64)[:, None]
        base = torch.floor(j[None] * (lf - PRED_FRAMES) / f).to(torch.int64)
        span = torch.ceil((lf - PRED_FRAMES) / f).to(torch.int64).clamp(min=1)  # offsets in [0, span)
        if self.aim_offset == "random" or (self.training and self.aim_offset == "middle"):
            r = (torch.rand(span.shape, device=dev) * span).to(torch.int64).clamp(max=span - 1)
        elif self.aim_offset == "middle":
            r = (span - 1) // 2
        elif self.aim_offset == "first":
            r = torch.zeros_like(span)
        else:
            r = torch.minimum(torch.full_like(span, int(self.aim_offset)), span - 1)
        idx = base + r
        short = (length <= 6 * f // 5)[:, None]  # official: L <= 60 -> the first 50 frames
        first = torch.arange(f, device=dev)[None].expand_as(idx)
        idx = torch.where(short, first, idx)
        return torch.remainder(idx.clamp(min=0), t)

    # -- network ---------------------------------------------------------------------------------
    def actional(self, sub: torch.Tensor) -> torch.Tensor:
        """AIM on body-packed trajectories ``(N, M, F, V, 3)`` -> ``A_act`` ``(N*M, types, V, V)``."""
        n, m, f, v, c = sub.shape
        feats = sub.permute(0, 1, 3, 2, 4).reshape(n * m, v, f * c)  # feature index t*3 + c
        scores = self.aim(feats)
        noise = self.aim_sampling == "gumbel" or (self.aim_sampling == "auto" and self.training)
        return self.aim.adjacency(_hard_sample(scores, self.tau, noise))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xc, sub = self.inputs(x)
        m = self.num_person
        return self._network(pack_two_bodies(xc, m), pack_two_bodies(sub, m))

    def forward_official(self, x: torch.Tensor, x_ds: torch.Tensor) -> torch.Tensor:
        """The recognition path on the official inputs: the classifier's ``x`` ``(N, 3, T, V, M)``
        and the AIM's ``x_ds`` ``(N, 3, 50, V, M)`` (edge sampling as set by ``aim_sampling``)."""
        return self._network(x.permute(0, 4, 2, 3, 1), x_ds.permute(0, 4, 2, 3, 1))

    def _network(self, h: torch.Tensor, sub: torch.Tensor) -> torch.Tensor:
        """Classifier bodies ``(N, M, T, V, 3)`` and AIM bodies ``(N, M, F, V, 3)`` -> logits."""
        a_act = self.actional(sub)
        n, m, t, v, c = h.shape
        h = h.permute(0, 1, 3, 4, 2).reshape(n * m, v * c, t)
        h = self.data_bn(h).view(n * m, v, c, t).permute(0, 2, 3, 1)  # (N*M, C, T, V)
        for i in range(9):
            h = getattr(self, f"class_layer_{i}")(h, self.A * self.edge_importance[i], a_act, self.lamda_act)
        h = h.mean(dim=(2, 3)).view(n, m, -1).mean(1)
        return self.fcn(h[:, :, None, None]).flatten(1)


@register("asgcn")
def build_asgcn(layout: Layout, num_classes: int, **options) -> nn.Module:
    return ASGCN(layout, num_classes, **options)

