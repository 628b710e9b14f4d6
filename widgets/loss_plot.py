"""Live loss curves against iteration: one PlotDataItem per loss term over preallocated, growing buffers.

``append`` only writes into the buffers; the curves are redrawn at most every ``refresh_ms`` (a single-shot
timer), so a fast attack never waits for plotting. ``flush()`` redraws at once.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore
from PySide6.QtCore import Signal

__all__ = ["DEFAULT_TERMS", "LossPlot"]

#: Usual term names from the engine's step report, in legend order.
DEFAULT_TERMS = ("total", "Lc", "Lp", "l_dyn", "l_bl")
_PALETTE = (
    (230, 230, 230), (255, 99, 71), (80, 170, 255), (120, 210, 120), (250, 200, 60),
    (200, 120, 255), (255, 150, 200), (100, 220, 220), (180, 180, 100), (255, 170, 90),
)


class LossPlot(pg.PlotWidget):
    """Loss curves. Methods: :meth:`append`, :meth:`set_history`, :meth:`clear` (= :meth:`clear_data`),
    :meth:`set_log_scale`, :meth:`mark_flip`, :meth:`flush`.

    Attributes: ``curves`` (name -> PlotDataItem), ``flip_line`` (InfiniteLine, hidden until
    :meth:`mark_flip`). Terms are created on first use, in the order given to ``terms`` or first seen.
    Signal ``log_scale_changed(bool)`` (also when toggled from the plot's context menu, Plot Options).
    """

    log_scale_changed = Signal(bool)

    def __init__(self, parent=None, terms=DEFAULT_TERMS, *, refresh_ms: int = 50, capacity: int = 256):
        super().__init__(parent)
        # PlotWidget.__init__ sets an *instance* attribute ``clear`` (= PlotItem.clear, which removes every
        # item); drop it so our :meth:`clear` applies.
        del self.clear
        self._cap = max(int(capacity), 1)
        self._n = 0
        self._x = np.zeros(self._cap, dtype=np.float64)
        self._y: dict[str, np.ndarray] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._log = False
        self.plotItem.setLabel("bottom", "iteration")
        self.plotItem.setLabel("left", "loss")
        self.plotItem.showGrid(x=True, y=True, alpha=0.2)
        self.legend = self.plotItem.addLegend(offset=(-10, 10))
        self.flip_line = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen((255, 80, 80), width=1, style=QtCore.Qt.PenStyle.DashLine),
            label="label flipped", labelOpts={"position": 0.92, "color": (255, 120, 120)},
        )
        self.flip_line.hide()
        self.plotItem.addItem(self.flip_line, ignoreBounds=True)
        self._flip: float | None = None
        for name in terms:
            self._term(name)
        self._refresh = QtCore.QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(int(refresh_ms))
        self._refresh.timeout.connect(self.flush)
        # The context menu's "Log Y" check box and set_log_scale() share one state.
        self.plotItem.ctrl.logYCheck.toggled.connect(self._on_log_toggled)

    # --- buffers ---------------------------------------------------------------------------------------
    def _term(self, name: str) -> np.ndarray:
        if name not in self._y:
            buf = np.full(self._cap, np.nan, dtype=np.float64)
            self._y[name] = buf
            color = _PALETTE[len(self.curves) % len(_PALETTE)]
            width = 2.5 if name == "total" else 1.5
            curve = self.plotItem.plot(name=name, pen=pg.mkPen(color, width=width), connect="finite")
            curve.setLogMode(False, self._log)
            self.curves[name] = curve
        return self._y[name]

    def _grow(self, need: int) -> None:
        if need <= self._cap:
            return
        cap = self._cap
        while cap < need:
            cap *= 2
        x = np.zeros(cap, dtype=np.float64)
        x[: self._n] = self._x[: self._n]
        self._x = x
        for name, old in self._y.items():
            y = np.full(cap, np.nan, dtype=np.float64)
            y[: self._n] = old[: self._n]
            self._y[name] = y
        self._cap = cap

    @property
    def n_points(self) -> int:
        return self._n

    @property
    def terms(self) -> list[str]:
        return list(self.curves)

    def data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Copies of (iterations, values) of one term."""
        return self._x[: self._n].copy(), self._y[name][: self._n].copy()

    # --- input -----------------------------------------------------------------------------------------
    def append(self, iteration: float, values: dict) -> None:
        """Add one point per term in ``values`` (name -> float) at ``iteration``; redraw is throttled."""
        self._grow(self._n + 1)
        i = self._n
        self._x[i] = float(iteration)
        for name, v in values.items():
            self._term(str(name))[i] = float(v)
        self._n += 1
        if not self._refresh.isActive():
            self._refresh.start()

    def set_history(self, history: dict, iterations=None) -> None:
        """Replace everything by whole curves: ``history`` name -> 1-D array (equal lengths).

        ``iterations`` defaults to ``0 .. n-1``. Redraws at once.
        """
        arrays = {str(k): np.asarray(v, dtype=np.float64).reshape(-1) for k, v in history.items()}
        lengths = {len(a) for a in arrays.values()}
        if len(lengths) > 1:
            raise ValueError(f"history arrays differ in length: { {k: len(a) for k, a in arrays.items()} }")
        n = lengths.pop() if lengths else 0
        x = np.arange(n, dtype=np.float64) if iterations is None else np.asarray(iterations, np.float64)
        if len(x) != n:
            raise ValueError(f"iterations has {len(x)} values, history has {n}")
        self._n = 0
        for buf in self._y.values():
            buf[:] = np.nan
        self._grow(n)
        self._x[:n] = x
        for name, a in arrays.items():
            self._term(name)[:n] = a
        self._n = n
        self.flush()

    def clear_data(self) -> None:
        """Empty all curves and remove the flip marker (curves and legend entries stay)."""
        self._n = 0
        for buf in self._y.values():
            buf[:] = np.nan
        self.mark_flip(None)
        self.flush()

    def clear(self) -> None:
        """Same as :meth:`clear_data` (overrides PlotWidget.clear, which would remove the items)."""
        self.clear_data()

    def flush(self) -> None:
        """Push the buffers into the curves now."""
        self._refresh.stop()
        n = self._n
        x = self._x[:n]
        for name, curve in self.curves.items():
            y = self._y[name][:n]
            if self._log:
                y = np.where(y > 0, y, np.nan)  # log of <= 0 is undefined: leave a gap
            curve.setData(x, y, connect="finite")

    # --- display ---------------------------------------------------------------------------------------
    def set_log_scale(self, on: bool) -> None:
        """Logarithmic y axis (non-positive values are not drawn)."""
        self.plotItem.setLogMode(x=False, y=bool(on))  # -> _on_log_toggled when it changes

    def _on_log_toggled(self, on: bool) -> None:
        self._log = bool(on)
        self.flush()
        self.log_scale_changed.emit(self._log)

    @property
    def log_scale(self) -> bool:
        return self._log

    def mark_flip(self, iteration: float | None) -> None:
        """Vertical marker at the iteration where the predicted label flipped; None removes it."""
        self._flip = None if iteration is None else float(iteration)
        if self._flip is None:
            self.flip_line.hide()
        else:
            self.flip_line.setValue(self._flip)
            self.flip_line.show()

    @property
    def flip_iteration(self) -> float | None:
        return self._flip
