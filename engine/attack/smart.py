"""SMART (paper §3): minimise L = w·Lc + (1−w)·Lp over q̂ with Adam, q̂₀ = q.

Where this differs from the SMART authors' public code (the paper is our spec):

* one objective (Eq. 2) and one backward pass per iteration — their code runs two backward passes
  (classification and perceptual) and normalises each gradient per frame before combining them.
  The backward pass runs through the recognizer only: ∂Lc/∂Φ(q̂) and ∂Lp/∂q̂ are written out in
  closed form (:func:`losses.classification_terms`, :func:`losses.perceptual_terms`, tested equal to
  autograd through Eq. 3–8) and enter at the logits and at q̂, and the step back through q̂ = q + S·z
  is S's transpose (:meth:`TemporalSmoother.adjoint`);
* Adam (torch.optim.Adam's update, :mod:`.adam`) on q̂ as §3.1 says — their code takes plain
  gradient-descent steps;
* the perceptual loss on motions in metres — theirs is on the normalised network input;
* ABN maximises the entropy of Φ(q̂) (Eq. 7) and stops when the clean label leaves the top N —
  their ABN loss is an MSE against zeros and their top-N test never fires;
* Eq. 6's Φ(q) is the clean prediction (``ab_reference='prediction'``) — their code uses the
  one-hot label (``'label'``);
* l_bl runs over every bone of the kinematic tree as Eq. 4's bone vector does, the zero-length
  ones between coincident joints included.

What the paper leaves open and the natural preset chooses (see :class:`AttackConfig`): the hinge
form of Lc, the whole budget, the successful iterate with the lowest Lp, an annealed learning rate,
coincident joints moved together, Adam on a temporally smoothed displacement (q̂ = q + S·z) and
Adam's β₂ = 0.9. ``AttackConfig.paper()`` is the literal protocol.

Batching: N motions are attacked at once; the objective is the sum of per-motion objectives, so
under Adam's element-wise update the motions are independent. A motion that reaches its goal
(with ``stop_on_success``) is frozen: its result is kept and it leaves the computed batch (its
parameters and Adam moments sliced out) at the next check — every iteration on the CPU, every
``CHECK_EVERY`` iterations on a GPU, so that the loop does not wait on the device each step.
Per-iteration values stay on the device and reach the host once per iteration only when someone
asks for :class:`StepReport` s (:meth:`SmartAttack.steps`, or a callback), in one transfer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from ..skeleton import Layout
from . import losses as L
from .adam import Adam
from .base import Attack, AttackResult, StepReport
from .config import MAX_ORDER, AttackConfig

TERMS = ("total", "Lc", "Lp", "l_dyn", *(f"l_dyn_{n}" for n in range(MAX_ORDER + 1)), "l_bl")
RECORDED = (*TERMS, "lc_grad_norm")
# the rows the loop writes per iteration (one device copy); total, the first iteration the goal held and
# the saturation count are derived from them once, at the end (fewer operations per iteration)
# (Lc, Lp, ∂Lc norm and goal stacked, then the perceptual parts: three operations per iteration)
_ROWS = ("Lc", "Lp", "lc_grad_norm", "goal", *TERMS[3:])
_TERM_ROWS = [_ROWS.index(name) for name in TERMS[1:]]  # TERMS but total, in _ROWS
CHECK_EVERY = 10  # iterations between the checks that need the host, on a GPU
_GRAPH_WARMUP = 3  # eager iterations on a side stream before the CUDA graph is captured


def tree_bones(lay: Layout) -> np.ndarray:
    """Every (parent, child) pair of the kinematic tree, ``(V−1, 2)``: Eq. 4's bone vector."""
    return np.asarray([(p, j) for j, p in enumerate(lay.parents) if p >= 0], dtype=np.int64).reshape(-1, 2)


def coincident_representatives(lay: Layout) -> np.ndarray | None:
    """``rep[j]``: the joint whose displacement joint ``j`` copies (itself, or its coincident group's
    first joint); None when the layout has no coincident joints."""
    if not lay.coincident:
        return None
    rep = np.arange(lay.num_joints)
    for group in lay.coincident:
        rep[list(group)] = min(group)
    return rep


class TemporalSmoother:
    """The preconditioner S of ``AttackConfig.smoothing``: S = D⁻¹(K + εI), K the Gaussian of ``sigma``
    frames along time truncated at 4σ, ε = 0.01 (K's peak is 1), D the row sums, so that a constant
    displacement passes unchanged at the clip's ends too. K + εI is positive definite (the truncated
    Gaussian's Toeplitz matrix alone can have eigenvalues of −1e-5; ε lifts every one above 0.009), so
    S is invertible: every displacement is reachable and ∂L/∂z = Sᵀ∂L/∂q̂ vanishes exactly where
    ∂L/∂q̂ does — the objective's stationary points are unchanged, only the path to them. S damps the
    highest frequencies ~100-fold, so Adam's per-coordinate steps on z reach q̂ smooth.

    Applied as one dense ``(T, T)`` matrix product up to :attr:`DENSE_FRAMES` frames (measured: 5–18×
    faster than a one-channel ``conv1d`` at batch 1–32 on a CPU), as a banded convolution beyond
    (O(T·σ) per joint coordinate, for takes of any length)."""

    EPS = 0.01
    DENSE_FRAMES = 512

    def __init__(self, frames: int, sigma: float, dtype: torch.dtype, device: torch.device):
        radius = max(1, min(int(math.ceil(4 * sigma)), frames - 1))
        gauss = lambda lag: torch.exp(-(lag ** 2) / (2.0 * sigma ** 2)) * (lag.abs() <= radius)  # noqa: E731
        self.radius = radius
        if frames <= self.DENSE_FRAMES:
            f = torch.arange(frames, dtype=torch.float64)
            k = gauss(f[:, None] - f[None, :]) + self.EPS * torch.eye(frames, dtype=torch.float64)
            self.matrix = (k / k.sum(1, keepdim=True)).to(device=device, dtype=dtype)
            self.matrix_t = self.matrix.T.contiguous()
        else:
            self.matrix = None
            kernel = gauss(torch.arange(-radius, radius + 1, dtype=torch.float64))
            self.kernel = kernel.to(device=device, dtype=dtype).view(1, 1, -1)
            mass = torch.nn.functional.conv1d(torch.ones(1, 1, frames, dtype=torch.float64),
                                              kernel.view(1, 1, -1), padding=radius) + self.EPS
            self.inv_mass = (1.0 / mass).to(device=device, dtype=dtype).view(1, 1, frames)

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        n, t, v, c = z.shape
        if self.matrix is not None:
            return torch.matmul(self.matrix, z.reshape(n, t, v * c)).view(n, t, v, c)
        flat = z.permute(0, 2, 3, 1).reshape(n * v * c, 1, t)
        smooth = torch.nn.functional.conv1d(flat, self.kernel, padding=self.radius)
        out = (smooth + self.EPS * flat) * self.inv_mass
        return out.view(n, v, c, t).permute(0, 3, 1, 2)

    def adjoint(self, g: torch.Tensor) -> torch.Tensor:
        """Sᵀ·g for ``g`` (N, T, V, 3): carries a gradient with respect to S·z back to z. K is symmetric,
        so Sᵀ = (K + εI)·D⁻¹: the same convolution after the row weights."""
        n, t, v, c = g.shape
        if self.matrix is not None:
            return torch.bmm(self.matrix_t.expand(n, t, t), g.reshape(n, t, v * c)).view(n, t, v, c)
        flat = g.permute(0, 2, 3, 1).reshape(n * v * c, 1, t) * self.inv_mass
        out = torch.nn.functional.conv1d(flat, self.kernel, padding=self.radius).add_(flat, alpha=self.EPS)
        return out.view(n, v, c, t).permute(0, 3, 1, 2)


def temporal_smoother(frames: int, sigma: float, dtype: torch.dtype, device: torch.device
                      ) -> TemporalSmoother | None:
    """S for clips of ``frames`` frames (see :class:`TemporalSmoother`); None when ``sigma`` is 0."""
    return TemporalSmoother(frames, sigma, dtype, device) if sigma > 0 and frames > 1 else None


def displaced(q: torch.Tensor, z: torch.Tensor, smoother: TemporalSmoother | None, rep: torch.Tensor | None
              ) -> torch.Tensor:
    """q̂ = q + d from Adam's variable ``z`` (N, T, V, 3): d is z smoothed along time by S when there is
    one, each tied joint copying its coincident group's representative (``rep``). q + S·z is one
    batched product-and-add where S is dense and no joint is tied."""
    if rep is None and smoother is not None and smoother.matrix is not None:
        n, t = z.shape[:2]
        s = smoother.matrix.expand(n, t, t)
        return torch.baddbmm(q.reshape(n, t, -1), s, z.reshape(n, t, -1)).view_as(q)
    d = z if smoother is None else smoother(z)
    return q + (d if rep is None else d[:, :, rep])


def displaced_adjoint(g: torch.Tensor, smoother: TemporalSmoother | None, rep: torch.Tensor | None
                      ) -> torch.Tensor:
    """The gradient with respect to z of a gradient ``g`` with respect to q̂ = :func:`displaced` (q, z):
    summed over each coincident group onto its representative, then carried back through S."""
    if rep is not None:
        g = torch.zeros_like(g).index_add_(2, rep, g)
    return g if smoother is None else smoother.adjoint(g)


def smart_objective(logits: torch.Tensor, q: torch.Tensor, q_hat: torch.Tensor, labels: torch.Tensor,
                    bones: torch.Tensor, config: AttackConfig, targets: torch.Tensor | None = None,
                    q_lengths: torch.Tensor | None = None, plan: L.PerceptualPlan | None = None,
                    reference: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Every term of Eq. 2–5 per motion, ``(N,)`` each (the names of :data:`TERMS`), for logits Φ(q̂)
    already computed. ``plan`` (:func:`losses.perceptual_plan`) is precomputed by a caller that loops;
    ``reference`` is Eq. 6's Φ(q) (None: the one-hot label)."""
    if plan is None:
        plan = _plan(config, q.shape[1], bones, q.shape[2], q.dtype, q.device)
    total, lc, lp, parts = _objective(logits, q, q_hat, labels, config, targets, q_lengths, plan, reference)
    terms = {"total": total, "Lc": lc, "Lp": lp}
    terms.update({name: parts[:, i] for i, name in enumerate(TERMS[3:])})
    return terms


def _plan(config: AttackConfig, frames: int, bones: torch.Tensor, joints: int, dtype: torch.dtype,
          device: torch.device) -> L.PerceptualPlan:
    alpha, betas = config.perceptual_weights()
    return L.perceptual_plan(frames, alpha, betas, bones, joints, dtype, device, MAX_ORDER)


def _objective(logits, q, q_hat, labels, config, targets, q_lengths, plan, reference):
    """(total, Lc, Lp, parts) per motion; parts ``(N, 7)`` = [l_dyn, l_dyn_0 … l_dyn_4, l_bl]."""
    lc = _classification(logits, labels, config, targets, reference)
    lp, parts = L.perceptual_loss(q_hat, q, q_lengths, plan)
    return torch.lerp(lc, lp, 1.0 - config.w), lc, lp, parts


def _classification(logits, labels, config, targets, reference):
    return L.classification_loss(logits, labels, config.strategy, targets=targets, top_n=config.top_n,
                                 kind=config.classification_loss, confidence=config.confidence,
                                 reference=reference)


class SmartAttack(Attack):
    """The SMART attack.

    ``SmartAttack(model, config)(x, y)`` returns the adversarial motions (torchattacks' habit);
    ``.run(x, y)`` the whole :class:`AttackResult`; ``.steps(x, y)`` yields a :class:`StepReport`
    per iteration (the GUI's worker). ``.cancel()`` (from any thread) stops within one iteration.
    The layout defaults to ``model.layout``.
    """

    config_class = AttackConfig
    #: on a CUDA device, run the iterations of an attack without ``stop_on_success`` as one captured CUDA
    #: graph each (see :meth:`_graphed`; reports, as the GUI asks, too); False: always eagerly
    use_cuda_graphs: bool = True
    #: why the last run did not replay a CUDA graph although it could have (None: it did, or no GPU)
    cuda_graph_note: str | None = None
    #: tests: run that path's steps (device counter, learning rate as a tensor) eagerly on the CPU
    _graph_steps_on_cpu: bool = False

    def _iterate(self, motions: Any, labels: Any, targets: Any, with_motion: bool, report: bool
                 ) -> Iterator[StepReport | None]:
        cfg = self.config
        self.prepare(motions, labels, targets)
        q_all, y_all, dev = self.q, self.labels, self.device
        n = q_all.shape[0]
        bones = torch.as_tensor(tree_bones(self.layout), device=dev)
        rep_np = coincident_representatives(self.layout) if cfg.tie_coincident else None
        check_every = 1 if (report or dev.type == "cpu") else CHECK_EVERY
        masking = cfg.stop_on_success  # only then do motions stop at different iterations
        # with stop_on_success the last iterate is the first successful one: nothing to choose
        best = cfg.select == "best" and not masking
        ce = cfg.classification_loss == "ce"
        with self.model_mode() as model:
            logits0, t_all = self.evaluate_clean(model)
            p0_all = torch.softmax(logits0, 1)
            ref_all = p0_all if (cfg.strategy == "ab" and cfg.ab_reference == "prediction" and ce) else None
            plan = _plan(cfg, q_all.shape[1], bones, self.layout.num_joints, q_all.dtype, dev)
            q_len_all = L.bone_lengths(q_all, bones) if plan.bone is not None else None
            iters = cfg.iterations
            hist = torch.full((iters + 1, len(_ROWS), n), float("nan"), device=dev)
            out = {
                "adv": q_all.clone(), "logits": logits0.clone(),
                "success": torch.zeros(n, dtype=torch.bool, device=dev),
                "best": q_all.clone(), "best_logits": logits0.clone(),
                "best_lp": torch.full((n,), float("inf"), device=dev),
                "iterations": torch.zeros(n, dtype=torch.long, device=dev),
                "history": hist, "targets": t_all, "q": q_all, "labels": y_all, "last_it": 0,
                "cuda_graph": False,  # … whether the iterations replayed a CUDA graph
            }
            self._out = out
            self.cuda_graph_note = None
            if report:
                host = {"prob": p0_all.cpu().numpy().copy(), "success": np.zeros(n, bool),
                        "adv": q_all.cpu().numpy().copy() if with_motion else None}
            rep = None if rep_np is None else torch.as_tensor(rep_np, device=dev)
            smoother = temporal_smoother(q_all.shape[1], cfg.smoothing, q_all.dtype, dev)
            idx = torch.arange(n, device=dev)  # motions in the computed batch
            live = torch.ones(n, dtype=torch.bool, device=dev)  # … of which still being optimised
            # Adam's variable is the displacement z, q̂ = q + S·z (S = I unless smoothing): the
            # same steps as Adam on q̂ itself (Adam is shift-invariant), and q̂₀ = q
            adv = torch.zeros_like(q_all)
            adam = Adam(adv, (0.9, cfg.adam_beta2), cfg.adam_eps)
            q, y, t, q_len, ref = q_all, y_all, t_all, q_len_all, ref_all
            t_arg = t if cfg.strategy == "sa" else None
            last = None  # (x, logits, goal, it) of the last evaluated iterate, written out at the end

            def evaluate(adv, q, y, t_arg, ref, q_len):
                """q̂ (a leaf) and Φ(q̂) with its graph back to q̂; without autograd, in closed form:
                ∂Lc/∂Φ(q̂), Lp and (1−w)·∂Lp/∂q̂; and this iteration's rows of the history, in _ROWS's
                order. The backward pass then runs through the recognizer alone."""
                x = displaced(q, adv, smoother, rep).requires_grad_(True)  # (nothing before it needs grad)
                logits = model(x)
                with torch.no_grad():
                    lc, lc_grad, gnorm, prob = L.classification_terms(
                        logits, y, cfg.strategy, targets=t_arg, top_n=cfg.top_n, kind=cfg.classification_loss,
                        confidence=cfg.confidence, reference=ref)
                    lp, parts, lp_grad = L.perceptual_terms(x, q, q_len, plan, grad_scale=1.0 - cfg.w)
                    if report and prob is None:
                        prob = torch.softmax(logits, 1)
                    goal = L.goal_reached(logits, y, cfg.strategy, targets=t_arg, top_n=cfg.top_n)
                    rows = [torch.stack((lc, lp, gnorm, goal)), parts.T]  # (the bool goal promoted)
                return x, logits, lc_grad, lp, lp_grad, prob, goal, rows

            def gradient(x, logits, lc_grad, lp_grad):
                """∂L/∂z: w·∂Lc/∂q̂ (autograd through the recognizer) plus (1−w)·∂Lp/∂q̂, carried back
                through q̂ = q + S·z (Eq. 2)."""
                (g,) = torch.autograd.grad(logits, x, grad_outputs=lc_grad)  # (no graph from here on)
                return displaced_adjoint(lp_grad.add_(g, alpha=cfg.w), smoother, rep)

            def keep_best(x, logits, goal, lp):
                """The successful iterate with the lowest Lp so far, updated in place (under no_grad)."""
                better = goal & (lp < out["best_lp"])
                torch.where(better, lp, out["best_lp"], out=out["best_lp"])
                torch.where(better.view(-1, 1, 1, 1), x, out["best"], out=out["best"])
                torch.where(better.view(-1, 1), logits, out["best_logits"], out=out["best_logits"])

            graph = (self.use_cuda_graphs and (dev.type == "cuda" or self._graph_steps_on_cpu)
                     and not masking and adam.fused and iters > _GRAPH_WARMUP)
            first = 0  # the first iteration the eager loop below runs
            try:
                if graph:  # every motion runs the budget: one CUDA graph per iteration
                    box: list = [None]
                    inputs = (adv, q, y, t_arg, ref, q_len)
                    steps = self._graphed(evaluate, gradient, keep_best, inputs, adam, hist, best, iters, box)
                    for it, values, prob in steps:
                        if report:  # (the GUI: one transfer per iteration, as on the eager path)
                            x, _, goal, _ = box[0]
                            yield self._report(it, iters, idx, values, prob, goal, x, live, host, with_motion)
                        else:
                            yield None
                    last = box[0]
                    if self.cancelled():  # the last evaluated iterate is written out below
                        return
                    first = iters  # the final evaluation (no step after it) runs eagerly
                for it in range(first, iters + 1):
                    x, logits, lc_grad, lp, lp_grad, prob, goal, rows = evaluate(adv, q, y, t_arg, ref, q_len)
                    with torch.no_grad():
                        if masking:  # some motions in the batch may have stopped: write the live ones
                            values = torch.cat(rows)
                            hist[it, :, idx] = torch.where(live, values, float("nan"))
                            live4 = live[:, None, None, None]
                            out["adv"][idx] = torch.where(live4, x, out["adv"][idx])
                            out["logits"][idx] = torch.where(live[:, None], logits, out["logits"][idx])
                            out["success"][idx] = torch.where(live, goal, out["success"][idx])
                            out["iterations"][idx] = torch.where(live, it, out["iterations"][idx])
                            live = live & ~goal
                        else:  # every motion runs the budget: plain writes, no masks
                            values = torch.cat(rows, out=hist[it])
                            last = (x, logits, goal, it)  # x is not stepped before the loop ends
                        if best:
                            keep_best(x, logits, goal, lp)
                        out["last_it"] = it
                    if report:
                        yield self._report(it, iters, idx, values, prob, goal, x, live, host, with_motion)
                    else:
                        yield None
                    if it == iters or self.cancelled():
                        break
                    # the checks read from the device: without stop_on_success nothing can stop early
                    check = masking and (it % check_every == 0 or it == iters - 1)
                    if check and not bool(live.any()):
                        break
                    grad = gradient(x, logits, lc_grad, lp_grad)
                    if check and not bool(live.all()):
                        # finished motions leave the batch: slice the variable, its gradient, Adam's moments
                        keep = live
                        adv, grad = adv[keep], grad[keep]
                        adam.keep(keep)
                        idx, q, y, t, live = idx[keep], q[keep], y[keep], t[keep], live[keep]
                        t_arg = t if cfg.strategy == "sa" else None
                        q_len = None if q_len is None else q_len[keep]
                        ref = None if ref is None else ref[keep]
                    adam.step(adv, grad, cfg.learning_rate(it))
            finally:  # also when the consumer closes the generator early
                if graph and last is None:
                    last = box[0]
                if last is not None and not masking:
                    lx, llogits, lgoal, lit = last
                    with torch.no_grad():
                        out["adv"].copy_(lx)
                        out["logits"].copy_(llogits)
                        out["success"].copy_(lgoal)
                        out["iterations"].fill_(lit)
                    out["last_it"] = lit

    def _graphed(self, evaluate, gradient, keep_best, inputs, adam, hist, best, iters, box
                 ) -> Iterator[tuple[int, torch.Tensor, torch.Tensor | None]]:
        """Iterations 0 … iters−1 (evaluate, record, step) of the loop without masks, on a GPU, yielding
        ``(it, values, prob)`` — this iteration's history rows and probabilities (for reports):
        the first ``_GRAPH_WARMUP`` run eagerly on a side stream (as torch asks before a capture), the
        next is captured as one CUDA graph, which then replays once per iteration — a few microseconds
        of launching instead of hundreds of kernel launches from Python. The iteration index and the
        learning rate are read on the device (a counter the graph increments, the schedule as a
        tensor). ``box[0]`` is (x, logits, goal, it) of the last evaluated iterate. Falls back to the
        eager steps if the model cannot be captured (the reason in :attr:`cuda_graph_note`)."""
        adv, q, y, t_arg, ref, q_len = inputs
        dev = adv.device
        counter = torch.zeros(1, dtype=torch.long, device=dev)  # the iteration being evaluated
        lrs = torch.tensor([self.config.learning_rate(i) for i in range(iters)], dtype=torch.float32,
                           device=dev)

        def step():
            x, logits, lc_grad, lp, lp_grad, prob, goal, rows = evaluate(adv, q, y, t_arg, ref, q_len)
            with torch.no_grad():
                values = torch.cat(rows)
                hist.index_copy_(0, counter, values.to(hist.dtype)[None])
                if best:
                    keep_best(x, logits, goal, lp)
            adam.step(adv, gradient(x, logits, lc_grad, lp_grad), lrs[counter])
            counter.add_(1)
            return x.detach(), logits, goal, values, prob

        cuda_graph = None
        eager = dev.type != "cuda"  # (tests only: the same steps on the CPU)
        if not eager:
            side = torch.cuda.Stream(device=dev)
            main = torch.cuda.current_stream(dev)
        for it in range(iters):
            if cuda_graph is None and not eager and it == _GRAPH_WARMUP:
                main.wait_stream(side)
                cuda_graph = torch.cuda.CUDAGraph()
                try:
                    with torch.cuda.graph(cuda_graph):
                        static = step()
                except Exception as exc:  # noqa: BLE001 - an op that cannot be captured: run eagerly
                    # (a model that reads from the device in its forward; the shipped ones are written not to)
                    cuda_graph, eager = None, True
                    self.cuda_graph_note = (f"not captured as a CUDA graph ({type(exc).__name__}: "
                                            f"{str(exc).splitlines()[0]}); the iterations ran eagerly")
            if cuda_graph is not None:
                self._out["cuda_graph"] = True
                cuda_graph.replay()
                outs = static
            elif eager:
                outs = step()
            else:
                side.wait_stream(main)
                with torch.cuda.stream(side):
                    outs = step()
                main.wait_stream(side)
            box[0] = (*outs[:3], it)
            yield it, outs[3], outs[4]
            if self.cancelled():
                return

    def _report(self, it: int, iters: int, idx: torch.Tensor, values: torch.Tensor, prob: torch.Tensor,
                goal: torch.Tensor, x: torch.Tensor, live: torch.Tensor, host: dict, with_motion: bool
                ) -> StepReport:
        """One StepReport from one device→host transfer of this iteration's values."""
        k, m, c = len(_ROWS), idx.shape[0], prob.shape[1]
        parts = [values.reshape(-1).float(), prob.reshape(-1).float(), goal.float(), live.float(),
                 idx.float()]
        if with_motion:
            parts.append(x.detach().reshape(-1).float())
        flat = torch.cat(parts).cpu().numpy()
        at = 0
        vals = flat[at:at + k * m].reshape(k, m)
        at += k * m
        pr = flat[at:at + m * c].reshape(m, c)
        at += m * c
        g, lv = flat[at:at + m] > 0.5, flat[at + m:at + 2 * m] > 0.5
        ids = flat[at + 2 * m:at + 3 * m].astype(np.int64)
        at += 3 * m
        n = host["prob"].shape[0]
        # a motion is reported with this iteration's values until (and including) the one it stopped at
        was_live = np.zeros(n, bool)
        was_live[ids] = True
        stopped_now = ids[~lv & g] if self.config.stop_on_success else ids[:0]
        active = np.zeros(n, bool)
        active[ids[lv]] = True
        active[stopped_now] = True
        rows = np.isin(ids, np.nonzero(active)[0])
        losses = np.full((len(TERMS), n), np.nan)
        losses[1:, ids[rows]] = vals[_TERM_ROWS][:, rows]
        losses[0] = self.config.w * losses[1] + (1.0 - self.config.w) * losses[2]  # total = w·Lc + (1−w)·Lp
        host["prob"][ids[rows]] = pr[rows]
        host["success"][ids[rows]] = g[rows]
        if with_motion:
            motion = flat[at:].reshape(m, *x.shape[1:])
            host["adv"][ids[rows]] = motion[rows]
        return StepReport(
            iteration=it, total_iterations=iters,
            losses={name: losses[i] for i, name in enumerate(TERMS)},
            probabilities=host["prob"].copy(), success=host["success"].copy(), active=active,
            adversarial=host["adv"].copy() if with_motion else None,
        )

    def result(self) -> AttackResult:
        out = self._out
        if out is None:
            raise RuntimeError("the attack has not run")
        cfg = self.config
        it_done = out["iterations"].cpu().clamp_min(1).float()
        success = out["success"].cpu()
        adv, logits = out["adv"], out["logits"]
        if cfg.select == "best":
            found = torch.isfinite(out["best_lp"])
            adv = torch.where(found[:, None, None, None], out["best"], adv)
            logits = torch.where(found[:, None], out["best_logits"], logits)
            success = success | found.cpu()
        rows = out["history"][: out["last_it"] + 1].cpu().double().numpy()  # (I+1, _ROWS, N)
        row = {name: rows[:, i, :] for i, name in enumerate(_ROWS)}
        goal = row["goal"] == 1.0  # False where NaN (a stopped motion)
        flip = np.where(goal.any(0), goal.argmax(0), -1)
        sat_count = ((row["lc_grad_norm"] < cfg.saturation_tol) & (row["goal"] == 0.0)).sum(0)
        saturated = (torch.from_numpy(sat_count).float() / it_done > 0.5) & ~success
        warnings = []
        if saturated.any():
            ids = saturated.nonzero()[:, 0].tolist()
            warnings.append(
                f"the classification loss saturated on {len(ids)} motion(s) {ids[:10]}: the model is so "
                "confident that ∂Lc/∂logits vanished and the perceptual loss won; try "
                "classification_loss='margin' or a larger w"
            )
        history = {"total": cfg.w * row["Lc"] + (1.0 - cfg.w) * row["Lp"]}
        history.update({name: row[name].copy() for name in RECORDED[1:]})
        prob = torch.softmax(logits.detach().float(), 1).cpu()
        return AttackResult(
            adversarial=adv.detach().cpu(), original=out["q"].detach().cpu(),
            labels=out["labels"].cpu(), targets=out["targets"].cpu(), success=success,
            iterations=out["iterations"].cpu(), flip_iteration=torch.from_numpy(flip).long(),
            probabilities=prob, predicted=prob.argmax(1), saturated=saturated, history=history,
            config=self.config, warnings=warnings,
        )
