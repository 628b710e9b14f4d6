"""Live loss curves against iteration: one PlotCurveItem per loss term over preallocated, growing buffers.

``append`` only writes into the buffers; the curves are redrawn at most once every ``refresh_ms``
(:class:`~widgets._throttle.FrameThrottle`: a single-shot timer, the newest data wins), so a fast attack
never waits for plotting. ``flush()`` redraws at once; ``step()`` (the live window's) redraws too, but a
range step and the curves in two calls, so that no turn of the event loop does both.

Drawing stays cheap however long the run: the curves use one-pixel cosmetic pens (the total two pixels;
wider pens make Qt's raster engine stroke every segment, 3x the cost), and above ``max_points`` points
per curve the buffers are decimated to the minimum and maximum of each bucket (the curve's envelope,
what a pixel column would show anyway). The view range follows the data in steps (x to the next
multiple of half its decade, by half again at least; y with a margin, a quarter of the data's span on a
side the data left, changed only when the data leaves the view or fills less than 30 % of it) instead of
pyqtgraph's per-update autorange, so the axes' tick texts are rebuilt only
when the range actually moves; there is no grid (pyqtgraph draws it with the axes, so a range step would
re-render a plot-sized cache). Once the user pans or zooms the range stays where the user put it until
the next run (:meth:`clear_data`, :meth:`set_history`) or :meth:`follow_data`. The legend sits in its
own column right of the plot, so it never covers a curve and is never cut.
"""

from __future__ import annotations

import warnings as _warnings

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import Signal

from widgets._axes import cache_axes
from widgets._throttle import FrameThrottle

__all__ = ["DEFAULT_TERMS", "LossPlot"]


def _nice_ceil(v: float) -> float:
    """``v`` (> 0) rounded up to a multiple of half its decade (…, 300, 350, …, 5500, 6000, …)."""
    if v <= 1.0:
        return 1.0
    step = 0.5 * 10.0 ** np.floor(np.log10(v))
    return float(np.ceil(v / step) * step)


#: Usual term names from the engine's step report, in legend order.
DEFAULT_TERMS = ("total", "Lc", "Lp", "l_dyn", "l_bl")
_PALETTE = (
    (230, 230, 230), (255, 99, 71), (80, 170, 255), (120, 210, 120), (250, 200, 60),
    (200, 120, 255), (255, 150, 200), (100, 220, 220), (180, 180, 100), (255, 170, 90),
)


class LossPlot(pg.PlotWidget):
    """Loss curves. Methods: :meth:`append`, :meth:`set_history`, :meth:`clear` (= :meth:`clear_data`),
    :meth:`set_log_scale`, :meth:`mark_flip`, :meth:`flush`.

    Attributes: ``curves`` (name -> PlotCurveItem), ``flip_line`` (InfiniteLine, hidden until
    :meth:`mark_flip`). Terms are created on first use, in the order given to ``terms`` or first seen.
    Signal ``log_scale_changed(bool)`` (also when toggled from the plot's context menu, Plot Options).
    ``legend`` is a :class:`pyqtgraph.LegendItem` in a column of its own right of the plot (``legend_column``,
    a spacer sized to the legend). ``redraws`` counts the curve updates (for tests and benchmarks).
    """

    log_scale_changed = Signal(bool)

    def __init__(self, parent=None, terms=DEFAULT_TERMS, *, refresh_ms: int = 50, capacity: int = 256,
                 max_points: int = 2000):
        super().__init__(parent)
        # PlotWidget.__init__ sets an *instance* attribute ``clear`` (= PlotItem.clear, which removes every
        # item); drop it so our :meth:`clear` applies.
        del self.clear
        self._cap = max(int(capacity), 1)
        self._max_points = max(int(max_points), 16)
        self._n = 0
        self._x = np.zeros(self._cap, dtype=np.float64)
        self._y: dict[str, np.ndarray] = {}
        self.curves: dict[str, pg.PlotCurveItem] = {}
        self._log = False
        self.plotItem.setLabel("bottom", "iteration")
        self.plotItem.setLabel("left", "loss")
        # no grid (see the module docstring): repaint max 16–23 ms with it, 9–13 ms without (Xvfb)
        cache_axes(self)
        # a fixed width for the value axis: pyqtgraph sizes it to its widest tick text, and each change of
        # that width ("0.5" -> "-0.25") laid the whole plot out again during a live run
        self.plotItem.getAxis("left").setWidth(52)
        # The legend lives in a column of the plot's layout right of the view box (row 2 = the view box
        # row): a spacer reserves the legend's width and the legend is anchored to the spacer's top left.
        # (A plain QGraphicsWidget: no Python overrides that Qt could call while the plot is torn down.)
        self.legend_column = QtWidgets.QGraphicsWidget()
        self.legend_column.setMinimumWidth(1)
        self.legend_column.setMaximumWidth(1)
        self.plotItem.layout.addItem(self.legend_column, 2, 3)
        self.legend = pg.LegendItem(offset=None, verSpacing=-4, frame=False, labelTextSize="8pt")
        self.legend.setParentItem(self.plotItem)
        self.legend.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=(-2, 2))  # top right, in the column
        self.plotItem.legend = self.legend  # plot(name=...) registers new curves with it
        self.flip_line = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen((255, 80, 80), width=1, style=QtCore.Qt.PenStyle.DashLine),
            label="label flipped", labelOpts={"position": 0.92, "color": (255, 120, 120)},
        )
        self.flip_line.hide()
        self.plotItem.addItem(self.flip_line, ignoreBounds=True)
        self._flip: float | None = None
        self._redraws = 0
        self._curves_owed = False  # step() changed the range and left the curves for the next step
        # The range follows the data (see the module docstring); a pan or zoom by the user stops that.
        self._follow = True
        self._view: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1 as last set
        self.plotItem.vb.disableAutoRange()
        self.plotItem.hideButtons()
        self.plotItem.vb.sigRangeChangedManually.connect(self._on_user_range)
        for name in terms:
            self._term(name)
        self._throttle = FrameThrottle(self._redraw, int(refresh_ms), self)
        # The context menu's "Log Y" check box and set_log_scale() share one state.
        self.plotItem.ctrl.logYCheck.toggled.connect(self._on_log_toggled)

    # --- buffers ---------------------------------------------------------------------------------------
    def _term(self, name: str) -> np.ndarray:
        if name not in self._y:
            buf = np.full(self._cap, np.nan, dtype=np.float64)
            self._y[name] = buf
            color = _PALETTE[len(self.curves) % len(_PALETTE)]
            pen = pg.mkPen(color, width=2 if name == "total" else 1)
            pen.setCosmetic(True)
            # a bare PlotCurveItem: PlotDataItem's layer (log mode, downsampling, clipping — done here or
            # not needed) doubled the cost of a live update; the legend takes it by its name
            curve = pg.PlotCurveItem(name=name, pen=pen, connect="finite")
            self.plotItem.addItem(curve)
            self.curves[name] = curve
            self._fit_legend()
        return self._y[name]

    def _fit_legend(self) -> None:
        self.legend.updateSize()
        w = max(float(self.legend.width()) + 8.0, 1.0)
        self.legend_column.setMinimumWidth(w)
        self.legend_column.setMaximumWidth(w)

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
        self._throttle.request()

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
        self.follow_data()

    def clear_data(self) -> None:
        """Empty all curves and remove the flip marker (curves and legend entries stay); the range
        follows the data again."""
        self._n = 0
        self._follow, self._view = True, None
        for buf in self._y.values():
            buf[:] = np.nan
        self.mark_flip(None)
        self.flush()

    def clear(self) -> None:
        """Same as :meth:`clear_data` (overrides PlotWidget.clear, which would remove the items)."""
        self.clear_data()

    def flush(self) -> None:
        """Push the buffers into the curves now."""
        self._throttle.cancel()
        self._redraw()

    @property
    def redraws(self) -> int:
        return self._redraws

    def _redraw(self) -> None:
        self._redraws += 1
        self._curves_owed = False
        n = self._n
        step = -(-2 * n // self._max_points) if n > self._max_points else 1  # two points per bucket
        if step > 1:  # min and max per bucket of ``step`` points: the envelope at ~max_points points
            m = n // step * step
            xb = self._x[:m].reshape(-1, step)
            x = np.stack([xb[:, 0], xb[:, -1]], axis=1).reshape(-1)
            if m < n:
                x = np.concatenate([x, self._x[m:n]])
        else:
            x = self._x[:n]
        for name, curve in self.curves.items():
            y = self._y[name][:n]
            if self._log:  # the view is in log10 units; log of <= 0 is undefined: leave a gap
                with np.errstate(all="ignore"):
                    y = np.log10(np.where(y > 0, y, np.nan))
            if step > 1:
                yb = y[:m].reshape(-1, step)
                with np.errstate(all="ignore"), _warnings.catch_warnings():
                    _warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN buckets stay NaN
                    env = np.stack([np.nanmin(yb, axis=1), np.nanmax(yb, axis=1)], axis=1).reshape(-1)
                y = np.concatenate([env, y[m:]]) if m < n else env
            curve.setData(x, y, connect="finite")
        if self._follow:
            self._apply_view(self._target_view())

    # --- view range ------------------------------------------------------------------------------------
    def follow_data(self) -> None:
        """Fit the range to the data now and keep following it (after a pan or zoom by the user)."""
        self._follow, self._view = True, None
        self.flush()

    def _on_user_range(self, *_args) -> None:
        self._follow = False

    def step(self) -> bool:
        """A live redraw that keeps each turn of the event loop short: when the data has left the view,
        only the new range now (the axes rebuild their tick texts: the expensive part) and the curves at
        the next step; else the curves at once. True when everything is drawn. (:meth:`flush` draws both.)"""
        if self._follow and self._n and not self._curves_owed:
            new = self._target_view()
            if new != self._view:
                self._apply_view(new)
                self._curves_owed = True  # (the next step draws the curves, whatever the range does)
                return False
        self.flush()
        return True

    def _target_view(self) -> tuple[float, float, float, float]:
        """The range that follows the data (see the module docstring), given the current one."""
        n = self._n
        x_last = float(self._x[n - 1]) if n else 1.0
        x0 = float(min(self._x[0], 0.0)) if n else 0.0
        lo, hi = np.inf, -np.inf
        for name in self.curves:
            y = self._y[name][:n]
            if self._log:
                y = np.log10(y[y > 0])
            y = y[np.isfinite(y)]
            if y.size:
                lo, hi = min(lo, float(y.min())), max(hi, float(y.max()))
        if not np.isfinite(lo):
            lo, hi = (-1.0, 1.0) if self._log else (0.0, 1.0)
        span = max(hi - lo, 1e-3 if self._log else max(abs(hi), 1e-12) * 1e-3)
        view = self._view
        keep_x = view is not None and x_last <= view[1] and x0 >= view[0]
        # x grows by half again at each step (a live run's curve fills 2/3 of the width or more), so the
        # axes are rebuilt a few times per run, not every few iterations
        x1 = view[1] if keep_x else _nice_ceil(max(x_last * 1.05, view[1] * 1.5 if view is not None else 0.0))
        if view is not None and view[2] <= lo and hi <= view[3] and (hi - lo) >= 0.3 * (view[3] - view[2]):
            y0, y1 = view[2], view[3]  # the data still fills the view: leave the axes alone
        elif view is not None and (hi - lo) >= 0.3 * (view[3] - view[2]):
            # the data left the view: room for it to go on the same way (a quarter of its span on that side)
            y0 = lo - (0.25 if lo < view[2] else 0.08) * span
            y1 = hi + (0.25 if hi > view[3] else 0.08) * span
        else:
            y0, y1 = lo - 0.08 * span, hi + 0.08 * span
        return (x0, max(x1, x0 + 1.0), y0, y1)

    def _apply_view(self, new: tuple[float, float, float, float]) -> None:
        if new != self._view:
            self._view = new
            # (setRange does not emit sigRangeChangedManually: only the mouse does)
            self.plotItem.vb.setRange(xRange=new[:2], yRange=new[2:], padding=0.0)

    # --- display ---------------------------------------------------------------------------------------
    def set_log_scale(self, on: bool) -> None:
        """Logarithmic y axis (non-positive values are not drawn)."""
        self.plotItem.setLogMode(x=False, y=bool(on))  # -> _on_log_toggled when it changes

    def _on_log_toggled(self, on: bool) -> None:
        self._log = bool(on)
        self._view = None
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
