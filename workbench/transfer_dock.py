"""The Black box dock: does the adversarial motion fool the models it was not made on? One row per other
model that fits the dataset (:class:`~workbench.transfer.TransferController` fills ``state.transfer``)."""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets
from PySide6.QtCore import Qt

from .state import WorkbenchState

__all__ = ["TransferDock"]

IDLE = "Run an attack: its adversarial motion is shown to every other model that fits this dataset."
COLUMNS = ("Model", "Original →", "Adversarial →", "Fooled?")


class TransferDock(QtWidgets.QDockWidget):
    def __init__(self, state: WorkbenchState, parent=None):
        super().__init__("Black box (transfer)", parent)
        self.setObjectName("dock_transfer")
        self.state = state
        w = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(w)
        self.note = QtWidgets.QLabel(IDLE)
        self.note.setWordWrap(True)
        col.addWidget(self.note)
        t = self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        t.setHorizontalHeaderLabels(list(COLUMNS))
        t.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        t.verticalHeader().hide()
        t.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        t.horizontalHeader().setStretchLastSection(True)
        col.addWidget(t, 1)
        self.summary = QtWidgets.QLabel("")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        col.addWidget(self.summary)
        self.setWidget(w)
        state.transfer_changed.connect(self.render)

    def render(self) -> None:
        st = self.state
        rows = st.transfer
        self.note.setText(st.transfer_note or IDLE)
        t = self.table
        t.setRowCount(len(rows))
        green, red = QtGui.QColor(90, 200, 110), QtGui.QColor(235, 90, 90)
        for r, row in enumerate(rows):
            fooled = "✓ fooled" if row.fooled else "✗ not fooled"
            if not row.original_correct:
                fooled += " (misclassifies the original)"
            vals = (row.model, row.original, f"{row.adversarial} ({row.confidence:.0%})", fooled)
            for c, v in enumerate(vals):
                item = QtWidgets.QTableWidgetItem(v)
                if c == 3:
                    item.setForeground(green if row.fooled else red)
                t.setItem(r, c, item)
        n = sum(r.fooled and r.original_correct for r in rows)
        m = sum(r.original_correct for r in rows)
        self.summary.setText(f"Transfers to <b>{n} / {m}</b> models that classify the original correctly."
                             if rows else "")
