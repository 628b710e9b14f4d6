"""Runs the attack on the selected motion in a worker thread and records it.

``run(params, config)`` starts one (a running one is cancelled first and this one starts when it has
stopped: live mode); ``stop()`` cancels through the worker's ``threading.Event``. The run ends as a
:class:`~workbench.records.RunRecord` in the state's history, whose outcome says success, failed or
stopped at k; a run replaced by a live restart is dropped. Changing dataset, model or motion stops it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6 import QtCore
from PySide6.QtCore import Signal, Slot

from engine.attack import AttackConfig

from .errors import Problem, describe
from .records import make_record
from .state import RunningAttack, WorkbenchState
from .worker import AttackWorker, start_in_thread, stop_thread

__all__ = ["AttackRunner"]


class AttackRunner(QtCore.QObject):
    """Signals: ``finished(RunRecord)``, ``failed(str)``, ``status(str)`` (for the status bar)."""

    finished = Signal(object)
    failed = Signal(str)
    status = Signal(str)

    #: the attack thread's nice value over the GUI's (Linux): the GUI wins the CPU on small machines
    WORKER_NICE = 10

    def __init__(self, state: WorkbenchState, report: Callable[[str, Problem, str], None], parent=None):
        super().__init__(parent)
        self.state = state
        self._report = report
        self.worker: AttackWorker | None = None
        self.thread: QtCore.QThread | None = None
        self._restart: Callable[[], None] | None = None
        self._closing = False
        self._side: dict[int, tuple[Callable[[object], None], Callable[[Problem], None]]] = {}
        self._side_tokens = 0
        state.dataset_changed.connect(self.stop)
        state.model_changed.connect(self._stop_if_model_changed)
        state.selection_changed.connect(self._stop_if_motion_changed)

    def running(self) -> bool:
        return self.worker is not None

    def run(self, params: dict, config: AttackConfig, restart: Callable[[], None] | None = None) -> bool:
        """Start an attack on the selected motion with ``config`` (``params``: the panel's values, kept in
        the record). While one runs: cancel it and call ``restart`` once it stopped. False if the state
        does not allow an attack."""
        st = self.state
        ok, _why = st.can_attack()
        if not ok:
            return False
        if self.worker is not None:
            self._restart = restart
            self.worker.cancel()
            return True
        i = st.index
        label = st.model_label(i)
        target = None
        if config.strategy == "sa" and params.get("target") is not None:
            k = int(params["target"])
            target = int(st.label_map[k]) if st.label_map is not None else k
            config = config.replace(targets=target)
        ds = st.dataset
        worker = AttackWorker(st.model.model, ds.layout, config, ds.motions[i:i + 1], [label],
                              nice=self.WORKER_NICE)
        worker.step.connect(self._on_step)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.side_done.connect(self._on_side_done)
        self.worker = worker
        self._context = (st.source, st.short_title, i, st.model, ds.layout, ds.fps, dict(params),
                         time.monotonic())
        self._restart = None
        st.start_run(RunningAttack(dict(params), i, st.model.title, int(config.iterations), target))
        self.thread = start_in_thread(worker, (worker.finished, worker.failed))
        return True

    def run_between(self, job: Callable[[], object], on_done: Callable[[object], None],
                    on_fail: Callable[[Problem], None]) -> bool:
        """Run ``job()`` in the attack's thread between two of its iterations (see
        :meth:`AttackWorker.run_between`); the callbacks run in the GUI thread. False (nothing done) when no
        attack runs. A job the attack ends before is dropped with it: its callbacks never run."""
        if self.worker is None:
            return False
        self._side_tokens += 1
        self._side = {self._side_tokens: (on_done, on_fail)}  # a newer job replaces a waiting one
        self.worker.run_between(self._side_tokens, job)
        return True

    @Slot(object, object, object)
    def _on_side_done(self, token, result, problem) -> None:
        callbacks = self._side.pop(token, None)
        if callbacks is not None:
            callbacks[0](result) if problem is None else callbacks[1](problem)

    @Slot()
    def stop(self) -> None:
        """Cancel the running attack (it stops within one iteration; the record says stopped at k)."""
        self._restart = None
        if self.worker is not None:
            self.worker.cancel()
            self.status.emit("Stopping the attack…")

    def _stop_if_model_changed(self) -> None:
        if self.worker is not None and self.state.model is not self._context[3]:
            self.stop()

    def _stop_if_motion_changed(self) -> None:
        if self.worker is not None and (self.state.source, self.state.index) != (self._context[0],
                                                                                self._context[2]):
            self.stop()

    @Slot(object)
    def _on_step(self, report) -> None:
        if self.worker is not None:
            self.state.step(report)

    def _done(self) -> None:
        self.worker = None
        self.thread = None
        self._side.clear()

    @Slot(object)
    def _on_finished(self, result) -> None:
        if self.worker is None:
            return
        self._done()
        restart, self._restart = self._restart, None
        if restart is not None:  # live mode: the parameters changed while it ran; this run is dropped
            self.state.end_run(None)
            QtCore.QTimer.singleShot(0, restart)
            return
        if self._closing:
            return
        source, title, i, lm, layout, fps, params, t0 = self._context
        try:
            rec = make_record(result, params, dataset=source, dataset_title=title, motion=i, model=lm.title,
                              model_source=lm.source, layout=layout, fps=fps)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.state.end_run(None)
            self._report("Could not evaluate the attack", describe(exc), "")
            return
        self.state.end_run(rec)
        dt = time.monotonic() - t0
        self.status.emit(f"Run #{rec.run_id} on motion #{i}: {rec.outcome_text()} ({dt:.1f} s)")
        for w in rec.warnings:
            self.status.emit(w)
        self.finished.emit(rec)

    @Slot(object)
    def _on_failed(self, problem: Problem) -> None:
        if self.worker is None:
            return
        self._done()
        self._restart = None
        self.state.end_run(None)
        self.failed.emit(problem.message)
        hint = "Switch the device to CPU in the Model panel." if "cuda" in problem.message.lower() else ""
        self._report("The attack failed", problem, hint)

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        self._closing = True
        self._restart = None
        worker, thread = self.worker, self.thread
        self.worker = self.thread = None
        stop_thread(thread, worker, timeout_ms)
        if self.state.running is not None:
            self.state.end_run(None)
