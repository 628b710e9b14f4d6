"""The input normalisation of the models we train: part of the model, applied when it is called.

A model takes motions ``(N, T, V, 3)`` in metres as any loader gives them (issue 11): wherever the
take stands and whichever way it faces. What a model we train needs before its own layers -- a
canonical facing and position -- therefore happens inside the model, differentiably, so that the
attack still optimises the raw motion in metres and its perceptual terms measure the raw motion.

:class:`InputNormalization` (options ``face``, ``centre``, ``scale``), per clip:

1. ``centre=True``: the first frame's root joint is moved to ``x = z = 0`` (``y``, the height above
   the floor, is kept);
2. ``face=True``: the clip is turned about the vertical ``y`` axis so that the first frame's
   left-minus-right hip vector (:attr:`engine.skeleton.Layout.hips`) points along ``+x``, i.e. the
   body faces ``+z``. A first frame whose hips are (nearly) vertical above each other is not turned;
3. ``scale``: the coordinates are multiplied by this factor (``1.0``: metres kept);
4. ``jitter_deg`` (training only): in training mode, each clip is then turned about ``y`` by a random
   angle in ``±jitter_deg`` degrees -- an augmentation of the facing that the normalisation would
   otherwise undo (a turn of the input is removed by step 2). In eval mode nothing happens, so
   predictions stay deterministic and invariant.

The result is exactly invariant (to float rounding) to any turn about ``y`` and any move on the
floor of the input. Every step is a differentiable torch expression of the input (the turn's
cosine and sine are functions of the first frame), so gradients reach every frame.

:func:`engine.models.create` attaches it when a model is built with ``normalize=`` (``True`` for
the defaults, or a dict of the options above): the module becomes ``model.input_norm`` (it has no
weights, so the state dict does not change) and a forward pre-hook applies it to the input of
every call ``model(x)`` before the model's own ``forward`` -- and before the official
preprocessing of the NTU models, which is part of that ``forward``. The options are recorded in
``model.options["normalize"]`` and so in every checkpoint's metadata; a loaded checkpoint gets the
same normalisation back. Models built without ``normalize`` (official state dicts, older files)
have none: their input contract is their own ``forward``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ..skeleton import Layout, resolve

__all__ = ["InputNormalization", "attach", "normalize_input", "normalize_options"]

DEFAULTS: dict[str, Any] = {"face": True, "centre": True, "scale": 1.0, "jitter_deg": 0.0}


def normalize_options(value: Any) -> dict[str, Any] | None:
    """The full option dict for a ``normalize=`` value (``None``/``False``: none; ``True``: defaults)."""
    if value is None or value is False:
        return None
    if value is True:
        return dict(DEFAULTS)
    if not isinstance(value, dict):
        raise ValueError(
            f"normalize must be True, False, None or a dict of {sorted(DEFAULTS)}, got {value!r}"
        )
    unknown = sorted(set(value) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"normalize: unknown option(s) {unknown}; known: {sorted(DEFAULTS)}")
    opts = {**DEFAULTS, **value}
    opts["face"], opts["centre"] = bool(opts["face"]), bool(opts["centre"])
    bad = f"normalize: jitter_deg must be a number in [0, 180], got {opts['jitter_deg']!r}"
    try:
        opts["jitter_deg"] = float(opts["jitter_deg"])
    except (TypeError, ValueError):
        raise ValueError(bad) from None
    if not 0 <= opts["jitter_deg"] <= 180:
        raise ValueError(bad)
    try:
        opts["scale"] = float(opts["scale"])
    except (TypeError, ValueError):
        raise ValueError(f"normalize: scale must be a number > 0, got {value.get('scale')!r}") from None
    if not opts["scale"] > 0:
        raise ValueError(f"normalize: scale must be a number > 0, got {opts['scale']!r}")
    return opts


class InputNormalization(nn.Module):
    """Face ``+z`` and stand at ``x = z = 0`` at the first frame; optional scale (see the module doc)."""

    def __init__(self, layout: Layout | str, face: bool = True, centre: bool = True,
                 scale: float = 1.0, jitter_deg: float = 0.0) -> None:
        super().__init__()
        lay = resolve(layout)
        if face and lay.hips is None:
            raise ValueError(f"layout {lay.name!r} names no hips (Layout.hips); normalize with face=False")
        self.layout_name = lay.name
        self.root = lay.root
        self.hips = lay.hips
        self.face = bool(face)
        self.centre = bool(centre)
        self.scale = float(scale)
        self.jitter_deg = float(jitter_deg)

    def options(self) -> dict[str, Any]:
        return {"face": self.face, "centre": self.centre, "scale": self.scale, "jitter_deg": self.jitter_deg}

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.options().items())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[-1] != 3 or x.shape[1] == 0:
            return x  # the model's own forward refuses wrong shapes with its message
        if self.centre:
            r = x[:, 0, self.root, :]  # (N, 3)
            shift = torch.stack([r[:, 0], torch.zeros_like(r[:, 1]), r[:, 2]], dim=-1)
            x = x - shift[:, None, None, :]
        if self.face:
            left, right = self.hips
            d = x[:, 0, left, :] - x[:, 0, right, :]
            dx, dz = d[:, 0], d[:, 2]
            norm = torch.sqrt(dx * dx + dz * dz)
            ok = norm > 1e-6
            safe = torch.where(ok, norm, torch.ones_like(norm))
            c = torch.where(ok, dx / safe, torch.ones_like(dx))
            s = torch.where(ok, dz / safe, torch.zeros_like(dz))
            # turn about y: (x, z) -> (c x + s z, -s x + c z); the hip vector goes to (|d|, 0)
            x = _turn(x, c, s)
        if self.training and self.jitter_deg > 0:
            a = torch.rand(x.shape[0], device=x.device, dtype=x.dtype) * 2 - 1
            a = a * math.radians(self.jitter_deg)
            x = _turn(x, torch.cos(a), torch.sin(a))
        if self.scale != 1.0:
            x = x * self.scale
        return x


def _turn(x: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Turn ``(N, T, V, 3)`` about ``y``: ``(x, z) -> (c x + s z, -s x + c z)`` with ``c, s`` ``(N,)``."""
    c, s = c[:, None, None], s[:, None, None]
    px, py, pz = x[..., 0], x[..., 1], x[..., 2]
    return torch.stack([c * px + s * pz, py, -s * px + c * pz], dim=-1)


def _pre_hook(module: nn.Module, args: tuple) -> tuple:
    if not args:
        return args
    return (module.input_norm(args[0]), *args[1:])


def attach(model: nn.Module, layout: Layout | str, options: dict[str, Any]) -> nn.Module:
    """Give ``model`` the normalisation ``options`` (full dict) as ``model.input_norm`` and a pre-hook."""
    model.input_norm = InputNormalization(layout, **options)
    model.register_forward_pre_hook(_pre_hook)
    return model


def normalize_input(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """What ``model``'s own layers see of ``x`` after its input normalisation (``x`` when it has none)."""
    norm = getattr(model, "input_norm", None)
    return norm(x) if isinstance(norm, InputNormalization) else x
