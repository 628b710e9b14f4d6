"""Class-probability bar chart: top-k classes, the clean label and the target marked.

Horizontal bars (class names on the left axis read better than rotated labels): one
:class:`pyqtgraph.BarGraphItem` built once; each update is ``setOpts(width=probs)`` and the brushes are
passed only when the shown classes or the marked ones change (STYLE.md W4).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

__all__ = ["CLEAN_COLOR", "OTHER_COLOR", "TARGET_COLOR", "ProbabilityBars"]

CLEAN_COLOR = (90, 200, 120)
TARGET_COLOR = (255, 90, 60)
OTHER_COLOR = (120, 150, 200)
BAR_HEIGHT = 0.75


class ProbabilityBars(pg.PlotWidget):
    """Top-k class probabilities. Method :meth:`set_probabilities`; attributes ``bars`` (BarGraphItem),
    ``shown_classes`` (class ids, top row first), ``value_labels`` (TextItems).

    The clean label and the target are always shown (appended when outside the top k) and coloured
    :data:`CLEAN_COLOR` / :data:`TARGET_COLOR`; the others :data:`OTHER_COLOR`.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        # No empty pens/brushes lists: pyqtgraph 0.14's BarGraphItem fails on ``pens=[]`` (UnboundLocalError).
        self.bars = pg.BarGraphItem(x0=np.zeros(0), y=np.zeros(0), height=BAR_HEIGHT, width=np.zeros(0),
                                    pen=None, brush=OTHER_COLOR)
        self.plotItem.addItem(self.bars)
        self.plotItem.setMouseEnabled(x=False, y=False)
        self.plotItem.hideButtons()
        self.plotItem.setMenuEnabled(False)
        self.plotItem.setXRange(0.0, 1.0, padding=0.02)
        self.plotItem.setLabel("bottom", "probability")
        self.plotItem.showGrid(x=True, alpha=0.2)
        self.plotItem.setTitle(
            f'<span style="color:rgb{CLEAN_COLOR}">■ clean</span>&nbsp;&nbsp;'
            f'<span style="color:rgb{TARGET_COLOR}">■ target</span>',
            size="9pt",
        )
        self.value_labels: list[pg.TextItem] = []
        self.shown_classes: list[int] = []
        self._style_key: tuple | None = None
        self.probabilities = np.zeros(0, dtype=np.float64)

    def set_probabilities(self, probs, class_names=None, clean: int | None = None, target: int | None = None,
                          k: int = 10) -> None:
        """Show the ``k`` most probable classes of ``probs`` ``(C,)``.

        ``class_names`` (length C) label the axis (default: class ids); ``clean``/``target`` are class
        ids to mark, or None.
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
        self.probabilities = p
        order = np.argsort(-np.nan_to_num(p, nan=-1.0), kind="stable")
        rows = [int(c) for c in order[: min(k, n_classes)]]
        for c in (clean, target):
            if c is not None and int(c) not in rows:
                rows.append(int(c))
        rows.sort(key=lambda c: -np.nan_to_num(p[c], nan=-1.0))
        n = len(rows)
        y = np.arange(n - 1, -1, -1, dtype=np.float64)  # first row at the top
        widths = np.nan_to_num(p[rows], nan=0.0)

        shown_names = None if class_names is None else tuple(str(class_names[c]) for c in rows)
        key = (tuple(rows), clean, target, shown_names)
        if key != self._style_key:
            brushes = []
            for c in rows:
                color = CLEAN_COLOR if c == clean else TARGET_COLOR if c == target else OTHER_COLOR
                brushes.append(pg.mkBrush(color))
            pens = [pg.mkPen(None)] * n
            self.bars.setOpts(x0=np.zeros(n), y=y, height=BAR_HEIGHT, width=widths, brushes=brushes,
                              pens=pens)
            names = [str(c) for c in rows] if shown_names is None else list(shown_names)
            self.plotItem.getAxis("left").setTicks([list(zip(y.tolist(), names, strict=True)), []])
            self.plotItem.setYRange(-0.6, n - 0.4, padding=0.0)
            self._set_label_count(n)
            self._style_key = key
        else:
            self.bars.setOpts(width=widths)
        self.shown_classes = rows
        for lbl, yy, w in zip(self.value_labels, y, widths, strict=True):
            lbl.setText(f"{w:.2f}")
            lbl.setPos(min(float(w), 0.86) + 0.01, float(yy))

    def _set_label_count(self, n: int) -> None:
        while len(self.value_labels) < n:
            t = pg.TextItem(color=(220, 220, 220), anchor=(0.0, 0.5))
            self.plotItem.addItem(t, ignoreBounds=True)
            self.value_labels.append(t)
        while len(self.value_labels) > n:
            self.plotItem.removeItem(self.value_labels.pop())

    def heights(self) -> np.ndarray:
        """The bar lengths (probabilities) as drawn, top row first."""
        return np.asarray(self.bars.opts["width"], dtype=np.float64).copy()
