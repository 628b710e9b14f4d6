"""Training any registered recognizer on any loadable dataset.

:func:`train` fits a model built by :func:`engine.models.create` on a
:class:`~engine.datasets.MotionDataset` (or plain arrays), keeps the best checkpoint, and returns the
figures it reached. :func:`evaluate` measures accuracy and loss.

**Validation split.** Where the samples have subjects, the validation set is a set of whole subjects
(``val_subjects``; by default the last fifth of the sorted subject names, at least one); a model is
then judged on bodies it never saw. Without subjects, a stratified ``val_fraction`` of the samples
(drawn from ``seed``) is held out. ``val_subjects=[]`` trains on everything and judges on the
training set.

**Checkpoints.** After every epoch whose validation accuracy beats the best so far, the model goes to
``checkpoint`` through :func:`engine.models.save_checkpoint`, with metadata: model name and options,
layout, class names, fps, ``metrics`` (``accuracy`` = validation accuracy, ``val_loss``,
``train_accuracy``, ``train_loss``, ``epoch``, ``n_train``, ``n_val``) and ``extra`` (``epoch``,
``val_subjects``, the training settings, and what the caller adds in ``meta_extra``).

**Resume.** Beside the checkpoint, a training-state file ``<checkpoint>.state`` (a ``torch.save``
dict: last epoch's weights, optimizer and scheduler state, epoch, best accuracy, history, split)
is rewritten at the end of every epoch. ``resume=True`` reloads it and goes on from the next epoch
up to ``epochs`` (the total count, not a further count). Without a state file, resume starts from
the best checkpoint's weights and the epoch in its ``extra``, with a fresh optimizer.

**Augmentation** (``augment=True``, training batches only): each clip is turned about the vertical
axis through its mean root position by a random angle in +-``rotate_deg`` degrees and scaled about
its floor point by a factor in 1 +- ``scale``. It keeps bone-length ratios and leaves labels valid.
A model with an input normalisation (:mod:`engine.models.normalize`) undoes the turn (it only sees
the scale); its own ``jitter_deg`` option turns the clip after the normalisation instead.

**Normalisation.** A model with ``mean`` and ``std`` buffers of shape ``(V, 3)`` (the MLP) gets them
from the training set (per joint and axis, over clips and frames) before training starts, measured
after the model's input normalisation (:mod:`engine.models.normalize`) where it has one.

**The trained model** carries ``class_names`` and ``fps`` afterwards (as a loaded checkpoint does),
so :func:`engine.models.fit` works on it at once.

**Progress.** ``progress=True`` shows a tqdm bar per run (batches of all epochs, with loss,
accuracy and validation figures; it nests, logs cleanly and works in notebooks); the ``callback``
gets the same figures as :class:`TrainProgress` (the GUI's progress widgets use it).
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch
from torch import nn

from .errors import CheckpointError, WorkbenchError
from .models import save_checkpoint
from .models.normalize import normalize_input

__all__ = ["TrainConfig", "TrainProgress", "default_val_subjects", "evaluate", "state_path", "train"]

STATE_FORMAT = "smart-workbench/train-state-1"


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run; checked when built."""

    epochs: int = 30
    lr: float = 1e-3
    batch_size: int = 32
    weight_decay: float = 1e-4
    augment: bool = True
    rotate_deg: float = 30.0
    scale: float = 0.1
    label_smoothing: float = 0.0
    val_fraction: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise ValueError(f"epochs must be an int >= 1, got {self.epochs!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {self.batch_size!r}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if not 0 <= self.rotate_deg <= 180:
            raise ValueError(f"rotate_deg must be in [0, 180], got {self.rotate_deg}")
        if not 0 <= self.scale < 1:
            raise ValueError(f"scale must be in [0, 1), got {self.scale}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction}")


@dataclass
class TrainProgress:
    """What the callback gets: after every batch (``phase="batch"``) and every epoch (``"epoch"``).

    ``loss``/``train_accuracy`` are running means over the epoch so far; ``val_accuracy`` and
    ``val_loss`` are set at epoch ends; ``eta_s`` is the estimated time left for the whole run.
    """

    phase: str
    epoch: int
    epochs: int
    batch: int
    batches: int
    loss: float
    train_accuracy: float
    val_accuracy: float | None = None
    val_loss: float | None = None
    best_accuracy: float | None = None
    elapsed_s: float = 0.0
    eta_s: float = 0.0
    saved: bool = False


@dataclass
class _Split:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    val_subjects: list[str] | None
    note: str = ""
    class_names: list[str] = field(default_factory=list)


def state_path(checkpoint: str | os.PathLike) -> Path:
    """The training-state file kept beside ``checkpoint`` for resuming."""
    p = Path(checkpoint)
    return p.with_name(p.name + ".state")


def default_val_subjects(subjects: Sequence[str | None]) -> list[str]:
    """The last fifth (at least one) of the sorted distinct subjects; [] with fewer than two."""
    names = sorted({str(s) for s in subjects if s is not None})
    if len(names) < 2:
        return []
    k = max(1, round(0.2 * len(names)))
    return names[-k:]


def _unpack(data: Any) -> tuple[np.ndarray, np.ndarray, list[str] | None, list | None, float | None, str]:
    """(motions, labels, class_names, subjects, fps, name) from a dataset or a tuple of arrays."""
    if hasattr(data, "motions") and hasattr(data, "labels"):
        return (np.asarray(data.motions, dtype=np.float32), np.asarray(data.labels, dtype=np.int64),
                list(getattr(data, "class_names", None) or []) or None, getattr(data, "subjects", None),
                getattr(data, "fps", None), str(getattr(data, "name", "")))
    if isinstance(data, tuple | list) and 2 <= len(data) <= 4:
        motions, labels = np.asarray(data[0], dtype=np.float32), np.asarray(data[1], dtype=np.int64)
        names = list(data[2]) if len(data) > 2 and data[2] is not None else None
        subjects = list(data[3]) if len(data) > 3 and data[3] is not None else None
        return motions, labels, names, subjects, None, ""
    raise TypeError(
        "data must be a MotionDataset or a tuple (motions, labels[, class_names[, subjects]]), "
        f"got {type(data).__name__}"
    )


def _split(motions, labels, subjects, val_subjects, cfg: TrainConfig) -> _Split:
    n = len(labels)
    if subjects is not None and all(s is None for s in subjects):
        subjects = None
    if val_subjects is not None:
        val = [str(s) for s in val_subjects]
        if not val:
            return _Split(motions, labels, motions, labels, [], "no held-out data: judged on training set")
        if subjects is None:
            raise WorkbenchError("val_subjects given but the dataset has no subjects")
        known = {str(s) for s in subjects if s is not None}
        unknown = sorted(set(val) - known)
        if unknown:
            raise WorkbenchError(f"unknown validation subjects {unknown}; subjects are {sorted(known)}")
    elif subjects is not None and len({s for s in subjects if s is not None}) >= 2:
        val = default_val_subjects(subjects)
    else:
        val = None
    if val is not None:
        mask = np.array([s is not None and str(s) in val for s in subjects], dtype=bool)
        if mask.all():
            raise WorkbenchError(f"validation subjects {val} take every sample; nothing left to train on")
        return _Split(motions[~mask], labels[~mask], motions[mask], labels[mask], val,
                      f"held-out subjects {val}")
    rng = np.random.default_rng(cfg.seed)
    val_idx = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = int(round(cfg.val_fraction * len(idx)))
        if k and len(idx) > 1:
            val_idx.extend(rng.choice(idx, size=min(k, len(idx) - 1), replace=False).tolist())
    mask = np.zeros(n, dtype=bool)
    mask[val_idx] = True
    if not mask.any():
        return _Split(motions, labels, motions, labels, None, "too few samples to hold out")
    return _Split(motions[~mask], labels[~mask], motions[mask], labels[mask], None,
                  f"random stratified {cfg.val_fraction:.0%} of the samples (seed {cfg.seed})")


def _device(device: str | torch.device) -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise WorkbenchError("device 'cuda' requested but CUDA is not available here; use --device cpu")
    if dev.type not in ("cpu", "cuda"):
        raise WorkbenchError(f"device must be 'cpu', 'cuda' or 'auto', got {device!r}")
    return dev


def _augment(x: torch.Tensor, root: int, cfg: TrainConfig, gen: torch.Generator) -> torch.Tensor:
    """Random turn about y through the clip's mean root and scale about its floor point."""
    n = x.shape[0]
    ang = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(cfg.rotate_deg)
    sc = 1 + (torch.rand(n, generator=gen) * 2 - 1) * cfg.scale
    c, s = torch.cos(ang), torch.sin(ang)
    rot = torch.zeros(n, 3, 3)
    rot[:, 0, 0], rot[:, 0, 2], rot[:, 1, 1], rot[:, 2, 0], rot[:, 2, 2] = c, s, 1.0, -s, c
    rot = rot.to(x.device) * sc.to(x.device)[:, None, None]
    pivot = x[:, :, root, :].mean(1)  # (N, 3)
    pivot = torch.stack([pivot[:, 0], torch.zeros_like(pivot[:, 1]), pivot[:, 2]], -1)[:, None, None, :]
    return torch.einsum("nab,ntvb->ntva", rot, x - pivot) + pivot


@torch.no_grad()
def evaluate(model: nn.Module, motions: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor,
             batch_size: int = 64, device: str | torch.device = "cpu") -> tuple[float, float]:
    """``(accuracy, mean cross-entropy)`` of ``model`` on the clips; the model's mode is restored."""
    dev = _device(device)
    was_training = model.training
    model.eval()
    x_all = torch.as_tensor(np.asarray(motions, dtype=np.float32))
    y_all = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    if len(y_all) == 0:
        raise WorkbenchError("evaluate: no samples")
    correct, loss = 0, 0.0
    try:
        for i in range(0, len(y_all), batch_size):
            x = x_all[i:i + batch_size].to(dev)
            y = y_all[i:i + batch_size].to(dev)
            logits = model(x)
            loss += float(nn.functional.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(1) == y).sum())
    finally:
        model.train(was_training)
    return correct / len(y_all), loss / len(y_all)


def _set_normalisation(model: nn.Module, x_train: np.ndarray) -> bool:
    bufs = dict(model.named_buffers())
    v = x_train.shape[2]
    if "mean" in bufs and "std" in bufs and tuple(bufs["mean"].shape) == (v, 3) \
            and tuple(bufs["std"].shape) == (v, 3):
        with torch.no_grad():
            x = normalize_input(model, torch.as_tensor(x_train, dtype=torch.float32)).numpy()
        flat = x.reshape(-1, v, 3).astype(np.float64)
        bufs["mean"].copy_(torch.as_tensor(flat.mean(0), dtype=bufs["mean"].dtype))
        bufs["std"].copy_(torch.as_tensor(np.maximum(flat.std(0), 1e-3), dtype=bufs["std"].dtype))
        return True
    return False


def train(model: nn.Module, data: Any, epochs: int = 30, lr: float = 1e-3, batch_size: int = 32,
          device: str | torch.device = "cpu", *, val_subjects: Sequence[str] | None = None,
          checkpoint: str | os.PathLike | None = None, resume: bool = False,
          callback: Callable[[TrainProgress], bool | None] | None = None, augment: bool = True,
          config: TrainConfig | None = None, class_names: Sequence[str] | None = None,
          fps: float | None = None, meta_extra: dict | None = None, keep: str = "best",
          val_data: Any = None, progress: bool | str | TextIO = False) -> dict[str, Any]:
    """Train ``model`` on ``data`` and return the figures reached.

    ``data`` is a :class:`~engine.datasets.MotionDataset` or ``(motions, labels[, class_names[,
    subjects]])``. ``config`` overrides ``epochs``/``lr``/``batch_size``/``augment`` when given.
    ``callback(progress)`` is called after every batch and epoch; returning ``False`` stops training
    after the current batch (the best checkpoint so far stays). ``val_data`` (a dataset or arrays
    like ``data``) replaces the split: all of ``data`` trains and ``val_data`` judges.
    ``keep="last"`` writes the checkpoint
    after every epoch instead of only the best ones (so the held-out set never picks the epoch).
    ``progress`` shows a tqdm bar (``True``: on stderr; or a stream to write it to; ``"epochs"``: no
    bar, one line per epoch on stderr, for logs).
    See the module doc for the split, the checkpoint metadata and resuming.

    Returns ``{"accuracy", "best_epoch", "epochs_run", "start_epoch", "first_loss", "final_loss",
    "train_accuracy", "history", "seconds", "checkpoint", "val_subjects", "split", "n_train", "n_val",
    "stopped"}``; ``history`` holds one dict per epoch (loss, accuracies, val loss, seconds).
    """
    cfg = config or TrainConfig(epochs=epochs, lr=lr, batch_size=batch_size, augment=augment)
    if keep not in ("best", "last"):
        raise ValueError(f"keep must be 'best' or 'last', got {keep!r}")
    dev = _device(device)
    motions, labels, names, subjects, data_fps, data_name = _unpack(data)
    lay = getattr(model, "layout", None)
    if lay is None or not hasattr(model, "num_classes"):
        raise WorkbenchError("train: the model was not built by engine.models.create")
    lay.check_motion_shape(motions.shape, what=f"training data {data_name!r}")
    if motions.ndim != 4 or len(motions) != len(labels) or len(labels) == 0:
        raise WorkbenchError(f"train: {len(motions)} motions {motions.shape} for {len(labels)} labels")
    names = list(class_names) if class_names is not None else names
    if names is None:
        names = [f"class {k}" for k in range(model.num_classes)]
    if len(names) != model.num_classes:
        raise WorkbenchError(f"train: {len(names)} class names for a model with {model.num_classes} outputs")
    if labels.min() < 0 or labels.max() >= model.num_classes:
        raise WorkbenchError(f"train: labels {labels.min()}..{labels.max()} for {model.num_classes} classes")
    fps = float(fps or data_fps or lay.fps)
    if val_data is not None:
        vm, vl, _, vs, _, vname = _unpack(val_data)
        lay.check_motion_shape(vm.shape, what=f"validation data {vname!r}")
        vsub = sorted({str(s) for s in vs if s is not None}) if vs is not None else None
        split = _Split(motions, labels, vm, vl, vsub or None, f"separate validation set {vname!r}")
    else:
        split = _split(motions, labels, subjects, val_subjects, cfg)

    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model.to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_factor(cfg.epochs))
    start_epoch, best_acc, best_epoch, history = 0, -1.0, 0, []
    ckpt = Path(checkpoint) if checkpoint is not None else None
    if resume:
        if ckpt is None:
            raise WorkbenchError("resume=True needs a checkpoint path")
        start_epoch, best_acc, best_epoch, history = _resume(model, opt, sched, ckpt, dev, split)
    else:
        _set_normalisation(model, split.x_train)

    x_train = torch.as_tensor(split.x_train)
    y_train = torch.as_tensor(split.y_train)
    n_batches = max(1, math.ceil(len(y_train) / cfg.batch_size))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    t0 = time.monotonic()
    stopped = False
    settings = {k: v for k, v in asdict(cfg).items()}
    bar = _bar(progress, (cfg.epochs - start_epoch) * n_batches, getattr(model, "model_name", "model"))
    user_callback = callback

    def callback(p: TrainProgress) -> bool | None:  # noqa: F811 - the bar, then the caller's callback
        if bar is not None:
            _bar_update(bar, p)
        return user_callback(p) if user_callback is not None else None

    for epoch in range(start_epoch + 1, cfg.epochs + 1):
        model.train()
        perm = torch.randperm(len(y_train), generator=gen)
        tot_loss, tot_correct, seen, te = 0.0, 0, 0, time.monotonic()
        for b in range(n_batches):
            idx = perm[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            if len(idx) == 0:
                continue
            x, y = x_train[idx], y_train[idx]
            if cfg.augment:
                x = _augment(x, lay.root, cfg, gen)
            x, y = x.to(dev), y.to(dev)
            logits = model(x)
            loss = loss_fn(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            tot_loss += float(loss.detach()) * len(idx)
            tot_correct += int((logits.argmax(1) == y).sum())
            seen += len(idx)
            if callback is not None:
                done = (epoch - 1 - start_epoch) * n_batches + b + 1
                total = (cfg.epochs - start_epoch) * n_batches
                el = time.monotonic() - t0
                go = callback(TrainProgress("batch", epoch, cfg.epochs, b + 1, n_batches, tot_loss / seen,
                                            tot_correct / seen,
                                            best_accuracy=best_acc if best_acc >= 0 else None,
                                            elapsed_s=el, eta_s=el / done * (total - done)))
                if go is False:
                    stopped = True
                    break
        sched.step()
        if seen == 0:
            break
        val_acc, val_loss = evaluate(model, split.x_val, split.y_val, max(64, cfg.batch_size), dev)
        rec = {"epoch": epoch, "loss": tot_loss / seen, "train_accuracy": tot_correct / seen,
               "val_accuracy": val_acc, "val_loss": val_loss, "lr": opt.param_groups[0]["lr"],
               "seconds": time.monotonic() - te}
        history.append(rec)
        saved = False
        improved = val_acc > best_acc
        if improved:
            best_acc, best_epoch = val_acc, epoch
        if improved or keep == "last":
            if ckpt is not None:
                metrics = {"accuracy": val_acc, "val_loss": val_loss, "train_accuracy": rec["train_accuracy"],
                           "train_loss": rec["loss"], "epoch": epoch, "n_train": int(len(split.y_train)),
                           "n_val": int(len(split.y_val)), "split": split.note}
                extra = {"epoch": epoch, "val_subjects": split.val_subjects, "dataset": data_name,
                         "train": settings, **(meta_extra or {})}
                save_checkpoint(model, ckpt, names, fps=fps, metrics=metrics, extra=extra)
                saved = True
        if ckpt is not None:
            _save_state(model, opt, sched, ckpt, epoch, best_acc, best_epoch, history, split)
        if callback is not None:
            el = time.monotonic() - t0
            done = epoch - start_epoch
            go = callback(TrainProgress("epoch", epoch, cfg.epochs, n_batches, n_batches, rec["loss"],
                                        rec["train_accuracy"], val_acc, val_loss, best_acc, el,
                                        el / done * (cfg.epochs - epoch), saved))
            stopped = stopped or go is False
        if stopped:
            break
    if bar is not None:
        bar.close()
    model.eval()
    model.class_names = list(names)
    model.fps = fps
    return {
        "accuracy": best_acc if best_acc >= 0 else None, "best_epoch": best_epoch,
        "epochs_run": len(history) and history[-1]["epoch"] - start_epoch, "start_epoch": start_epoch,
        "first_loss": history[0]["loss"] if history else None,
        "final_loss": history[-1]["loss"] if history else None,
        "train_accuracy": history[-1]["train_accuracy"] if history else None,
        "history": history, "seconds": time.monotonic() - t0,
        "checkpoint": str(ckpt) if ckpt is not None else None, "val_subjects": split.val_subjects,
        "split": split.note, "n_train": int(len(split.y_train)), "n_val": int(len(split.y_val)),
        "stopped": stopped,
    }


def _lr_factor(epochs: int) -> Callable[[int], float]:
    """Linear warm-up over the first 5 % of the epochs (at least one), then cosine decay to 2 %."""
    warm = max(1, epochs // 20)

    def f(e: int) -> float:
        if e < warm:
            return (e + 1) / warm
        return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, (e - warm) / max(1, epochs - warm))))

    return f


def _save_state(model, opt, sched, ckpt: Path, epoch, best_acc, best_epoch, history, split: _Split) -> None:
    payload = {"format": STATE_FORMAT, "epoch": epoch, "best_accuracy": best_acc, "best_epoch": best_epoch,
               "history": history, "val_subjects": split.val_subjects,
               "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
               "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}
    path = state_path(ckpt)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _resume(model, opt, sched, ckpt: Path, dev, split: _Split) -> tuple[int, float, int, list]:
    sp = state_path(ckpt)
    if sp.is_file():
        try:
            st = torch.load(sp, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
            raise CheckpointError(f"{sp}: unreadable training state ({type(exc).__name__}: {exc})") from None
        if not isinstance(st, dict) or st.get("format") != STATE_FORMAT:
            raise CheckpointError(f"{sp}: not a SMART Workbench training state")
        if st.get("val_subjects") != split.val_subjects:
            raise CheckpointError(
                f"{sp}: saved with validation subjects {st.get('val_subjects')}, now {split.val_subjects}"
            )
        try:
            model.load_state_dict(st["model"], strict=True)
        except RuntimeError as exc:
            raise CheckpointError(f"{sp}: the training state does not fit this model ({exc})") from None
        model.to(dev)
        opt.load_state_dict(st["optimizer"])
        sched.load_state_dict(st["scheduler"])
        return int(st["epoch"]), float(st["best_accuracy"]), int(st["best_epoch"]), list(st["history"])
    if not ckpt.is_file():
        raise CheckpointError(f"{ckpt}: nothing to resume from (no checkpoint and no {sp.name})")
    from .models import load_checkpoint

    loaded, meta = load_checkpoint(ckpt)
    if meta.model != getattr(model, "model_name", None):
        raise CheckpointError(f"{ckpt}: a {meta.model!r} checkpoint cannot resume {model.model_name!r}")
    try:
        model.load_state_dict(loaded.state_dict(), strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{ckpt}: the checkpoint does not fit this model ({exc})") from None
    model.to(dev)
    epoch = int(meta.extra.get("epoch", meta.metrics.get("epoch", 0)))
    with warnings.catch_warnings():  # stepping the schedule without optimizer steps is intended here
        warnings.simplefilter("ignore")
        for _ in range(epoch):
            sched.step()
    acc = float(meta.metrics.get("accuracy", -1.0))
    return epoch, acc, epoch, []


def _bar(progress: bool | str | TextIO, total: int, name: str):
    if progress is False or progress is None:
        return None
    from tqdm.auto import tqdm

    epochs_only = progress == "epochs"
    stream = None if progress is True or epochs_only else progress
    return tqdm(total=total, desc=f"train {name}", unit="batch", leave=True, dynamic_ncols=True,
                file=stream, disable=epochs_only)


def _bar_update(bar, p: TrainProgress) -> None:
    if p.phase == "batch":
        bar.update(1)
        bar.set_postfix_str(f"epoch {p.epoch}/{p.epochs} loss {p.loss:.3f} acc {p.train_accuracy:.1%}",
                            refresh=False)
    else:
        best = f" best {p.best_accuracy:.1%}" if p.best_accuracy is not None else ""
        bar.set_postfix_str(f"epoch {p.epoch}/{p.epochs} loss {p.loss:.3f} acc {p.train_accuracy:.1%} "
                            f"val {p.val_accuracy:.1%}{best}{' *' if p.saved else ''}")
        bar.write(f"epoch {p.epoch:>3}/{p.epochs} loss {p.loss:.4f} acc {p.train_accuracy:6.1%} | "
                  f"val {p.val_accuracy:6.1%} loss {p.val_loss:.3f}{best}{' saved' if p.saved else ''}",
                  file=sys.stderr if bar.disable else bar.fp)
