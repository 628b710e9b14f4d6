"""The Live plots dock: the loss curves and the class probabilities (top 5, dataset class names).

It shows the run in progress (redrawn by :class:`~workbench.live_updates.LiveUpdates` at the display rate),
else the shown run, else the selected motion's clean probabilities; nothing of another dataset or model.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import Qt

from widgets.loss_plot import LossPlot
from widgets.probability_chart import ProbabilityBars

from .state import ModelStatus, WorkbenchState

__all__ = ["LOSS_TERMS", "PlotsDock"]

LOSS_TERMS = ("total", "Lc", "Lp", "l_dyn", "l_bl")


class PlotsDock(QtWidgets.QDockWidget):
    def __init__(self, state: WorkbenchState, parent=None):
        super().__init__("Live plots", parent)
        self.setObjectName("dock_plots")
        self.state = state
        self.loss_plot = LossPlot(terms=LOSS_TERMS, refresh_ms=60_000)  # flushed by the window's UI tick
        self.prob_bars = ProbabilityBars()
        self.bars_note = QtWidgets.QLabel("")
        self.bars_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.bars_note.setWordWrap(True)
        w = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(w)
        col.setContentsMargins(2, 2, 2, 2)
        top = QtWidgets.QHBoxLayout()
        self.log_check = QtWidgets.QCheckBox("Log scale")
        top.addWidget(QtWidgets.QLabel("Loss"))
        top.addStretch(1)
        top.addWidget(self.log_check)
        col.addLayout(top)
        bars = QtWidgets.QStackedWidget()
        bars.addWidget(self.prob_bars)
        bars.addWidget(self.bars_note)
        self._bars_stack = bars
        split = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.loss_plot)
        split.addWidget(bars)
        col.addWidget(split, 1)
        self.setWidget(w)
        self.log_check.toggled.connect(self.loss_plot.set_log_scale)
        self.loss_plot.log_scale_changed.connect(self._sync_log)
        for sig in (state.selection_changed, state.model_changed, state.runs_changed, state.run_started):
            sig.connect(self.render)

    def _sync_log(self, on: bool) -> None:
        with QtCore.QSignalBlocker(self.log_check):
            self.log_check.setChecked(on)

    def class_names(self) -> list[str]:
        m = self.state.model
        return [] if m is None else [self.state.model_class_name(c) for c in range(len(m.class_names))]

    def show_probabilities(self, p: np.ndarray, target: int | None = None) -> None:
        st = self.state
        names = self.class_names()
        if len(p) != len(names) or not np.isfinite(p).all():
            return
        truth = st.model_label(st.index)
        self.prob_bars.set_probabilities(p, names, clean=truth if truth >= 0 else None, target=target, k=5)
        self._bars_stack.setCurrentIndex(0)

    def _note(self, text: str) -> None:
        self.bars_note.setText(text)
        self._bars_stack.setCurrentIndex(1)

    def render(self) -> None:
        st = self.state
        if st.running is not None:
            if st.running.report is None:
                self.loss_plot.clear()
            return  # live: LiveUpdates draws
        rec = st.shown
        if rec is not None:
            hist = {k: v for k, v in rec.history.items() if k in LOSS_TERMS}
            if hist:
                self.loss_plot.set_history(hist)
            self.loss_plot.mark_flip(rec.flip_iteration if rec.flip_iteration >= 0 else None)
            self.show_probabilities(rec.probabilities, rec.target if rec.target >= 0 else None)
            return
        self.loss_plot.clear()
        if st.index is None or st.dataset is None:
            self._note("")
        elif st.status == ModelStatus.READY and st.probabilities is not None:
            self.show_probabilities(st.probabilities[st.index])
        elif st.status == ModelStatus.MISFIT:
            self._note("The model does not fit this dataset: no probabilities.")
        else:
            self._note("Evaluating the model…" if st.model is not None else "No model")
