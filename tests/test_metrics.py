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


HDM = skeleton.layout("hdm05_25")


def test_metrics_table_names_every_metric_once():
    keys = [m.key for m in metrics.METRICS]
    assert len(keys) == len(set(keys))
    q, a = _pair(2, n=3, t=12)
    m = metrics.sample_metrics(q, a, NTU)
    assert list(m) == keys  # the table's order, nothing else
    assert all(v.shape == (3,) for v in m.values())
    for mt in metrics.METRICS:
        assert mt.label and mt.unit and mt.scale > 0 and mt.description
    assert metrics.metric("displacement_mean").format(0.0123) == "12.3 mm"
    assert metrics.metric("hf_share").format(float("nan")) == "—"
    with pytest.raises(KeyError, match="unknown metric"):
        metrics.metric("nope")
    pj = metrics.sample_metrics(q, a, NTU, per_joint=True)["per_joint"]
    np.testing.assert_allclose(pj, metrics.per_joint_displacement(q, a))


def test_accelerations_and_their_ratio_by_hand():
    """Clean motion: joint 0 moves x = t² cm (Δ² = 2 cm per frame²); the perturbation adds
    y = (−1)^t mm to joint 3 (Δ² = ±4 mm)."""
    t = np.arange(6, dtype=float)
    q = np.zeros((1, 6, 25, 3))
    q[0, :, 0, 0] = 0.01 * t**2
    a = q.copy()
    a[0, :, 3, 1] = 0.001 * (-1.0) ** t
    m = metrics.sample_metrics(q, a, NTU, fps=30)
    clean = 0.02 * 900 / 25  # one joint of 25 accelerates at 0.02 m/frame² = 18 m/s²
    pert = 0.004 * 900 / 25
    assert m["clean_acceleration"][0] == pytest.approx(clean)
    assert m["perturbation_acceleration"][0] == pytest.approx(pert)
    assert m["acceleration_dev"][0] == pytest.approx(pert)
    assert m["acceleration_ratio"][0] == pytest.approx(0.2)
    # speed: joint 0 moves 1, 3, 5, 7, 9 cm per frame
    assert m["clean_speed"][0] == pytest.approx(np.mean([1, 3, 5, 7, 9]) * 0.01 * 30 / 25)
    # a motionless clean motion: the ratio is undefined
    still = metrics.sample_metrics(np.zeros_like(q), a, NTU)
    assert np.isnan(still["acceleration_ratio"][0]) and still["clean_acceleration"][0] == 0


def test_coincident_gap_by_hand():
    q = np.zeros((2, 4, 25, 3))
    a = q.copy()
    a[0, 2, 5] = [0.003, 0.004, 0.0]  # right hip joint 5 cm … 5 mm off the root group (0, 5, 10)
    a[1, 1, 24] = [0.0, 0.0, 0.002]  # right thumb 2 mm off the right wrist (22, 24)
    a[1, 3, 13] = [0.001, 0.0, 0.0]  # lower neck 1 mm off the thorax (12, 13)
    np.testing.assert_allclose(metrics.coincident_gap(a, HDM), [0.005, 0.002])
    m = metrics.sample_metrics(q, a, HDM)
    np.testing.assert_allclose(m["coincident_gap"], [0.005, 0.002])
    assert metrics.coincident_gap(a, NTU).tolist() == [0.0, 0.0]  # ntu25 has no coincident joints


def test_hf_share_by_hand():
    fps, t = 30.0, 60
    time = np.arange(t) / fps
    q = np.zeros((4, t, 25, 3))
    a = q.copy()
    a[0, :, 2, 0] = 0.01 * np.sin(2 * np.pi * 10 * time)  # 10 Hz: all high
    a[1, :, 2, 0] = 0.01 * np.sin(2 * np.pi * 1 * time)  # 1 Hz: none
    a[2, :, 2, 0] = 0.01 * (np.sin(2 * np.pi * 1 * time) + np.sin(2 * np.pi * 8 * time))  # equal power
    a[3] = a[1]
    a[3, :, 4, 1] = 0.02  # a constant offset (0 Hz) of power 0.02² per frame vs 0.01²/2: 8 : 1 low
    s = metrics.hf_share(q, a, fps)
    assert s[0] == pytest.approx(1.0) and s[1] == pytest.approx(0.0, abs=1e-12)
    assert s[2] == pytest.approx(0.5)
    assert s[3] == pytest.approx(0.0, abs=1e-12)
    a[3, :, 6, 2] = 0.01 * np.cos(2 * np.pi * 15 * time)  # the Nyquist bin: power 0.01² per frame
    # powers per frame: 1 Hz 0.5e-4, constant 4e-4, Nyquist 1e-4 → 1 / 5.5
    assert metrics.hf_share(q, a, fps)[3] == pytest.approx(1 / 5.5)
    assert np.isnan(metrics.hf_share(q, q, fps)[0])
    odd = metrics.hf_share(q[:1, :59], a[:1, :59], fps)  # odd length: no Nyquist bin
    assert odd[0] == pytest.approx(1.0, abs=0.02)


def test_wilson_interval_against_a_hand_computation():
    # k = 8 of n = 10, z = 1.959964: p = 0.8, z² = 3.841459;
    # centre = (0.8 + 3.841459/20) / (1 + 0.3841459) = 0.9920729 / 1.3841459 = 0.7167402
    # half = 1.959964 · √(0.016 + 3.841459/400) / 1.3841459 = 1.959964 · 0.1600114 / 1.3841459 = 0.2265777
    lo, hi = metrics.wilson_interval(8, 10)
    assert lo == pytest.approx(0.7167402 - 0.2265777, abs=1e-6)
    assert hi == pytest.approx(0.7167402 + 0.2265777, abs=1e-6)
    assert (lo, hi) == pytest.approx((0.4901, 0.9433), abs=1e-4)  # the textbook table value
    lo, hi = metrics.wilson_interval(0, 20)
    assert lo == 0.0 and hi == pytest.approx(0.1611, abs=1e-4)
    assert metrics.wilson_interval(20, 20)[1] == 1.0
    assert all(np.isnan(metrics.wilson_interval(0, 0)))
    with pytest.raises(ValueError):
        metrics.wilson_interval(3, 2)
    r = metrics.rate_summary([True] * 8 + [False] * 2)
    assert (r["rate"], r["n"], r["k"]) == (0.8, 10, 8) and r["low"] == pytest.approx(0.4901, abs=1e-4)
    assert metrics.rate_summary([])["rate"] is None


def test_describe_gives_mean_median_and_iqr():
    v = np.array([1.0, 2.0, 3.0, 4.0, 100.0, np.nan])
    s = metrics.describe({"x": v})["x"]
    assert (s.mean, s.median, s.n) == (22.0, 3.0, 5)
    assert (s.q1, s.q3, s.iqr) == (2.0, 4.0, 2.0)  # numpy's linear percentiles
    assert s.as_dict()["iqr"] == 2.0
    m = metrics.describe({"x": v}, mask=[True, True, False, False, False, True])["x"]
    assert (m.mean, m.n) == (1.5, 2)
    empty = metrics.describe({"x": v}, mask=[False] * 6)["x"]
    assert empty.n == 0 and np.isnan(empty.median)
    pj = metrics.describe({"per_joint": np.array([[1.0, 10.0], [3.0, 30.0], [2.0, 20.0]])})["per_joint"]
    np.testing.assert_allclose(pj.median, [2.0, 20.0])
    np.testing.assert_allclose(pj.mean, [2.0, 20.0])
    assert metrics.summarize({"per_joint": np.ones((2, 3)), "y": np.ones(2)}) == {"y": 1.0}


def test_joint_profile_is_figure_2():
    q = np.zeros((3, 4, 25, 3))
    a = q.copy()
    a[:, :, 7, 0] = np.array([0.01, 0.02, 0.06])[:, None]  # joint 7 displaced 1, 2, 6 cm in every frame
    p = metrics.joint_profile(q, a)
    assert p["mean"][7] == pytest.approx(0.03) and p["median"][7] == pytest.approx(0.02)
    assert p["std"][7] == pytest.approx(np.std([0.01, 0.02, 0.06]))
    assert p["mean"][0] == 0 and p["mean"].shape == (25,)
    assert metrics.joint_profile(q, a, mask=[True, False, False])["mean"][7] == pytest.approx(0.01)
