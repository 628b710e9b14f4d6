"""Helpers shared by the model tests (``test_models_a``, ``test_models_b``, ``test_checkpoint``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import LayoutMismatchError

REF = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "state_dicts"
#: small, fast options for every registered model on 20-frame clips, as trained for demos (no official
#: padding, one body); the tests that parametrise over ``models.names()`` build models with these
SMALL_OPTIONS = {
    "stgcn": {"width": 8, "preprocess": False, "num_person": 1},
    "agcn": {"width": 8, "preprocess": False, "num_person": 1},
    "ctrgcn": {"width": 8, "window": 12, "preprocess": False, "num_person": 1},
    "hrnn": {"hidden": (4, 4, 4, 4)},
    "mlp": {"frames": 20, "hidden": (16,)},
    "msg3d": {"width": 12, "num_gcn_scales": 3, "num_g3d_scales": 2, "preprocess": False, "num_person": 1},
    "sgn": {"width": 8},
    "asgcn": {"width": 8, "aim_hidden": 16, "preprocess": False, "num_person": 1},
    "dgnn": {"channels": (8, 8, 16, 16), "preprocess": False, "num_person": 1},
}
LAYOUTS = ["ntu25", "hdm05_25"]
# the 2s-AGCN / CTR-GCN bone pairs (bone[v1] = joint[v1] - joint[v2]), 1-based, from the reference README
BONES_1BASED = [(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9),
                (11, 10), (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18),
                (20, 19), (22, 23), (21, 21), (23, 8), (24, 25), (25, 12)]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread for the module (import it into a test module to use it there)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def forward_backward_reaches_input(model: torch.nn.Module, x: torch.Tensor) -> None:
    """``model(x)`` is finite logits ``(2, 5)`` whose class-1 gradient reaches ``x`` and some
    parameter; leaves the model in eval mode."""
    y = model(x)
    assert y.shape == (2, 5) and torch.isfinite(y).all()
    y[:, 1].sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    model.eval()


def wrong_shapes_are_refused(model: torch.nn.Module) -> None:
    """An ntu25 model refuses 24 joints and a motion without its batch axis."""
    with pytest.raises(LayoutMismatchError):
        model(torch.zeros(1, 10, 24, 3))
    with pytest.raises(LayoutMismatchError):
        model(torch.zeros(10, 25, 3))


def np_null_frames(s: np.ndarray) -> None:
    """The reference pre_normalization's null-frame step (README step 3), in place on ``(M, T, V, 3)``."""
    for p in range(len(s)):
        person = s[p]
        if person.sum() == 0:
            continue
        if person[0].sum() == 0:
            keep = person.sum(-1).sum(-1) != 0
            tmp = person[keep].copy()
            person[:] = 0
            person[: len(tmp)] = tmp
        for f in range(len(person)):
            if person[f].sum() == 0 and person[f:].sum() == 0:
                rest = len(person) - f
                reps = int(np.ceil(rest / f))
                person[f:] = np.concatenate([person[:f]] * reps, 0)[:rest]
                break
