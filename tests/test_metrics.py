"""engine.metrics against hand computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import metrics, skeleton

NTU = skeleton.layout("ntu25")


def _pair(seed=0, n=5, t=10):
    rng = np.random.default_rng(seed)
    q = rng.normal(0, 0.3, (n, t, 25, 3))
    a = q + rng.normal(0, 0.01, q.shape)
    return q, a


def test_displacement_and_per_joint():
    q = np.zeros((1, 4, 25, 3))
    a = q.copy()
    a[0, 2, 5] = [0.03, 0.04, 0.0]  # 5 cm in one frame
    d = metrics.joint_displacement(q, a)
    assert d.shape == (1, 4, 25) and d[0, 2, 5] == pytest.approx(0.05)
    pj = metrics.per_joint_displacement(q, a)
    assert pj[0, 5] == pytest.approx(0.05 / 4) and pj[0, 4] == 0
    m = metrics.sample_metrics(q, a, NTU)
    assert m["displacement_max"][0] == pytest.approx(0.05)
    assert m["displacement_mean"][0] == pytest.approx(0.05 / 100)


def test_derivative_deviation_in_physical_units():
    q = np.zeros((1, 5, 25, 3))
    a = q.copy()
    a[0, :, :, 0] = (np.arange(5) * 0.01)[:, None]  # drifts 1 cm per frame: 0.3 m/s at 30 fps
    assert metrics.derivative_deviation(q, a, 1, 30)[0] == pytest.approx(0.3)
    assert metrics.derivative_deviation(q, a, 2, 30)[0] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(metrics.derivative_deviation(q, a, 5, 30)[0])


def test_bone_length_deviation_zero_for_rigid_and_matches_hand():
    q, _ = _pair(1, n=2)
    c, s = np.cos(0.4), np.sin(0.4)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    rigid = q @ rot.T + 1.0
    dev = metrics.bone_length_deviation(q, rigid, NTU)
    assert dev["bone_abs_max"].max() < 1e-12
    a = q.copy()
    a[:, :, 3] += [0, 0.1, 0]  # move the head: only the neck-head bone changes
    dev = metrics.bone_length_deviation(q, a, "ntu25")
    lq = np.linalg.norm(q[:, :, 3] - q[:, :, 2], axis=-1)
    la = np.linalg.norm(a[:, :, 3] - a[:, :, 2], axis=-1)
    np.testing.assert_allclose(dev["bone_abs_max"], np.abs(la - lq).max(axis=1))
    np.testing.assert_allclose(dev["bone_abs_mean"], np.abs(la - lq).mean(axis=1) / 24)


def test_correlation_matrices_find_the_attacked_joint_pattern():
    """Displacement planted in proportion to each joint's speed correlates on the diagonal."""
    rng = np.random.default_rng(3)
    n, t = 40, 12
    speed = rng.uniform(0.0, 0.05, (n, 25))
    q = np.cumsum(np.ones((n, t, 25, 3)) * speed[:, None, :, None] / np.sqrt(3), axis=1)
    a = q + (speed * 0.5)[:, None, :, None] / np.sqrt(3)
    c = metrics.correlation_matrices(torch.tensor(q), torch.tensor(a), fps=30)
    assert set(c) == {"displacement", "speed", "acceleration"}
    for m in c.values():
        assert m.shape == (25, 25) and np.all(np.abs(m) <= 1 + 1e-9)
    assert np.allclose(np.diag(c["speed"]), 1.0)
    np.testing.assert_allclose(np.diag(c["displacement"]), 1.0)
    assert np.abs(c["acceleration"]).max() == 0  # constant speed: no acceleration, nothing to correlate
    with pytest.raises(ValueError, match="at least two motions"):
        metrics.correlation_matrices(q[:1], a[:1])


def test_rates_and_summaries():
    assert metrics.success_rate([True, False, True, True]) == 0.75
    assert np.isnan(metrics.success_rate([]))
    s = metrics.summarize({"x": np.array([1.0, 2.0, 3.0])}, mask=[True, False, True])
    assert s == {"x": 2.0}
    with pytest.raises(ValueError, match="both be"):
        metrics.sample_metrics(np.zeros((1, 3, 25, 3)), np.zeros((1, 4, 25, 3)), NTU)
