"""The plan of a dataset-scale run, shared by the runner (which executes it) and the merge (which
reads it): the public job and run types, the data and models the run uses, and the per-batch work
files. Imports neither the runner nor the merge.

A :class:`RunPlan` is built by :func:`make_plan` -- everything that can fail on bad input fails there,
before anything is written: the dataset (non-finite motions refused, naming the motion and its
file), the selection, the checkpoints and their fit to the data, the strategies' room.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import CheckpointError, DatasetError, LayoutMismatchError, WorkbenchError
from .config import PAPER_MODELS, BatchConfig, Strategy

__all__ = [
    "FORMAT",
    "RESULTS",
    "BatchRead",
    "Ensemble",
    "Job",
    "ModelEntry",
    "RunPlan",
    "batches",
    "make_plan",
    "sa_targets",
    "versions",
]

FORMAT = "smart-workbench/batch-run-2"
RESULTS = "results.json"
#: settings that do not change the results (a run may resume with other values)
NOT_IN_FINGERPRINT = ("out", "device", "threads", "seeds")
#: library advice that must never reach a user about an untrusted file
_LIBRARY_ADVICE = ("allow_pickle", "weights_only", "pickle.load", "unsafely")


@dataclass(frozen=True)
class Job:
    """One attack over a model's correctly classified motions: ``model`` (its key), ``strategy``,
    ``variant`` (a perceptual loss of SMART, or ``'iaa'``) and ``main`` (the run's own perceptual
    loss: the white-box and transfer tables use these jobs; the others are ``--compare``'s)."""

    model: str
    strategy: Strategy
    variant: str
    main: bool

    @property
    def key(self) -> str:
        return f"{self.model}/{self.strategy.name}" + ("" if self.main else f"/{self.variant}")

    @property
    def dirname(self) -> str:
        return f"{self.model}__{self.strategy.name}__{self.variant}"


@dataclass
class ModelEntry:
    """A loaded recognizer: ``key`` (its name in the tables), ``spec`` (as given), ``path``, the
    network, the checkpoint's metadata and sha256 (an ensemble: its members' paths and hashes)."""

    key: str
    spec: str
    path: Path | None
    net: nn.Module
    meta: Any
    sha256: str
    members: tuple[str, ...] = ()


class Ensemble(nn.Module):
    """Several recognizers as one: the mean of their logits. Attacking it attacks all of them at
    once (the transfer literature's ensemble of surrogates); it carries the members' ``layout``,
    ``class_names`` and ``num_classes``."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two models")
        self.members = nn.ModuleList(members)
        first = members[0]
        for name in ("layout", "class_names", "num_classes", "fps"):
            if hasattr(first, name):
                setattr(self, name, getattr(first, name))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x).float() for m in self.members]).mean(0)


@dataclass
class BatchRead:
    """A batch file read back: ``data`` (None when it must be computed) and ``status``: ``'ok'``,
    ``'missing'``, ``'stale'`` (another run's file) or ``'corrupt'`` (unreadable: recomputed)."""

    data: dict[str, np.ndarray] | None
    status: str


def batches(n: int, size: int) -> list[np.ndarray]:
    """Positions ``0 … n−1`` cut into consecutive batches of ``size``."""
    return [np.arange(s, min(s + size, n)) for s in range(0, n, size)]


def sa_targets(
    dataset_index: np.ndarray, labels: np.ndarray, num_classes: int, seed: int, fixed: int | None = None
) -> np.ndarray:
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


def versions() -> dict[str, str]:
    try:
        pkg = importlib.metadata.version("smart-workbench")
    except importlib.metadata.PackageNotFoundError:
        pkg = "unknown"
    return {
        "smart-workbench": pkg,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


@dataclass
class RunPlan:
    """What a run does, and where its work files are. Built by :func:`make_plan`; ``clean`` (every
    model's clean top-1 prediction on the selection) is filled in by the runner."""

    cfg: BatchConfig
    out: Path
    ds: Any
    demo: str | None
    sel: np.ndarray
    split_desc: str
    motions: np.ndarray
    labels: np.ndarray
    models: dict[str, ModelEntry]
    keys: dict[str, str]
    fingerprint: str
    jobs: list[Job]
    pairs: dict[str, tuple[str, ...]]
    warnings: list[str] = field(default_factory=list)
    clean: dict[str, np.ndarray] = field(default_factory=dict)

    # -- jobs and their batches -------------------------------------------------------------------
    def job(self, key: str) -> Job:
        return next(j for j in self.jobs if j.key == key)

    def job_positions(self, job: Job) -> np.ndarray:
        """Positions (in the selection) of the motions ``job`` attacks: those its model classifies
        correctly (and, for SA with one target for all, not of the target class)."""
        pos = np.flatnonzero(self.clean[job.model] == self.labels)
        if job.strategy.kind == "sa" and self.cfg.sa_target is not None:
            pos = pos[self.labels[pos] != self.cfg.sa_target]
        return pos

    def job_batches(self, job: Job) -> list[np.ndarray]:
        """The job's batches as positions in the selection."""
        pos = self.job_positions(job)
        return [pos[c] for c in batches(len(pos), self.cfg.batch_size)]

    def batch_file(self, job: Job, b: int) -> Path:
        return self.out / "work" / job.dirname / f"batch_{b:05d}.npz"

    def read_batch(self, job: Job, b: int, positions: np.ndarray) -> BatchRead:
        """Batch ``b`` of ``job`` if its file holds this run's result for these positions."""
        path = self.batch_file(job, b)
        if not path.is_file():
            return BatchRead(None, "missing")
        try:  # our own file object: np.load leaks its own on a damaged zip
            with path.open("rb") as f, np.load(f, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, RuntimeError):
            return BatchRead(None, "corrupt")
        try:
            same = (
                str(data.get("fingerprint")) == self.fingerprint
                and str(data.get("job")) == job.key
                and np.array_equal(data.get("positions"), positions)
            )
        except (TypeError, ValueError):
            return BatchRead(None, "corrupt")
        return BatchRead(data, "ok") if same else BatchRead(None, "stale")

    def load_job(self, job: Job) -> dict[str, np.ndarray]:
        """Every batch of ``job`` concatenated (``{}`` for a job without motions)."""
        parts = []
        for b, positions in enumerate(self.job_batches(job)):
            r = self.read_batch(job, b, positions)
            if r.data is None:
                raise WorkbenchError(f"{self.batch_file(job, b)}: {r.status} after all ranks finished")
            parts.append(r.data)
        if not parts:
            return {}
        skip = {"fingerprint", "job", "transfer_targets", "seconds"}
        out = {
            k: np.concatenate([p[k] for p in parts], axis=-1 if k.startswith("transfer_") else 0)
            for k in parts[0]
            if k not in skip
        }
        out["transfer_targets"] = parts[0]["transfer_targets"]
        out["batch_seconds"] = np.array([float(p.get("seconds", np.nan)) for p in parts])
        out["batch_iterations"] = np.array([int(p["iterations"].max(initial=0)) for p in parts])
        out["batch_sizes"] = np.array([len(p["positions"]) for p in parts])
        return out


# -- building the plan ----------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _in_our_words(exc: Exception, path: Path, what: str) -> WorkbenchError:
    """``exc`` as an error in our words: library advice (numpy's allow_pickle, torch's weights_only)
    about an untrusted file is replaced; the original stays as ``__cause__``."""
    text = str(exc)
    cls = (
        type(exc)
        if isinstance(exc, WorkbenchError)
        else (DatasetError if what == "dataset" else CheckpointError)
    )
    if isinstance(exc, WorkbenchError) and not any(a in text for a in _LIBRARY_ADVICE):
        return exc
    if what == "dataset":
        msg = (
            f"{path}: not a dataset file we can read (damaged, truncated, or not one of the formats "
            "engine.datasets.load reads); we never load pickled Python objects from a data file"
        )
    else:
        msg = (
            f"{path}: not a checkpoint we can read (damaged, or not a SMART Workbench checkpoint, state "
            "dict or TorchScript file); we never load pickled Python objects from a checkpoint"
        )
    err = cls(msg)
    err.__cause__ = exc
    return err


def _load_dataset(spec: str):
    from ..demo import demo_names, load_demo

    if spec in demo_names():
        return load_demo(spec), spec
    path = Path(spec)
    if not path.exists():
        raise DatasetError(f"{spec}: no such dataset file or folder (demos: {demo_names()})")
    from ..datasets import load

    try:
        return load(path), None
    except Exception as exc:  # noqa: BLE001 - any failure to read the file is reported in our words
        raise _in_our_words(exc, path, "dataset") from exc


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
            raise WorkbenchError(
                "split 'val' of a dataset file needs val_subjects (--val-subjects S1 S2 ...)"
            )
        known = {s for s in ds.subjects if s is not None}
        unknown = sorted(set(subjects) - known)
        if unknown:
            raise WorkbenchError(
                f"unknown val subjects {unknown}; the dataset's subjects are {sorted(known)}"
            )
        idx = np.flatnonzero(np.array([s in set(subjects) for s in ds.subjects], dtype=bool))
        desc = f"held-out subjects {sorted(subjects)}"
    if cfg.limit is not None and cfg.limit < idx.size:
        rng = np.random.default_rng(cfg.seed)
        idx = np.sort(idx[rng.choice(idx.size, cfg.limit, replace=False)])
        desc += f", {cfg.limit} chosen at random (seed {cfg.seed})"
    if idx.size == 0:
        raise WorkbenchError(f"no motions to attack in split {split!r} of {cfg.dataset!r}")
    return idx, f"{split}: {desc}"


def _check_finite(ds, sel: np.ndarray, spec: str) -> None:
    """Refuse a selection holding NaN or infinite coordinates, naming the motion and its file."""
    bad = [int(i) for i in sel if not np.isfinite(ds.motions[i]).all()]
    if bad:
        i = bad[0]
        src = ds.sources[i] if getattr(ds, "sources", None) is not None else spec
        more = (
            f" (and {len(bad) - 1} more: dataset indices {bad[1:6]}{' ...' if len(bad) > 6 else ''})"
            if len(bad) > 1
            else ""
        )
        raise DatasetError(
            f"{spec}: motion {i} (from {src}) has NaN or infinite coordinates{more}; "
            "repair or remove it before attacking"
        )


def _expand_models(names: tuple[str, ...], demo: str | None, warnings: list[str]) -> tuple[str, ...]:
    """``'paper'`` → the paper's seven recognizers that the demo ships (missing ones named)."""
    if "paper" not in names:
        return names
    from ..demo import demo_models

    shipped = demo_models(demo) if demo else []
    have = [m for m in PAPER_MODELS if m in shipped]
    missing = [m for m in PAPER_MODELS if m not in shipped]
    where = f"demo {demo!r}" if demo else "a dataset file"
    if not have:
        raise CheckpointError(
            f"'paper' stands for the paper's models {list(PAPER_MODELS)}: {where} ships none "
            f"of them (shipped: {shipped}); give checkpoint paths instead"
        )
    if missing:
        warnings.append(
            f"'paper': {where} ships no checkpoint for {missing} (train them with smart-train, "
            f"or see assets/README.md); running {have}"
        )
    out = []
    for n in names:
        out.extend(have if n == "paper" else [n])
    return tuple(dict.fromkeys(out))


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
    raise CheckpointError(
        f"{spec}: no such checkpoint file (shipped names such as 'mlp' only apply to the "
        "demos 'demo' and 'hdm05-demo')"
    )


class ReorderedLogits(nn.Module):
    """A model whose logits come in the dataset's class order: column ``i`` is the model's class
    ``label_map[i]`` (:func:`engine.models.match_classes`); everything else is the wrapped model's."""

    def __init__(self, net: nn.Module, label_map: np.ndarray, class_names: list[str]) -> None:
        super().__init__()
        self.net = net
        order = torch.as_tensor(np.asarray(label_map), dtype=torch.long)
        self.register_buffer("order", order, persistent=False)
        for name in ("layout", "fps", "model_name"):
            if hasattr(net, name):
                setattr(self, name, getattr(net, name))
        self.class_names = class_names
        self.num_classes = len(class_names)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)[:, self.order]


def _check_fit(net: nn.Module, meta: Any, path: Path, ds, cfg: BatchConfig, probe: torch.Tensor) -> nn.Module:
    """``net`` ready for the dataset (its logits in the dataset's class order), or a clear error."""
    lay = getattr(meta.layout, "name", meta.layout)
    if lay != ds.layout.name:
        raise LayoutMismatchError(
            f"{path}: the model was trained on layout {lay!r}, the dataset "
            f"{cfg.dataset!r} is in {ds.layout.name!r}"
        )
    if meta.num_classes != ds.num_classes:
        raise CheckpointError(
            f"{path}: the model has {meta.num_classes} classes, the dataset "
            f"{cfg.dataset!r} has {ds.num_classes}"
        )
    generic = all(n == f"class {i}" for i, n in enumerate(meta.class_names))
    if not generic and list(meta.class_names) != list(ds.class_names):
        # names are data: the same classes in another order are mapped by name (the model's logits
        # reordered into the dataset's classes); anything else is refused in the contract's words
        from ..models import ModelDataMismatch, match_classes

        label_map = match_classes(meta.class_names, ds.class_names, model_layout=ds.layout,
                                  dataset_layout=ds.layout, model_fps=ds.fps, dataset_fps=ds.fps,
                                  model_path=path, dataset_path=cfg.dataset)
        if (label_map < 0).any() or len(set(label_map.tolist())) != len(label_map):
            raise ModelDataMismatch(
                f"{path}: the model's classes are not the dataset's in another order (dataset classes "
                f"the model lacks: {[ds.class_names[i] for i in np.flatnonzero(label_map < 0)][:5]}); "
                "smart-attack needs a model trained on the dataset's classes"
            )
        net = ReorderedLogits(net, label_map, list(ds.class_names)).to(probe.device)
    try:
        with torch.no_grad():
            out = net(probe)
    except Exception as exc:  # noqa: BLE001 - any failure here means the data does not fit the model
        raise LayoutMismatchError(
            f"{path}: the model cannot run on the dataset's motions "
            f"{tuple(ds.motions.shape[1:])} ({type(exc).__name__})"
        ) from exc
    if tuple(out.shape) != (1, ds.num_classes):
        raise LayoutMismatchError(
            f"{path}: the model returned shape {tuple(out.shape)} for one motion, "
            f"expected (1, {ds.num_classes})"
        )
    return net


def _load_models(
    cfg: BatchConfig, ds, demo: str | None, device: torch.device, specs: tuple[str, ...]
) -> tuple[dict[str, ModelEntry], dict[str, str]]:
    from ..models import load_checkpoint

    models: dict[str, ModelEntry] = {}
    keys: dict[str, str] = {}
    probe = torch.from_numpy(ds.motions[:1]).to(device)
    for spec in specs:
        path, shipped = _resolve_path(spec, demo)
        key = spec if spec in shipped else Path(spec).stem
        if key in models:
            raise CheckpointError(
                f"two models are both named {key!r} ({models[key].path} and {path}); rename one file"
            )
        try:
            net, meta = load_checkpoint(path)
        except Exception as exc:  # noqa: BLE001 - reported in our words, the original as __cause__
            raise _in_our_words(exc, path, "checkpoint") from exc
        net = net.to(device).eval()
        net = _check_fit(net, meta, path, ds, cfg, probe)
        models[key] = ModelEntry(key, spec, path, net, meta, _sha256(path))
        keys[spec] = key
    return models, keys


def _fingerprint(cfg: BatchConfig, models: dict[str, ModelEntry], ds, sel: np.ndarray) -> str:
    c = {k: v for k, v in cfg.to_dict().items() if k not in NOT_IN_FINGERPRINT}
    # the resolved attack settings: a changed default of the preset makes another run
    c["attack"] = cfg.attack_config().to_dict()
    h = hashlib.sha256(json.dumps(c, sort_keys=True, default=str).encode())
    for k in sorted(models):
        h.update(f"{k}:{models[k].sha256}".encode())
    h.update(np.ascontiguousarray(sel).tobytes())
    h.update(np.ascontiguousarray(ds.labels).tobytes())
    h.update(repr((ds.motions.shape, ds.layout.name, ds.fps, list(ds.class_names))).encode())
    h.update(FORMAT.encode())
    return h.hexdigest()[:20]


def _jobs(cfg: BatchConfig, attacked: list[str], compare_variants: tuple[str, ...]) -> list[Job]:
    main = cfg.attack_config().perceptual
    jobs = [Job(m, s, main, True) for m in attacked for s in cfg.parsed_strategies()]
    if cfg.compare:
        st = cfg.compare_on()
        others = [v for v in ("smart", *compare_variants) if v != main]
        jobs += [Job(m, st, v, False) for m in attacked for v in others]
    return jobs


def make_plan(cfg: BatchConfig, device: torch.device) -> RunPlan:
    """Load and check everything ``cfg`` needs; raises a ``WorkbenchError`` (a ``ValueError``) on bad
    input, before anything is written."""
    from .config import COMPARE_VARIANTS

    warnings = list(cfg.warnings())
    ds, demo = _load_dataset(cfg.dataset)
    sel, split_desc = _select(ds, demo, cfg)
    _check_finite(ds, sel, cfg.dataset)
    models_spec = _expand_models(cfg.models, demo, warnings)
    surrogates = _expand_models(cfg.surrogates, demo, warnings)
    targets = _expand_models(cfg.targets, demo, warnings)
    specs = tuple(dict.fromkeys(models_spec + surrogates + targets))
    models, keys = _load_models(cfg, ds, demo, device, specs)
    c = ds.num_classes
    for st in cfg.parsed_strategies():
        if st.kind == "abn" and st.top_n >= c:
            raise WorkbenchError(
                f"strategy {st.name}: top {st.top_n} leaves no room, the dataset has {c} classes"
            )
        if st.kind == "sa" and c < 2:
            raise WorkbenchError("the specified attack needs at least two classes")
    if cfg.sa_target is not None and cfg.sa_target >= c:
        raise WorkbenchError(
            f"sa_target {cfg.sa_target} is out of range: the dataset has {c} classes (0…{c - 1})"
        )
    attacked = [keys[m] for m in dict.fromkeys(models_spec + surrogates)]
    if cfg.transfer:
        pairs = {s: tuple(keys[t] for t in specs) for s in attacked}
    else:
        pairs = {keys[s]: tuple(keys[t] for t in targets) for s in surrogates} if targets else {}
    if cfg.ensemble:
        members = [keys[s] for s in surrogates]
        key = "+".join(members)
        net = Ensemble([models[m].net for m in members]).to(device).eval()
        h = hashlib.sha256("".join(models[m].sha256 for m in members).encode()).hexdigest()
        models[key] = ModelEntry(key, key, None, net, models[members[0]].meta, h, tuple(members))
        # the ensemble replaces its members as the attacked surrogate
        attacked = [m for m in attacked if m not in members] + [key]
        pairs = {key: tuple(t for t in (keys[t] for t in targets))} if targets else {}
        for m in members:
            pairs.pop(m, None)
    jobs = _jobs(cfg, attacked, COMPARE_VARIANTS)
    plan = RunPlan(
        cfg=cfg,
        out=Path(cfg.out),
        ds=ds,
        demo=demo,
        sel=sel,
        split_desc=split_desc,
        motions=ds.motions[sel],
        labels=ds.labels[sel],
        models=models,
        keys=keys,
        fingerprint=_fingerprint(cfg, models, ds, sel),
        jobs=jobs,
        pairs=pairs,
        warnings=warnings,
    )
    return plan
