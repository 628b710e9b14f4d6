"""Named background tasks for the window: ``runner.start("model", fn, on_done)`` runs ``fn(progress,
cancelled)`` in a QThread (:class:`~workbench.worker.TaskWorker`); a task with the same name is cancelled
first, and the callbacks of a replaced or cancelled task never run. Callbacks run in the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6 import QtCore
from PySide6.QtCore import Slot

from .errors import Problem
from .worker import TaskWorker, start_in_thread, stop_all, stop_thread

__all__ = ["TaskRunner"]


class TaskRunner(QtCore.QObject):
    """Starts, replaces, cancels and stops the window's background tasks (dataset, model, catalog,
    transfer). ``on_fail(Problem)`` defaults to ``default_fail``."""

    def __init__(self, default_fail: Callable[[Problem], None], parent=None):
        super().__init__(parent)
        self._default_fail = default_fail
        self._tasks: dict[str, TaskWorker] = {}
        self._threads: dict[str, QtCore.QThread] = {}

    def start(self, key: str, fn: Callable[..., Any], on_done: Callable[[Any], None],
              on_progress: Callable[[int, int, str], None] | None = None,
              on_fail: Callable[[Problem], None] | None = None, nice: int = 0) -> TaskWorker:
        """``nice`` (Linux): lower the task thread's CPU priority by this much."""
        self.cancel(key)
        worker = TaskWorker(fn, key, nice=nice)
        relay = _Relay(self)

        def current() -> bool:
            return self._tasks.get(key) is worker

        def finish(cb, *args) -> None:
            if current():
                self._tasks.pop(key, None)
                self._threads.pop(key, None)
                cb(*args)
            relay.deleteLater()

        relay.on_done = lambda r: finish(on_done, r)
        relay.on_fail = lambda p: finish(on_fail or self._default_fail, p)
        relay.on_cancel = lambda: finish(lambda: None)
        if on_progress is not None:
            relay.on_progress = lambda d, n, t: on_progress(d, n, t) if current() else None
        worker.progress.connect(relay.progress)
        worker.finished.connect(relay.done)
        worker.failed.connect(relay.fail)
        worker.cancelled_signal.connect(relay.cancelled)
        done = (worker.finished, worker.failed, worker.cancelled_signal)
        self._threads[key] = start_in_thread(worker, done)
        self._tasks[key] = worker
        return worker

    def cancel(self, key: str) -> None:
        """Cancel task ``key`` (its callbacks will not run)."""
        worker = self._tasks.pop(key, None)
        self._threads.pop(key, None)
        if worker is not None:
            try:
                worker.cancel()
            except RuntimeError:
                pass

    def running(self, key: str | None = None) -> bool:
        return bool(self._tasks) if key is None else key in self._tasks

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Cancel every task and wait for the threads (replaced ones too)."""
        for key in list(self._tasks):
            worker, thread = self._tasks.pop(key), self._threads.pop(key, None)
            stop_thread(thread, worker, timeout_ms)
        stop_all(timeout_ms)


class _Relay(QtCore.QObject):
    """Receives a TaskWorker's signals in the GUI thread (bound slots of a GUI-thread object: queued
    connections) and calls plain Python callbacks there."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.on_done = self.on_fail = self.on_cancel = self.on_progress = None

    @Slot(object)
    def done(self, result) -> None:
        self.on_done(result)

    @Slot(object)
    def fail(self, problem) -> None:
        self.on_fail(problem)

    @Slot()
    def cancelled(self) -> None:
        self.on_cancel()

    @Slot(int, int, str)
    def progress(self, done: int, total: int, text: str) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total, text)
