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
        form = QtWidgets.QFormLayout()
        self.metric_labels: dict[str, QtWidgets.QLabel] = {}
        for m in metrics_mod.METRICS:
            lbl = QtWidgets.QLabel("—")
            lbl.setToolTip(m.description)
            name = QtWidgets.QLabel(m.label)
            name.setToolTip(m.description)
            form.addRow(name, lbl)
            self.metric_labels[m.key] = lbl
        left.addLayout(form)
        left.addStretch(1)
        lw = QtWidgets.QWidget()
        lw.setLayout(left)
        lw.setMinimumWidth(300)
        lw.setMaximumWidth(420)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(lw)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setMaximumWidth(440)
        rh.addWidget(scroll)
        self.disp_chart = DisplacementChart()
        self.disp_chart.setMinimumHeight(200)
        small = QtGui.QFont()
        small.setPixelSize(9)
        self.disp_chart.getAxis("left").setStyle(tickFont=small)
        rh.addWidget(self.disp_chart, 1)
        self.setWidget(w)
        for sig in (state.selection_changed, state.runs_changed, state.run_started, state.dataset_changed):
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
            self.result_label.setText("No attack on this motion with this model yet: press Run.")
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
