"""Per-joint displacement bar chart (joint names on the axis, bars in the view's heat colours)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from widgets._axes import cache_axes
from widgets.colormap import heat_rgba, to_rgba255

__all__ = ["DisplacementChart"]

_SCALE = {"m": 1.0, "cm": 100.0, "mm": 1000.0}


class DisplacementChart(pg.PlotWidget):
    """Horizontal bars, one per joint, first joint at the top.

    Method :meth:`set_displacement`; attributes ``bars`` (BarGraphItem), ``values`` (as drawn, in
    ``unit``), ``joint_names``.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.bars = pg.BarGraphItem(x0=np.zeros(0), y=np.zeros(0), height=0.7, width=np.zeros(0), pen=None)
        self.plotItem.addItem(self.bars)
        self.plotItem.setMouseEnabled(x=False, y=False)
        self.plotItem.hideButtons()
        self.plotItem.showGrid(x=True, alpha=0.2)
        cache_axes(self)
        self.values = np.zeros(0, dtype=np.float64)
        self.joint_names: list[str] = []
        self.unit = "mm"

    def set_displacement(self, values, joint_names=None, unit: str = "mm", vmax: float | None = None) -> None:
        """Show ``values`` ``(V,)`` in metres (e.g. mean displacement per joint) converted to ``unit``.

        ``vmax`` (metres) fixes the top of the colour scale, e.g. to match the 3D view's legend.
        """
        if unit not in _SCALE:
            raise ValueError(f"unit must be one of {tuple(_SCALE)}, got {unit!r}")
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        if joint_names is not None and len(joint_names) != v.size:
            raise ValueError(f"{len(joint_names)} joint names for {v.size} values")
        names = [str(i) for i in range(v.size)] if joint_names is None else [str(n) for n in joint_names]
        n = v.size
        y = np.arange(n - 1, -1, -1, dtype=np.float64)
        shown = np.nan_to_num(v, nan=0.0) * _SCALE[unit]
        colors = heat_rgba(v, 0.0, vmax)
        if n:
            brushes = [pg.mkBrush(to_rgba255(c)) for c in colors]
            self.bars.setOpts(x0=np.zeros(n), y=y, width=shown, brushes=brushes, pens=[pg.mkPen(None)] * n)
        else:  # pyqtgraph 0.14's BarGraphItem fails on empty pens lists
            self.bars.setOpts(x0=np.zeros(0), y=y, width=shown, brushes=None, pens=None, pen=None)
        self.plotItem.getAxis("left").setTicks([list(zip(y.tolist(), names, strict=True)), []])
        self.plotItem.setLabel("bottom", f"displacement ({unit})")
        top = float(shown.max()) if n and shown.max() > 0 else 1.0
        self.plotItem.setXRange(0.0, top, padding=0.05)
        self.plotItem.setYRange(-0.6, max(n, 1) - 0.4, padding=0.0)
        self.values = shown
        self.joint_names = names
        self.unit = unit
