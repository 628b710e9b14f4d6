"""The Data dock's motion list: a table model over the dataset's arrays (#, class, subject, the model's
verdict) and its filter (text over #, class, subject, verdict; "attack candidates only")."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui
from PySide6.QtCore import Qt

__all__ = ["MotionFilter", "MotionTableModel"]


class MotionTableModel(QtCore.QAbstractTableModel):
    """Motions as rows, read from arrays: the model's verdicts for thousands of motions are one
    ``dataChanged``, not thousands of item edits. Class names are the dataset's."""

    HEADERS = ("#", "Class", "Subject", "Model")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.labels = np.zeros(0, dtype=np.int64)
        self.class_names: list[str] = []
        self.subjects: list[str] = []
        self.correct_: np.ndarray | None = None  # (N,) bool, or None (no verdicts)
        self.predicted: list[str] = []
        self.confidence: np.ndarray | None = None
        self._green = QtGui.QBrush(QtGui.QColor(90, 200, 110))
        self._red = QtGui.QBrush(QtGui.QColor(235, 90, 90))

    def set_motions(self, labels: np.ndarray, class_names: list[str], subjects: list[str]) -> None:
        self.beginResetModel()
        self.labels = np.asarray(labels, dtype=np.int64)
        self.class_names = list(class_names)
        self.subjects = list(subjects)
        self.correct_, self.predicted, self.confidence = None, [], None
        self.endResetModel()

    def set_verdicts(self, correct: np.ndarray | None, predicted: list[str], confidence: np.ndarray | None
                     ) -> None:
        """``correct`` (N,) bool and the predicted class name and confidence per motion, or None."""
        self.correct_ = None if correct is None else np.asarray(correct, dtype=bool)
        self.predicted = list(predicted)
        self.confidence = confidence
        n = len(self.labels)
        if n:
            self.dataChanged.emit(self.index(0, 3), self.index(n - 1, 3))

    def correct(self, row: int) -> bool | None:
        if self.correct_ is None or row >= len(self.correct_):
            return None
        return bool(self.correct_[row])

    def rowCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: B008,N802 - Qt API
        return 0 if parent.isValid() else len(self.labels)

    def columnCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: B008,N802 - Qt API
        return 0 if parent.isValid() else 4

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 - Qt API
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def text(self, row: int, col: int) -> str:
        if col == 0:
            return str(row)
        if col == 1:
            return self.class_names[int(self.labels[row])]
        if col == 2:
            return self.subjects[row] if row < len(self.subjects) else ""
        ok = self.correct(row)
        if ok is None:
            return "…" if self.correct_ is None else ""
        return "✓" if ok else f"✗ {self.predicted[row]}"

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return row if col == 0 else self.text(row, col)
        if col == 3:
            ok = self.correct(row)
            if role == Qt.ItemDataRole.ForegroundRole and ok is not None:
                return self._green if ok else self._red
            if role == Qt.ItemDataRole.ToolTipRole and ok is not None and self.confidence is not None:
                return f"predicted {self.predicted[row]} ({self.confidence[row]:.0%})"
        return None


class MotionFilter(QtCore.QSortFilterProxyModel):
    """Case-insensitive text filter over #, class, subject and verdict, plus "attack candidates only"."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._correct_only = False
        self._text = ""

    def set_correct_only(self, on: bool) -> None:
        self._correct_only = bool(on)
        self.invalidate()

    def set_text(self, text: str) -> None:
        self._text = text.strip().lower()
        self.invalidate()

    def filterAcceptsRow(self, row: int, parent) -> bool:  # noqa: N802 - Qt naming
        m: MotionTableModel = self.sourceModel()
        if self._correct_only and m.correct(row) is not True:
            return False
        if not self._text:
            return True
        return any(self._text in m.text(row, c).lower() for c in (0, 1, 2, 3))
