"""Background work for the GUI: the attack loop and long loads, each in its own QThread (STYLE.md B1).

:class:`AttackWorker` runs :func:`engine.attack.attack` and emits ``step(StepReport)`` from its callback
(numpy copies, throttled to ``max_rate`` per second, the last one always), then ``finished(AttackResult)``
or ``failed(Problem)``. :class:`TaskWorker` runs any function ``fn(progress, cancelled)`` the same way.

Cancelling is a :class:`threading.Event` handed to the attack as ``cancel=`` (read at every iteration: a
slot queued to a busy worker would run only after its loop ends); the callback's return value means
nothing. :meth:`AttackWorker.run_between` hands the attack thread a short job to run between two
iterations (the live black-box predictions): in a thread of its own such a job held the interpreter lock
while the scheduler had put it aside for the attack and the GUI, and the GUI thread waited for the lock —
the longest stalls of a live attack (``benchmarks/gui_latency.py``). Every worker applies
:func:`workbench.runtime.apply_thread_policy` in its thread. Workers never
touch widgets; :func:`start_in_thread` wires ``thread.started`` to the worker's ``run`` slot (a lambda
would run it on the GUI thread) and cleans up.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from engine import attack as attack_mod
from engine.attack import AttackConfig, StepReport

from .errors import describe
from .runtime import apply_thread_policy

__all__ = ["AttackWorker", "Cancelled", "TaskWorker", "reap", "start_in_thread", "stop_all", "stop_thread"]


class Cancelled(Exception):
    """Raised inside a task function (by ``progress``) once the task was cancelled."""


def _lower_thread_priority(nice: int) -> None:
    """Raise the calling thread's nice value (Linux: per thread); silently nothing elsewhere."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except (AttributeError, OSError):
        pass


class AttackWorker(QObject):
    """One attack on one motion (or a small batch) in a worker thread.

    ``motions`` ``(N, T, V, 3)`` float32, ``labels`` ``(N,)``; ``targets`` for SA. ``max_rate`` caps the
    ``step`` emissions per second (the last report is always emitted before ``finished``). ``nice``
    (Linux): lower the worker thread's CPU priority by this much, so that on a machine with few cores the
    GUI thread (and a software GL rasteriser) get the CPU first when they need it.
    """

    step = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    #: (token, result, problem) of a job given to :meth:`run_between`: one of result and problem is None
    side_done = Signal(object, object, object)

    def __init__(self, model, layout, config: AttackConfig, motions, labels, targets=None,
                 max_rate: float = 30.0, nice: int = 0):
        super().__init__()
        self._nice = int(nice)
        self._model = model
        self._layout = layout
        self._config = config
        self._motions = np.ascontiguousarray(motions, dtype=np.float32)
        self._labels = np.asarray(labels, dtype=np.int64)
        self._targets = None if targets is None else np.asarray(targets, dtype=np.int64)
        self._interval = 1.0 / max_rate if max_rate > 0 else 0.0
        self._cancel = threading.Event()
        self._side: tuple[Any, Callable[[], Any]] | None = None  # (token, job) for run_between
        self._side_lock = threading.Lock()
        self.n_emitted = 0

    @property
    def config(self) -> AttackConfig:
        return self._config

    def cancel(self) -> None:
        """Thread-safe: the loop stops before its next iteration (called directly, not queued)."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def run_between(self, token: Any, job: Callable[[], Any]) -> None:
        """Thread-safe: run ``job()`` in the attack's thread between two iterations and emit
        ``side_done(token, result, None)`` (or ``(token, None, Problem)``). A job that has not started
        yet is replaced by a newer one; one still waiting when the attack ends is dropped."""
        with self._side_lock:
            self._side = (token, job)

    def _run_side_job(self) -> None:
        with self._side_lock:
            side, self._side = self._side, None
        if side is None:
            return
        token, job = side
        try:
            result = job()
        except Exception as exc:  # noqa: BLE001 - reported to whoever asked, the attack goes on
            self.side_done.emit(token, None, describe(exc, "A job run beside the attack failed."))
            return
        self.side_done.emit(token, result, None)

    def _emit(self, report: StepReport) -> None:
        self.n_emitted += 1
        self.step.emit(report)

    @Slot()
    def run(self) -> None:
        apply_thread_policy()
        if self._nice:
            _lower_thread_priority(self._nice)
        state = {"last": 0.0, "pending": None}

        def on_step(report: StepReport) -> None:
            now = time.monotonic()
            if now - state["last"] >= self._interval:
                self._emit(report)
                state["last"], state["pending"] = now, None
            else:
                state["pending"] = report
            if self._side is not None:
                self._run_side_job()

        try:
            result = attack_mod.attack(self._model, self._motions, self._labels, layout=self._layout,
                                       config=self._config, callback=on_step, targets=self._targets,
                                       with_motion=True, cancel=self._cancel)
            if state["pending"] is not None:
                self._emit(state["pending"])
            result.cancelled = bool(result.cancelled or self._cancel.is_set())
        except Exception as exc:  # every failure reaches the GUI, in our words with details
            self.failed.emit(describe(exc, "The attack stopped with an unexpected error."))
            return
        self.finished.emit(result)


class TaskWorker(QObject):
    """Runs ``fn(progress, cancelled) -> result`` in a worker thread.

    ``progress(done, total, text="")`` emits ``progress(int, int, str)`` and raises :class:`Cancelled`
    once :meth:`cancel` was called; ``cancelled()`` returns that flag. Ends with exactly one of
    ``finished(object)``, ``failed(Problem)`` or ``cancelled_signal()``.
    """

    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(object)
    cancelled_signal = Signal()

    def __init__(self, fn: Callable[..., Any], name: str = "task", nice: int = 0):
        super().__init__()
        self._fn = fn
        self._nice = int(nice)
        self.name = name
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def _progress(self, done: int, total: int, text: str = "") -> None:
        if self._cancel.is_set():
            raise Cancelled()
        self.progress.emit(int(done), int(total), str(text))

    @Slot()
    def run(self) -> None:
        apply_thread_policy()
        if self._nice:
            _lower_thread_priority(self._nice)
        try:
            result = self._fn(self._progress, self._cancel.is_set)
        except Cancelled:
            self.cancelled_signal.emit()
            return
        except Exception as exc:
            self.failed.emit(describe(exc))
            return
        if self._cancel.is_set():
            self.cancelled_signal.emit()
        else:
            self.finished.emit(result)


_LIVE: list[tuple[QThread, QObject]] = []


def reap() -> int:
    """Drop (in the calling thread, normally the GUI's) the references to workers whose thread has
    finished; returns how many are still running. Workers are never ``deleteLater``-ed in their own
    thread: a Python-owned wrapper torn down there raced with the GUI thread (a rare segfault)."""
    keep = []
    for thread, worker in _LIVE:
        try:
            running = not thread.isFinished()
        except RuntimeError:
            running = False
        if running:
            keep.append((thread, worker))
    _LIVE[:] = keep
    return len(keep)


def stop_all(timeout_ms: int = 30_000) -> bool:
    """Cancel, quit and wait for every worker thread still running (e.g. replaced tasks); True if all
    stopped."""
    ok = True
    for thread, worker in list(_LIVE):
        ok = stop_thread(thread, worker, timeout_ms) and ok
    reap()
    return ok


def start_in_thread(worker: QObject, done_signals, parent: QObject | None = None) -> QThread:
    """Move ``worker`` to a new QThread, start its ``run`` slot there and quit the thread on any of
    ``done_signals``. The thread and worker stay referenced here until :func:`reap` finds the thread
    finished (each call reaps the earlier ones)."""
    reap()
    thread = QThread(parent)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    for sig in done_signals:
        # direct: QThread.quit is thread-safe, and a queued quit would wait for the GUI thread's loop
        sig.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    _LIVE.append((thread, worker))
    thread.start()
    return thread


def stop_thread(thread: QThread | None, worker: QObject | None = None, timeout_ms: int = 30_000) -> bool:
    """Cancel ``worker`` (if it has ``cancel``), quit ``thread`` and wait for it; True if it stopped."""
    if worker is not None and hasattr(worker, "cancel"):
        try:
            worker.cancel()
        except RuntimeError:  # the C++ object is already gone
            pass
    if thread is None:
        return True
    try:
        if not thread.isRunning():
            return True
        thread.quit()
        return bool(thread.wait(timeout_ms))
    except RuntimeError:
        return True
    finally:
        reap()
