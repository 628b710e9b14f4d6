"""Issue 12's targets for the natural preset, on what ships: the HDM05 demo's held-out actor (real motion
capture, windows no model saw) against shipped HDM05 checkpoints. The full table for all eight models is
``benchmarks/naturalness.py`` (README); here the cheapest model and the one whose gradient is roughest
(SGN: three interleaved frame samplings), on a few windows, with the paper preset beside them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import demo, metrics, models
from engine.attack import AttackConfig, attack


def _victim(name: str, limit: int):
    model, meta = models.load_checkpoint(demo.demo_checkpoint("hdm05-demo", name))
    model.eval()
    _, val = demo.demo_split("hdm05-demo")
    x = torch.from_numpy(val.motions.astype(np.float32))
    y = torch.from_numpy(val.labels.astype(np.int64))
    with torch.no_grad():
        ok = model(x).argmax(1) == y
    return model, x[ok][:limit], y[ok][:limit], val.layout


@pytest.mark.slow
@pytest.mark.parametrize("name, limit, max_ratio", [("mlp", 8, 1.5), ("sgn", 4, 1.0)])
def test_natural_preset_meets_the_naturalness_targets_on_real_motion(name, limit, max_ratio):
    torch.set_num_threads(1)
    model, x, y, lay = _victim(name, limit)
    nat = attack(model, x, y, config=AttackConfig())
    lit = attack(model, x, y, config=AttackConfig.paper())
    assert nat.success.float().mean() >= 0.95
    m = metrics.sample_metrics(x, nat.adversarial, lay)
    ratio = m["perturbation_acceleration"].mean() / m["clean_acceleration"].mean()
    lit_m = metrics.sample_metrics(x, lit.adversarial, lay)
    lit_ratio = lit_m["perturbation_acceleration"].mean() / lit_m["clean_acceleration"].mean()
    print(name, "acceleration ratio natural", ratio, "paper", lit_ratio,
          "bone", m["bone_rel_mean"].mean(), "hf", m["hf_share"].mean())
    assert ratio <= max_ratio and ratio < 0.2 * lit_ratio
    assert m["bone_rel_mean"].mean() <= 0.02 < lit_m["bone_rel_mean"].mean()
    assert m["coincident_gap"].max() <= 1e-3
    assert m["hf_share"].mean() < lit_m["hf_share"].mean()
