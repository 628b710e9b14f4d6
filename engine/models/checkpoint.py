"""Checkpoints: our own format (weights + metadata) behind :func:`load_checkpoint`.

Our format is a ``torch.save`` dict ``{"format": FORMAT, "meta": CheckpointMeta as dict,
"state_dict": ...}``. The metadata names the model and its options, the layout, the class names,
the fps and the figures training reached, so a checkpoint rebuilds its model with nothing else.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError
from ..skeleton import resolve
from ._registry import create

FORMAT = "smart-workbench/checkpoint-1"


@dataclass
class CheckpointMeta:
    model: str
    layout: str
    class_names: list[str]
    options: dict[str, Any] = field(default_factory=dict)
    fps: float = 30.0
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def save_checkpoint(model: nn.Module, path: str | os.PathLike, class_names: list[str],
                    fps: float | None = None, metrics: dict | None = None,
                    extra: dict | None = None) -> CheckpointMeta:
    """Write ``model`` with its metadata to ``path`` (atomically: a temporary file renamed)."""
    for attr in ("model_name", "layout", "num_classes"):
        if not hasattr(model, attr):
            raise CheckpointError(f"{path}: the model was not built by engine.models.create (no {attr})")
    if len(class_names) != model.num_classes:
        raise CheckpointError(
            f"{path}: {len(class_names)} class names for a model with {model.num_classes} classes"
        )
    meta = CheckpointMeta(
        model=model.model_name, layout=model.layout.name, class_names=list(class_names),
        options=dict(getattr(model, "options", {})), fps=float(fps or model.layout.fps),
        metrics=dict(metrics or {}), extra=dict(extra or {}),
    )
    payload = {"format": FORMAT, "meta": asdict(meta),
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return meta


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu"
                    ) -> tuple[nn.Module, CheckpointMeta]:
    """Load a checkpoint written by :func:`save_checkpoint`; the model comes back in eval mode."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a SMART Workbench checkpoint (no {FORMAT!r} header)")
    try:
        meta = CheckpointMeta(**payload["meta"])
    except TypeError as exc:
        raise CheckpointError(f"{path}: malformed checkpoint metadata ({exc})") from None
    resolve(meta.layout)
    model = create(meta.model, meta.layout, meta.num_classes, **meta.options)
    missing, unexpected = _load_state(model, payload["state_dict"], path)
    model.eval()
    return model, meta


def _load_state(model: nn.Module, state: dict, path: Path) -> tuple[list, list]:
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    misshaped = [f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
                 for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or misshaped:
        raise CheckpointError(
            f"{path}: the checkpoint does not fit model {getattr(model, 'model_name', '?')!r}: "
            f"missing keys {missing[:10]}{'…' if len(missing) > 10 else ''}; "
            f"unexpected keys {unexpected[:10]}{'…' if len(unexpected) > 10 else ''}; "
            f"mis-shaped {misshaped[:10]}{'…' if len(misshaped) > 10 else ''}"
        )
    model.load_state_dict(state, strict=True)
    return missing, unexpected
