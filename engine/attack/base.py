"""The base of every attack: input checks, model mode and device, the step loop, the result.

A subclass writes only ``_iterate``, a generator stepping once per iteration (yielding a
:class:`StepReport` when asked to report, None otherwise), and ``result``. :meth:`Attack.steps`
yields the reports (the GUI worker); :meth:`Attack.run` iterates, calls the callback and builds the
:class:`AttackResult`; calling the attack object returns the adversarial motions. Cancelling is
explicit: :meth:`Attack.cancel` from any thread, or a ``threading.Event`` passed as ``cancel``;
the callback's return value is ignored (a progress bar's ``update()`` returns True).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import LayoutMismatchError
from ..skeleton import Layout, resolve


@dataclass
class StepReport:
    """One iteration, as numpy copies (safe to send to another thread).

    ``losses`` maps a term name ('total', 'Lc', 'Lp', 'l_dyn', 'l_dyn_0' … 'l_dyn_4', 'l_bl') to
    ``(N,)`` values, NaN for motions that already stopped. ``probabilities`` is ``(N, C)`` (the last
    known values for stopped motions); ``adversarial`` is the current ``(N, T, V, 3)`` iterate when
    the steps were asked ``with_motion=True``, else None.
    """

    iteration: int
    total_iterations: int
    losses: dict[str, np.ndarray]
    probabilities: np.ndarray
    success: np.ndarray
    active: np.ndarray
    adversarial: np.ndarray | None = None


@dataclass
class AttackResult:
    """What an attack found, on the CPU.

    adversarial, original: ``(N, T, V, 3)`` float32 tensors (metres).
    labels, targets: the clean labels and the SA targets (``-1`` where not SA).
    success: ``(N,)`` bool; iterations: ``(N,)`` Adam steps taken; flip_iteration: ``(N,)`` first
    iteration at which the goal held (−1: never); probabilities: ``(N, C)`` at the end;
    predicted: ``(N,)`` top-1 label at the end; saturated: ``(N,)`` bool, the classification loss
    had (almost) no gradient on this motion for most of its iterations (see ``warnings``);
    history: term name → ``(I+1, N)`` float64 array per iteration, NaN after a motion stopped;
    cancelled: the run was stopped (``cancel()`` or the ``cancel`` event) before its end.
    """

    adversarial: torch.Tensor
    original: torch.Tensor
    labels: torch.Tensor
    targets: torch.Tensor
    success: torch.Tensor
    iterations: torch.Tensor
    flip_iteration: torch.Tensor
    probabilities: torch.Tensor
    predicted: torch.Tensor
    saturated: torch.Tensor
    history: dict[str, np.ndarray]
    config: Any
    cancelled: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def success_rate(self) -> float:
        n = self.success.numel()
        return float(self.success.float().mean()) if n else float("nan")

    def __len__(self) -> int:
        return self.adversarial.shape[0]


def _as_motion_tensor(motions: Any, lay: Layout) -> torch.Tensor:
    if isinstance(motions, np.ndarray):
        motions = torch.from_numpy(np.ascontiguousarray(motions))
    if not isinstance(motions, torch.Tensor):
        raise ValueError(f"motions must be a torch.Tensor or numpy array, got {type(motions).__name__}")
    if motions.ndim != 4:
        raise ValueError(f"motions must have shape (N, T, V, 3), got {tuple(motions.shape)}")
    if motions.shape[0] == 0:
        raise ValueError("motions is an empty batch (N = 0)")
    if motions.shape[1] < 1:
        raise ValueError(f"motions has no frames: shape {tuple(motions.shape)}")
    lay.check_motion_shape(tuple(motions.shape), "motions")
    if not motions.is_floating_point():
        raise ValueError(f"motions must be floating point, got {motions.dtype}")
    bad = ~torch.isfinite(motions)
    if bad.any():
        n, t, v, _ = (int(i) for i in bad.nonzero()[0])
        raise ValueError(
            f"motions contain NaN or inf ({int(bad.sum())} values; first at motion {n}, frame {t}, joint {v})"
        )
    return motions.detach().to(torch.float32)


def _as_index_tensor(values: Any, n: int, what: str) -> torch.Tensor:
    if isinstance(values, int | np.integer) and not isinstance(values, bool):
        values = [int(values)] * n
    # a tensor may live on the GPU (numpy cannot read it)
    t = values.detach() if isinstance(values, torch.Tensor) else torch.as_tensor(np.asarray(values))
    if t.ndim != 1 or t.shape[0] != n:
        raise ValueError(f"{what} must have shape ({n},), got {tuple(t.shape)}")
    if t.is_floating_point() or t.dtype == torch.bool:
        raise ValueError(f"{what} must be integers, got {t.dtype}")
    return t.long()


def resolve_device(requested: str | None, model: nn.Module) -> torch.device:
    """The device to run on: the model's own when ``requested`` is None, CUDA when 'auto' finds it."""
    if requested is None:
        p = next(iter(model.parameters()), None)
        if p is None:
            p = next(iter(model.buffers()), None)
        return p.device if p is not None else torch.device("cpu")
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(requested)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {requested!r}: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {requested!r} was asked for but CUDA is not available on this machine")
    return dev


class Attack:
    """Base class: owns checking the inputs, the model's mode and device, and the result.

    Subclasses implement :meth:`steps`, yielding a :class:`StepReport` per evaluated iterate and
    filling ``self._state`` (adversarial, success, iterations, …) as they go.
    """

    config_class: type = object  #: the settings class of the subclass (AttackConfig, IAAConfig)

    def __init__(self, model: nn.Module, config: Any = None, layout: Layout | str | Any = None) -> None:
        cls = self.config_class
        if isinstance(config, Layout | str) or isinstance(layout, cls):  # the older (model, layout, config)
            config, layout = layout, config
        config = cls() if config is None else config
        if not isinstance(config, cls):
            raise ValueError(f"config must be an {cls.__name__}, got {type(config).__name__}")
        if not isinstance(model, nn.Module):
            raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        model_layout = getattr(model, "layout", None)
        if layout is None:
            if not isinstance(model_layout, Layout | str):
                raise ValueError("no skeleton layout: this model carries none (model.layout); pass layout=")
            layout = model_layout
        self.layout = resolve(layout)
        self.config = config
        self._out: dict[str, Any] | None = None
        self._cancel = threading.Event()
        self._cancel_event: Any = None
        if isinstance(model_layout, Layout) and model_layout.name != self.layout.name:
            raise LayoutMismatchError(
                f"the model was built for layout {model_layout.name!r} ({model_layout.num_joints} joints), "
                f"the motions are in {self.layout.name!r} ({self.layout.num_joints} joints)"
            )

    # -- cancelling -------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop the running attack within one iteration (safe from any thread); the result keeps
        what was found so far (``result.cancelled``)."""
        self._cancel.set()

    def cancelled(self) -> bool:
        ev = self._cancel_event
        return self._cancel.is_set() or (ev is not None and bool(ev.is_set()))

    # -- input handling ---------------------------------------------------------------------------
    def prepare(self, motions: Any, labels: Any, targets: Any = None) -> None:
        self._cancel.clear()
        q = _as_motion_tensor(motions, self.layout)
        n = q.shape[0]
        y = _as_index_tensor(labels, n, "labels")
        self.device = resolve_device(getattr(self.config, "device", None), self.model)
        self.q = q.to(self.device)
        self.labels = y.to(self.device)
        self.targets_in = None if targets is None else _as_index_tensor(targets, n, "targets")
        torch.manual_seed(getattr(self.config, "seed", 0))

    def evaluate_clean(self, model: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits of the clean motions (checked) and the SA targets (``-1`` for the other strategies)."""
        with torch.no_grad():
            logits = model(self.q)
        self.check_classes(logits)
        c = logits.shape[1]
        top_n = getattr(self.config, "top_n", 1)
        if self.config.strategy == "abn" and top_n >= c:
            raise ValueError(f"top_n = {top_n} leaves no room: the model has only {c} classes")
        return logits, self.resolve_targets(self.q.shape[0], c)

    def check_classes(self, logits: torch.Tensor) -> None:
        n = self.q.shape[0]
        if logits.ndim != 2 or logits.shape[0] != n:
            raise ValueError(f"the model must return logits (N, C) = ({n}, C), got {tuple(logits.shape)}")
        c = logits.shape[1]
        bad = (self.labels < 0) | (self.labels >= c)
        if bad.any():
            i = int(bad.nonzero()[0])
            raise ValueError(f"labels out of range: motion {i} has label {int(self.labels[i])}, "
                             f"the model has {c} classes (0…{c - 1})")
        if not torch.isfinite(logits).all():
            raise ValueError("the model returned NaN or inf logits on the clean motions")

    @contextlib.contextmanager
    def model_mode(self):
        """Eval mode and frozen weights on the attack's device; restored afterwards, whatever happens."""
        model = self.model
        was_training = model.training
        flags = [(p, p.requires_grad) for p in model.parameters()]
        p0 = next(iter(model.parameters()), None)
        old_device = p0.device if p0 is not None else None
        try:
            model.eval()
            for p, _ in flags:
                p.requires_grad_(False)
            if old_device is not None and old_device != self.device:
                model.to(self.device)
            yield model
        finally:
            if old_device is not None and old_device != self.device:
                model.to(old_device)
            for p, flag in flags:
                p.requires_grad_(flag)
            model.train(was_training)

    def resolve_targets(self, n: int, num_classes: int) -> torch.Tensor:
        """SA targets from the call or ``config.targets``, checked; ``-1`` for the other strategies."""
        cfg = self.config
        t = self.targets_in
        if t is None and cfg.targets is not None:
            t = torch.as_tensor(cfg.targets if isinstance(cfg.targets, tuple) else [cfg.targets] * n)
            if t.shape[0] != n:
                raise ValueError(f"config.targets has {t.shape[0]} entries for {n} motions")
        if cfg.strategy != "sa":
            return torch.full((n,), -1, dtype=torch.long, device=self.device)
        if t is None:
            raise ValueError("the specified attack ('sa') needs targets: one class per motion or one for all")
        t = t.long().to(self.device)
        bad = (t < 0) | (t >= num_classes)
        if bad.any():
            i = int(bad.nonzero()[0])
            raise ValueError(f"target out of range: motion {i} has target {int(t[i])}, the model has "
                             f"{num_classes} classes")
        same = t == self.labels
        if same.any():
            i = int(same.nonzero()[0])
            raise ValueError(f"target equals the clean label for motion {i} (class {int(t[i])}): "
                             "a specified attack needs a different class")
        return t

    # -- the loop ---------------------------------------------------------------------------------
    def _iterate(self, motions: Any, labels: Any, targets: Any, with_motion: bool, report: bool
                 ) -> Iterator[StepReport | None]:
        raise NotImplementedError

    def result(self) -> AttackResult:
        raise NotImplementedError

    def steps(self, motions: Any, labels: Any, targets: Any = None, with_motion: bool = False
              ) -> Iterator[StepReport]:
        """Yield a :class:`StepReport` per iteration (``with_motion``: with the current iterate);
        :meth:`result` afterwards (or after closing the generator) gives what was found."""
        return self._iterate(motions, labels, targets, with_motion, True)

    def run(self, motions: Any, labels: Any, targets: Any = None,
            callback: Callable[[StepReport], Any] | None = None, with_motion: bool = False,
            cancel: Any = None) -> AttackResult:
        """Attack ``motions`` and return the :class:`AttackResult`. ``callback(report)`` is called
        after every iteration (its return value is ignored); ``cancel`` is an event (anything with
        ``is_set()``) that stops the run within one iteration, as :meth:`cancel` does."""
        self._cancel_event = cancel
        try:
            gen = self._iterate(motions, labels, targets, with_motion, callback is not None)
            try:
                for report in gen:
                    if callback is not None:
                        callback(report)
            finally:
                gen.close()
            res = self.result()
            res.cancelled = self.cancelled()
        finally:
            self._cancel_event = None
        return res

    def __call__(self, motions: Any, labels: Any, targets: Any = None) -> torch.Tensor:
        """The adversarial motions ``(N, T, V, 3)`` (``run`` gives the whole result)."""
        return self.run(motions, labels, targets).adversarial
