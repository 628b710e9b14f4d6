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

import torch
import torch.nn.functional as F

__all__ = [
    "bone_length_loss",
    "bone_lengths",
    "bone_operator",
    "classification_loss",
    "difference_matrix",
    "dynamics_losses",
    "dynamics_operators",
    "goal_reached",
    "logit_gradient_norm",
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
    (Δⁿq̂ − Δⁿq = Δⁿ(q̂ − q): differences are linear): measured far cheaper than a chain of slices or
    diffs per order, forwards and backwards. ``per_order`` carries no gradient (it is reported, not
    optimised) and is computed by repeated differences: at batch 32 the stacked-operator product it
    replaced was a third of an MLP attack's iteration.
    """
    n, t = q.shape[:2]
    w = tuple(float(x) for x in (weights if weights is not None else (1.0,) * (max_order + 1)))
    m = dynamics_operators(t, w, q_hat.dtype, str(q_hat.device))
    rows = (q_hat - q).reshape(n, t, -1).transpose(1, 2)  # (N, K, T): coordinate trajectories
    weighted = (torch.matmul(rows, m) * rows).sum(dim=(1, 2))
    with torch.no_grad():  # the report: repeated differences, O(N·K·T) per order (no T×T products)
        d, sums = rows, []
        for order in range(max_order + 1):
            if order:
                d = d[..., 1:] - d[..., :-1]
            sums.append(d.square().sum(dim=(1, 2)) if d.shape[-1] else rows.new_zeros(n))
        per_order = torch.stack(sums, 1) * _inverse_counts(t, max_order, q_hat.dtype, str(q_hat.device))
    return weighted, per_order


@functools.lru_cache(maxsize=64)
def _inverse_counts(frames: int, max_order: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    """``1/(T−n)`` for n = 0…max_order (0 where the clip is too short for the order)."""
    return torch.tensor([1.0 / (frames - k) if frames > k else 0.0 for k in range(max_order + 1)],
                        dtype=dtype, device=device)


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


def _kth_largest_other(logits: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    """The k-th largest logit among the classes other than ``labels`` (k = 1: the runner-up)."""
    masked = logits.scatter(1, labels[:, None], float("-inf"))
    return masked.topk(k, dim=1).values[:, k - 1]


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
    """
    if kind == "ce":
        logp = F.log_softmax(logits, dim=1)
        if strategy == "ab":
            if reference is not None:
                return (reference * logp).sum(1)
            return logp.gather(1, labels[:, None])[:, 0]
        if strategy == "abn":
            return (logp.exp() * logp).sum(1)  # = −Entropy
        if strategy == "sa":
            return -logp.gather(1, targets[:, None])[:, 0]
    elif kind == "margin":
        if strategy == "ab":
            m = logits.gather(1, labels[:, None])[:, 0] - _kth_largest_other(logits, labels, 1)
        elif strategy == "abn":
            k = min(top_n, logits.shape[1] - 1)
            m = logits.gather(1, labels[:, None])[:, 0] - _kth_largest_other(logits, labels, k)
        elif strategy == "sa":
            m = _kth_largest_other(logits, targets, 1) - logits.gather(1, targets[:, None])[:, 0]
        else:
            raise ValueError(f"unknown strategy {strategy!r}")
        return m.clamp_min(-confidence)
    raise ValueError(f"unknown strategy {strategy!r} or classification loss {kind!r}")


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


@torch.no_grad()
def logit_gradient_norm(logits: torch.Tensor, labels: torch.Tensor, strategy: str, *,
                        targets: torch.Tensor | None = None, kind: str = "ce",
                        reference: torch.Tensor | None = None) -> torch.Tensor:
    """‖∂Lc/∂logits‖ per motion, in closed form from the softmax: how much push Lc still gives.

    For cross entropy it is ‖p − e_y‖ (AB, SA with e_t) and ‖p ⊙ (log p + H)‖ (ABN); an
    over-confident model has p_y ≈ 1 in float32 and the push vanishes ("saturation"). The margin
    loss always has norm √2 (until clamped).
    """
    if kind == "margin":
        return logits.new_full((logits.shape[0],), 2 ** 0.5)
    p = F.softmax(logits, dim=1)
    if strategy == "ab" and reference is not None:
        return (p - reference).norm(dim=1)
    if strategy in ("ab", "sa"):
        idx = labels if strategy == "ab" else targets
        # ‖p − e_y‖² = (1 − p_y)² + Σ_{j≠y} p_j², with 1 − p_y = Σ_{j≠y} p_j: no digits lost when p_y ≈ 1
        others = p.scatter(1, idx[:, None], 0.0)
        return torch.sqrt(others.sum(1).square() + others.square().sum(1))
    logp = F.log_softmax(logits, dim=1)
    h = -(p * logp).sum(1, keepdim=True)
    return (p * (logp + h)).norm(dim=1)
