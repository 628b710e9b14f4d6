"""Class-probability bar chart: top-k classes, the clean label and the target marked.

Horizontal bars (class names on the left axis read better than rotated labels): one
:class:`pyqtgraph.BarGraphItem` built once; each update is ``setOpts(width=probs)`` and the brushes are
passed only when the shown classes or the marked ones change (STYLE.md W4).

Three columns, each sized to its content so nothing is clipped: the class names (left axis; names wider
than ``max_label_px`` are elided with "…" and the full name is the row's tooltip), the bars (x from 0 to 1)
and the probability values (right axis). Data is accepted at any rate and drawn at most once per display
frame (:class:`~widgets._throttle.FrameThrottle`; the newest data wins).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from widgets._axes import cache_axes
from widgets._throttle import FRAME_MS, FrameThrottle

__all__ = ["CLEAN_COLOR", "OTHER_COLOR", "TARGET_COLOR", "ProbabilityBars"]

CLEAN_COLOR = (90, 200, 120)
TARGET_COLOR = (255, 90, 60)
OTHER_COLOR = (120, 150, 200)
BAR_HEIGHT = 0.75
_VALUE_TEMPLATE = "0.00"  # widest value text


class _ValueText:
    """Read-only stand-in for the value TextItems of earlier versions (``toPlainText()``)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def toPlainText(self) -> str:  # noqa: N802 - Qt naming
        return self.text


class ProbabilityBars(pg.PlotWidget):
    """Top-k class probabilities. Methods :meth:`set_probabilities`, :meth:`flush`, :meth:`heights`,
    :meth:`row_tooltip`; attributes ``bars`` (BarGraphItem), ``shown_classes`` (class ids, top row first),
    ``shown_names`` (full names, top row first), ``label_texts`` (the names as drawn, maybe elided),
    ``value_texts`` (the probabilities as drawn), ``redraws`` (how many times the items were updated).

    The clean label and the target are always shown (appended when outside the top k) and coloured
    :data:`CLEAN_COLOR` / :data:`TARGET_COLOR`; the others :data:`OTHER_COLOR`.
    ``refresh_ms``: at most one redraw per this many ms (default one 60 Hz frame); ``max_label_px``: class
    names wider than this, or than 40 % of the widget's width, are elided.
    """

    def __init__(self, parent=None, *, refresh_ms: int = FRAME_MS, max_label_px: int = 160):
        super().__init__(parent)
        # No empty pens/brushes lists: pyqtgraph 0.14's BarGraphItem fails on ``pens=[]`` (UnboundLocalError).
        self.bars = pg.BarGraphItem(x0=np.zeros(0), y=np.zeros(0), height=BAR_HEIGHT, width=np.zeros(0),
                                    pen=None, brush=OTHER_COLOR)
        self.plotItem.addItem(self.bars)
        self.plotItem.setMouseEnabled(x=False, y=False)
        self.plotItem.hideButtons()
        self.plotItem.setMenuEnabled(False)
        self.plotItem.setXRange(0.0, 1.0, padding=0.0)
        self.plotItem.setLabel("bottom", "probability")
        self.plotItem.showGrid(x=True, alpha=0.2)
        cache_axes(self)
        self.plotItem.setTitle(
            f'<span style="color:rgb{CLEAN_COLOR}">■ clean</span>&nbsp;&nbsp;'
            f'<span style="color:rgb{TARGET_COLOR}">■ target</span>',
            size="9pt",
        )
        self._font = QtGui.QFont(self.font())
        self._metrics = QtGui.QFontMetricsF(self._font)
        self._max_label_px = max(int(max_label_px), 20)
        self.plotItem.showAxis("right")
        for side in ("left", "right"):
            axis = self.plotItem.getAxis(side)
            axis.setTickFont(self._font)
            axis.setStyle(autoExpandTextSpace=False, autoReduceTextSpace=False, hideOverlappingLabels=False,
                          tickLength=0 if side == "right" else 4)
            axis.setTicks([[], []])
        self._value_width = int(self._metrics.horizontalAdvance(_VALUE_TEMPLATE)) + 12
        self.plotItem.getAxis("right").setWidth(self._value_width)
        self.plotItem.getAxis("left").setWidth(24)
        self.shown_classes: list[int] = []
        self.shown_names: list[str] = []
        self.label_texts: list[str] = []
        self.value_texts: list[str] = []
        self.probabilities = np.zeros(0, dtype=np.float64)
        self._style_key: tuple | None = None
        self._pending: tuple | None = None
        self._shown_p = np.zeros(0, dtype=np.float64)
        self._marks: tuple[int | None, int | None] = (None, None)
        self._throttle = FrameThrottle(self._redraw, refresh_ms, self)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

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

        ``class_names`` (length C) label the axis (default: class ids); ``clean``/``target`` are class
        ids to mark, or None. Checks and the choice of rows happen now (``shown_classes``); the items are
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
        n = len(rows)
        y = np.arange(n - 1, -1, -1, dtype=np.float64)  # first row at the top
        key = (rows, clean, target, names)
        if key != self._style_key:
            brushes = []
            for c in rows:
                color = CLEAN_COLOR if c == clean else TARGET_COLOR if c == target else OTHER_COLOR
                brushes.append(pg.mkBrush(color))
            pens = [pg.mkPen(None)] * n
            self.bars.setOpts(x0=np.zeros(n), y=y, height=BAR_HEIGHT, width=widths, brushes=brushes,
                              pens=pens)
            self._set_names(y, names)
            self.plotItem.setYRange(-0.6, n - 0.4, padding=0.0)
            self._style_key = key
        else:
            self.bars.setOpts(width=widths)
        self._shown_p = widths
        values = [f"{w:.2f}" for w in widths]
        if values != self.value_texts:
            self.value_texts = values
            self.plotItem.getAxis("right").setTicks([list(zip(y.tolist(), values, strict=True)), []])

    def _set_names(self, y: np.ndarray, names: tuple[str, ...]) -> None:
        """Left column: the names elided to ``max_label_px``, the axis exactly as wide as the widest."""
        elide = QtCore.Qt.TextElideMode.ElideRight
        limit = self._label_limit()
        shown = [self._metrics.elidedText(nm, elide, limit) for nm in names]
        self.label_texts = shown
        widest = max((self._metrics.horizontalAdvance(t) for t in shown), default=0.0)
        axis = self.plotItem.getAxis("left")
        axis.setTicks([list(zip(y.tolist(), shown, strict=True)), []])
        axis.setWidth(int(np.ceil(widest)) + 14)  # text, tick text offset, tick, a margin

    def _label_limit(self) -> float:
        return float(max(min(self._max_label_px, 0.4 * self.width()), 40))

    def resizeEvent(self, ev):  # noqa: N802 - Qt naming
        super().resizeEvent(ev)
        if (getattr(self, "_style_key", None) is not None and self.label_texts
                and getattr(self, "plotItem", None) is not None):  # None while the widget is closed
            n = len(self.shown_names)
            self._set_names(np.arange(n - 1, -1, -1, dtype=np.float64), tuple(self._style_key[3]))

    def heights(self) -> np.ndarray:
        """The bar lengths (probabilities) as drawn, top row first (draws a pending update first)."""
        self.flush()
        return np.asarray(self.bars.opts["width"], dtype=np.float64).copy()

    # --- tooltips --------------------------------------------------------------------------------------
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

    def _on_mouse_moved(self, scene_pos) -> None:
        n = len(self.shown_classes)
        if n == 0:
            self.setToolTip("")
            return
        y = self.plotItem.vb.mapSceneToView(scene_pos).y()
        row = int(round(n - 1 - y))
        self.setToolTip(self.row_tooltip(row) if 0 <= row < n and abs(n - 1 - y - row) <= 0.5 else "")
