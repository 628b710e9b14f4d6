"""Issue 11: the input normalisation of the models we train, per registered model.

Every model built with ``normalize=True`` gives the same logits for a motion turned by any angle about
the vertical axis and moved anywhere on the floor; the normalisation is differentiable, recorded in
the checkpoint and rebuilt on load.
"""

from __future__ import annotations

import math

import pytest
import torch
from _model_helpers import SMALL_OPTIONS as SMALL
from _model_helpers import _one_thread  # noqa: F401  (the module's autouse fixture)

from engine import models
from engine.models.normalize import InputNormalization, normalize_options
from engine.skeleton import layout


def _motion(n: int = 3, t: int = 20, seed: int = 0) -> torch.Tensor:
    """Bodies standing about, hips apart, moving a little; hdm05_25, metres."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 25, 3, generator=g) * 0.3 + torch.randn(n, t, 25, 3, generator=g) * 0.03
    x[..., 1] += 1.0
    x[:, :, 1, 0] += 0.2  # left hip to +x, so that the hip vector is well defined
    return x


def _turn_and_move(x: torch.Tensor, angle: float, dx: float, dz: float) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    rot = torch.tensor([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return x @ rot.T + torch.tensor([dx, 0.0, dz])


def _build(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return models.create(name, "hdm05_25", 5, normalize=True, **SMALL.get(name, {})).eval()


@pytest.mark.parametrize("name", models.names())
def test_prediction_is_invariant_to_a_turn_about_y_and_a_move_on_the_floor(name):
    model = _build(name)
    x = _motion()
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        ref = model(x)
        for _ in range(3):
            angle = float(torch.rand(1, generator=g)) * 2 * math.pi
            dx, dz = (torch.rand(2, generator=g) * 20 - 10).tolist()
            out = model(_turn_and_move(x, angle, dx, dz))
            scale = max(1.0, float(ref.abs().max()))
            torch.testing.assert_close(out, ref, rtol=0, atol=2e-4 * scale)


@pytest.mark.parametrize("name", models.names())
def test_normalisation_is_differentiable_and_travels_with_the_checkpoint(name, tmp_path):
    model = _build(name)
    assert model.options["normalize"] == {"face": True, "centre": True, "scale": 1.0, "jitter_deg": 0.0}
    x = _turn_and_move(_motion(n=2), 1.0, 3.0, -2.0).requires_grad_(True)
    model(x)[:, 1].sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad[:, 0].abs().sum() > 0
    path = tmp_path / f"{name}.pt"
    models.save_checkpoint(model, path, [f"c{i}" for i in range(5)])
    loaded, meta = models.load_checkpoint(path)
    assert meta.options["normalize"] == model.options["normalize"]
    assert isinstance(loaded.input_norm, InputNormalization)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)


def test_normalised_first_frame_faces_plus_z_at_the_origin():
    lay = layout("hdm05_25")
    norm = InputNormalization(lay)
    x = _turn_and_move(_motion(n=4), 2.5, -4.0, 7.0)
    y = norm(x)
    left, right = lay.hips
    hip = y[:, 0, left] - y[:, 0, right]
    assert (hip[:, 0] > 0).all() and hip[:, 2].abs().max() < 1e-5
    assert y[:, 0, lay.root, [0, 2]].abs().max() < 1e-5
    torch.testing.assert_close(y[..., 1], x[..., 1])  # heights are kept
    assert torch.isfinite(norm(torch.zeros(1, 5, 25, 3))).all()  # degenerate hips: no turn, no NaN
    half = InputNormalization(lay, face=False, scale=0.5)
    torch.testing.assert_close(half(x)[..., 1], 0.5 * x[..., 1])


def test_facing_jitter_only_in_training_mode():
    norm = InputNormalization(layout("hdm05_25"), jitter_deg=30.0)
    x = _turn_and_move(_motion(n=4), 0.7, 1.0, 2.0)
    norm.eval()
    torch.testing.assert_close(norm(x), InputNormalization(layout("hdm05_25"))(x))
    norm.train()
    torch.manual_seed(0)
    y = norm(x)
    hip = y[:, 0, 1] - y[:, 0, 6]
    angle = torch.atan2(-hip[:, 2], hip[:, 0]).abs()
    assert (angle > 1e-4).all() and (angle <= torch.deg2rad(torch.tensor(30.0)) + 1e-5).all()


def test_normalize_options_are_checked():
    assert normalize_options(None) is None and normalize_options(False) is None
    assert normalize_options({"scale": 2}) == {"face": True, "centre": True, "scale": 2.0, "jitter_deg": 0.0}
    with pytest.raises(ValueError, match="jitter_deg"):
        normalize_options({"jitter_deg": 200})
    with pytest.raises(ValueError, match="unknown option"):
        normalize_options({"turn": True})
    with pytest.raises(ValueError, match="scale"):
        normalize_options({"scale": -1})
    with pytest.raises(ValueError, match="normalize must be"):
        models.create("mlp", "ntu25", 3, frames=10, normalize="yes")


def test_every_registered_model_has_small_test_options():
    assert set(SMALL) == set(models.names()), "add the new model to tests/_model_helpers.SMALL_OPTIONS"


def test_models_without_normalize_have_none():
    model = models.create("mlp", "ntu25", 3, frames=10)
    assert "normalize" not in model.options and not hasattr(model, "input_norm")
