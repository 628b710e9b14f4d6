"""The dataset-scale run: validate, evaluate, attack in (sharded, resumable) batches, merge, report.

Protocol (paper §4): every model is first evaluated on the selected motions and only the motions
it classifies correctly are attacked. Each (model, strategy[, compare variant]) job's motions are
cut into batches of ``batch_size``; batch ``b`` belongs to rank ``b mod world`` and is written to
``work/<job>/batch_<b>.npz`` (atomically) as soon as it is done, so an interrupted run resumes
where it stopped, and a batch's result does not depend on which rank or how many ranks ran it.
Rank 0 merges the batch files into the outputs; ``results.json`` is written last and marks a
finished run.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import metrics as M
from ..attack import AttackConfig, IAAConfig, attack, iaa_attack
from ..attack import losses as L
from ..errors import CheckpointError, LayoutMismatchError, WorkbenchError
from . import dist as D
from .config import COMPARE_VARIANTS, BatchConfig, Strategy
from .files import clean_temporaries, write_json, write_npz, write_text

__all__ = ["FORMAT", "RESULTS", "BatchProgress", "RunSummary", "run_batch", "sa_targets"]

FORMAT = "smart-workbench/batch-run-1"
RESULTS = "results.json"
#: settings that do not change the results (a run may resume with other values)
_NOT_IN_FINGERPRINT = ("out", "device", "threads")


@dataclass
class BatchProgress:
    """Where this rank stands: motions done of its total (all jobs), successes so far, ETA in s."""

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

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.attacked if self.attacked else float("nan")


@dataclass
class RunSummary:
    """What :func:`run_batch` did: ``results`` (the content of results.json, on rank 0; None on the
    other ranks), batches computed in this call and batches found done, ``already_finished`` when
    the output folder held a finished run of the same settings."""

    out: Path
    results: dict[str, Any] | None
    computed_batches: int = 0
    skipped_batches: int = 0
    already_finished: bool = False
    rank: int = 0
    world: int = 1
    warnings: list[str] = field(default_factory=list)


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


@dataclass
class _Model:
    key: str
    spec: str
    path: Path
    net: torch.nn.Module
    meta: Any
    sha256: str


@dataclass
class _Job:
    model: str
    strategy: Strategy
    variant: str  # a perceptual variant of SMART, or 'iaa'
    main: bool  # the run's own perceptual variant (white_box / transfer use these)

    @property
    def key(self) -> str:
        return f"{self.model}/{self.strategy.name}" + ("" if self.main else f"/{self.variant}")

    @property
    def dirname(self) -> str:
        return f"{self.model}__{self.strategy.name}__{self.variant}"


# -- preparation (everything that can fail before work starts) -------------------------------------

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _load_dataset(spec: str):
    from ..demo import demo_names, load_demo

    if spec in demo_names():
        return load_demo(spec), spec
    path = Path(spec)
    if not path.exists():
        raise WorkbenchError(f"{spec}: no such dataset file or folder (demos: {demo_names()})")
    from ..datasets import load

    return load(path), None


def _select(ds, demo: str | None, cfg: BatchConfig) -> tuple[np.ndarray, str]:
    split = cfg.split or ("val" if demo or cfg.val_subjects else "all")
    idx = np.arange(len(ds))
    desc = "all motions"
    if split == "val":
        if cfg.val_subjects:
            subjects = list(cfg.val_subjects)
        elif demo:
            from ..demo import demo_val_subjects

            subjects = demo_val_subjects(demo)
        else:
            raise WorkbenchError("split 'val' of a dataset file needs val_subjects "
                                 "(--val-subjects S1 S2 ...)")
        known = {s for s in ds.subjects if s is not None}
        unknown = sorted(set(subjects) - known)
        if unknown:
            raise WorkbenchError(f"unknown val subjects {unknown}; the dataset's subjects are "
                                 f"{sorted(known)}")
        idx = np.flatnonzero(np.array([s in set(subjects) for s in ds.subjects], dtype=bool))
        desc = f"held-out subjects {sorted(subjects)}"
    if cfg.limit is not None and cfg.limit < idx.size:
        rng = np.random.default_rng(cfg.seed)
        idx = np.sort(idx[rng.choice(idx.size, cfg.limit, replace=False)])
        desc += f", {cfg.limit} chosen at random (seed {cfg.seed})"
    if idx.size == 0:
        raise WorkbenchError(f"no motions to attack in split {split!r} of {cfg.dataset!r}")
    return idx, f"{split}: {desc}"


def _model_key(spec: str, shipped: list[str]) -> str:
    return spec if spec in shipped else Path(spec).stem


def _resolve_path(spec: str, demo: str | None) -> tuple[Path, list[str]]:
    from ..demo import demo_models

    shipped = demo_models(demo) if demo else []
    if spec in shipped:
        from ..demo import demo_checkpoint

        return demo_checkpoint(demo, spec), shipped
    p = Path(spec)
    if p.is_file():
        return p, shipped
    if demo:
        raise CheckpointError(f"{spec}: neither a shipped checkpoint of demo {demo!r} ({shipped}) nor a file")
    raise CheckpointError(f"{spec}: no such checkpoint file (shipped names such as 'mlp' only apply to the "
                          "demos 'demo' and 'hdm05-demo')")


def _load_models(cfg: BatchConfig, ds, demo: str | None, device: torch.device) -> tuple[dict[str, _Model],
                                                                                         dict[str, str]]:
    from ..models import load_checkpoint

    models: dict[str, _Model] = {}
    keys: dict[str, str] = {}
    probe = torch.from_numpy(ds.motions[:1]).to(device)
    for spec in cfg.all_models:
        path, shipped = _resolve_path(spec, demo)
        key = _model_key(spec, shipped)
        if key in models:
            raise CheckpointError(f"two models are both named {key!r} ({models[key].path} and {path}); "
                                  "rename one file")
        net, meta = load_checkpoint(path)
        if meta.layout != ds.layout.name:
            raise LayoutMismatchError(f"{path}: the model was trained on layout {meta.layout!r}, the dataset "
                                      f"{cfg.dataset!r} is in {ds.layout.name!r}")
        if meta.num_classes != ds.num_classes:
            raise CheckpointError(f"{path}: the model has {meta.num_classes} classes, the dataset "
                                  f"{cfg.dataset!r} has {ds.num_classes}")
        generic = all(n == f"class {i}" for i, n in enumerate(meta.class_names))
        if not generic and list(meta.class_names) != list(ds.class_names):
            diff = [(i, a, b) for i, (a, b) in enumerate(zip(meta.class_names, ds.class_names, strict=True))
                    if a != b][:3]
            raise CheckpointError(f"{path}: the model's class names differ from the dataset's (index, model, "
                                  f"dataset: {diff} ...)")
        net = net.to(device).eval()
        try:
            with torch.no_grad():
                out = net(probe)
        except Exception as exc:  # noqa: BLE001 - any failure here means the data does not fit the model
            raise LayoutMismatchError(f"{path}: the model cannot run on the dataset's motions "
                                      f"{tuple(ds.motions.shape[1:])}: {type(exc).__name__}: {exc}") from None
        if tuple(out.shape) != (1, ds.num_classes):
            raise LayoutMismatchError(f"{path}: the model returned shape {tuple(out.shape)} for one motion, "
                                      f"expected (1, {ds.num_classes})")
        models[key] = _Model(key, spec, path, net, meta, _sha256(path))
        keys[spec] = key
    return models, keys


def sa_targets(dataset_index: np.ndarray, labels: np.ndarray, num_classes: int, seed: int,
               fixed: int | None = None) -> np.ndarray:
    """SA targets per motion: ``fixed`` for all, or a class drawn from a generator seeded with
    ``(seed, dataset index)`` among the classes other than the clean label (independent of the batch,
    rank and model, so every model is asked for the same target on the same motion)."""
    if fixed is not None:
        return np.full(len(labels), fixed, dtype=np.int64)
    out = np.empty(len(labels), dtype=np.int64)
    for i, (d, y) in enumerate(zip(dataset_index, labels, strict=True)):
        t = int(np.random.default_rng([seed, int(d)]).integers(num_classes - 1))
        out[i] = t + (t >= y)
    return out


def _fingerprint(cfg: BatchConfig, models: dict[str, _Model], ds, sel: np.ndarray) -> str:
    c = {k: v for k, v in cfg.to_dict().items() if k not in _NOT_IN_FINGERPRINT}
    h = hashlib.sha256(json.dumps(c, sort_keys=True, default=str).encode())
    for k in sorted(models):
        h.update(f"{k}:{models[k].sha256}".encode())
    h.update(np.ascontiguousarray(sel).tobytes())
    h.update(np.ascontiguousarray(ds.labels).tobytes())
    h.update(repr((ds.motions.shape, ds.layout.name, ds.fps, list(ds.class_names))).encode())
    h.update(FORMAT.encode())
    return h.hexdigest()[:20]


def _versions() -> dict[str, str]:
    try:
        pkg = importlib.metadata.version("smart-workbench")
    except importlib.metadata.PackageNotFoundError:
        pkg = "unknown"
    return {"smart-workbench": pkg, "torch": torch.__version__, "numpy": np.__version__,
            "python": sys.version.split()[0], "platform": platform.platform()}


# -- the work -------------------------------------------------------------------------------------

def _batches(n: int, size: int) -> list[np.ndarray]:
    return [np.arange(s, min(s + size, n)) for s in range(0, n, size)]


def _predict_logits(net: torch.nn.Module, x: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    t = torch.as_tensor(x).to(device)
    with torch.no_grad():
        return net(t).float()


def _clean_predictions(ctx: D.Context, models: dict[str, _Model], motions: np.ndarray, size: int
                       ) -> dict[str, np.ndarray]:
    """Top-1 clean predictions of every model on ``motions``; batches shared out as in the attack."""
    chunks = _batches(len(motions), size)
    mine = {b: {k: _predict_logits(m.net, motions[chunks[b]], ctx.device).argmax(1).cpu().numpy()
                for k, m in models.items()}
            for b in range(len(chunks)) if b % ctx.world == ctx.rank}
    merged: dict[int, dict[str, np.ndarray]] = {}
    for part in ctx.all_gather(mine):
        merged.update(part)
    return {k: np.concatenate([merged[b][k] for b in range(len(chunks))]).astype(np.int64) for k in models}


def _jobs(cfg: BatchConfig, keys: dict[str, str]) -> list[_Job]:
    jobs = [_Job(keys[m], s, cfg.perceptual, True)
            for m in cfg.attacked_models for s in cfg.parsed_strategies()]
    if cfg.compare:
        st = cfg.compare_on()
        others = [v for v in ("smart", *COMPARE_VARIANTS) if v != cfg.perceptual]
        jobs += [_Job(keys[m], st, v, False) for m in cfg.attacked_models for v in others]
    return jobs


class _Runner:
    def __init__(self, cfg: BatchConfig, ctx: D.Context, progress: Callable[[BatchProgress], Any] | None):
        self.cfg, self.ctx, self.progress = cfg, ctx, progress
        self.out = Path(cfg.out)
        self.computed = 0
        self.skipped = 0
        self.warnings: list[str] = []

    # ---- set-up --------------------------------------------------------------------------------
    def prepare(self) -> None:
        cfg = self.cfg
        self.ds, self.demo = _load_dataset(cfg.dataset)
        self.sel, self.split_desc = _select(self.ds, self.demo, cfg)
        self.models, self.keys = _load_models(cfg, self.ds, self.demo, self.ctx.device)
        c = self.ds.num_classes
        for st in cfg.parsed_strategies():
            if st.kind == "abn" and st.top_n >= c:
                raise WorkbenchError(f"strategy {st.name}: top {st.top_n} leaves no room, the dataset has "
                                     f"{c} classes")
            if st.kind == "sa" and c < 2:
                raise WorkbenchError("the specified attack needs at least two classes")
        if cfg.sa_target is not None and cfg.sa_target >= c:
            raise WorkbenchError(f"sa_target {cfg.sa_target} is out of range: the dataset has {c} classes "
                                 f"(0…{c - 1})")
        # the attack's own checks, before any work
        self.attack_config(Strategy("ab", "ab"), cfg.perceptual)
        self.motions = self.ds.motions[self.sel]
        self.labels = self.ds.labels[self.sel]
        self.fingerprint = _fingerprint(cfg, self.models, self.ds, self.sel)
        self.jobs = _jobs(cfg, self.keys)
        self.pairs = {self.keys[s]: tuple(self.keys[t] for t in ts) for s, ts in cfg.transfer_pairs().items()}

    def check_out_folder(self) -> dict[str, Any] | None:
        """The finished results when ``out`` holds this very run; an error when it holds another."""
        cfg_file, res_file = self.out / "config.json", self.out / RESULTS
        if cfg_file.is_file():
            try:
                old = json.loads(cfg_file.read_text())
            except (OSError, ValueError):
                old = {}
            if old.get("fingerprint") != self.fingerprint:
                raise WorkbenchError(
                    f"{self.out} holds a run with other settings, models or data (fingerprint "
                    f"{old.get('fingerprint')} ≠ {self.fingerprint}); choose another output folder or "
                    "delete it")
            if res_file.is_file():
                try:
                    res = json.loads(res_file.read_text())
                except (OSError, ValueError):
                    res = {}
                if res.get("fingerprint") == self.fingerprint:
                    return res
        elif res_file.is_file() or (self.out / "work").is_dir():
            raise WorkbenchError(f"{self.out} holds results without their config.json; choose another output "
                                 "folder or delete it")
        return None

    def attack_config(self, st: Strategy, variant: str) -> AttackConfig:
        cfg = self.cfg
        return AttackConfig(strategy=st.kind, top_n=st.top_n if st.kind == "abn" else 3, w=cfg.w,
                            alpha=cfg.alpha, betas=cfg.betas, lr=cfg.lr, iterations=cfg.iterations,
                            perceptual=variant, stop_on_success=True,
                            classification_loss=cfg.classification_loss, confidence=cfg.confidence,
                            device=str(self.ctx.device), seed=cfg.seed)

    # ---- jobs ----------------------------------------------------------------------------------
    def job_positions(self, job: _Job) -> np.ndarray:
        pos = np.flatnonzero(self.clean[job.model] == self.labels)
        if job.strategy.kind == "sa" and self.cfg.sa_target is not None:
            pos = pos[self.labels[pos] != self.cfg.sa_target]
        return pos

    def my_batches(self, job: _Job) -> list[tuple[int, np.ndarray]]:
        chunks = _batches(len(self.job_positions(job)), self.cfg.batch_size)
        return [(b, c) for b, c in enumerate(chunks) if b % self.ctx.world == self.ctx.rank]

    def batch_file(self, job: _Job, b: int) -> Path:
        return self.out / "work" / job.dirname / f"batch_{b:05d}.npz"

    def read_batch(self, path: Path, job: _Job, positions: np.ndarray) -> dict[str, np.ndarray] | None:
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError):
            return None
        if (str(data.get("fingerprint")) != self.fingerprint or str(data.get("job")) != job.key
                or not np.array_equal(data.get("positions"), positions)):
            return None
        return data

    def run_batch(self, job: _Job, positions: np.ndarray, report: Callable[[int], None]) -> dict[str, Any]:
        cfg, dev = self.cfg, self.ctx.device
        net = self.models[job.model].net
        x = torch.from_numpy(self.motions[positions])
        y = torch.from_numpy(self.labels[positions])
        dsi = self.sel[positions]
        tgt = (sa_targets(dsi, self.labels[positions], self.ds.num_classes, cfg.seed, cfg.sa_target)
               if job.strategy.kind == "sa" else None)

        def cb(step) -> None:
            report(int(step.iteration))

        if job.variant == "iaa":
            eps = self.iaa_epsilon[job.model]
            icfg = IAAConfig(strategy=job.strategy.kind, top_n=max(job.strategy.top_n, 1), epsilon=eps,
                             step=eps / 10, iterations=cfg.iterations,
                             classification_loss=cfg.classification_loss, device=str(dev), seed=cfg.seed)
            res = iaa_attack(net, x, y, self.ds.layout, icfg, callback=cb, targets=tgt)
        else:
            res = attack(net, x, y, self.ds.layout, self.attack_config(job.strategy, job.variant),
                         callback=cb, targets=tgt)
        adv = res.adversarial.numpy().astype(np.float32)
        rec: dict[str, Any] = {
            "fingerprint": self.fingerprint, "job": job.key, "positions": positions, "dataset_index": dsi,
            "adversarial": adv, "labels": self.labels[positions],
            "targets": res.targets.numpy().astype(np.int64), "success": res.success.numpy().astype(bool),
            "iterations": res.iterations.numpy().astype(np.int64),
            "flip_iteration": res.flip_iteration.numpy().astype(np.int64),
            "predicted": res.predicted.numpy().astype(np.int64),
            "confidence": res.probabilities.max(1).values.numpy().astype(np.float32),
            "saturated": res.saturated.numpy().astype(bool),
        }
        for k, v in M.sample_metrics(self.motions[positions], adv, self.ds.layout, self.ds.fps).items():
            rec[f"metric_{k}"] = np.asarray(v, dtype=np.float64)
        targets = [t for t in self.pairs.get(job.model, ()) if t != job.model] if job.main else []
        rec["transfer_targets"] = np.array(targets, dtype=str)
        preds, goals = [], []
        tgt_t = None if tgt is None else torch.from_numpy(tgt).to(dev)
        for t in targets:
            logits = _predict_logits(self.models[t].net, adv, dev)
            preds.append(logits.argmax(1).cpu().numpy())
            goals.append(L.goal_reached(logits, y.to(dev), job.strategy.kind, targets=tgt_t,
                                        top_n=job.strategy.top_n).cpu().numpy())
        n = len(positions)
        rec["transfer_predicted"] = np.array(preds, dtype=np.int64).reshape(len(targets), n)
        rec["transfer_goal"] = np.array(goals, dtype=bool).reshape(len(targets), n)
        return rec

    def calibrate_iaa(self, model: str, smart_job: _Job) -> dict[str, Any]:
        """ε of the IAA-style baseline whose success rate on a calibration subset matches SMART's."""
        cal_file = self.out / "work" / f"{model}__iaa_calibration.json"
        if cal_file.is_file():
            try:
                cal = json.loads(cal_file.read_text())
                if cal.get("fingerprint") == self.fingerprint:
                    return cal
            except (OSError, ValueError):
                pass
        # SMART's success rate over the whole job, from every rank's batch files
        mine = [int(self.read_batch(self.batch_file(smart_job, b), smart_job, p)["success"].sum())
                for b, p in ((b, self.job_positions(smart_job)[c]) for b, c in self.my_batches(smart_job))]
        n_all = len(self.job_positions(smart_job))
        succ = sum(sum(part) for part in self.ctx.all_gather(mine))
        target = succ / n_all if n_all else float("nan")
        pos = self.job_positions(smart_job)[: self.cfg.iaa_calibration]
        st, cfg = smart_job.strategy, self.cfg
        trace: list[list[float]] = []

        def rate(eps: float) -> float:
            x, yy = self.motions[pos], self.labels[pos]
            tgt = (sa_targets(self.sel[pos], yy, self.ds.num_classes, cfg.seed, cfg.sa_target)
                   if st.kind == "sa" else None)
            icfg = IAAConfig(strategy=st.kind, top_n=max(st.top_n, 1), epsilon=eps, step=eps / 10,
                             iterations=cfg.iterations, classification_loss=cfg.classification_loss,
                             device=str(self.ctx.device), seed=cfg.seed)
            r = iaa_attack(self.models[model].net, x, yy, self.ds.layout, icfg, targets=tgt).success_rate
            trace.append([eps, r])
            return r

        eps = 0.01
        if len(pos) and np.isfinite(target):
            lo, hi = 0.0, 0.01
            while rate(hi) < target and hi < 0.64:
                lo, hi = hi, hi * 2
            for _ in range(cfg.iaa_bisections if trace[-1][1] >= target else 0):
                mid = (lo + hi) / 2
                if rate(mid) >= target:
                    hi = mid
                else:
                    lo = mid
            eps = hi
        cal = {"fingerprint": self.fingerprint, "epsilon": eps, "step": eps / 10,
               "smart_success_rate": target, "calibration_motions": int(len(pos)), "trace": trace}
        if self.ctx.is_main:
            write_json(cal_file, cal)
        return cal

    def execute(self) -> None:
        self.iaa_epsilon: dict[str, float] = {}
        self.calibration: dict[str, dict[str, Any]] = {}
        self.tally = _Tally(total=sum(len(c) for job in self.jobs for _, c in self.my_batches(job)))
        tl = self.tally
        for job in self.jobs:
            if job.variant == "iaa" and job.model not in self.iaa_epsilon:
                smart = next(j for j in self.jobs if j.model == job.model and j.strategy == job.strategy
                             and j.variant == "smart")
                self.emit(job, None, "calibrating IAA epsilon")
                cal = self.calibrate_iaa(job.model, smart)
                self.calibration[job.model] = cal
                self.iaa_epsilon[job.model] = float(cal["epsilon"])
            pos_all = self.job_positions(job)
            for b, c in self.my_batches(job):
                positions = pos_all[c]
                path = self.batch_file(job, b)
                rec = self.read_batch(path, job, positions)
                if rec is None:
                    tl.batch_start, tl.batch_size = time.monotonic(), len(positions)
                    rec = self.run_batch(job, positions, lambda it, job=job: self.emit_iteration(job, it))
                    write_npz(path, **rec)
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

    def emit_iteration(self, job: _Job, it: int) -> None:
        tl = self.tally
        frac = min(it / max(self.cfg.iterations, 1), 1.0) * tl.batch_size
        rate = (tl.work_done + frac) / max(tl.work_time + time.monotonic() - tl.batch_start, 1e-9)
        self.emit(job, (tl.total - tl.done - frac) / rate if rate > 0 else None)

    def emit(self, job: _Job, eta: float | None, phase: str = "attack") -> None:
        if self.progress is not None:
            tl = self.tally
            self.progress(BatchProgress(job.key, tl.done, tl.total, tl.succeeded, tl.attacked,
                                        time.monotonic() - tl.t0, eta, self.ctx.rank, self.ctx.world, phase))

    # ---- merging -------------------------------------------------------------------------------
    def merged(self, job: _Job) -> dict[str, np.ndarray]:
        pos_all = self.job_positions(job)
        parts = []
        for b, c in enumerate(_batches(len(pos_all), self.cfg.batch_size)):
            rec = self.read_batch(self.batch_file(job, b), job, pos_all[c])
            if rec is None:
                raise WorkbenchError(f"{self.batch_file(job, b)}: missing or stale after all ranks finished")
            parts.append(rec)
        if not parts:
            return {}
        skip = {"fingerprint", "job", "transfer_targets"}
        out = {k: np.concatenate([p[k] for p in parts], axis=-1 if k.startswith("transfer_") else 0)
               for k in parts[0] if k not in skip}
        out["transfer_targets"] = parts[0]["transfer_targets"]
        return out


def run_batch(config: BatchConfig, progress: Callable[[BatchProgress], Any] | None = None) -> RunSummary:
    """Run ``config`` (see :class:`BatchConfig`); under torchrun each rank runs its shard and rank 0
    merges. Raises :class:`~engine.errors.WorkbenchError` (a ``ValueError``) on bad input before any
    attack starts. Returns a :class:`RunSummary`; the outputs are in ``config.out``."""
    if not isinstance(config, BatchConfig):
        raise ValueError(f"config must be a BatchConfig, got {type(config).__name__}")
    ctx = D.setup(config.device)
    try:
        if config.threads:
            torch.set_num_threads(config.threads)
        r = _Runner(config, ctx, progress)
        r.prepare()
        finished = r.check_out_folder()
        if finished is not None:
            return RunSummary(r.out, finished if ctx.is_main else None, already_finished=True, rank=ctx.rank,
                              world=ctx.world)
        r.clean = _clean_predictions(ctx, r.models, r.motions, config.batch_size)
        _check_disk(r)
        if ctx.is_main:
            clean_temporaries(r.out)
            from .config import to_toml

            write_json(r.out / "config.json", {"format": FORMAT, "fingerprint": r.fingerprint,
                                               "config": config.to_dict(), "versions": _versions()})
            write_text(r.out / "run.toml", to_toml(config, "smart-attack settings of this run; rerun with\n"
                                                           f"smart-attack --config {r.out / 'run.toml'}"))
        ctx.barrier()
        r.execute()
        ctx.barrier()
        results = None
        if ctx.is_main:
            from .merge import merge_outputs

            results = merge_outputs(r)
        ctx.barrier()
        warnings = list(results["warnings"]) if results else []
        return RunSummary(r.out, results, r.computed, r.skipped, False, ctx.rank, ctx.world, warnings)
    finally:
        ctx.close()


def _check_disk(r: _Runner) -> None:
    """Refuse to start when the output folder's disk cannot hold the run (a rough estimate)."""
    per_motion = int(np.prod(r.motions.shape[1:])) * 4
    n = sum(len(r.job_positions(j)) for j in r.jobs)
    need = n * per_motion * 3 + (1 << 20)  # batch files, the merged adversarial + original motions
    r.out.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(r.out).free
    if free < need:
        raise WorkbenchError(f"{r.out}: {free / 1e6:.0f} MB free, the run needs about {need / 1e6:.0f} MB")
