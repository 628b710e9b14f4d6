"""Running a model over motions for the workbench (no Qt): class probabilities in batches, and the warm-up
that hides torch's first-attack initialisation while a model loads. Called from worker threads."""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from engine.attack import AttackConfig

__all__ = ["evaluate", "prepare_inference", "warm_up"]

_COPIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {device: its private copy}
_COPIES_LOCK = threading.Lock()


def prepare_inference(model: torch.nn.Module, device: str) -> torch.nn.Module:
    """An eval-mode copy of ``model`` on ``device``, made once per model and device and used here for
    inference only (the GUI may attack the original meanwhile: eval mode, frozen weights, another device).
    Deep-copying a model holds the interpreter lock for tens of milliseconds: the live black-box panel,
    which evaluates every other model every 3 s during an attack, copied each of them each time, and the
    GUI thread waited for the lock (its longest stalls); now only the first time, and the window makes
    the copies of the models on offer when it opens a dataset."""
    with _COPIES_LOCK:
        per_device = _COPIES.setdefault(model, {})
        net = per_device.get(device)
        if net is None:
            net = per_device[device] = copy.deepcopy(model).to(device).eval()
    return net


def evaluate(model: torch.nn.Module, motions: np.ndarray, device: str = "cpu", batch: int = 32,
             progress: Callable[..., Any] | None = None) -> np.ndarray:
    """Class probabilities ``(N, C)`` of ``model`` on ``motions`` ``(N, T, V, 3)``, in batches.

    Runs on a private copy, made once per model and device (the GUI may attack with the original
    meanwhile). ``progress(done, total)`` after each batch (it may raise to cancel)."""
    net = prepare_inference(model, device)
    n = len(motions)
    out: np.ndarray | None = None
    with torch.no_grad():
        for start in range(0, n, batch):
            x = torch.as_tensor(np.ascontiguousarray(motions[start:start + batch]), dtype=torch.float32,
                                device=device)
            p = torch.softmax(net(x).float(), dim=1).cpu().numpy()
            if out is None:
                out = np.full((n, p.shape[1]), np.nan, dtype=np.float32)
            out[start:start + len(p)] = p
            if progress is not None:
                progress(min(start + batch, n), n, "")
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def warm_up(model: torch.nn.Module, layout, motion: np.ndarray, label: int) -> None:
    """One attack iteration on a copy of ``model``: the first attack in a process initialises parts of
    torch (optimiser, autograd) while holding the GIL; doing it while the model loads hides that."""
    from engine.attack import attack

    net = copy.deepcopy(model)
    attack(net, motion[None], np.asarray([label]), layout=layout,
           config=AttackConfig(iterations=1, stop_on_success=False, device="cpu"))
