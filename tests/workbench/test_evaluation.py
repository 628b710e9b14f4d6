"""``workbench.evaluation``: class probabilities on a private copy of the model, made once per model and
device (the live black-box panel evaluates every other model every few seconds)."""

from __future__ import annotations

import copy

import numpy as np
import torch

from engine import models


def test_evaluate_copies_each_model_once_and_leaves_the_original_alone(monkeypatch):
    from workbench import evaluation

    model = models.create("mlp", "ntu25", 4, frames=8, hidden=(8,))
    model.train()
    x = np.random.default_rng(0).normal(0, 0.3, (5, 8, 25, 3)).astype(np.float32)
    copies = []
    real = copy.deepcopy

    def counting(obj, memo=None, *rest):
        if memo is None:  # a top-level copy (the copy module recurses with a memo)
            copies.append(obj)
        return real(obj, memo, *rest)

    monkeypatch.setattr(evaluation.copy, "deepcopy", counting)
    p1 = evaluation.evaluate(model, x, batch=2)
    p2 = evaluation.evaluate(model, x, batch=3)
    assert len(copies) == 1  # the second call reused the copy
    np.testing.assert_allclose(p1, p2, rtol=1e-6)
    assert model.training  # the original keeps its mode
    with torch.no_grad():
        want = torch.softmax(model.eval()(torch.from_numpy(x)), 1).numpy()
    np.testing.assert_allclose(p1, want, rtol=1e-5, atol=1e-6)
    other = models.create("mlp", "ntu25", 4, frames=8, hidden=(8,))
    evaluation.evaluate(other, x)
    assert len(copies) == 2  # one per model
