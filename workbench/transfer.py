"""Black-box transfer, live: the adversarial motion on screen (the shown run, or the attack's current
iterate, every 3 s) shown to every *other* model that fits the open dataset — the shipped checkpoints with
the same layout and class names and the checkpoints opened this session. Their predictions (of the original
and of the adversarial motion) go into ``state.transfer``.

During an attack the predictions are made in the attack's own thread between two iterations (``between``,
:meth:`AttackRunner.run_between`; ~0.1 s every 3 s for the five other demo models on a CPU), not in a thread
of their own: a third busy thread on a small machine held the interpreter lock while descheduled, and the
GUI thread waited for it (measured with ``benchmarks/gui_latency.py``: its longest stalls came from there)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6 import QtCore

from engine.models import fit

from .catalog import load_model
from .errors import Problem
from .evaluation import evaluate
from .state import TransferRow, WorkbenchState
from .tasks import TaskRunner

__all__ = ["TransferController"]

#: ``between(job, on_done, on_fail) -> bool``: run ``job()`` between two iterations of the running attack
Between = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[Problem], None]], bool]


class TransferController(QtCore.QObject):
    LIVE_INTERVAL_S = 3.0

    def __init__(self, state: WorkbenchState, tasks: TaskRunner, device, parent=None,
                 between: Between | None = None):
        super().__init__(parent)
        self.state, self.tasks, self._device = state, tasks, device
        self._between = between
        self._live_pending = False  # a live job waits for (or runs in) the attack's thread
        self._last_live = 0.0
        self._shown_id: int | None = None
        state.runs_changed.connect(self._on_runs)
        state.run_stepped.connect(self._on_step)
        state.run_ended.connect(self._on_run_ended)

    def others(self) -> list:
        st = self.state
        mine = st.model.source if st.model is not None else None
        return [c for c in st.choices if c.source != mine]

    def _on_runs(self) -> None:
        rec = self.state.shown
        if rec is None:
            self._shown_id = None
            return
        if rec.run_id != self._shown_id:
            self._shown_id = rec.run_id
            self.compute(rec.original, rec.adversarial,
                         f"Run #{rec.run_id}'s adversarial motion (made on {rec.model}) shown to the other "
                         "models that fit this dataset:")

    def _on_step(self) -> None:
        st = self.state
        r = st.running
        if r is None or r.report is None or r.report.adversarial is None or st.dataset is None:
            return
        now = time.monotonic()
        if (now - self._last_live < self.LIVE_INTERVAL_S or self.tasks.running("transfer")
                or self._live_pending):
            return
        self._last_live = now
        self.compute(st.dataset.motions[r.motion], r.report.adversarial[0],
                     f"Live: iteration {r.report.iteration} of the attack on {r.model}, shown to the other "
                     "models that fit this dataset:")

    def compute(self, original: np.ndarray, adversarial: np.ndarray, note: str) -> None:
        st = self.state
        others, ds, device = self.others(), st.dataset, self._device()
        if ds is None:
            return
        if not others:
            st.set_transfer([], "No other model fits this dataset: open another checkpoint trained on it to "
                                "see whether the attack transfers.")
            return
        label = int(ds.labels[st.index]) if st.index is not None else -1
        pair = np.stack([np.asarray(original, np.float32), np.asarray(adversarial, np.float32)])

        def job(progress, cancelled):
            rows = []
            for k, c in enumerate(others):
                lm = load_model(c.source)
                lmap = fit(lm.model, ds)
                p = evaluate(lm.model, pair, device)
                inv = {int(m): d for d, m in enumerate(lmap) if m >= 0}
                names = [ds.class_names[inv[j]] if j in inv else lm.class_names[j] for j in range(p.shape[1])]
                po, pa = int(np.argmax(p[0])), int(np.argmax(p[1]))
                truth = int(lmap[label]) if 0 <= label < len(lmap) else -1
                rows.append(TransferRow(c.title, c.source, names[po], names[pa], float(p[1, pa]),
                                        fooled=pa != truth, original_correct=po == truth))
                progress(k + 1, len(others))
            return rows

        def done(rows) -> None:
            self._live_pending = False
            st.set_transfer(rows, note)

        def fail(problem: Problem) -> None:
            self._live_pending = False
            st.set_transfer([], f"Could not run the other models: {problem.message}")

        if st.running is not None and self._between is not None:
            self.tasks.cancel("transfer")  # (an older one of the shown run: this one is newer)
            self._live_pending = self._between(lambda: job(lambda *_: None, lambda: False), done, fail)
            if self._live_pending:
                return
        self.tasks.start("transfer", job, done, on_fail=fail)

    def _on_run_ended(self) -> None:
        self._live_pending = False  # (a job the attack ended before was dropped with it)
