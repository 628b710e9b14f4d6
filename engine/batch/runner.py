"""The dataset-scale run: plan, evaluate, attack in (sharded, resumable) batches, merge, report.

Protocol (paper §4): every model is first evaluated on the selected motions and only the motions
it classifies correctly are attacked. Each (model, strategy[, compare variant]) job's motions are
cut into batches of ``batch_size``; batch ``b`` belongs to rank ``b mod world`` and is written to
``work/<job>/batch_<b>.npz`` (atomically) as soon as it is done, so an interrupted run resumes
where it stopped (an unreadable batch file is recomputed, and the run says so), and a batch's result
does not depend on which rank or how many ranks ran it. Rank 0 merges the batch files into the
outputs; ``results.json`` is written last and marks a finished run. The plan (jobs, models, data,
work files) is :mod:`engine.batch.plan`; the merge :mod:`engine.batch.merge`.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import metrics as M
from ..attack import IAAConfig, attack, iaa_attack
from ..attack import losses as L
from ..errors import WorkbenchError
from . import dist as D
from .config import BatchConfig, to_toml
from .files import clean_temporaries, write_json, write_npz, write_text
from .merge import merge_outputs, merge_seeds
from .plan import FORMAT, RESULTS, Job, RunPlan, batches, make_plan, sa_targets, versions

__all__ = ["FORMAT", "RESULTS", "BatchProgress", "RunSummary", "run_batch", "sa_targets"]


@dataclass
class BatchProgress:
    """Where this rank stands: motions done of its total (all jobs), successes so far, ETA in s;
    ``phase`` 'attack', or what runs before the attack (e.g. the IAA ε calibration, with
    ``iteration`` of ``iterations`` of its current trial)."""

    job: str
    done: int
    total: int
    succeeded: int
    attacked: int
    elapsed: float
    eta: float | None
    rank: int = 0
    world: int = 1
    phase: str = "attack"
    iteration: int = 0
    iterations: int = 0

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.attacked if self.attacked else float("nan")


@dataclass
class RunSummary:
    """What :func:`run_batch` did: ``results`` (the content of results.json, on rank 0; None on the
    other ranks), batches computed in this call and batches found done, ``already_finished`` when
    the output folder held a finished run of the same settings, ``recomputed`` the batch files found
    unreadable and computed again, ``warnings``."""

    out: Path
    results: dict[str, Any] | None
    computed_batches: int = 0
    skipped_batches: int = 0
    already_finished: bool = False
    rank: int = 0
    world: int = 1
    warnings: list[str] = field(default_factory=list)
    recomputed: list[str] = field(default_factory=list)


@dataclass
class _Tally:
    total: int
    done: int = 0
    succeeded: int = 0
    attacked: int = 0
    work_done: int = 0  # motions attacked in this call (for the ETA)
    work_time: float = 0.0
    batch_start: float = 0.0
    batch_size: int = 0
    t0: float = field(default_factory=time.monotonic)


def _predict_logits(net: torch.nn.Module, x: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    t = torch.as_tensor(x).to(device)
    with torch.no_grad():
        return net(t).float()


def _clean_predictions(ctx: D.Context, plan: RunPlan) -> dict[str, np.ndarray]:
    """Top-1 clean predictions of every model on the selection; batches shared out as in the attack."""
    chunks = batches(len(plan.motions), plan.cfg.batch_size)
    mine = {
        b: {
            k: _predict_logits(m.net, plan.motions[chunks[b]], ctx.device).argmax(1).cpu().numpy()
            for k, m in plan.models.items()
        }
        for b in range(len(chunks))
        if b % ctx.world == ctx.rank
    }
    merged: dict[int, dict[str, np.ndarray]] = {}
    for part in ctx.all_gather(mine):
        merged.update(part)
    return {
        k: np.concatenate([merged[b][k] for b in range(len(chunks))]).astype(np.int64) for k in plan.models
    }


class _Runner:
    def __init__(self, plan: RunPlan, ctx: D.Context, progress: Callable[[BatchProgress], Any] | None):
        self.plan, self.cfg, self.ctx, self.progress = plan, plan.cfg, ctx, progress
        self.computed = 0
        self.skipped = 0
        self.recomputed: list[str] = []
        self.calibration: dict[str, dict[str, Any]] = {}

    def check_out_folder(self) -> dict[str, Any] | None:
        """The finished results when ``out`` holds this very run; an error when it holds another."""
        out, fp = self.plan.out, self.plan.fingerprint
        cfg_file, res_file = out / "config.json", out / RESULTS
        if cfg_file.is_file():
            try:
                old = json.loads(cfg_file.read_text())
            except (OSError, ValueError):
                old = {}
            if old.get("fingerprint") != fp:
                raise WorkbenchError(
                    f"{out} holds a run with other settings, models or data (fingerprint "
                    f"{old.get('fingerprint')} ≠ {fp}); choose another output folder or delete it"
                )
            if res_file.is_file():
                try:
                    res = json.loads(res_file.read_text())
                except (OSError, ValueError):
                    res = {}
                if res.get("fingerprint") == fp:
                    return res
        elif res_file.is_file() or (out / "work").is_dir():
            raise WorkbenchError(
                f"{out} holds results without their config.json; choose another output folder or delete it"
            )
        return None

    def my_batches(self, job: Job) -> list[tuple[int, np.ndarray]]:
        return [
            (b, p) for b, p in enumerate(self.plan.job_batches(job)) if b % self.ctx.world == self.ctx.rank
        ]

    def _targets(self, positions: np.ndarray, job: Job) -> np.ndarray | None:
        p = self.plan
        if job.strategy.kind != "sa":
            return None
        return sa_targets(
            p.sel[positions], p.labels[positions], p.ds.num_classes, self.cfg.seed, self.cfg.sa_target
        )

    def iaa_config(self, job: Job, eps: float) -> IAAConfig:
        a = self.cfg.attack_config()
        step = self.cfg.iaa_step if self.cfg.iaa_step is not None else IAAConfig().step
        return IAAConfig(
            strategy=job.strategy.kind,
            top_n=job.strategy.top_n if job.strategy.kind == "abn" else 3,
            epsilon=eps,
            step=step,
            iterations=a.iterations,
            classification_loss=a.classification_loss,
            confidence=a.confidence,
            stop_on_success=a.stop_on_success,
            device=str(self.ctx.device),
            seed=self.cfg.seed,
        )

    def _attack(self, job: Job, x: np.ndarray, y: np.ndarray, tgt: np.ndarray | None, cb: Callable, eps=None):
        p = self.plan
        net = p.models[job.model].net
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        targets = None if tgt is None else torch.from_numpy(tgt)
        if job.variant == "iaa":
            return iaa_attack(
                net,
                xt,
                yt,
                layout=p.ds.layout,
                config=self.iaa_config(job, eps),
                callback=cb,
                targets=targets,
            )
        kind = job.strategy
        cfg = self.cfg.attack_config(
            strategy=kind.kind,
            top_n=kind.top_n if kind.kind == "abn" else 3,
            perceptual=job.variant,
            device=str(self.ctx.device),
            seed=self.cfg.seed,
        )
        return attack(net, xt, yt, layout=p.ds.layout, config=cfg, callback=cb, targets=targets)

    def run_one_batch(self, job: Job, positions: np.ndarray, report: Callable[[int], None]) -> dict[str, Any]:
        p, dev = self.plan, self.ctx.device
        tgt = self._targets(positions, job)
        t0 = time.perf_counter()
        res = self._attack(
            job,
            p.motions[positions],
            p.labels[positions],
            tgt,
            lambda step: report(int(step.iteration)),
            self.calibration.get(job.model, {}).get("epsilon"),
        )
        seconds = time.perf_counter() - t0
        adv = res.adversarial.numpy().astype(np.float32)
        y = torch.from_numpy(p.labels[positions])
        rec: dict[str, Any] = {
            "fingerprint": p.fingerprint,
            "job": job.key,
            "positions": positions,
            "dataset_index": p.sel[positions],
            "adversarial": adv,
            "labels": p.labels[positions],
            "targets": res.targets.numpy().astype(np.int64),
            "success": res.success.numpy().astype(bool),
            "iterations": res.iterations.numpy().astype(np.int64),
            "flip_iteration": res.flip_iteration.numpy().astype(np.int64),
            "predicted": res.predicted.numpy().astype(np.int64),
            "confidence": res.probabilities.max(1).values.numpy().astype(np.float32),
            "saturated": res.saturated.numpy().astype(bool),
            "seconds": np.float64(seconds),
        }
        m = M.sample_metrics(p.motions[positions], adv, p.ds.layout, p.ds.fps, per_joint=True)
        for k, v in m.items():
            rec[f"metric_{k}"] = np.asarray(v, dtype=np.float64)
        targets = [t for t in p.pairs.get(job.model, ()) if t != job.model] if job.main else []
        rec["transfer_targets"] = np.array(targets, dtype=str)
        preds, goals = [], []
        tgt_t = None if tgt is None else torch.from_numpy(tgt).to(dev)
        for t in targets:
            logits = _predict_logits(p.models[t].net, adv, dev)
            preds.append(logits.argmax(1).cpu().numpy())
            goals.append(
                L.goal_reached(logits, y.to(dev), job.strategy.kind, targets=tgt_t, top_n=job.strategy.top_n)
                .cpu()
                .numpy()
            )
        n = len(positions)
        rec["transfer_predicted"] = np.array(preds, dtype=np.int64).reshape(len(targets), n)
        rec["transfer_goal"] = np.array(goals, dtype=bool).reshape(len(targets), n)
        return rec

    def calibrate_iaa(self, job: Job, smart_job: Job) -> dict[str, Any]:
        """ε of the IAA-style baseline whose success rate over the job's motions (or the first
        ``iaa_calibration`` of them) matches SMART's over the whole job: doubled from 1 cm until it
        reaches it, then bisected; IAA's step stays fixed."""
        p, cfg = self.plan, self.cfg
        cal_file = p.out / "work" / f"{job.model}__iaa_calibration.json"
        if cal_file.is_file():
            try:
                cal = json.loads(cal_file.read_text())
                if cal.get("fingerprint") == p.fingerprint:
                    return cal
            except (OSError, ValueError):
                pass
        # SMART's success rate over the whole job, from every rank's batch files
        mine = []
        for b, positions in self.my_batches(smart_job):
            r = p.read_batch(smart_job, b, positions)
            if r.data is None:
                raise WorkbenchError(f"{p.batch_file(smart_job, b)}: {r.status} before the IAA calibration")
            mine.append(int(r.data["success"].sum()))
        pos_all = p.job_positions(smart_job)
        succ = sum(sum(part) for part in self.ctx.all_gather(mine))
        target = succ / len(pos_all) if len(pos_all) else float("nan")
        pos = pos_all if cfg.iaa_calibration is None else pos_all[: cfg.iaa_calibration]
        trace: list[list[float]] = []

        def rate(eps: float) -> float:
            ok = 0
            trial = len(trace) + 1
            for chunk in batches(len(pos), cfg.batch_size):
                pp = pos[chunk]

                def cb(step, eps=eps, trial=trial) -> None:
                    self.emit(
                        job,
                        None,
                        f"calibrating IAA ε: trial {trial}, ε = {1000 * eps:.2f} mm",
                        int(step.iteration),
                        int(step.total_iterations),
                    )

                res = self._attack(job, p.motions[pp], p.labels[pp], self._targets(pp, job), cb, eps)
                ok += int(res.success.sum())
            r = ok / len(pos)
            trace.append([eps, r])
            return r

        # beyond step × iterations a larger ε changes nothing: IAA cannot move further
        cap = min(0.64, self.iaa_config(job, 0.01).step * max(cfg.attack_config().iterations, 1))
        eps = min(0.01, cap)
        if len(pos) and np.isfinite(target):
            lo, hi = 0.0, eps
            while rate(hi) < target and hi < cap:
                lo, hi = hi, min(hi * 2, cap)
            for _ in range(cfg.iaa_bisections if trace[-1][1] >= target else 0):
                mid = (lo + hi) / 2
                if rate(mid) >= target:
                    hi = mid
                else:
                    lo = mid
            eps = hi
        cal = {
            "fingerprint": p.fingerprint,
            "epsilon": eps,
            "step": self.iaa_config(job, eps).step,
            "smart_success_rate": target,
            "calibration_motions": int(len(pos)),
            "trace": trace,
        }
        if self.ctx.is_main:
            write_json(cal_file, cal)
        return cal

    def execute(self) -> None:
        p = self.plan
        self.tally = _Tally(total=sum(len(c) for job in p.jobs for _, c in self.my_batches(job)))
        tl = self.tally
        for job in p.jobs:
            if job.variant == "iaa" and job.model not in self.calibration:
                smart = next(
                    j
                    for j in p.jobs
                    if j.model == job.model and j.strategy == job.strategy and j.variant == "smart"
                )
                self.emit(job, None, "calibrating IAA ε")
                self.calibration[job.model] = self.calibrate_iaa(job, smart)
            for b, positions in self.my_batches(job):
                r = p.read_batch(job, b, positions)
                rec = r.data
                if rec is None:
                    if r.status == "corrupt":
                        self.recomputed.append(str(p.batch_file(job, b)))
                    tl.batch_start, tl.batch_size = time.monotonic(), len(positions)
                    rec = self.run_one_batch(job, positions, lambda it, job=job: self.emit_iteration(job, it))
                    write_npz(p.batch_file(job, b), **rec)
                    self.computed += 1
                    tl.work_done += len(positions)
                    tl.work_time += time.monotonic() - tl.batch_start
                else:
                    self.skipped += 1
                tl.done += len(positions)
                tl.attacked += len(positions)
                tl.succeeded += int(rec["success"].sum())
                rate = tl.work_done / tl.work_time if tl.work_time > 0 else None
                left = tl.total - tl.done
                self.emit(job, left / rate if rate else (0.0 if left <= 0 else None))

    def emit_iteration(self, job: Job, it: int) -> None:
        tl = self.tally
        total_it = max(self.cfg.attack_config().iterations, 1)
        frac = min(it / total_it, 1.0) * tl.batch_size
        rate = (tl.work_done + frac) / max(tl.work_time + time.monotonic() - tl.batch_start, 1e-9)
        self.emit(job, (tl.total - tl.done - frac) / rate if rate > 0 else None, "attack", it, total_it)

    def emit(
        self, job: Job, eta: float | None, phase: str = "attack", iteration: int = 0, iterations: int = 0
    ) -> None:
        if self.progress is not None:
            tl = self.tally
            self.progress(
                BatchProgress(
                    job.key,
                    tl.done,
                    tl.total,
                    tl.succeeded,
                    tl.attacked,
                    time.monotonic() - tl.t0,
                    eta,
                    self.ctx.rank,
                    self.ctx.world,
                    phase,
                    iteration,
                    iterations,
                )
            )


def run_batch(config: BatchConfig, progress: Callable[[BatchProgress], Any] | None = None) -> RunSummary:
    """Run ``config`` (see :class:`BatchConfig`); under torchrun each rank runs its shard and rank 0
    merges. With ``config.seeds`` > 1 the run is repeated per seed (``out/seed_<s>``) and the spread
    reported in ``out``. Raises :class:`~engine.errors.WorkbenchError` (a ``ValueError``) on bad input
    before anything is written. Returns a :class:`RunSummary`; the outputs are in ``config.out``."""
    if not isinstance(config, BatchConfig):
        raise ValueError(f"config must be a BatchConfig, got {type(config).__name__}")
    if config.seeds > 1:
        return _run_seeds(config, progress)
    ctx = D.setup(config.device)
    try:
        if config.threads:
            torch.set_num_threads(config.threads)
        plan = make_plan(config, ctx.device)
        r = _Runner(plan, ctx, progress)
        finished = r.check_out_folder()
        if finished is not None:
            return RunSummary(
                plan.out,
                finished if ctx.is_main else None,
                already_finished=True,
                rank=ctx.rank,
                world=ctx.world,
                warnings=list(finished.get("warnings", [])),
            )
        plan.clean = _clean_predictions(ctx, plan)
        _check_disk(plan)
        if ctx.is_main:
            clean_temporaries(plan.out)
            write_json(
                plan.out / "config.json",
                {
                    "format": FORMAT,
                    "fingerprint": plan.fingerprint,
                    "config": config.to_dict(),
                    "versions": versions(),
                },
            )
            write_text(
                plan.out / "run.toml",
                to_toml(
                    config,
                    "smart-attack settings of this run; rerun with\n"
                    f"smart-attack --config {plan.out / 'run.toml'}",
                ),
            )
        ctx.barrier()
        r.execute()
        ctx.barrier()
        recomputed = [x for part in ctx.all_gather(r.recomputed) for x in part]
        results = None
        if ctx.is_main:
            notes = [f"{f}: unreadable (damaged); computed again" for f in recomputed]
            results = merge_outputs(plan, r.calibration, ctx.world, notes)
        ctx.barrier()
        warnings = list(results["warnings"]) if results else []
        return RunSummary(
            plan.out, results, r.computed, r.skipped, False, ctx.rank, ctx.world, warnings, recomputed
        )
    finally:
        ctx.close()


def _run_seeds(config: BatchConfig, progress) -> RunSummary:
    """``config.seeds`` runs (seeds ``seed, seed + 1, …``) in ``out/seed_<s>``; the spread in ``out``."""
    out = Path(config.out)
    subs = []
    for s in range(config.seed, config.seed + config.seeds):
        subs.append(run_batch(config.replace(seeds=1, seed=s, out=str(out / f"seed_{s}")), progress))
    if subs[0].results is None:  # not rank 0
        return RunSummary(out, None, rank=subs[0].rank, world=subs[0].world)
    results = merge_seeds(out, config, [s.results for s in subs])
    return RunSummary(
        out,
        results,
        sum(s.computed_batches for s in subs),
        sum(s.skipped_batches for s in subs),
        all(s.already_finished for s in subs),
        subs[0].rank,
        subs[0].world,
        list(results["warnings"]),
        [x for s in subs for x in s.recomputed],
    )


def _check_disk(plan: RunPlan) -> None:
    """Refuse to start when the output folder's disk cannot hold the run (a rough estimate)."""
    per_motion = int(np.prod(plan.motions.shape[1:])) * 4
    n = sum(len(plan.job_positions(j)) for j in plan.jobs)
    need = n * per_motion * 3 + (1 << 20)  # batch files, the merged adversarial + original motions
    plan.out.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(plan.out).free
    if free < need:
        raise WorkbenchError(f"{plan.out}: {free / 1e6:.0f} MB free, the run needs about {need / 1e6:.0f} MB")
