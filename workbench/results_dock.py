"""The Results dock: the shown run's outcome, its metrics (names and units from
:data:`engine.metrics.METRICS`) and the per-joint displacement; "running…" while an attack runs."""

from __future__ import annotations

import numpy as np
from PySide6 import QtGui, QtWidgets
from PySide6.QtCore import Qt

from engine import metrics as metrics_mod
from widgets.displacement_chart import DisplacementChart

from .records import metric_rows, strategy_text
from .state import WorkbenchState

__all__ = ["ResultsDock"]


class ResultsDock(QtWidgets.QDockWidget):
    def __init__(self, state: WorkbenchState, parent=None):
        super().__init__("Results", parent)
        self.setObjectName("dock_results")
        self.state = state
        w = QtWidgets.QWidget()
        rh = QtWidgets.QHBoxLayout(w)
        left = QtWidgets.QVBoxLayout()
        self.result_label = QtWidgets.QLabel("No attack yet")
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.TextFormat.RichText)
        left.addWidget(self.result_label)
        t = self.metrics_table = QtWidgets.QTableWidget(len(metrics_mod.METRICS), 2)
        t.horizontalHeader().hide()
        t.verticalHeader().hide()
        t.verticalHeader().setDefaultSectionSize(19)
        t.setShowGrid(False)
        t.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        t.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        t.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        t.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        t.horizontalHeader().setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.metric_labels: dict[str, QtWidgets.QTableWidgetItem] = {}
        for r, m in enumerate(metrics_mod.METRICS):
            name = QtWidgets.QTableWidgetItem(m.label)
            name.setToolTip(m.description)
            value = QtWidgets.QTableWidgetItem("—")
            value.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setToolTip(m.description)
            t.setItem(r, 0, name)
            t.setItem(r, 1, value)
            self.metric_labels[m.key] = value
        left.addWidget(t, 1)
        lw = QtWidgets.QWidget()
        lw.setLayout(left)
        lw.setMinimumWidth(330)
        lw.setMaximumWidth(400)
        rh.addWidget(lw)
        self.disp_chart = DisplacementChart()
        self.disp_chart.setMinimumHeight(200)
        small = QtGui.QFont()
        small.setPixelSize(9)
        self.disp_chart.getAxis("left").setStyle(tickFont=small)
        rh.addWidget(self.disp_chart, 1)
        self.setWidget(w)
        for sig in (state.selection_changed, state.runs_changed, state.run_started, state.dataset_changed,
                    state.model_changed):
            sig.connect(self.render)

    def render(self) -> None:
        st = self.state
        for lbl in self.metric_labels.values():
            lbl.setText("—")
        if st.dataset is None:
            return
        names = list(st.dataset.layout.joint_names)
        rec = st.shown
        if st.running is not None:
            r = st.running
            self.result_label.setText(f"Running {strategy_text(r.params)} on motion #{r.motion} with "
                                      f"{r.model}…")
            self.disp_chart.set_displacement(np.zeros(len(names)), names)
            return
        if rec is None:
            ok, _why = st.can_attack()
            self.result_label.setText("No attack on this motion with this model yet" +
                                      (": press Run." if ok else "."))
            self.disp_chart.set_displacement(np.zeros(len(names)), names)
            return
        colour = {"success": "#5c6", "failed": "#e55", "stopped": "#db5"}[rec.outcome]
        flip = f", label flipped at iteration {rec.flip_iteration}" if rec.flip_iteration >= 0 else ""
        before, after = st.model_class_name(rec.label), st.model_class_name(rec.predicted)
        self.result_label.setText(
            f"<span style='color:{colour}'><b>{rec.outcome_text().capitalize()}</b></span> — run "
            f"#{rec.run_id} ({rec.model}){flip}.<br>{before} → <b>{after}</b> "
            f"({rec.probabilities[rec.predicted]:.0%})")
        for key, _label, value in metric_rows(rec.metrics):
            self.metric_labels[key].setText(value)
        self.disp_chart.set_displacement(rec.per_joint, names)
