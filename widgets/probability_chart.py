"""Class-probability bar chart: top-k classes, the clean label and the target marked.

Horizontal bars (class names on the left read better than rotated labels), painted directly with QPainter
in one ``paintEvent``: a handful of rectangles and texts. (It was a pyqtgraph plot: each live update
rebuilt its axes' tick texts and laid the plot out again in Python, 4–12 ms of the GUI thread per update
under Xvfb during an attack — one of the longest items of the event loop, ``benchmarks/gui_latency.py``;
painted directly it is well under a millisecond.)

Three columns, each sized to its content so nothing is clipped: the class names (names wider than
``max_label_px``, or than 40 % of the width, are elided with "…" and the full name is the row's tooltip),
the bars (x from 0 to 1, faint lines at 0.2 … 0.8) and the probability values (headed "p"). Data is
accepted at any rate and drawn at most once per display frame (:class:`~widgets._throttle.FrameThrottle`;
the newest data wins).
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from widgets._chart_style import BACKGROUND, FOREGROUND, PAD, small_font
from widgets._throttle import FRAME_MS, FrameThrottle

__all__ = ["CLEAN_COLOR", "OTHER_COLOR", "TARGET_COLOR", "ProbabilityBars"]

CLEAN_COLOR = (90, 200, 120)
TARGET_COLOR = (255, 90, 60)
OTHER_COLOR = (120, 150, 200)
BAR_HEIGHT = 0.75  # of a row
_VALUE_TEMPLATE = "0.00"  # widest value text


class _ValueText:
    """Read-only stand-in for the value TextItems of earlier versions (``toPlainText()``)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def toPlainText(self) -> str:  # noqa: N802 - Qt naming
        return self.text


class ProbabilityBars(QtWidgets.QWidget):
    """Top-k class probabilities. Methods :meth:`set_probabilities`, :meth:`flush`, :meth:`heights`,
    :meth:`row_tooltip`, :meth:`row_at`; attributes ``shown_classes`` (class ids, top row first),
    ``shown_names`` (full names, top row first), ``label_texts`` (the names as drawn, maybe elided),
    ``value_texts`` (the probabilities as drawn), ``bar_colors`` (RGB per row, top first; a new list only
    when the rows or the marks change), ``redraws`` (how many times the drawn state was updated).

    The clean label and the target are always shown (appended when outside the top k) and coloured
    :data:`CLEAN_COLOR` / :data:`TARGET_COLOR`; the others :data:`OTHER_COLOR`.
    ``refresh_ms``: at most one redraw per this many ms (default one 60 Hz frame); ``max_label_px``: class
    names wider than this, or than 40 % of the widget's width, are elided.
    """

    def __init__(self, parent=None, *, refresh_ms: int = FRAME_MS, max_label_px: int = 160):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(160, 110)  # five rows of text, the legend and the axis
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._metrics = QtGui.QFontMetricsF(self.font())
        self._small = small_font(self.font())
        self._max_label_px = max(int(max_label_px), 20)
        self._value_width = self._metrics.horizontalAdvance(_VALUE_TEMPLATE)
        self.shown_classes: list[int] = []
        self.shown_names: list[str] = []
        self.label_texts: list[str] = []
        self.value_texts: list[str] = []
        self.bar_colors: list[tuple[int, int, int]] = []
        self.probabilities = np.zeros(0, dtype=np.float64)
        self._widths = np.zeros(0, dtype=np.float64)  # the bar lengths as drawn
        self._names: tuple[str, ...] = ()
        self._style_key: tuple | None = None
        self._pending: tuple | None = None
        self._marks: tuple[int | None, int | None] = (None, None)
        self._throttle = FrameThrottle(self._redraw, refresh_ms, self)

    @property
    def redraws(self) -> int:
        return self._throttle.redraws

    @property
    def value_labels(self) -> list[_ValueText]:
        """The probability texts as objects with ``toPlainText()`` (earlier versions' TextItems)."""
        self.flush()
        return [_ValueText(t) for t in self.value_texts]

    def set_probabilities(self, probs, class_names=None, clean: int | None = None, target: int | None = None,
                          k: int = 10) -> None:
        """Show the ``k`` most probable classes of ``probs`` ``(C,)``.

        ``class_names`` (length C) label the rows (default: class ids); ``clean``/``target`` are class
        ids to mark, or None. Checks and the choice of rows happen now (``shown_classes``); the chart is
        redrawn at most once per frame (:meth:`flush` redraws a pending update at once).
        """
        p = np.asarray(probs, dtype=np.float64).reshape(-1)
        n_classes = p.size
        if class_names is not None and len(class_names) != n_classes:
            raise ValueError(f"{len(class_names)} class names for {n_classes} probabilities")
        for name, c in (("clean", clean), ("target", target)):
            if c is not None and not 0 <= int(c) < n_classes:
                raise ValueError(f"{name} class {c} outside 0..{n_classes - 1}")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        clean = None if clean is None else int(clean)
        target = None if target is None else int(target)
        key = np.nan_to_num(p, nan=-1.0)
        kk = min(int(k), n_classes)
        top = np.argpartition(-key, kk - 1)[:kk] if kk < n_classes else np.arange(n_classes)
        rows = [int(c) for c in top]
        for c in (clean, target):
            if c is not None and c not in rows:
                rows.append(c)
        rows.sort(key=lambda c: (-key[c], c))
        self.probabilities = p
        self.shown_classes = rows
        self._marks = (clean, target)
        labels = rows if class_names is None else [class_names[c] for c in rows]
        self.shown_names = [str(c) for c in labels]
        self._pending = (np.nan_to_num(p[rows], nan=0.0), tuple(rows), tuple(self.shown_names), clean, target)
        self._throttle.request()

    def flush(self) -> None:
        """Draw a pending update now."""
        self._throttle.flush()

    def _redraw(self) -> None:
        if self._pending is None:
            return
        widths, rows, names, clean, target = self._pending
        self._pending = None
        key = (rows, clean, target, names)
        if key != self._style_key:
            self.bar_colors = [CLEAN_COLOR if c == clean else TARGET_COLOR if c == target else OTHER_COLOR
                               for c in rows]
            self._names = names
            self._elide()
            self._style_key = key
        self._widths = np.clip(widths, 0.0, 1.0)
        self.value_texts = [f"{w:.2f}" for w in widths]
        self.update()

    def _elide(self) -> None:
        limit = float(max(min(self._max_label_px, 0.4 * self.width()), 40))
        elide = Qt.TextElideMode.ElideRight
        self.label_texts = [self._metrics.elidedText(nm, elide, limit) for nm in self._names]

    def heights(self) -> np.ndarray:
        """The bar lengths (probabilities) as drawn, top row first (draws a pending update first)."""
        self.flush()
        return self._widths.copy()

    # --- geometry and painting -------------------------------------------------------------------------
    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt naming
        return QtCore.QSize(320, 200)

    def _layout(self) -> tuple[float, float, float, float, float]:
        """(names column width, bars' left x, bars' width, first row's top y, row height) in pixels."""
        fm, small = self._metrics, QtGui.QFontMetricsF(self._small)
        names_w = max((fm.horizontalAdvance(t) for t in self.label_texts), default=0.0)
        left = PAD + names_w + PAD
        right = self.width() - PAD - self._value_width - PAD
        top = PAD / 2 + small.height() + 2  # the legend line
        bottom = self.height() - PAD / 2 - small.height() - 2  # the axis' numbers
        n = max(len(self.label_texts), 1)
        return names_w, left, max(right - left, 1.0), top, max(bottom - top, 1.0) / n

    def resizeEvent(self, ev):  # noqa: N802 - Qt naming
        super().resizeEvent(ev)
        if self._names:
            self._elide()

    def paintEvent(self, ev):  # noqa: N802 - Qt naming
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), QtGui.QColor(*BACKGROUND))
        fm = self._metrics
        fg = QtGui.QColor(*FOREGROUND)
        names_w, left, width, top, row_h = self._layout()
        small = QtGui.QFontMetricsF(self._small)
        # legend (■ clean  ■ target, centred on the bars) and the values' header, in the small font
        p.setFont(self._small)
        base = PAD / 2 + small.ascent()
        legend_w = small.horizontalAdvance("■ clean") + small.horizontalAdvance("■ target") + 10
        x = left + width / 2 - legend_w / 2
        for text, color in (("■ clean", CLEAN_COLOR), ("■ target", TARGET_COLOR)):
            p.setPen(QtGui.QColor(*color))
            p.drawText(QtCore.QPointF(x, base), text)
            x += small.horizontalAdvance(text) + 10
        p.setPen(fg)
        p.drawText(QtCore.QPointF(left + width + PAD, base), "p")
        # faint lines at 0.2 … 0.8 and the axis below the rows, with its ticks and label
        n = len(self.label_texts)
        bottom = top + row_h * max(n, 1)
        grid = QtGui.QColor(*FOREGROUND)
        grid.setAlpha(50)
        p.setPen(grid)
        for v in (0.2, 0.4, 0.6, 0.8):
            gx = left + v * width
            p.drawLine(QtCore.QPointF(gx, top), QtCore.QPointF(gx, bottom))
        p.setPen(fg)
        p.drawLine(QtCore.QPointF(left, bottom), QtCore.QPointF(left + width, bottom))
        for v in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
            label = f"{v:.1f}" if 0 < v < 1 else f"{v:.0f}"
            p.drawText(QtCore.QPointF(left + v * width - small.horizontalAdvance(label) / 2,
                                      bottom + small.ascent() + 2), label)
        # rows: name (right-aligned), bar, value
        p.setFont(self.font())
        for i in range(n):
            y = top + i * row_h
            mid = y + row_h / 2
            p.setPen(fg)
            name = self.label_texts[i]
            p.drawText(QtCore.QPointF(PAD + names_w - fm.horizontalAdvance(name), mid + fm.ascent() / 2 - 1),
                       name)
            if i < len(self._widths) and i < len(self.bar_colors):
                h = row_h * BAR_HEIGHT
                p.fillRect(QtCore.QRectF(left, mid - h / 2, self._widths[i] * width, h),
                           QtGui.QColor(*self.bar_colors[i]))
            if i < len(self.value_texts):
                p.setPen(fg)
                value = self.value_texts[i]
                p.drawText(QtCore.QPointF(left + width + PAD, mid + fm.ascent() / 2 - 1), value)
        p.end()

    # --- tooltips --------------------------------------------------------------------------------------
    def row_at(self, y: float) -> int:
        """The row (0 = top) at widget y ``y``, or -1."""
        _names_w, _left, _width, top, row_h = self._layout()
        row = int((y - top) // row_h) if y >= top else -1
        return row if 0 <= row < len(self.shown_classes) else -1

    def row_tooltip(self, row: int) -> str:
        """Tooltip of a row (0 = top): the full class name, its id and probability."""
        self.flush()
        if not 0 <= row < len(self.shown_classes):
            return ""
        c = self.shown_classes[row]
        p = float(self.probabilities[c])
        clean, target = self._marks
        mark = " · clean label" if c == clean else " · target" if c == target else ""
        return f"{self.shown_names[row]} (class {c}): {p:.3f}{mark}"

    def mouseMoveEvent(self, ev):  # noqa: N802 - Qt naming
        self.setToolTip(self.row_tooltip(self.row_at(ev.position().y())))
        super().mouseMoveEvent(ev)
