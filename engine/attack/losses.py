"""The loss terms of SMART (Eq. 2–8) as plain functions of batched motions ``(N, T, V, 3)``.

Units and reductions (the paper leaves some of this open; the choice matters, see below):

* Motions are in metres. The n-th order derivative is the n-th forward difference between
  consecutive frames, **not divided by the frame interval**: dividing by Δtⁿ would weigh the
  acceleration term by fps² (900 at 30 fps) against the position term and overturn the paper's
  β₀ = 0.6, β₂ = 0.4 balance. So l_dyn order n is in m² per (frame)^(2n).
* Both perceptual terms use the reduction Eq. 4 writes out: a **mean over frames of a squared
  norm per frame** — ``l_bl = 1/M Σᵢ ‖Bl(qᵢ) − Bl(q̂ᵢ)‖²`` sums the squared differences over the
  bones of a frame, and ``l_dyn_n = 1/(T−n) Σᵢ ‖Δⁿqᵢ − Δⁿq̂ᵢ‖²`` sums the squared differences over
  the joints and axes of a frame. Units m² per frame.
* Measured (``benchmarks/loss_reduction.py``; the 219 real HDM05 clips of ../shared/data in metres,
  a 3-layer MLP trained with label smoothing 0.1, 300 iterations, stop on success): AB / ABN-3 / SA
  success 100 / 93 / 100 % with this reduction; 100 / 98 / 100 % with means over frames *and*
  joints; 82 / 27 / 73 % with sums over frames and joints (Lp outweighs Lc). With means over
  everything Lp is ~1500× smaller and barely acts: when the attack keeps optimising after success
  SMART's acceleration deviation is no better than plain l2's (706 vs 716 m/s² after 150
  iterations), while with Eq. 4's reduction it is clearly lower (320 vs 495 m/s²). Eq. 4's
  reduction keeps the paper's form and a perceptual term that does its job.
* All functions return one value per motion ``(N,)``; the attack minimises their sum over the
  batch, which keeps the motions independent under Adam's element-wise update.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from .grad_mode import without_grad

__all__ = [
    "PerceptualPlan",
    "bone_length_loss",
    "bone_lengths",
    "bone_operator",
    "classification_loss",
    "classification_terms",
    "difference_matrix",
    "dynamics_losses",
    "dynamics_operators",
    "goal_reached",
    "logit_gradient_norm",
    "perceptual_loss",
    "perceptual_plan",
    "perceptual_terms",
]


@functools.lru_cache(maxsize=64)
def difference_matrix(frames: int, order: int, dtype: torch.dtype = torch.float32, device: str = "cpu"
                      ) -> torch.Tensor:
    """The n-th forward difference over ``frames`` frames as a ``(T−n, T)`` matrix (binomial rows)."""
    d = torch.eye(frames, dtype=torch.float64)
    for _ in range(order):
        d = d[1:] - d[:-1]
    return d.to(dtype=dtype, device=device)


@functools.lru_cache(maxsize=64)
def dynamics_operators(frames: int, weights: tuple[float, ...], dtype: torch.dtype = torch.float32,
                       device: str = "cpu") -> torch.Tensor:
    """``M = Σₙ wₙ·DₙᵀDₙ/(T−n)`` ``(T, T)`` over ``frames`` frames for the orders 0…len(weights)−1
    (orders with T−n ≤ 0 give 0): the weighted sum Σₙ wₙ·lₙ = Σ_k d_kᵀ M d_k, one matrix product."""
    m = torch.zeros(frames, frames, dtype=torch.float64)
    for order, w in enumerate(weights):
        rows = frames - order
        if rows > 0:
            d = difference_matrix(frames, order, torch.float64)
            m += w * (d.T @ d) / rows
    return m.to(dtype=dtype, device=device)


def dynamics_losses(q: torch.Tensor, q_hat: torch.Tensor, max_order: int = 4,
                    weights: tuple[float, ...] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """l_dyn (Eq. 5) per motion and every order's term: ``(weighted (N,), per_order (N, max_order+1))``.

    ``per_order[:, n]`` is the mean over frames of ‖Δⁿqᵢ − Δⁿq̂ᵢ‖², the squared norm over all joints
    and axes of frame i; ``weighted`` = Σₙ weightsₙ·per_order[:, n] (``weights`` default: all ones),
    differentiable, computed as one quadratic form d_kᵀ M d_k per coordinate trajectory d_k
    (Δⁿq̂ − Δⁿq = Δⁿ(q̂ − q): differences are linear). ``per_order`` carries no gradient (it is
    reported, not optimised). The attack's loop uses :func:`perceptual_loss` (the same values as one
    autograd node).
    """
    n, t = q.shape[:2]
    w = tuple(float(x) for x in (weights if weights is not None else (1.0,) * (max_order + 1)))
    m = dynamics_operators(t, w, q_hat.dtype, str(q_hat.device))
    d = (q_hat - q).reshape(n, t, -1)  # (N, T, K): the coordinate trajectories
    weighted = (torch.matmul(m, d) * d).sum(dim=(1, 2))
    with torch.no_grad():
        per_order = _per_order_by_differences(d, max_order)
    return weighted, per_order


@functools.lru_cache(maxsize=64)
def _inverse_counts(frames: int, max_order: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    """``1/(T−n)`` for n = 0…max_order (0 where the clip is too short for the order)."""
    return torch.tensor([1.0 / (frames - k) if frames > k else 0.0 for k in range(max_order + 1)],
                        dtype=dtype, device=device)


@dataclass(frozen=True)
class PerceptualPlan:
    """What :func:`perceptual_loss` needs for clips of one length on one device, built once per attack
    (:func:`perceptual_plan`): α, M = Σₙ βₙ·DₙᵀDₙ/(T−n) ``(T, T)``, the bone incidence matrix acting on
    a frame's flat coordinates ``(3V, 3E)``, columns axis-major (None: no bones), and for short clips l_dyn
    and the per-order report as one ``(T², 1 + orders)`` float64 matrix (columns: M, then each order's
    operator)."""

    alpha: float
    dynamics: torch.Tensor
    bone: torch.Tensor | None
    report: torch.Tensor | None
    max_order: int


GRAM_REPORT_MAX = 16384  # N·T² up to which the per-order report is one Gram product (else differences)


def perceptual_plan(frames: int, alpha: float, betas: tuple[float, ...], bones: torch.Tensor, joints: int,
                    dtype: torch.dtype, device: torch.device, max_order: int = 4) -> PerceptualPlan:
    """The :class:`PerceptualPlan` of clips of ``frames`` frames (``betas``: β₀…β_max_order)."""
    dev = str(device)
    m = dynamics_operators(frames, tuple(float(b) for b in betas), dtype, dev)
    bone = None
    if bones.numel():  # (x_v,c) ↦ (x_child − x_parent)_c,e on a frame's flat (V·3) coordinates: no transposes
        # (B ⊗ I₃, its columns reordered axis-major: a bone's length is then a sum over a middle axis, 2×
        # faster than over an innermost axis of 3)
        bone = torch.kron(bone_operator(bones, joints, torch.float64), torch.eye(3, dtype=torch.float64))
        e = bones.shape[0]
        bone = bone.view(3 * joints, e, 3).transpose(1, 2).reshape(3 * joints, 3 * e)
        bone = bone.to(dtype=dtype, device=device)
    report = None
    if frames * frames <= GRAM_REPORT_MAX:  # Σₖ‖Δⁿdₖ‖²/(T−n) = ⟨G, DₙᵀDₙ⟩/(T−n), G = Σₖ dₖdₖᵀ; l_dyn = ⟨G, M⟩
        one = lambda n: tuple(1.0 if k == n else 0.0 for k in range(max_order + 1))  # noqa: E731
        report = torch.stack([dynamics_operators(frames, w, torch.float64, "cpu").reshape(-1)
                              for w in (tuple(float(b) for b in betas), *map(one, range(max_order + 1)))],
                             1).to(device)
    return PerceptualPlan(float(alpha), m, bone, report, max_order)


def perceptual_loss(q_hat: torch.Tensor, q: torch.Tensor, q_lengths: torch.Tensor | None,
                    plan: PerceptualPlan) -> tuple[torch.Tensor, torch.Tensor]:
    """Lp = α·l_dyn + (1−α)·l_bl (Eq. 3–5) per motion ``(N,)``, differentiable in ``q_hat``, and its parts
    ``(N, orders + 2)`` = [l_dyn, l_dyn_0 … l_dyn_max, l_bl] (reported, no gradient): one autograd
    node over :func:`perceptual_terms`. ``q_lengths``: the clean bone lengths ``(N, T, E)`` (None:
    computed here)."""
    return _Perceptual.apply(q_hat, q, q_lengths, plan)


@without_grad
def perceptual_terms(q_hat: torch.Tensor, q: torch.Tensor, q_lengths: torch.Tensor | None,
                     plan: PerceptualPlan, grad_scale: float | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """``(Lp (N,), parts (N, orders + 2), grad_scale·∂Lp/∂q̂ (N, T, V, 3) or None)``, no autograd.

    The same values as :func:`dynamics_losses` and :func:`bone_length_loss` (tested equal, gradients
    too), with the gradient written out: ∂l_dyn/∂d = 2·M·d per coordinate trajectory and
    ∂l_bl/∂q̂ = Bᵀ(2(ℓ̂ − ℓ)/(M·ℓ̂) ⊙ bone vectors). The autograd graph of the plain functions has ~40
    nodes for these few lines; on a small recognizer their forward and backward passes were a third of
    an attack's iteration. Where ``grad_scale`` is None no gradient is formed."""
    n, t, v, c = q_hat.shape
    alpha = plan.alpha
    d = (q_hat - q).reshape(n, t, v * c)  # the coordinate trajectories, frames along dim 1
    dynamics = _dynamics(d, plan)  # (N, 1 + orders): l_dyn, l_dyn_0 … l_dyn_max
    if plan.bone is not None:
        if q_lengths is None:
            q_lengths = _lengths(_flat_bone_vectors(q, plan.bone))
        vec = _flat_bone_vectors(q_hat, plan.bone)  # child − parent, (N, T, 3, E)
        length = _lengths(vec)
        diff = length - q_lengths
        l_bl = torch.linalg.vecdot(diff, diff).mean(1)  # Σ over a frame's bones, mean over frames
    else:
        l_bl = q_hat.new_zeros(n)
    lp = torch.lerp(dynamics[:, 0], l_bl, 1.0 - alpha)  # α·l_dyn + (1−α)·l_bl
    parts = torch.cat([dynamics, l_bl[:, None]], 1)
    if grad_scale is None:
        return lp, parts, None
    # 2α·M·d, scaled, in one batched product (beta = 0: the first argument only gives the shape)
    grad = torch.baddbmm(d, plan.dynamics.expand(n, t, t), d, beta=0.0, alpha=2.0 * alpha * grad_scale)
    if plan.bone is not None and alpha < 1.0:
        coef = diff.div_(length)  # (N, T, E): ∂l_bl/∂vec = 2(1−α)/T·(ℓ̂ − ℓ)/ℓ̂·vec, scaled in the product
        grad.view(n * t, -1).addmm_(vec.mul_(coef.unsqueeze(2)).view(n * t, -1), plan.bone.T,
                                    alpha=2.0 * (1.0 - alpha) * grad_scale / t)
    return lp, parts, grad.view(n, t, v, c)


def _flat_bone_vectors(x: torch.Tensor, bone: torch.Tensor) -> torch.Tensor:
    """The bone vectors ``(N, T, 3, E)`` (axis-major) of motions ``(N, T, V, 3)``: one product."""
    n, t = x.shape[:2]
    return torch.mm(x.reshape(n * t, -1), bone).view(n, t, 3, -1)


def _lengths(vec: torch.Tensor) -> torch.Tensor:
    """‖vec‖ over the axis dimension (2), as :func:`bone_lengths` (its ε keeps the derivative finite at 0)."""
    return vec.square().sum(2).add_(1e-12).sqrt_()


class _Perceptual(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q_hat, q, q_lengths, plan):
        scale = 1.0 if ctx.needs_input_grad[0] else None
        lp, parts, grad = perceptual_terms(q_hat, q, q_lengths, plan, scale)
        ctx.mark_non_differentiable(parts)
        if grad is not None:
            ctx.save_for_backward(grad)
        return lp, parts

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_lp, _grad_parts):
        (grad,) = ctx.saved_tensors
        return grad * grad_lp[:, None, None, None], None, None, None


def _dynamics(d: torch.Tensor, plan: PerceptualPlan) -> torch.Tensor:
    """[l_dyn, Σₖ‖Δⁿdₖ‖²/(T−n) for n = 0…max_order] ``(N, 1 + orders)`` of d ``(N, T, K)``: for a small
    N·T² one Gram product in float64 (the higher orders cancel most of G's digits: float32 would lose
    them), else l_dyn = Σₖ dₖᵀMdₖ and repeated differences, O(N·T·K) per order."""
    n, t = d.shape[:2]
    if plan.report is not None and n * t * t <= GRAM_REPORT_MAX:
        r = d.double()
        return torch.mm(torch.bmm(r, r.transpose(1, 2)).view(n, -1), plan.report).to(d.dtype)
    l_dyn = (torch.matmul(plan.dynamics, d) * d).sum((1, 2))
    return torch.cat([l_dyn[:, None], _per_order_by_differences(d, plan.max_order)], 1)


def _per_order_by_differences(d: torch.Tensor, max_order: int) -> torch.Tensor:
    """Σₖ‖Δⁿdₖ‖²/(T−n) for n = 0…max_order by repeated differences of d ``(N, T, K)`` (0 where T ≤ n)."""
    n, t = d.shape[:2]
    sums, x = [], d
    for order in range(max_order + 1):
        if order:
            x = x[:, 1:] - x[:, :-1]
        sums.append(x.square().sum(dim=(1, 2)) if x.shape[1] else d.new_zeros(n))
    return torch.stack(sums, 1) * _inverse_counts(t, max_order, d.dtype, str(d.device))


def bone_operator(bones: torch.Tensor, joints: int, dtype=torch.float32, device=None) -> torch.Tensor:
    """The ``(V, E)`` incidence matrix of the bones: +1 at the child, −1 at the parent."""
    e = bones.shape[0]
    op = torch.zeros(joints, e, dtype=dtype, device=device)
    cols = torch.arange(e, device=device)
    op[bones[:, 1].to(device), cols] = 1.0
    op[bones[:, 0].to(device), cols] = -1.0
    return op


def bone_lengths(x: torch.Tensor, bones: torch.Tensor, operator: torch.Tensor | None = None) -> torch.Tensor:
    """Bone lengths ``(N, T, E)`` of motions ``(N, T, V, 3)``; ``bones`` is ``(E, 2)`` (parent, child)."""
    op = operator if operator is not None else bone_operator(bones, x.shape[-2], x.dtype, x.device)
    lead = x.shape[:-2]
    vec = torch.mm(x.transpose(-1, -2).reshape(-1, x.shape[-2]), op)  # one GEMM: child − parent
    sq = vec.square().reshape(*lead, 3, -1).sum(-2)  # (..., E)
    # sqrt has an infinite derivative at 0; the epsilon keeps the gradient finite for degenerate bones
    return torch.sqrt(sq + 1e-12)


def bone_length_loss(q: torch.Tensor, q_hat: torch.Tensor, bones: torch.Tensor,
                     q_lengths: torch.Tensor | None = None, operator: torch.Tensor | None = None
                     ) -> torch.Tensor:
    """l_bl (Eq. 4) per motion: 1/M Σᵢ ‖Bl(qᵢ) − Bl(q̂ᵢ)‖², frame-wise over the layout's bones."""
    if bones.numel() == 0:
        return q_hat.new_zeros(q_hat.shape[0])
    if operator is None:
        operator = bone_operator(bones, q_hat.shape[-2], q_hat.dtype, q_hat.device)
    lq = bone_lengths(q, bones, operator) if q_lengths is None else q_lengths
    return (bone_lengths(q_hat, bones, operator) - lq).pow(2).sum(dim=2).mean(dim=1)


@without_grad
def _kth_largest_other(logits: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    """The index of the k-th largest logit among the classes other than ``labels`` (k = 1: the runner-up)."""
    masked = logits.scatter(1, labels[:, None], float("-inf"))
    return masked.argmax(1) if k == 1 else masked.topk(k, dim=1).indices[:, k - 1]


@without_grad
def _margin_sign(logits: torch.Tensor, labels: torch.Tensor, strategy: str, targets: torch.Tensor | None,
                 top_n: int) -> torch.Tensor:
    """e_plus − e_minus ``(N, C)`` of the margin loss: AB and ABN push the label above its rival (the
    runner-up, the top-N-th other class), SA the target above the best other class."""
    if strategy in ("ab", "abn"):
        k = 1 if strategy == "ab" else min(top_n, logits.shape[1] - 1)
        plus, minus = labels, _kth_largest_other(logits, labels, k)
    elif strategy == "sa":
        plus, minus = _kth_largest_other(logits, targets, 1), targets
    else:
        raise ValueError(f"unknown strategy {strategy!r}")
    return torch.zeros_like(logits).scatter_(1, plus[:, None], 1.0).scatter_(1, minus[:, None], -1.0)


def classification_loss(logits: torch.Tensor, labels: torch.Tensor, strategy: str, *,
                        targets: torch.Tensor | None = None, top_n: int = 3, kind: str = "ce",
                        confidence: float = 0.0, reference: torch.Tensor | None = None) -> torch.Tensor:
    """Lc per motion, to be minimised.

    ``ce`` (the paper):
      * AB, Eq. 6: −CE(Φ(q), Φ(q̂)) = Σ_c Φ(q)_c · log softmax(q̂)_c. ``reference`` is Φ(q), the clean
        prediction ``(N, C)`` as Eq. 6 writes it; None uses the one-hot clean label (the authors'
        code), which gives log softmax(q̂)[y]. Note: with a soft Φ(q) the gradient
        ∂Lc/∂logits = Φ(q̂) − Φ(q) is exactly zero at q̂ = q (the cross entropy is minimal there),
        so an attack that starts at q̂₀ = q, as §3.1 says, does not move (see AttackConfig).
      * ABN, Eq. 7: −Entropy(softmax(q̂)).
      * SA, Eq. 8: CE(one-hot(target), Φ(q̂)) = −log softmax(q̂)[target].
    ``margin`` (the hinge / C&W form; does not saturate, and stops pushing once the goal holds by κ):
      * AB: z_y − max_{j≠y} z_j.   * ABN: z_y − (N-th largest z_j, j≠y).   * SA: max_{j≠t} z_j − z_t.
      each clamped at −κ (``confidence``).

    Computed by :func:`classification_terms` (one definition of the values), with its closed-form
    gradient as the backward pass — as :func:`perceptual_loss` is over :func:`perceptual_terms`.
    """
    return _Classification.apply(logits, labels, strategy, targets, top_n, kind, confidence, reference)


class _Classification(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, labels, strategy, targets, top_n, kind, confidence, reference):
        lc, grad, _norm, _prob = classification_terms(logits, labels, strategy, targets=targets, top_n=top_n,
                                                      kind=kind, confidence=confidence, reference=reference)
        ctx.save_for_backward(grad)
        return lc

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_lc):
        (grad,) = ctx.saved_tensors
        return grad * grad_lc[:, None], None, None, None, None, None, None, None


@without_grad
def classification_terms(logits: torch.Tensor, labels: torch.Tensor, strategy: str, *,
                         targets: torch.Tensor | None = None, top_n: int = 3, kind: str = "ce",
                         confidence: float = 0.0, reference: torch.Tensor | None = None
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """``(Lc (N,), ∂Lc/∂logits (N, C), ‖∂Lc/∂logits‖ (N,), softmax (N, C) or None)`` in closed form, no
    autograd (tested equal to autograd through the written-out losses): the attack's backward pass runs
    through the recognizer only, and :func:`classification_loss` is these values with this gradient.

    Cross entropy (p = softmax, written so that no digit is lost where p_y ≈ 1):
      * AB, label: ∂/∂z log p_y = e_y − p, whose y-th entry 1 − p_y is summed from the other classes;
      * AB, reference r: r − p·Σr;   * ABN: p ⊙ (log p − Σ p log p);   * SA: p − e_t (as AB's, negated).
    Margin: z_plus − z_minus clamped at −κ, the rival picked without gradient (the subgradient autograd takes
    through a max); its gradient e_plus − e_minus where the hinge is not clamped (torch's clamp_min passes
    the gradient at equality too), 0 where it is; the reported norm is √2 (see :func:`logit_gradient_norm`).
    """
    if kind == "margin":
        sign = _margin_sign(logits, labels, strategy, targets, top_n)
        raw = (logits * sign).sum(1)
        grad = sign.mul_((raw >= -confidence)[:, None])
        return raw.clamp_min(-confidence), grad, logits.new_full((logits.shape[0],), 2 ** 0.5), None
    if kind != "ce":
        raise ValueError(f"unknown classification loss {kind!r}")
    logp = F.log_softmax(logits, dim=1)
    p = logp.exp()
    if strategy == "abn":
        lc = (p * logp).sum(1)  # = −Entropy
        grad = (logp - lc[:, None]).mul_(p)
    elif strategy == "ab" and reference is not None:
        lc = (reference * logp).sum(1)
        grad = torch.addcmul(reference, p, reference.sum(1, keepdim=True), value=-1.0)
    elif strategy in ("ab", "sa"):
        idx = (labels if strategy == "ab" else targets)[:, None]
        picked = logp.gather(1, idx)[:, 0]
        others = p.scatter(1, idx, 0.0)  # p without the label (target): e_y − p = (Σ others)·e_y − others
        grad = others.neg().scatter_(1, idx, others.sum(1, keepdim=True))
        if strategy == "ab":
            lc = picked
        else:
            lc, grad = picked.neg(), grad.neg_()
    else:
        raise ValueError(f"unknown strategy {strategy!r}")
    return lc, grad, torch.linalg.vector_norm(grad, dim=1), p


def goal_reached(logits: torch.Tensor, labels: torch.Tensor, strategy: str, *,
                 targets: torch.Tensor | None = None, top_n: int = 3) -> torch.Tensor:
    """Per motion: AB — the top-1 label differs from the clean label; ABN — the clean label is not
    among the top N; SA — the top-1 label is the target."""
    if strategy == "ab":
        return logits.argmax(1) != labels
    if strategy == "abn":
        n = min(top_n, logits.shape[1])
        return ~(logits.topk(n, dim=1).indices == labels[:, None]).any(1)
    if strategy == "sa":
        return logits.argmax(1) == targets
    raise ValueError(f"unknown strategy {strategy!r}")


def logit_gradient_norm(logits: torch.Tensor, labels: torch.Tensor, strategy: str, *,
                        targets: torch.Tensor | None = None, kind: str = "ce",
                        reference: torch.Tensor | None = None, top_n: int = 3) -> torch.Tensor:
    """‖∂Lc/∂logits‖ per motion (:func:`classification_terms`): how much push Lc still gives.

    For cross entropy it is ‖p − e_y‖ (AB, SA with e_t) and ‖p ⊙ (log p + H)‖ (ABN); an
    over-confident model has p_y ≈ 1 in float32 and the push vanishes ("saturation"). The margin
    loss always has norm √2 (until clamped).
    """
    return classification_terms(logits, labels, strategy, targets=targets, top_n=top_n, kind=kind,
                                reference=reference)[2]
