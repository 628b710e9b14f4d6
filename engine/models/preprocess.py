"""The 2s-AGCN family's input preprocessing, in torch: one module for 2s-AGCN, MS-G3D, DGNN and AS-GCN.

The official repositories prepare NTU clips with ``pre_normalization`` (pad, fill null frames,
centre on the mid spine, rotate frame 0's spine onto +z and its shoulders onto +x) before the
network; :func:`pre_normalize` is that step on one body ``(N, T, V, 3)``, differentiable, and the
models call it inside ``forward`` (``preprocess=True``). The helpers around it (shape check, body
packing, bone and motion streams, the ``data_bn`` layout) are shared by the same models.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import LayoutMismatchError
from ..skeleton import Layout
from . import graph

__all__ = [
    "align_axes", "bone_pairs_on", "bone_stream", "centre_frames", "check_motion", "data_bn_mvc",
    "fill_null_frames", "motion_stream", "pack_two_bodies", "pad_frames", "pre_normalize", "rotation_onto",
]


def check_motion(x: torch.Tensor, lay: Layout, model: str) -> None:
    """Raise unless ``x`` is a float ``(N, T, V, 3)`` motion in layout ``lay``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{model}: expected a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise LayoutMismatchError(
            f"{model}: expected motions (N, T, {lay.num_joints}, 3), got shape {tuple(x.shape)}"
        )
    lay.check_motion_shape(tuple(x.shape), what=f"{model} input")
    if x.shape[1] < 1:
        raise ValueError(f"{model}: the clip has no frames")


def pad_frames(x: torch.Tensor, pad_to: int | None) -> torch.Tensor:
    """Zero-pad ``(N, T, V, 3)`` along time to ``pad_to`` frames (a longer clip, or ``None``: as is)."""
    t = x.shape[1]
    if pad_to is None or t >= pad_to:
        return x
    return F.pad(x, (0, 0, 0, 0, 0, pad_to - t))


def fill_null_frames(x: torch.Tensor) -> torch.Tensor:
    """The official null-frame padding of one body, per sample of ``(N, T, V, 3)``.

    A frame is empty when its values sum to 0 (the official test). If frame 0 is empty, all
    non-empty frames move to the front in order. Then, with ``L`` the index after the last non-empty
    frame, frames ``L..T-1`` become ``x[t mod L]`` (the clip repeated cyclically). An all-empty
    sample stays zero. Differentiable: the output is a gather of input frames.
    """
    n, t, v, c = x.shape
    with torch.no_grad():
        valid = x.sum(dim=(2, 3)) != 0  # (N, T)
        ar = torch.arange(t, device=x.device)
        compact = ~valid[:, 0]  # first frame empty: move the non-empty frames to the front
        key = torch.where(compact[:, None] & ~valid, ar + t, ar.expand(n, t))
        order = torch.argsort(key, dim=1, stable=True)
        count = valid.sum(1)
        last = t - torch.argmax(valid.flip(1).to(torch.int64), dim=1)  # index after the last valid
        last = torch.where(valid.any(1), last, torch.zeros_like(last))
        length = torch.where(compact, count, last)  # (N,)
        src = torch.where(ar[None] < length[:, None], ar[None], ar[None] % length.clamp(min=1)[:, None])
        idx = order.gather(1, src)
    return x.gather(1, idx[:, :, None, None].expand(n, t, v, c))


def centre_frames(x: torch.Tensor, joint: int) -> torch.Tensor:
    """Subtract, frame by frame, joint ``joint`` of the same frame; joints that are exactly zero
    (their coordinates sum to 0, the official mask) stay zero."""
    with torch.no_grad():
        mask = (x.sum(-1, keepdim=True) != 0).to(x.dtype)
    return (x - x[:, :, joint:joint + 1, :]) * mask


def _rotation_onto(v: torch.Tensor, axis: int) -> torch.Tensor:
    """``(N, 3, 3)`` rotations taking ``v`` (N, 3) onto the unit ``axis`` by the single rotation
    about ``v x axis`` (Rodrigues), identity where the official code returns one
    (``|v|_1 < 1e-6``, ``|v x axis|_1 < 1e-6`` or an angle below 1e-6). Float64, differentiable."""
    v = v.to(torch.float64)
    eye3 = torch.eye(3, dtype=torch.float64, device=v.device)
    e = eye3[axis].expand_as(v)  # (made on the device: no copy from the host, capturable in a CUDA graph)
    norm = v.norm(dim=-1, keepdim=True)
    vu = v / norm.clamp(min=1e-300)
    w = torch.linalg.cross(vu, e, dim=-1)  # sin(theta) * unit axis
    cos = (vu * e).sum(-1)
    zero = torch.zeros_like(cos)
    k = torch.stack([
        torch.stack([zero, -w[:, 2], w[:, 1]], -1),
        torch.stack([w[:, 2], zero, -w[:, 0]], -1),
        torch.stack([-w[:, 1], w[:, 0], zero], -1),
    ], dim=-2)
    eye = eye3.expand(v.shape[0], 3, 3)
    rot = eye + k + (k @ k) / (1.0 + cos).clamp(min=1e-12)[:, None, None]
    with torch.no_grad():
        raw_axis = torch.linalg.cross(v, e, dim=-1)
        identity = ((v.abs().sum(-1) < 1e-6) | (raw_axis.abs().sum(-1) < 1e-6)
                    | (cos > math.cos(1e-6)))
    return torch.where(identity[:, None, None], eye, rot)


def align_axes(x: torch.Tensor, lay: Layout) -> torch.Tensor:
    """The two official rotations, fixed by frame 0 of each sample: spine base -> mid spine onto +z,
    then (on the result) left -> right shoulder onto +x, applied to every joint of every frame."""
    lm = graph.landmarks(lay)
    r = _rotation_onto(x[:, 0, lm["spine_mid"]] - x[:, 0, lm["spine_base"]], 2).to(x.dtype)
    x = torch.einsum("nij,ntvj->ntvi", r, x)
    r = _rotation_onto(x[:, 0, lm["right_shoulder"]] - x[:, 0, lm["left_shoulder"]], 0).to(x.dtype)
    return torch.einsum("nij,ntvj->ntvi", r, x)


def pre_normalize(x: torch.Tensor, lay: Layout, pad_to: int | None = 300, null_frames: str = "first",
                  centre: bool = True, rotate: bool = True) -> torch.Tensor:
    """The 2s-AGCN family's ``pre_normalization`` of one body ``(N, T, V, 3)`` -> ``(N, T', V, 3)``.

    ``T' = max(T, pad_to)`` (``T`` when ``pad_to`` is None). ``null_frames="first"`` fills null
    frames before centring (2s-AGCN, MS-G3D, DGNN); ``"last"`` after the rotations (AS-GCN, whose
    loader repeat-pads when it reads a sample); ``"none"`` leaves the zero padding.
    """
    if null_frames not in ("first", "last", "none"):
        raise ValueError(f"null_frames must be 'first', 'last' or 'none', got {null_frames!r}")
    x = pad_frames(x, pad_to)
    if null_frames == "first":
        x = fill_null_frames(x)
    if centre:
        x = centre_frames(x, graph.landmarks(lay)["spine_mid"])
    if rotate:
        x = align_axes(x, lay)
    if null_frames == "last":
        x = fill_null_frames(x)
    return x


_PAIRS: dict[tuple[str, str], torch.Tensor] = {}


def bone_pairs_on(lay: Layout | str, device: torch.device) -> torch.Tensor:
    """:func:`.graph.bone_pairs` as a long tensor on ``device``, made once per layout and device: a copy
    from the host in every forward would make the attack wait on the GPU and cannot be captured in a
    CUDA graph."""
    key = (lay if isinstance(lay, str) else lay.name, str(device))
    pairs = _PAIRS.get(key)
    if pairs is None:
        pairs = _PAIRS[key] = torch.as_tensor(graph.bone_pairs(lay), device=device)
    return pairs


def bone_stream(x: torch.Tensor, lay: Layout) -> torch.Tensor:
    """Bones in slot order: ``out[..., v, :] = x[..., v, :] - x[..., u, :]`` for :func:`.graph.bone_pairs`."""
    return x - x.index_select(-2, bone_pairs_on(lay, x.device)[:, 1])


def motion_stream(x: torch.Tensor) -> torch.Tensor:
    """Temporal difference along dim 1: ``x[t+1] - x[t]``, last frame zero."""
    return F.pad(x[:, 1:] - x[:, :-1], (0, 0, 0, 0, 0, 1))


def pack_two_bodies(x: torch.Tensor, num_person: int = 2) -> torch.Tensor:
    """``(N, T, V, C)`` -> ``(N, M, T, V, C)`` with the motion as body 0 and zero bodies after it."""
    if num_person < 1:
        raise ValueError(f"num_person must be >= 1, got {num_person}")
    if num_person == 1:
        return x[:, None]
    zeros = x.new_zeros((x.shape[0], num_person - 1) + tuple(x.shape[1:]))
    return torch.cat([x[:, None], zeros], dim=1)


def data_bn_mvc(bn: nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
    """``data_bn`` over channel ``m*V*C + v*C + c``: ``(N, M, T, V, C)`` -> ``(N*M, C, T, V)``."""
    n, m, t, v, c = x.shape
    y = x.permute(0, 1, 3, 4, 2).reshape(n, m * v * c, t)
    y = bn(y)
    return y.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)


def rotation_onto(vec: torch.Tensor, target: tuple[float, float, float]) -> torch.Tensor:
    """Rotations ``(N, 3, 3)`` turning each ``vec`` (N, 3) onto the coordinate axis ``target``
    (``(1, 0, 0)``, ``(0, 1, 0)`` or ``(0, 0, 1)``) about ``vec x target``, in ``vec``'s dtype; the
    official ``rotation_matrix`` (identity where it returns one)."""
    axis = [i for i, t in enumerate(target) if t]
    if len(axis) != 1 or float(target[axis[0]]) != 1.0:
        raise ValueError(f"rotation_onto: target must be a unit coordinate axis, got {target}")
    return _rotation_onto(vec, axis[0]).to(vec.dtype)
