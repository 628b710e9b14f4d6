"""The SMART attack: loss terms against hand computations, the gradient of Eq. 2, batching,
cancellation, determinism, saturation and bad input. Tiny models; no real data needed."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from engine import models, skeleton
from engine.attack import AttackConfig, IAAConfig, SmartAttack, attack, iaa_attack, losses, smart_objective
from engine.attack.smart import tree_bones

NTU = skeleton.layout("ntu25")
HDM = skeleton.layout("hdm05_25")
PAPER = AttackConfig.paper  # the literal protocol: most mechanics below are checked on it


def _motions(n=4, t=12, lay=NTU, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(n, 1, lay.num_joints, 3, generator=g, dtype=dtype) * 0.3
    wiggle = torch.randn(n, t, lay.num_joints, 3, generator=g, dtype=dtype).cumsum(1) * 0.01
    return base + wiggle


def _victim(n, classes, seed):
    """``n`` motions of 8 frames, a small linear classifier (seed + 1) and its own predictions."""
    q = _motions(n, 8, seed=seed)
    model = Linear(8, 25, classes, scale=0.05, seed=seed + 1)
    with torch.no_grad():
        y = model(q).argmax(1)
    return q, model, y


class Linear(nn.Module):
    """A flattening linear classifier: smooth, so finite differences are exact enough in float64."""

    def __init__(self, t, v, c, scale=1.0, seed=0, dtype=torch.float32):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w = nn.Parameter(torch.randn(t * v * 3, c, generator=g, dtype=dtype) * scale)
        self.layout = NTU  # what every recognizer carries: the attack's layout defaults to it

    def forward(self, x):
        return x.flatten(1) @ self.w


# -- loss terms ---------------------------------------------------------------------------------------
def test_dynamics_terms_match_hand_computation():
    q = _motions(2, 9, dtype=torch.float64)
    qh = q + 0.01 * torch.randn_like(q)
    weights = (0.5, 0.1, 0.2, 0.15, 0.05)
    weighted, got = losses.dynamics_losses(q, qh, 4, weights)
    qn, qhn = q.numpy(), qh.numpy()
    for n in range(5):
        dq, dqh = qn, qhn
        for _ in range(n):
            dq, dqh = np.diff(dq, axis=1), np.diff(dqh, axis=1)
        # mean over the T-n frames of the squared norm over joints and axes
        want = ((dq - dqh) ** 2).sum(axis=(2, 3)).mean(axis=1)
        np.testing.assert_allclose(got[:, n].numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(weighted.numpy(), (got.numpy() * np.asarray(weights)).sum(1), rtol=1e-12)


def test_bone_loss_matches_hand_computation_and_skips_zero_length_bones():
    q = _motions(2, 5, HDM, dtype=torch.float64)
    qh = q + 0.02 * torch.randn_like(q)
    bones = torch.as_tensor(HDM.bone_array())
    got = losses.bone_length_loss(q, qh, bones).numpy()
    want = []
    for m in range(2):
        total = 0.0
        for t in range(5):
            for p, c in HDM.bones:
                lq = np.linalg.norm(q[m, t, c].numpy() - q[m, t, p].numpy())
                lh = np.linalg.norm(qh[m, t, c].numpy() - qh[m, t, p].numpy())
                total += (lq - lh) ** 2
        want.append(total / 5)  # Eq. 4: 1/M over frames of the squared norm over bones
    np.testing.assert_allclose(got, want, rtol=1e-9)
    # hdm05_25's coincident joints: 0/5/10, 12/13, 17/19, 22/24 -> bones 10-0, 10-5, 12-13 left out
    assert (10, 0) not in HDM.bones and (10, 5) not in HDM.bones and (12, 13) not in HDM.bones
    assert HDM.num_bones == 21 and NTU.num_bones == 24


def test_rigid_motion_has_zero_bone_loss_but_nonzero_dynamics_loss():
    q = _motions(3, 10, dtype=torch.float64)
    a = 0.7
    rot = torch.tensor([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]],
                       dtype=torch.float64)
    qh = q @ rot.T + torch.tensor([0.3, -0.1, 2.0], dtype=torch.float64)
    bones = torch.as_tensor(NTU.bone_array())
    assert losses.bone_length_loss(q, qh, bones).abs().max() < 1e-12
    assert (losses.dynamics_losses(q, qh, 0)[0] > 1e-3).all()


@pytest.mark.parametrize("layout", [NTU, HDM], ids=lambda lay: lay.name)
@pytest.mark.parametrize("n, t", [(3, 20), (2, 140)], ids=["gram-report", "differences-report"])
def test_perceptual_terms_equal_the_plain_losses_values_and_gradient(layout, n, t):
    """The attack's one-node Lp (gradient in closed form) equals Eq. 3-5 through autograd; both ways of
    the per-order report (a float64 Gram product for short clips, differences for long ones) agree."""
    from engine.attack.smart import tree_bones as bones_of

    torch.manual_seed(0)
    q = _motions(n, t, layout, dtype=torch.float64)
    qh = (q + 0.02 * torch.randn_like(q)).requires_grad_(True)
    bones = torch.as_tensor(bones_of(layout))
    betas, alpha = (0.5, 0.1, 0.2, 0.15, 0.05), 0.3
    cpu = torch.device("cpu")
    plan = losses.perceptual_plan(t, alpha, betas, bones, layout.num_joints, torch.float64, cpu)
    assert (plan.report is not None) == (t == 20)
    weighted, per_order = losses.dynamics_losses(q, qh, 4, betas)
    bl = losses.bone_length_loss(q, qh, bones)
    want = alpha * weighted + (1 - alpha) * bl
    lp, parts = losses.perceptual_loss(qh, q, None, plan)
    torch.testing.assert_close(lp, want, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(parts, torch.cat([weighted[:, None], per_order, bl[:, None]], 1).detach(),
                               rtol=1e-10, atol=1e-15)
    assert not parts.requires_grad
    scale = torch.arange(1.0, n + 1, dtype=torch.float64)
    (g_fast,) = torch.autograd.grad((lp * scale).sum(), qh)
    (g_ref,) = torch.autograd.grad((want * scale).sum(), qh, retain_graph=True)
    torch.testing.assert_close(g_fast, g_ref, rtol=1e-10, atol=1e-14)
    _, _, g_direct = losses.perceptual_terms(qh.detach(), q, None, plan, grad_scale=0.25)
    (g_sum,) = torch.autograd.grad(want.sum(), qh)
    torch.testing.assert_close(g_direct, 0.25 * g_sum, rtol=1e-10, atol=1e-14)
    small = qh.detach()[:1, :6].clone().requires_grad_(True)
    plan6 = losses.perceptual_plan(6, alpha, betas, bones, layout.num_joints, torch.float64, cpu)
    assert torch.autograd.gradcheck(lambda x: losses.perceptual_loss(x, q[:1, :6], None, plan6)[0], (small,))


def test_gram_report_keeps_the_high_orders_of_a_smooth_float32_displacement():
    """A smooth displacement's snap is ~1e-8 of its position term: summed in float32 the Gram matrix would
    cancel it away; the report's float64 product gives every order of the float32 motions to 1e-5."""
    t = torch.arange(60, dtype=torch.float64)
    amplitude = torch.linspace(0.01, 0.02, 75, dtype=torch.float64).view(1, 1, 25, 3)
    wave = torch.sin(2 * math.pi * t / 60)[None, :, None, None] * amplitude
    q = _motions(1, 60, NTU).float()
    qh = (q.double() + wave).float()
    want = losses.dynamics_losses(q.double(), qh.double(), 4)[1]  # exact differences of the float32 motions
    bones = torch.as_tensor(tree_bones(NTU))
    plan = losses.perceptual_plan(60, 0.3, (1, 0, 0, 0, 0), bones, 25, torch.float32, torch.device("cpu"))
    got = losses.perceptual_terms(qh, q, None, plan)[1][:, 1:6]
    assert want[0, 4] < 1e-6 * want[0, 0]
    torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=0.0)


@pytest.mark.parametrize("fused", [True, False], ids=["fused-kernel", "written-out"])
def test_adam_equals_torch_optim_adam_step_by_step(fused):
    from engine.attack.adam import Adam

    g = torch.Generator().manual_seed(0)
    p_ref = torch.randn(3, 7, 5, generator=g, requires_grad=True)
    p = p_ref.detach().clone()
    ref = torch.optim.Adam([p_ref], lr=0.01, betas=(0.9, 0.95), eps=1e-6)
    mine = Adam(p, (0.9, 0.95), 1e-6, fused=fused)
    for step in range(25):
        grad = torch.randn(3, 7, 5, generator=g) * (10.0 if step % 7 == 0 else 0.1)
        lr = 0.01 if step < 20 else 0.005  # a schedule: the rate may change at every step
        p_ref.grad = grad.clone()
        ref.param_groups[0]["lr"] = lr
        ref.step()
        mine.step(p, grad, lr)
        torch.testing.assert_close(p, p_ref.detach(), rtol=1e-6, atol=1e-7)
    assert mine.fused == fused  # this torch has the kernel on the CPU: the fused path was the one tested
    mine.keep(torch.tensor([True, False, True]))
    assert mine.exp_avg.shape == (2, 7, 5)
    torch.testing.assert_close(mine.exp_avg_sq, ref.state[p_ref]["exp_avg_sq"][[0, 2]])


@pytest.mark.parametrize("strategy", ["ab", "abn", "sa"])
def test_margin_loss_gradient_is_the_max_subgradient(strategy):
    """The margin Lc picks its rival class without gradient: the same values and gradient as writing the
    max / top-k through autograd."""
    torch.manual_seed(3)
    logits = torch.randn(6, 9, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 1, 2, 3, 4, 5])
    t = torch.tensor([8, 7, 6, 5, 3, 2])
    got = losses.classification_loss(logits, y, strategy, targets=t, top_n=3, kind="margin", confidence=0.5)
    own = t if strategy == "sa" else y
    others = logits.scatter(1, own[:, None], float("-inf"))
    k = 3 if strategy == "abn" else 1
    rival = others.topk(k, 1).values[:, k - 1]
    z = logits.gather(1, own[:, None])[:, 0]
    want = (rival - z if strategy == "sa" else z - rival).clamp_min(-0.5)
    torch.testing.assert_close(got, want)
    w = torch.arange(1.0, 7.0, dtype=torch.float64)
    torch.testing.assert_close(torch.autograd.grad((got * w).sum(), logits)[0],
                               torch.autograd.grad((want * w).sum(), logits)[0])


def _written_out_lc(logits, y, strategy, kind, t, ref, top_n=3, kappa=0.5):
    """Eq. 6–8 and the margin form written out with plain autograd ops: the reference for the closed form."""
    if kind == "ce":
        logp = torch.log_softmax(logits, 1)
        if strategy == "ab":
            return (ref * logp).sum(1) if ref is not None else logp.gather(1, y[:, None])[:, 0]
        if strategy == "abn":
            return (logp.exp() * logp).sum(1)
        return -logp.gather(1, t[:, None])[:, 0]
    own = t if strategy == "sa" else y
    k = top_n if strategy == "abn" else 1
    rival = logits.scatter(1, own[:, None], float("-inf")).topk(k, 1).values[:, k - 1]
    z = logits.gather(1, own[:, None])[:, 0]
    return (rival - z if strategy == "sa" else z - rival).clamp_min(-kappa)


@pytest.mark.parametrize(("strategy", "kind", "soft"), [
    ("ab", "ce", False), ("ab", "ce", True), ("abn", "ce", False), ("sa", "ce", False),
    ("ab", "margin", False), ("abn", "margin", False), ("sa", "margin", False)])
def test_classification_terms_are_the_loss_and_its_autograd_gradient(strategy, kind, soft):
    """The closed-form Lc and ∂Lc/∂logits (the attack's, and :func:`classification_loss`'s forward and
    backward) equal Eq. 6–8 / the margin written out with autograd (every strategy, both forms, Eq. 6 with
    the clean prediction or the label); the norm is the reported ‖∂Lc/∂logits‖; clamped hinges (κ reached)
    pass no gradient."""
    torch.manual_seed(5)
    logits = (torch.randn(8, 7, dtype=torch.float64) * 3).requires_grad_(True)
    # saturated: p_y = 1 in floating point (the others distinct: at a tie the rival, and with it the margin's
    # subgradient, is any of the tied classes)
    logits.data[0] = torch.tensor([40.0, 0, 0.1, 0.2, 0.3, 0.4, 0.5])
    y = torch.tensor([0, 1, 2, 3, 4, 5, 6, 0])
    t = torch.tensor([3, 2, 1, 0, 6, 5, 4, 6])
    ref = torch.softmax(torch.randn(8, 7, dtype=torch.float64), 1) if soft else None
    opts = dict(targets=t, top_n=3, kind=kind, confidence=0.5, reference=ref)
    want = _written_out_lc(logits, y, strategy, kind, t, ref)
    w = torch.linspace(0.5, 2.0, 8, dtype=torch.float64)
    (want_grad,) = torch.autograd.grad((want * w).sum(), logits)
    loss = losses.classification_loss(logits, y, strategy, **opts)
    torch.testing.assert_close(loss.detach(), want.detach())
    torch.testing.assert_close(torch.autograd.grad((loss * w).sum(), logits)[0], want_grad)
    lc, grad, norm, prob = losses.classification_terms(logits.detach(), y, strategy, **opts)
    torch.testing.assert_close(lc, want.detach())
    torch.testing.assert_close(grad * w[:, None], want_grad)
    if kind == "ce":
        torch.testing.assert_close(prob, torch.softmax(logits.detach(), 1))
        torch.testing.assert_close(norm, torch.linalg.vector_norm(want_grad / w[:, None], dim=1))
        if strategy in ("ab", "sa") and not soft:  # the saturated row keeps its digits: ‖·‖ ≈ √2·Σ others > 0
            assert norm[0] > 0 and grad[0].abs().sum() > 0
    else:
        assert prob is None and torch.equal(norm, torch.full((8,), 2 ** 0.5, dtype=torch.float64))
        clamped = want.detach() <= -0.5
        assert clamped.any() and (grad[clamped] == 0).all() and (grad[~clamped].abs().sum(1) == 2).all()


def test_classification_losses_and_goals():
    logits = torch.tensor([[3.0, 1.0, 0.5, 0.0], [0.0, 2.0, 1.9, -1.0]])
    y = torch.tensor([0, 1])
    t = torch.tensor([2, 2])
    logp = torch.log_softmax(logits, 1)
    torch.testing.assert_close(losses.classification_loss(logits, y, "ab"), logp[[0, 1], [0, 1]])
    ent = -(logp.exp() * logp).sum(1)
    torch.testing.assert_close(losses.classification_loss(logits, y, "abn"), -ent)
    torch.testing.assert_close(losses.classification_loss(logits, y, "sa", targets=t), -logp[[0, 1], [2, 2]])
    m = losses.classification_loss(logits, y, "ab", kind="margin")
    torch.testing.assert_close(m, torch.tensor([2.0, 0.1]))
    m3 = losses.classification_loss(logits, y, "abn", top_n=2, kind="margin")
    torch.testing.assert_close(m3, torch.tensor([3.0 - 0.5, 2.0 - 0.0]))
    assert losses.goal_reached(logits, y, "ab").tolist() == [False, False]
    assert losses.goal_reached(logits, torch.tensor([1, 2]), "ab").tolist() == [True, True]
    assert losses.goal_reached(logits, torch.tensor([2, 3]), "abn", top_n=2).tolist() == [True, True]
    assert losses.goal_reached(logits, torch.tensor([1, 2]), "abn", top_n=2).tolist() == [False, False]
    assert losses.goal_reached(logits, y, "sa", targets=torch.tensor([0, 2])).tolist() == [True, False]


# -- Eq. 2 and its gradient ---------------------------------------------------------------------------
def _hand_objective(model, q, qh, y, cfg, lay):
    """Eq. 2-5 written out independently of engine.attack.losses."""
    logits = model(qh)
    lc = torch.log_softmax(logits, 1)[torch.arange(len(y)), y]  # AB: -CE(onehot(y), Φ(q̂))
    b = np.asarray(cfg.betas) / sum(cfg.betas)
    dq, dqh, l_dyn = q, qh, 0.0
    for n in range(5):
        l_dyn = l_dyn + b[n] * ((dq - dqh) ** 2).sum(dim=(2, 3)).mean(dim=1)
        dq, dqh = dq[:, 1:] - dq[:, :-1], dqh[:, 1:] - dqh[:, :-1]
    # Eq. 4's bone vector: every parent-child pair of the tree (zero-length ones included)
    pairs = [(p, c) for c, p in enumerate(lay.parents) if p >= 0]
    bl = lambda x: torch.stack([(x[:, :, c] - x[:, :, p]).norm(dim=-1) for p, c in pairs], -1)
    l_bl = ((bl(q) - bl(qh)) ** 2).sum(dim=2).mean(dim=1)
    lp = cfg.alpha * l_dyn + (1 - cfg.alpha) * l_bl
    return cfg.w * lc + (1 - cfg.w) * lp


def test_objective_gradient_matches_finite_differences():
    torch.manual_seed(1)
    q = _motions(2, 6, dtype=torch.float64)
    model = Linear(6, 25, 5, seed=2, dtype=torch.float64)
    y = torch.tensor([1, 3])
    cfg = PAPER(betas=(0.5, 0.1, 0.2, 0.1, 0.1))
    bones = torch.as_tensor(tree_bones(NTU))
    qh = (q + 0.01 * torch.randn_like(q)).requires_grad_(True)
    total = smart_objective(model(qh), q, qh, y, bones, cfg)["total"].sum()
    (grad,) = torch.autograd.grad(total, qh)
    hand = _hand_objective(model, q, qh.detach(), y, cfg, NTU).sum()
    torch.testing.assert_close(total.detach(), hand)
    rng = np.random.default_rng(0)
    for _ in range(12):
        i = tuple(int(rng.integers(s)) for s in qh.shape)
        e = torch.zeros_like(q)
        e[i] = 1e-6
        f = lambda x: smart_objective(model(x), q, x, y, bones, cfg)["total"].sum()
        with torch.no_grad():
            fd = (f(qh.detach() + e) - f(qh.detach() - e)) / 2e-6
        fd, g = float(fd), float(grad[i])
        assert abs(fd - g) < 1e-6 * max(1.0, abs(fd)), (i, fd, g)


def test_optimiser_steps_follow_adam_on_eq2():
    """The attack's iterates equal torch.optim.Adam applied to the hand-written Eq. 2 (no early stop)."""
    q = _motions(3, 8, dtype=torch.float32, seed=3)
    model = Linear(8, 25, 6, scale=0.05, seed=4)
    y = torch.tensor([0, 2, 5])
    cfg = PAPER(iterations=5, stop_on_success=False, lr=0.01)
    res = attack(model, q, y, NTU, cfg)
    qh = q.clone().requires_grad_(True)
    opt = torch.optim.Adam([qh], lr=0.01)
    for _ in range(5):
        opt.zero_grad()
        _hand_objective(model, q, qh, y, cfg, NTU).sum().backward()
        opt.step()
    torch.testing.assert_close(res.adversarial, qh.detach(), atol=1e-6, rtol=1e-5)
    assert res.iterations.tolist() == [5, 5, 5]
    # the orders with β = 0 are reported (not optimised): jerk and snap deviations are non-zero
    assert (res.history["l_dyn_3"][1:] > 0).all() and (res.history["l_dyn_4"][1:] > 0).all()
    assert (res.history["l_dyn_0"][0] == 0).all()


def test_smoothed_steps_follow_adam_on_the_displacement():
    """With ``smoothing`` the iterates are Adam (β₂ of the config) on z, q̂ = q + S·z, S = D⁻¹(K + 0.01·I)
    the row-normalised Gaussian along time: the same Eq. 2, only the optimiser's variable differs."""
    from engine.attack.smart import temporal_smoother

    q = _motions(2, 30, seed=7)
    model = Linear(30, 25, 6, scale=0.05, seed=8)
    y = torch.tensor([1, 4])
    cfg = PAPER(iterations=6, stop_on_success=False, lr=0.01, smoothing=2.0, adam_beta2=0.95)
    res = attack(model, q, y, NTU, cfg)
    t = torch.arange(30, dtype=torch.float64)
    k = torch.exp(-(t[:, None] - t[None]) ** 2 / 8.0) * ((t[:, None] - t[None]).abs() <= 8)
    k = k + 0.01 * torch.eye(30, dtype=torch.float64)
    s = k / k.sum(1, keepdim=True)
    assert torch.linalg.eigvals(s).real.min() > 0  # invertible: the objective's stationary points stay
    s = s.float()
    z = torch.zeros_like(q, requires_grad=True)
    opt = torch.optim.Adam([z], lr=0.01, betas=(0.9, 0.95))
    for _ in range(6):
        opt.zero_grad()
        qh = q + torch.einsum("ts,nsvc->ntvc", s, z)
        _hand_objective(model, q, qh, y, cfg, NTU).sum().backward()
        opt.step()
    # float32: Adam divides by √v, so where a coordinate's gradient is tiny the rounding order shows in the
    # step (the attack's closed-form gradients and this autograd reference are each 1–1.5e-5 from the same
    # steps in float64)
    torch.testing.assert_close(res.adversarial, q + torch.einsum("ts,nsvc->ntvc", s, z.detach()),
                               atol=2e-5, rtol=1e-5)
    ones = torch.ones(1, 30, 2, 3, dtype=torch.float64)  # a constant displacement passes unchanged
    torch.testing.assert_close(temporal_smoother(30, 2.0, torch.float64, torch.device("cpu"))(ones), ones)
    assert temporal_smoother(30, 0.0, torch.float64, torch.device("cpu")) is None
    # long takes: a banded convolution instead of the dense matrix, the same S
    from engine.attack.smart import TemporalSmoother

    z = torch.randn(2, 40, 3, 3, dtype=torch.float64)
    dense = TemporalSmoother(40, 2.0, torch.float64, torch.device("cpu"))
    monkey = TemporalSmoother.DENSE_FRAMES
    try:
        TemporalSmoother.DENSE_FRAMES = 10
        banded = TemporalSmoother(40, 2.0, torch.float64, torch.device("cpu"))
    finally:
        TemporalSmoother.DENSE_FRAMES = monkey
    assert dense.matrix is not None and banded.matrix is None
    torch.testing.assert_close(banded(z), dense(z))
    # the transpose both ways (the attack's step back from q̂ to z): ⟨S·z, g⟩ = ⟨z, Sᵀ·g⟩
    g = torch.randn_like(z)
    for smoother in (dense, banded):
        torch.testing.assert_close((smoother(z) * g).sum(), (z * smoother.adjoint(g)).sum())
    torch.testing.assert_close(banded.adjoint(g), dense.adjoint(g))


@pytest.mark.parametrize("smoothing", [0.0, 2.0])
def test_displaced_adjoint_is_autograd_through_the_displacement(smoothing):
    """q̂ = q + (S·z)[:, :, rep] (tied joints copy their group's representative): the attack's explicit step
    back from ∂L/∂q̂ to ∂L/∂z is what autograd takes through :func:`displaced`."""
    from engine.attack.smart import (
        coincident_representatives,
        displaced,
        displaced_adjoint,
        temporal_smoother,
    )

    rep_np = coincident_representatives(HDM)
    assert rep_np is not None  # HDM05's layout has coincident joints (the root's, the hands')
    q = _motions(2, 16, lay=HDM, dtype=torch.float64)
    smoother = temporal_smoother(16, smoothing, torch.float64, torch.device("cpu"))
    for rep in (None, torch.as_tensor(rep_np)):
        z = torch.randn_like(q, requires_grad=True)
        g = torch.randn_like(q)
        (want,) = torch.autograd.grad(displaced(q, z, smoother, rep), z, grad_outputs=g)
        torch.testing.assert_close(displaced_adjoint(g, smoother, rep), want)


# -- batching, stopping, cancelling -------------------------------------------------------------------
class Counting(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.batch_sizes = []

    def forward(self, x):
        self.batch_sizes.append(x.shape[0])
        return self.inner(x)


def test_batch_equals_one_at_a_time_and_finished_motions_leave_the_batch():
    q = _motions(5, 8, seed=5)
    inner = Linear(8, 25, 4, scale=0.02, seed=6)
    with torch.no_grad():
        y = inner(q).argmax(1)
    model = Counting(inner)
    cfg = PAPER(iterations=60, lr=0.01)
    reports = []
    res = attack(model, q, y, NTU, cfg, callback=lambda r: reports.append(r), with_motion=True)
    assert res.success.all(), res.iterations
    assert len(set(res.iterations.tolist())) > 1, "test needs motions that stop at different iterations"
    # after the clean evaluation every forward pass carries only the unfinished motions
    sizes = model.batch_sizes[1:]
    for rep, size in zip(reports, sizes, strict=False):
        assert size == int(rep.active.sum())
    assert sizes[-1] < 5
    # a finished motion no longer changes
    for i, stop in enumerate(res.iterations.tolist()):
        for rep in reports[stop:]:
            np.testing.assert_array_equal(rep.adversarial[i], res.adversarial[i].numpy())
            assert not rep.active[i] or rep.iteration == stop
    for i in range(5):
        single = attack(inner, q[i : i + 1], y[i : i + 1], NTU, cfg)
        assert single.iterations.item() == res.iterations[i].item()
        torch.testing.assert_close(single.adversarial[0], res.adversarial[i], atol=1e-6, rtol=1e-5)


def test_cancel_event_stops_within_one_iteration_and_callback_returns_are_ignored():
    import threading

    q = _motions(2, 8)
    model = Linear(8, 25, 4, scale=1e-4)  # tiny gradients: will not finish in 3 iterations
    with torch.no_grad():
        y = model(q).argmax(1)
    seen, stop = [], threading.Event()

    def cb(report):
        seen.append(report.iteration)
        if report.iteration >= 3:
            stop.set()
        return True  # e.g. tqdm's update(): must not cancel

    res = attack(model, q, y, config=PAPER(iterations=200, lr=1e-5), callback=cb, cancel=stop)
    assert res.cancelled
    assert seen == [0, 1, 2, 3]
    assert res.iterations.max().item() == 3
    assert res.history["total"].shape == (4, 2)
    # a truthy callback without an event runs to the end
    full = attack(model, q, y, config=PAPER(iterations=7, lr=1e-5), callback=lambda r: True)
    assert not full.cancelled and full.iterations.tolist() == [7, 7]
    # cancel() on the attack object, from the callback (any thread would do)
    atk = SmartAttack(model, PAPER(iterations=50, lr=1e-5))
    res = atk.run(q, y, callback=lambda r: atk.cancel() if r.iteration == 2 else None)
    assert res.cancelled and res.iterations.max().item() == 2


def test_same_seed_same_result_and_model_state_restored():
    q = _motions(3, 8)
    model = models.create("mlp", NTU, 5, frames=8, hidden=(32,))
    model.train()
    y = torch.tensor([0, 1, 2])
    cfg = AttackConfig(iterations=20)
    r1 = attack(model, q, y, NTU, cfg)
    r2 = attack(model, q, y, NTU, cfg)
    torch.testing.assert_close(r1.adversarial, r2.adversarial, rtol=0, atol=0)
    assert model.training
    assert all(p.requires_grad for p in model.parameters())


def test_stop_on_success_false_runs_the_budget_and_judges_the_last_iterate():
    q, model, y = _victim(3, 4, seed=7)
    res = attack(model, q, y, NTU, PAPER(iterations=40, stop_on_success=False))
    assert res.iterations.tolist() == [40, 40, 40]
    with torch.no_grad():
        final = model(res.adversarial).argmax(1)
    assert res.success.tolist() == (final != y).tolist()
    assert ((res.flip_iteration >= 0) | ~res.success).all()


def test_saturated_cross_entropy_is_reported_and_margin_loss_overcomes_it():
    q = _motions(2, 8, seed=9)
    model = Linear(8, 25, 4, scale=30.0, seed=10)  # logits in the thousands: p_y == 1.0 in float32
    with torch.no_grad():
        y = model(q).argmax(1)
    cfg = PAPER(iterations=60, lr=0.005, w=0.05)
    ce = attack(model, q, y, NTU, cfg)
    assert ce.saturated.any() and ce.warnings, "a saturated cross entropy must be reported"
    mg = attack(model, q, y, NTU, cfg.replace(classification_loss="margin"))
    assert mg.success.all()
    assert not mg.saturated.any()


@pytest.mark.parametrize("strategy", ["ab", "abn", "sa"])
def test_iaa_baseline_respects_its_linf_ball(strategy):
    q, model, y = _victim(3, 6, seed=11)
    cfg = IAAConfig(strategy=strategy, epsilon=0.05, step=0.005, iterations=50, targets=None)
    res = iaa_attack(model, q, y, NTU, cfg, targets=(y + 1) % 6 if strategy == "sa" else None)
    assert (res.adversarial - q).abs().max() <= 0.05 + 1e-6
    assert res.success.float().mean() > 0.5


# -- bad input -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"w": 1.5}, r"w must be a finite number in \[0, 1\]"),
        ({"alpha": -0.1}, "alpha must be"),
        ({"lr": 0.0}, r"lr must be a finite number in \(0"),
        ({"w": True}, "w must be"),
        ({"iterations": True}, "iterations must be an int"),
        ({"iterations": 2.5}, "iterations must be an int"),
        ({"targets": 1.5}, "targets must be"),
        ({"select": "first"}, "select"),
        ({"lr_schedule": "step"}, "lr_schedule"),
        ({"iterations": -1}, "iterations"),
        ({"betas": (0, 0, 0, 0, 0)}, "must not all be zero"),
        ({"betas": (1, float("nan"))}, "finite"),
        ({"betas": 0.5}, "betas must be a sequence"),
        ({"strategy": "xyz"}, "strategy"),
        ({"perceptual": "l3"}, "perceptual"),
        ({"top_n": 0}, "top_n"),
    ],
)
def test_config_is_checked_when_built(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AttackConfig(**kwargs)


def test_betas_are_normalised_as_eq5_requires():
    cfg = AttackConfig(betas=(3, 0, 2))
    assert cfg.perceptual_weights() == (0.3, (0.6, 0.0, 0.4, 0.0, 0.0))
    assert AttackConfig(perceptual="l2").perceptual_weights() == (1.0, (1.0, 0.0, 0.0, 0.0, 0.0))
    assert AttackConfig(perceptual="l2_acc").perceptual_weights()[1] == (0.6, 0.0, 0.4, 0.0, 0.0)
    assert AttackConfig(perceptual="l2_bone").perceptual_weights() == (0.3, (1.0, 0.0, 0.0, 0.0, 0.0))


def test_bad_input_raises_clear_errors():
    q = _motions(2, 8)
    model = Linear(8, 25, 4)
    cfg = PAPER(iterations=2)
    bad = q.clone()
    bad[1, 3, 7, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN or inf.*motion 1, frame 3, joint 7"):
        attack(model, bad, [0, 1], NTU, cfg)
    with pytest.raises(ValueError, match=r"shape \(N, T, V, 3\)"):
        attack(model, q[0], [0], NTU, cfg)
    with pytest.raises(ValueError, match="24 joints but layout 'ntu25' has 25"):
        attack(model, q[:, :, :24], [0, 1], NTU, cfg)
    with pytest.raises(ValueError, match="empty batch"):
        attack(model, q[:0], [], NTU, cfg)
    with pytest.raises(ValueError, match="labels out of range.*motion 1 has label 9"):
        attack(model, q, [0, 9], NTU, cfg)
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\)"):
        attack(model, q, [0, 1, 2], NTU, cfg)
    with pytest.raises(ValueError, match="target equals the clean label for motion 0"):
        attack(model, q, [0, 1], NTU, cfg.replace(strategy="sa"), targets=[0, 2])
    with pytest.raises(ValueError, match="needs targets"):
        attack(model, q, [0, 1], NTU, cfg.replace(strategy="sa"))
    with pytest.raises(ValueError, match="target out of range"):
        attack(model, q, [0, 1], NTU, cfg.replace(strategy="sa", targets=7))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            attack(model, q, [0, 1], NTU, cfg.replace(device="cuda"))
    mlp = models.create("mlp", HDM, 4, frames=8, hidden=(8,))
    with pytest.raises(ValueError, match="built for layout 'hdm05_25'"):
        SmartAttack(mlp, NTU, cfg)
    with pytest.raises(ValueError, match="top_n = 4 leaves no room"):
        attack(model, q, [0, 1], NTU, cfg.replace(strategy="abn", top_n=4))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_runs_on_cuda():
    q = _motions(2, 8)
    model = Linear(8, 25, 4, scale=0.05)
    with torch.no_grad():
        y = model(q).argmax(1)
    res = attack(model, q, y, NTU, AttackConfig(iterations=30, device="cuda"))
    assert res.adversarial.device.type == "cpu"
    # motions, labels and targets may already be on the GPU, as a PyTorch user's batch is
    on_gpu = attack(model, q.cuda(), y.cuda(), NTU, AttackConfig(iterations=30, strategy="sa", device="cuda"),
                    targets=((y + 1) % 4).cuda())
    assert on_gpu.adversarial.device.type == "cpu" and on_gpu.success.dtype == torch.bool
    ref = attack(model, q, y, NTU, AttackConfig(iterations=30, device="cpu"))
    assert res.success.tolist() == ref.success.tolist()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
@pytest.mark.parametrize("stop_on_success", [False, True])
def test_no_host_sync_per_iteration_on_cuda(stop_on_success):
    """The loop never waits on the GPU per iteration: the synchronisations CUDA's sync-debug mode counts
    do not grow with the budget (without early stopping), or by at most two per CHECK_EVERY iterations."""
    import warnings

    from engine.attack.smart import CHECK_EVERY

    q = _motions(4, 30)
    model = Linear(30, 25, 6, scale=0.05).cuda()
    with torch.no_grad():
        y = model(q.cuda()).argmax(1).cpu()

    def syncs(iterations):
        cfg = AttackConfig(iterations=iterations, device="cuda", stop_on_success=stop_on_success,
                           confidence=1e9)  # nothing succeeds early: every motion runs the budget
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                attack(model, q, y, NTU, cfg)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        return sum("synchroniz" in str(w.message) for w in caught)

    syncs(5)
    few, many = syncs(20), syncs(80)
    assert few > 0  # the mode does count (set-up and the result's transfers)
    allowed = 0 if not stop_on_success else 2 * (60 // CHECK_EVERY + 1)
    assert many - few <= allowed, (few, many)


# -- presets and the natural setting (issue 12) ---------------------------------------------------------
def test_paper_preset_is_the_papers_setting_field_by_field():
    p = AttackConfig.paper()
    want = dict(strategy="ab", w=0.4, alpha=0.3, betas=(0.6, 0.0, 0.4, 0.0, 0.0), lr=0.005, iterations=300,
                perceptual="smart", classification_loss="ce", confidence=0.0, stop_on_success=True,
                select="last", lr_schedule="constant", tie_coincident=False, adam_eps=1e-8,
                ab_reference="label", smoothing=0.0, adam_beta2=0.999)
    for k, v in want.items():
        assert getattr(p, k) == v, k
    from engine.attack import PRESETS

    assert PRESETS["paper"]() == p and PRESETS["natural"]() == AttackConfig()
    nat = AttackConfig()  # the default keeps the paper's objective and weights
    for k in ("w", "alpha", "betas", "lr", "iterations", "perceptual"):
        assert getattr(nat, k) == getattr(p, k), k
    assert (nat.classification_loss, nat.stop_on_success, nat.select, nat.tie_coincident) == (
        "margin", False, "best", True)
    assert (nat.smoothing, nat.adam_beta2) == (3.0, 0.9)
    assert AttackConfig.paper(lr=0.001).lr == 0.001


def test_numbers_and_targets_come_the_way_pytorch_users_pass_them():
    cfg = AttackConfig(w=np.float32(0.25), iterations=np.int64(10), lr=torch.tensor(0.01), top_n=np.int32(2))
    assert (cfg.w, cfg.iterations, cfg.top_n) == (0.25, 10, 2) and isinstance(cfg.iterations, int)
    assert abs(cfg.lr - 0.01) < 1e-9 and isinstance(cfg.lr, float)
    for t in (torch.tensor([3, 4]), np.array([3, 4]), [np.int64(3), 4], (3, 4)):
        assert AttackConfig(strategy="sa", targets=t).targets == (3, 4)
    assert AttackConfig(strategy="sa", targets=np.int64(3)).targets == 3
    assert AttackConfig(strategy="sa", targets=torch.tensor(3)).targets == 3
    assert IAAConfig(strategy="sa", targets=np.array([1, 2])).targets == (1, 2)
    for bad in (dict(iterations=True), dict(w=np.bool_(True)), dict(targets=[1.5])):
        with pytest.raises(ValueError):
            AttackConfig(**bad)
    with pytest.raises(ValueError, match="iterations"):
        IAAConfig(iterations=True)


def test_iaa_takes_targets_from_its_config():
    q, model, y = _victim(2, 6, seed=13)
    t = ((y + 1) % 6).tolist()
    res = iaa_attack(model, q, y, config=IAAConfig(strategy="sa", targets=t, epsilon=0.1, iterations=80))
    assert res.targets.tolist() == t


def test_callable_attack_equals_attack_and_layout_defaults_to_the_models():
    q, model, y = _victim(3, 4, seed=15)
    cfg = AttackConfig(iterations=15)
    adv = SmartAttack(model, cfg)(q, y)
    torch.testing.assert_close(adv, attack(model, q, y, NTU, cfg).adversarial, rtol=0, atol=0)
    torch.testing.assert_close(adv, attack(model, q, y, config=cfg).adversarial, rtol=0, atol=0)


def test_eq6_with_the_clean_prediction_matches_a_hand_computation():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]], dtype=torch.float64)
    ref = torch.softmax(torch.tensor([[3.0, 1.0, 0.0], [0.0, 2.0, 1.0]], dtype=torch.float64), 1)
    y = torch.tensor([0, 1])
    got = losses.classification_loss(logits, y, "ab", reference=ref)
    p_hat = np.exp(logits.numpy()) / np.exp(logits.numpy()).sum(1, keepdims=True)
    cross_entropy = -(ref.numpy() * np.log(p_hat)).sum(1)  # CE(Φ(q), Φ(q̂))
    np.testing.assert_allclose(got.numpy(), -cross_entropy, rtol=1e-12)  # Lc = −CE (Eq. 6)
    # its gradient with respect to the logits is Φ(q̂) − Φ(q): zero where q̂ = q
    z = torch.log(ref).clone().requires_grad_(True)
    losses.classification_loss(z, y, "ab", reference=ref).sum().backward()
    assert z.grad.abs().max() < 1e-12
    cfg = AttackConfig.paper(ab_reference="prediction", iterations=3)
    q = _motions(2, 8, seed=17)
    model = Linear(8, 25, 4, scale=0.05, seed=18)
    with torch.no_grad():
        yy = model(q).argmax(1)
    res = attack(model, q, yy, config=cfg)
    assert res.history["Lc"].shape == (4, 2)


def test_coincident_joints_stay_coincident_and_the_returned_motion_is_successful():
    lay = HDM
    g = torch.Generator().manual_seed(19)
    q = torch.randn(4, 1, lay.num_joints, 3, generator=g) * 0.3 + torch.randn(
        4, 10, lay.num_joints, 3, generator=g).cumsum(1) * 0.01
    for group in lay.coincident:  # coincide by construction, as in real HDM05 clips
        q[:, :, list(group)] = q[:, :, [group[0]]]
    model = models.create("mlp", lay, 5, frames=10, hidden=(16,))
    with torch.no_grad():
        y = model(q).argmax(1)
    res = attack(model, q, y, config=AttackConfig(iterations=60, lr=0.02))
    for group in lay.coincident:
        gap = (res.adversarial[:, :, list(group)] - res.adversarial[:, :, [group[0]]]).norm(dim=-1)
        assert gap.max() < 1e-6
    assert (res.adversarial - q).abs().max() > 1e-3, "the attack must have moved the motion"
    # whenever any iterate succeeded, the returned motion is a successful one
    assert res.success.all()
    ever = (res.flip_iteration >= 0)
    assert torch.equal(res.success, ever)
    with torch.no_grad():
        assert (model(res.adversarial).argmax(1) != y).all()
    # the paper's literal setting lets them drift apart
    lit = attack(model, q, y, config=AttackConfig.paper(iterations=60, lr=0.02, stop_on_success=False))
    assert max((lit.adversarial[:, :, list(gr)] - lit.adversarial[:, :, [gr[0]]]).norm(dim=-1).max()
               for gr in lay.coincident) > 1e-3


def test_best_iterate_has_the_lowest_perceptual_loss_among_successful_ones():
    q, model, y = _victim(3, 4, seed=21)
    cfg = AttackConfig(iterations=40)
    seen = []  # (Lp, success) of every iterate
    res = attack(model, q, y, config=cfg, callback=lambda r: seen.append((r.losses["Lp"], r.success)))
    lp = np.stack([s[0] for s in seen])
    ok = np.stack([s[1] for s in seen])
    assert ok.any(0).all() and not ok.all(0).all(), "test needs iterates that fail and succeed"
    best = np.where(ok, lp, np.inf).min(0)
    bones = torch.as_tensor(tree_bones(NTU))
    terms = smart_objective(model(res.adversarial), q, res.adversarial, y, bones, cfg)
    assert res.success.all()
    np.testing.assert_allclose(terms["Lp"].detach().numpy(), best, rtol=1e-5)
    # and it is not the last iterate
    assert (terms["Lp"].detach().numpy() < lp[-1]).any()


# -- the CUDA-graph path (iterations replayed as one captured graph) ------------------------------------
def _graph_configs():
    return [AttackConfig(iterations=12),  # natural: hinge, best iterate, annealed lr, smoothing
            AttackConfig(iterations=12, strategy="sa", classification_loss="ce", select="last",
                         smoothing=0.0),
            AttackConfig(iterations=12, strategy="abn", top_n=2, lr_schedule="cosine", tie_coincident=False)]


def _graph_vs_eager(model, q, y, cfg, targets, device, on_cpu=False):
    runs = {}
    for graphed in (False, True):
        atk = SmartAttack(model, cfg.replace(device=device))
        atk.use_cuda_graphs = graphed
        atk._graph_steps_on_cpu = on_cpu
        runs[graphed] = (atk.run(q, y, targets=targets), atk)
    return runs[False], runs[True]


@pytest.mark.parametrize("cfg", _graph_configs(), ids=["natural", "sa-ce-last", "abn-cosine"])
def test_graph_path_steps_equal_the_eager_loop_on_the_cpu(cfg):
    """The graph path's own steps (device counter, learning rate read from a tensor, history written by
    index, best iterate kept in place), run eagerly on the CPU, give the eager loop's result."""
    q, model, y = _victim(3, 5, seed=4)
    targets = (y + 1) % 5 if cfg.strategy == "sa" else None
    (eager, _), (graph, atk) = _graph_vs_eager(model, q, y, cfg, targets, "cpu", on_cpu=True)
    assert not atk._out["cuda_graph"]  # no capture on the CPU
    torch.testing.assert_close(graph.adversarial, eager.adversarial, rtol=1e-5, atol=1e-6)
    for k in ("success", "iterations", "flip_iteration", "predicted"):
        assert getattr(graph, k).tolist() == getattr(eager, k).tolist(), k
    for name, h in eager.history.items():
        np.testing.assert_allclose(graph.history[name], h, rtol=1e-4, atol=1e-7, err_msg=name)
    assert graph.history["total"].shape == (13, 3) and np.isfinite(graph.history["total"]).all()


def test_graph_path_reports_what_the_eager_loop_reports():
    """The GUI asks for reports: on the graph path they carry the same losses, probabilities, success
    and iterate as on the eager loop, iteration by iteration."""
    q, model, y = _victim(2, 5, seed=6)
    reports = {}
    for graphed in (False, True):
        atk = SmartAttack(model, AttackConfig(iterations=8))
        atk._graph_steps_on_cpu = graphed
        reports[graphed] = list(atk.steps(q, y, with_motion=True))
    assert [r.iteration for r in reports[True]] == list(range(9)) == [r.iteration for r in reports[False]]
    for a, b in zip(reports[False], reports[True], strict=True):
        for name, v in a.losses.items():
            np.testing.assert_allclose(b.losses[name], v, rtol=1e-4, atol=1e-7, err_msg=name)
        np.testing.assert_allclose(b.probabilities, a.probabilities, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(b.adversarial, a.adversarial, rtol=1e-5, atol=1e-6)
        assert b.success.tolist() == a.success.tolist() and b.active.all()


def test_graph_path_stops_when_cancelled_and_when_closed_early():
    q, model, y = _victim(2, 5, seed=5)
    atk = SmartAttack(model, AttackConfig(iterations=50))
    atk._graph_steps_on_cpu = True

    class After:  # an event that is set after k polls
        def __init__(self, k):
            self.k = k

        def is_set(self):
            self.k -= 1
            return self.k < 0

    res = atk.run(q, y, cancel=After(7))
    assert res.cancelled and int(res.iterations[0]) < 50
    assert np.isfinite(res.history["total"][: int(res.iterations[0]) + 1]).all()
    gen = atk._iterate(q, y, None, with_motion=False, report=False)
    for _ in range(4):
        next(gen)
    gen.close()
    res = atk.result()
    assert res.iterations.tolist() == [3, 3]
    assert not torch.equal(res.adversarial, res.original)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
@pytest.mark.parametrize("cfg", _graph_configs(), ids=["natural", "sa-ce-last", "abn-cosine"])
@pytest.mark.parametrize("name", ["mlp", "stgcn"])
def test_cuda_graph_replays_give_the_eager_result(cfg, name):
    opts = {"frames": 8, "hidden": (16,)} if name == "mlp" else {}
    model = models.create(name, NTU, 5, **opts).cuda().eval()
    q = _motions(3, 8).cuda()
    with torch.no_grad():
        y = model(q).argmax(1)
    targets = (y + 1) % 5 if cfg.strategy == "sa" else None
    (eager, _), (graph, atk) = _graph_vs_eager(model, q, y, cfg, targets, "cuda")
    assert atk._out["cuda_graph"] and atk.cuda_graph_note is None  # captured and replayed
    torch.testing.assert_close(graph.adversarial, eager.adversarial, rtol=1e-4, atol=1e-5)
    assert graph.success.tolist() == eager.success.tolist()
    for name_, h in eager.history.items():
        np.testing.assert_allclose(graph.history[name_], h, rtol=1e-3, atol=1e-6, err_msg=name_)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
@pytest.mark.parametrize("name", models.names())
def test_every_recognizer_runs_the_graph_path_on_cuda(name):
    """Each shipped architecture is captured as a CUDA graph (its input steps read nothing back from the
    device) and lands where the eager loop does (Adam's sign-like steps amplify float-order differences
    of non-deterministic kernels: loose)."""
    opts = {"frames": 16} if name == "mlp" else {}
    model = models.create(name, NTU, 5, **opts).cuda().eval()
    q = _motions(2, 16).cuda()
    with torch.no_grad():
        y = model(q).argmax(1)
    (eager, _), (graph, atk) = _graph_vs_eager(model, q, y, AttackConfig(iterations=10), None, "cuda")
    assert atk._out["cuda_graph"] and atk.cuda_graph_note is None, atk.cuda_graph_note
    torch.testing.assert_close(graph.adversarial, eager.adversarial, rtol=0, atol=0.02)
    np.testing.assert_allclose(graph.history["Lp"], eager.history["Lp"], rtol=0.1, atol=1e-5)
