"""The Export dock: clip size, fps, speed, layout, and one button per export (clips, the motion, the
numbers, the plots). Its values persist in the settings (speed too)."""

from __future__ import annotations

from PySide6 import QtWidgets
from PySide6.QtCore import Signal

from .settings import Settings

__all__ = ["EXPORTS", "ExportDock"]

EXPORTS = (("mp4", "MP4…"), ("gif", "GIF…"), ("png", "PNG frames…"), ("npz", "Motion (npz)…"),
           ("json", "Metrics JSON…"), ("csv", "Metrics CSV…"), ("plots", "Plots PNG…"))
SPEEDS = ((1.0, "1×"), (0.5, "0.5×"), (1 / 3, "⅓× (paper)"), (0.25, "0.25×"), (2.0, "2×"))


class ExportDock(QtWidgets.QDockWidget):
    """Signal ``export_requested(str)``: the kind of export asked for."""

    export_requested = Signal(str)

    def __init__(self, parent=None):
        super().__init__("Export", parent)
        self.setObjectName("dock_export")
        w = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(w)
        form = QtWidgets.QFormLayout()
        self.size_combo = QtWidgets.QComboBox()
        self.size_combo.setEditable(True)
        self.size_combo.addItems(["640x480", "1280x720", "1920x1080", "800x800", "480x360"])
        self.fps_spin = QtWidgets.QSpinBox()
        self.fps_spin.setRange(1, 120)
        self.fps_spin.setValue(30)
        self.fps_spin.setToolTip("Frames per second of the video (GIF: at most 30)")
        self.speed_combo = QtWidgets.QComboBox()
        for s, t in SPEEDS:
            self.speed_combo.addItem(t, s)
        self.mode_combo = QtWidgets.QComboBox()
        self.mode_combo.addItem("Overlay", "overlay")
        self.mode_combo.addItem("Side by side", "side")
        form.addRow("Size", self.size_combo)
        form.addRow("FPS", self.fps_spin)
        form.addRow("Speed", self.speed_combo)
        form.addRow("Layout", self.mode_combo)
        col.addLayout(form)
        grid = QtWidgets.QGridLayout()
        self.buttons: dict[str, QtWidgets.QPushButton] = {}
        for k, (key, text) in enumerate(EXPORTS):
            b = QtWidgets.QPushButton(text)
            b.clicked.connect(lambda _c=False, kind=key: self.export_requested.emit(kind))
            grid.addWidget(b, k // 2, k % 2)
            self.buttons[key] = b
        col.addLayout(grid)
        col.addStretch(1)
        self.setWidget(w)

    def restore(self, s: Settings) -> None:
        idx = self.size_combo.findText(s.export_size)
        if idx >= 0:
            self.size_combo.setCurrentIndex(idx)
        else:
            self.size_combo.setEditText(s.export_size)
        self.fps_spin.setValue(int(s.export_fps))
        best = min(range(self.speed_combo.count()),
                   key=lambda i: abs(float(self.speed_combo.itemData(i)) - float(s.export_speed)))
        self.speed_combo.setCurrentIndex(best)

    def save(self, s: Settings) -> None:
        s.export_size = self.size_combo.currentText()
        s.export_fps = int(self.fps_spin.value())
        s.export_speed = float(self.speed_combo.currentData())

    def set_mode(self, mode: str) -> None:
        idx = self.mode_combo.findData(mode)
        if idx >= 0:
            self.mode_combo.setCurrentIndex(idx)
