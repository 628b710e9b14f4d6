"""The look shared by the charts painted directly with QPainter (loss curves, class probabilities): the
workbench's dark plots with grey text, and their spacing."""

from __future__ import annotations

from PySide6 import QtGui

__all__ = ["BACKGROUND", "FOREGROUND", "PAD", "small_font"]

BACKGROUND = (0, 0, 0)
FOREGROUND = (150, 150, 150)
PAD = 6  # px between the parts of a chart and around it


def small_font(font: QtGui.QFont) -> QtGui.QFont:
    """``font`` at 90 % of its size (legends, tick numbers)."""
    small = QtGui.QFont(font)
    small.setPointSizeF(max(font.pointSizeF() * 0.9, 6.0))
    return small
