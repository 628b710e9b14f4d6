"""The Run history dock: every run with its dataset, motion, model, parameters and outcome (success /
failed / stopped at k). One selected run is shown; two runs on the same motion are compared (or the
panel says why they can't be) and can be played against each other."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import Qt, Signal

from .records import RunRecord, compare_reason, metric_rows, strategy_text
from .state import WorkbenchState

__all__ = ["HistoryDock"]

COLUMNS = ("Run", "Dataset", "#", "Model", "Strategy", "w", "α", "β", "Iter.", "Outcome", "Disp. (mm)")
_OUTCOME = {"success": "✓ success", "failed": "✗ failed", "stopped": "stopped at {k}{ok}"}
HINT = "Select one run to show it, two runs on the same motion to compare them."


class HistoryDock(QtWidgets.QDockWidget):
    """Signals: ``compare_requested(object, object)`` (two runs), ``params_requested(dict)``."""

    compare_requested = Signal(object, object)
    params_requested = Signal(object)

    def __init__(self, state: WorkbenchState, parent=None):
        super().__init__("Run history", parent)
        self.setObjectName("dock_history")
        self.state = state
        self._rows: list[RunRecord] = []
        split = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        left = QtWidgets.QWidget()
        hl = QtWidgets.QVBoxLayout(left)
        hl.setContentsMargins(0, 0, 0, 0)
        t = self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        t.setHorizontalHeaderLabels(list(COLUMNS))
        t.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        t.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        t.verticalHeader().hide()
        t.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        hl.addWidget(t, 1)
        brow = QtWidgets.QHBoxLayout()
        self.all_check = QtWidgets.QCheckBox("All motions")
        self.all_check.setToolTip("List the runs on every motion and dataset of this session")
        self.compare_button = QtWidgets.QPushButton("Play A vs B")
        self.compare_button.setToolTip("Select two runs on this motion: play their adversarial motions "
                                       "against each other")
        self.params_button = QtWidgets.QPushButton("Use parameters")
        self.params_button.setToolTip("Put the selected run's parameters into the attack panel")
        brow.addWidget(self.all_check)
        brow.addStretch(1)
        brow.addWidget(self.compare_button)
        brow.addWidget(self.params_button)
        hl.addLayout(brow)
        self.compare_label = QtWidgets.QLabel(HINT)
        self.compare_label.setTextFormat(Qt.TextFormat.RichText)
        self.compare_label.setWordWrap(True)
        self.compare_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(self.compare_label)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        split.addWidget(left)
        split.addWidget(scroll)
        split.setSizes([620, 380])
        self.setWidget(split)

        t.itemSelectionChanged.connect(self._on_selection)
        self.all_check.toggled.connect(lambda _on: self.render())
        self.compare_button.clicked.connect(self._compare)
        self.params_button.clicked.connect(self._use_params)
        state.runs_changed.connect(self.render)
        state.selection_changed.connect(self.render)

    def rows(self) -> list[RunRecord]:
        st = self.state
        return list(st.runs) if self.all_check.isChecked() else st.current_runs()

    def render(self) -> None:
        st = self.state
        self._rows = self.rows()
        t = self.table
        with QtCore.QSignalBlocker(t):
            t.clearSelection()
            t.setRowCount(len(self._rows))
            for r, rec in enumerate(self._rows):
                p = rec.params
                vals = [f"#{rec.run_id}", rec.dataset_title, str(rec.motion), rec.model, strategy_text(p),
                        f"{float(p['w']):.2f}", f"{float(p['alpha']):.2f}",
                        ",".join(f"{float(b):g}" for b in p["betas"]), str(rec.iterations),
                        _OUTCOME[rec.outcome].format(k=rec.iterations, ok=" ✓" if rec.success else ""),
                        f"{rec.metrics.get('displacement_mean', float('nan')) * 1000:.1f}"]
                for c, v in enumerate(vals):
                    t.setItem(r, c, QtWidgets.QTableWidgetItem(v))
            if st.shown is not None and st.shown in self._rows:
                t.selectRow(self._rows.index(st.shown))
        self._render_compare()

    def selected(self) -> list[RunRecord]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self._rows[r] for r in rows if r < len(self._rows)]

    def _render_compare(self) -> None:
        sel = self.selected()
        self.params_button.setEnabled(len(sel) == 1)
        if len(sel) != 2:
            self.compare_button.setEnabled(False)
            self.compare_label.setText(HINT)
            return
        a, b = sel
        why = compare_reason(a, b)
        self.compare_button.setEnabled(not why)
        if why:
            self.compare_label.setText(why)
            return
        st = self.state
        rows = [("Model", a.model, b.model), ("Outcome", a.outcome_text(), b.outcome_text()),
                ("Predicted", st.model_class_name(a.predicted), st.model_class_name(b.predicted))]
        vb = {k: v for k, _, v in metric_rows(b.metrics)}
        rows += [(label, va, vb.get(key, "—")) for key, label, va in metric_rows(a.metrics)]
        diff = [k for k in a.params if a.params[k] != b.params.get(k)]
        html = f"<table cellspacing=4><tr><th></th><th>A #{a.run_id}</th><th>B #{b.run_id}</th></tr>"
        for k in diff:
            html += f"<tr><td><i>{k}</i></td><td>{a.params[k]}</td><td>{b.params[k]}</td></tr>"
        for name, va, vb_ in rows:
            html += f"<tr><td>{name}</td><td>{va}</td><td>{vb_}</td></tr>"
        self.compare_label.setText(html + "</table>")

    def _on_selection(self) -> None:
        sel = self.selected()
        st = self.state
        if len(sel) == 1:
            rec = sel[0]
            if rec.dataset != st.source:
                self.compare_label.setText(f"Run #{rec.run_id} is on {rec.dataset_title}: open that dataset "
                                           "to see it.")
                self.params_button.setEnabled(True)
                return
            if rec.motion != st.index:
                st.select(rec.motion)
            st.show_run(rec)
            return
        self._render_compare()

    def _compare(self) -> None:
        sel = self.selected()
        if len(sel) == 2 and not compare_reason(*sel):
            self.compare_requested.emit(sel[0], sel[1])

    def _use_params(self) -> None:
        sel = self.selected()
        if len(sel) == 1:
            self.params_requested.emit(dict(sel[0].params))
