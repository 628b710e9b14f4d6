"""Live loss curves against iteration, painted directly with QPainter.

(It was a pyqtgraph PlotWidget. During an attack its scene repaint — item bounds, paths, the axes'
tick texts rebuilt whenever the range stepped — cost 4–11 ms of the GUI thread per live update under
Xvfb, the longest item left in the event loop (``benchmarks/gui_latency.py``). Painted directly, the
curves are one polyline per term built in numpy, and everything else is a cached picture.)

Data: one preallocated, growing buffer per term. :meth:`LossPlot.append` only writes into the buffers;
the curves are redrawn at most once every ``refresh_ms`` (:class:`~widgets._throttle.FrameThrottle`: a
single-shot timer, the newest data wins), so a fast attack never waits for plotting. :meth:`flush`
redraws at once; :meth:`step` (the live window's) redraws too, but a range step and the curves in two
calls, so that no turn of the event loop does both. Above ``max_points`` points per curve the drawn
curves are decimated to the minimum and maximum of each bucket (the curve's envelope, what a pixel column
would show anyway); :meth:`data` always gives every point.

View: the range follows the data in steps (x to the next multiple of half its decade, by half again at
least; y with a margin, a quarter of the data's span on a side the data left, changed only when the data
leaves the view or fills less than 30 % of it), so the axes move a few times per run, not at every
update. The user can zoom (wheel, about the cursor; Shift: iterations only, Ctrl: values only) and pan
(drag); then the range stays where the user put it until the next run (:meth:`clear_data`,
:meth:`set_history`), a double-click or "Fit to the data" (:meth:`follow_data`). The context menu holds
"Log scale" (shared with :meth:`set_log_scale`) and "Fit to the data". Hovering shows the values at the
nearest iteration.

Layout: the value axis left, the iterations below, the legend in its own column right of the plot (it
never covers a curve and is never cut). The axes, their tick numbers, a faint grid and the legend are
drawn into a pixmap that is redrawn only when the range, the size, the scale or the terms change; a live
update paints that pixmap, the curves and the flip marker.
"""

from __future__ import annotations

import math
import warnings as _warnings

import numpy as np
import pyqtgraph.functions as _pgfn
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt, Signal

from widgets._chart_style import BACKGROUND, FOREGROUND, PAD, small_font
from widgets._throttle import FrameThrottle

__all__ = ["DEFAULT_TERMS", "LossPlot", "tick_values"]

#: Usual term names from the engine's step report, in legend order.
DEFAULT_TERMS = ("total", "Lc", "Lp", "l_dyn", "l_bl")
_PALETTE = (
    (230, 230, 230), (255, 99, 71), (80, 170, 255), (120, 210, 120), (250, 200, 60),
    (200, 120, 255), (255, 150, 200), (100, 220, 220), (180, 180, 100), (255, 170, 90),
)
FLIP_COLOR = (255, 80, 80)
_ZOOM_PER_NOTCH = 0.85  # the view's span after one wheel notch, as a fraction of the span before
_PX_LIMIT = 1e6  # curve points farther off the plot than this are drawn there (raster coordinates stay sane)


def _nice_ceil(v: float) -> float:
    """``v`` (> 0) rounded up to a multiple of half its decade (…, 300, 350, …, 5500, 6000, …)."""
    if v <= 1.0:
        return 1.0
    step = 0.5 * 10.0 ** np.floor(np.log10(v))
    return float(np.ceil(v / step) * step)


def _nice_step(span: float, n: int) -> float:
    """The least of 1, 2, 2.5, 5 × 10^k that cuts ``span`` into at most ``n`` intervals."""
    raw = max(span, 1e-300) / max(n, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * mag >= raw * (1 - 1e-9):
            return m * mag
    return 10.0 * mag


def tick_values(lo: float, hi: float, n: int, *, integer: bool = False) -> tuple[np.ndarray, float]:
    """Round tick positions in ``[lo, hi]`` (at most about ``n`` + 1 of them) and their step;
    ``integer``: the step is a whole number (decades of a log axis)."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return np.zeros(0), 1.0
    step = _nice_step(hi - lo, n)
    if integer:
        step = max(1.0, float(round(step)))
    first = math.ceil(lo / step - 1e-9) * step
    count = int(math.floor((hi - first) / step + 1e-9)) + 1
    values = first + step * np.arange(max(count, 0))
    values[np.abs(values) < step * 1e-9] = 0.0  # no "-0"
    return values, step


def _tick_text(v: float, step: float, log: bool) -> str:
    """A tick's number: log axes show 10^v; linear ones as many decimals as the step needs."""
    if log:
        return f"{10.0 ** v:.3g}"
    big = max(abs(v), step)
    if step < 1e-4 or big >= 1e6:
        return f"{v:.3g}"
    decimals = 0
    while decimals < 8 and abs(round(step, decimals) - step) > step * 1e-6:
        decimals += 1
    return f"{v:.{decimals}f}"


class LossPlot(QtWidgets.QWidget):
    """Loss curves. Methods: :meth:`append`, :meth:`set_history`, :meth:`clear` (= :meth:`clear_data`),
    :meth:`set_log_scale`, :meth:`mark_flip`, :meth:`flush`, :meth:`step`, :meth:`follow_data`,
    :meth:`data` (every stored point), :meth:`curve_data` (the points as last drawn), :meth:`view_range`,
    :meth:`plot_rect`, :meth:`legend_rect`, :meth:`value_at`.

    Attributes: ``terms`` (in legend order), ``colors`` (term -> RGB), ``redraws`` (curve updates),
    ``log_action`` and ``fit_action`` (the context menu's actions). Terms are created on first use, in the
    order given to ``terms`` or first seen. Signals ``log_scale_changed(bool)`` (also when toggled from
    the context menu) and ``view_changed()`` (the range moved: following the data or by the user).
    """

    log_scale_changed = Signal(bool)
    view_changed = Signal()

    def __init__(self, parent=None, terms=DEFAULT_TERMS, *, refresh_ms: int = 50, capacity: int = 256,
                 max_points: int = 2000):
        super().__init__(parent)
        self.setMinimumSize(160, 100)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMouseTracking(True)
        self._small = small_font(self.font())
        self._cap = max(int(capacity), 1)
        self._max_points = max(int(max_points), 16)
        self._n = 0
        self._x = np.zeros(self._cap, dtype=np.float64)
        self._y: dict[str, np.ndarray] = {}
        self._drawn: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # term -> (x, y) as drawn (view units)
        self.colors: dict[str, tuple[int, int, int]] = {}
        self._pens: dict[str, QtGui.QPen] = {}
        self._log = False
        self._flip: float | None = None
        self._redraws = 0
        self._curves_owed = False  # step() changed the range and left the curves for the next step
        self._follow = True  # the range follows the data until the user pans or zooms
        self._view: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1 (view units)
        self._static: QtGui.QPixmap | None = None  # axes, ticks, grid, legend
        self._static_key: tuple | None = None
        self._geometry: tuple | None = None  # (key, plot rect, x ticks, y ticks) of the last layout
        self._drag: tuple[QtCore.QPointF, tuple[float, float, float, float]] | None = None
        self.log_action = QtGui.QAction("Log scale", self, checkable=True)
        self.log_action.toggled.connect(self._on_log_toggled)
        self.fit_action = QtGui.QAction("Fit to the data", self)
        self.fit_action.triggered.connect(self.follow_data)
        self.setToolTip("Wheel: zoom (Shift: iterations, Ctrl: values) · drag: pan · double-click: fit to "
                        "the data · right-click: log scale")
        self._hint = self.toolTip()
        for name in terms:
            self._term(name)
        self._throttle = FrameThrottle(self._redraw, int(refresh_ms), self)

    # --- buffers ---------------------------------------------------------------------------------------
    def _term(self, name: str) -> np.ndarray:
        if name not in self._y:
            self._y[name] = np.full(self._cap, np.nan, dtype=np.float64)
            color = _PALETTE[len(self.colors) % len(_PALETTE)]
            self.colors[name] = color
            # one-pixel cosmetic pens, the total two: wider pens make the raster engine stroke each segment
            pen = QtGui.QPen(QtGui.QColor(*color), 2 if name == "total" else 1)
            pen.setCosmetic(True)
            self._pens[name] = pen
            self._drawn[name] = (np.zeros(0), np.zeros(0))
            self._static_key = None  # the legend changes
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
        return list(self.colors)

    def data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Copies of (iterations, values) of one term: every point stored."""
        return self._x[: self._n].copy(), self._y[name][: self._n].copy()

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the (iterations, values) the curve of ``name`` was last drawn with: log10 of the
        values on a log scale (NaN where a value is <= 0), the envelope above ``max_points``."""
        x, y = self._drawn[name]
        return x.copy(), y.copy()

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

        ``iterations`` defaults to ``0 .. n-1``. Redraws at once; the range follows the data again.
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
        """Empty all curves and remove the flip marker (the terms and the legend stay); the range follows
        the data again."""
        self._n = 0
        self._follow, self._view = True, None
        for buf in self._y.values():
            buf[:] = np.nan
        self.mark_flip(None)
        self.flush()

    def clear(self) -> None:
        """Same as :meth:`clear_data`."""
        self.clear_data()

    def flush(self) -> None:
        """Draw the buffers now (curves and range)."""
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
        m = n // step * step
        if step > 1:  # min and max per bucket of ``step`` points: the envelope at ~max_points points
            xb = self._x[:m].reshape(-1, step)
            x = np.stack([xb[:, 0], xb[:, -1]], axis=1).reshape(-1)
            if m < n:
                x = np.concatenate([x, self._x[m:n]])
        else:
            x = self._x[:n].copy()
        for name in self.colors:
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
            else:
                y = y.copy()
            self._drawn[name] = (x, y)
        if self._follow:
            self._apply_view(self._target_view())
        self.update()

    # --- view range ------------------------------------------------------------------------------------
    def follow_data(self) -> None:
        """Fit the range to the data now and keep following it (after a pan or zoom by the user)."""
        self._follow, self._view = True, None
        self.flush()

    @property
    def following(self) -> bool:
        """The range follows the data (False once the user panned or zoomed)."""
        return self._follow

    def step(self) -> bool:
        """A live redraw that keeps each turn of the event loop short: when the data has left the view,
        only the new range now (the axes and their numbers are drawn again) and the curves at the next
        step; else the curves at once. True when everything is drawn. (:meth:`flush` draws both.)"""
        if self._follow and self._n and not self._curves_owed:
            new = self._target_view()
            if new != self._view:
                self._apply_view(new)
                self._curves_owed = True  # (the next step draws the curves, whatever the range does)
                return False
        self.flush()
        return True

    def view_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """((x0, x1), (y0, y1)) shown, in iterations and values (log10 of the values on a log scale)."""
        v = self._view if self._view is not None else self._target_view()
        return (v[0], v[1]), (v[2], v[3])

    def set_view_range(self, x: tuple[float, float] | None = None,
                       y: tuple[float, float] | None = None) -> None:
        """Show this range (as a pan or zoom by the user does): the range stops following the data."""
        (x0, x1), (y0, y1) = self.view_range()
        nx = (float(x[0]), float(x[1])) if x is not None else (x0, x1)
        ny = (float(y[0]), float(y[1])) if y is not None else (y0, y1)
        if not (nx[1] > nx[0] and ny[1] > ny[0]) or not np.isfinite(nx + ny).all():
            raise ValueError(f"an empty or non-finite range: x {nx}, y {ny}")
        self._follow = False
        self._apply_view((*nx, *ny))

    def _target_view(self) -> tuple[float, float, float, float]:
        """The range that follows the data (see the module docstring), given the current one."""
        n = self._n
        x_last = float(self._x[n - 1]) if n else 1.0
        x0 = float(min(self._x[0], 0.0)) if n else 0.0
        lo, hi = np.inf, -np.inf
        for name in self.colors:
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
        # axes move a few times per run, not every few iterations
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
            self.update()
            self.view_changed.emit()

    # --- display ---------------------------------------------------------------------------------------
    def set_log_scale(self, on: bool) -> None:
        """Logarithmic value axis (values <= 0 are not drawn). The range fits the data again: its units
        change (log10 of the values), so a range the user had set means nothing on the other scale."""
        self.log_action.setChecked(bool(on))  # -> _on_log_toggled when it changes

    def _on_log_toggled(self, on: bool) -> None:
        self._log = bool(on)
        self._follow, self._view = True, None
        self.flush()
        self.log_scale_changed.emit(self._log)

    @property
    def log_scale(self) -> bool:
        return self._log

    def mark_flip(self, iteration: float | None) -> None:
        """Vertical marker at the iteration where the predicted label flipped; None removes it."""
        flip = None if iteration is None else float(iteration)
        if flip != self._flip:
            self._flip = flip
            self.update()

    @property
    def flip_iteration(self) -> float | None:
        return self._flip

    # --- geometry --------------------------------------------------------------------------------------
    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt naming
        return QtCore.QSize(320, 200)

    def _layout(self):
        """(plot rect, x ticks, x step, y ticks, y step, legend width), computed once per size, range,
        scale and terms."""
        (x0, x1), (y0, y1) = self.view_range()
        key = (self.width(), self.height(), x0, x1, y0, y1, self._log, tuple(self.colors))
        if self._geometry is not None and self._geometry[0] == key:
            return self._geometry[1]
        small = QtGui.QFontMetricsF(self._small)
        legend_w = PAD + 18 + max((small.horizontalAdvance(t) for t in self.colors), default=0.0) + PAD
        top = PAD + small.height() * 0.5
        bottom = self.height() - PAD / 2 - small.height() - 2 - small.height()  # numbers, then "iteration"
        plot_h = max(bottom - top, 10.0)
        y_ticks, y_step = tick_values(y0, y1, max(int(plot_h / 28), 2), integer=self._log and y1 - y0 >= 3)
        y_texts = [_tick_text(v, y_step, self._log) for v in y_ticks]
        numbers_w = max((small.horizontalAdvance(t) for t in y_texts), default=small.horizontalAdvance("0"))
        left = PAD / 2 + small.height() + 4 + numbers_w + 4  # "loss" (turned), the numbers, the ticks
        right = self.width() - legend_w
        rect = QtCore.QRectF(left, top, max(right - left, 10.0), plot_h)
        x_ticks, x_step = tick_values(x0, x1, max(int(rect.width() / 45), 2))
        x_texts = [_tick_text(v, x_step, False) for v in x_ticks]
        layout = (rect, x_ticks, x_texts, y_ticks, y_texts, legend_w)
        self._geometry = (key, layout)
        return layout

    def plot_rect(self) -> QtCore.QRectF:
        """The rectangle the curves are drawn in (widget pixels)."""
        return QtCore.QRectF(self._layout()[0])

    def legend_rect(self) -> QtCore.QRectF:
        """The legend's rectangle (widget pixels): its own column right of the plot."""
        rect, *_rest, legend_w = self._layout()
        line_h = QtGui.QFontMetricsF(self._small).height()
        return QtCore.QRectF(self.width() - legend_w + PAD, rect.top(), legend_w - 2 * PAD,
                             line_h * len(self.colors))

    @property
    def legend_texts(self) -> list[str]:
        """The legend's entries, top first."""
        return list(self.colors)

    def _to_pixels(self, x: np.ndarray, y: np.ndarray, rect: QtCore.QRectF) -> tuple[np.ndarray, np.ndarray]:
        (x0, x1), (y0, y1) = self.view_range()
        px = rect.left() + (x - x0) * (rect.width() / (x1 - x0))
        py = rect.bottom() - (y - y0) * (rect.height() / (y1 - y0))
        return np.clip(px, -_PX_LIMIT, _PX_LIMIT), np.clip(py, -_PX_LIMIT, _PX_LIMIT)

    def _from_pixels(self, pos: QtCore.QPointF) -> tuple[float, float]:
        rect = self._layout()[0]
        (x0, x1), (y0, y1) = self.view_range()
        return (x0 + (pos.x() - rect.left()) / rect.width() * (x1 - x0),
                y0 + (rect.bottom() - pos.y()) / rect.height() * (y1 - y0))

    # --- painting --------------------------------------------------------------------------------------
    def _static_layer(self) -> QtGui.QPixmap:
        """Background, grid, axes, their numbers and titles, the legend: redrawn only when they change."""
        rect, x_ticks, x_texts, y_ticks, y_texts, legend_w = self._layout()
        dpr = self.devicePixelRatioF()
        key = (self._geometry[0], dpr)
        if self._static is not None and self._static_key == key:
            return self._static
        pix = QtGui.QPixmap(max(math.ceil(self.width() * dpr), 1), max(math.ceil(self.height() * dpr), 1))
        pix.setDevicePixelRatio(dpr)
        pix.fill(QtGui.QColor(*BACKGROUND))
        p = QtGui.QPainter(pix)
        try:
            fg = QtGui.QColor(*FOREGROUND)
            grid = QtGui.QColor(*FOREGROUND)
            grid.setAlpha(45)
            small = QtGui.QFontMetricsF(self._small)
            p.setFont(self._small)
            px, _ = self._to_pixels(np.asarray(x_ticks, float), np.zeros(len(x_ticks)), rect)
            _, py = self._to_pixels(np.zeros(len(y_ticks)), np.asarray(y_ticks, float), rect)
            p.setPen(grid)
            for x in px:
                p.drawLine(QtCore.QPointF(x, rect.top()), QtCore.QPointF(x, rect.bottom()))
            for y in py:
                p.drawLine(QtCore.QPointF(rect.left(), y), QtCore.QPointF(rect.right(), y))
            p.setPen(fg)
            p.drawLine(rect.bottomLeft(), rect.bottomRight())
            p.drawLine(rect.bottomLeft(), rect.topLeft())
            for x, text in zip(px, x_texts, strict=True):
                p.drawLine(QtCore.QPointF(x, rect.bottom()), QtCore.QPointF(x, rect.bottom() + 4))
                p.drawText(QtCore.QPointF(x - small.horizontalAdvance(text) / 2,
                                          rect.bottom() + 4 + small.ascent()), text)
            for y, text in zip(py, y_texts, strict=True):
                p.drawLine(QtCore.QPointF(rect.left() - 4, y), QtCore.QPointF(rect.left(), y))
                p.drawText(QtCore.QPointF(rect.left() - 6 - small.horizontalAdvance(text),
                                          y + small.ascent() / 2 - 1), text)
            title = "iteration"
            p.drawText(QtCore.QPointF(rect.center().x() - small.horizontalAdvance(title) / 2,
                                      self.height() - PAD / 2 - small.descent()), title)
            title = "loss (log scale)" if self._log else "loss"
            p.save()
            p.translate(PAD / 2 + small.ascent(), rect.center().y() + small.horizontalAdvance(title) / 2)
            p.rotate(-90)
            p.drawText(QtCore.QPointF(0, 0), title)
            p.restore()
            legend = self.legend_rect()
            for i, name in enumerate(self.colors):
                mid = legend.top() + (i + 0.5) * small.height()
                pen = QtGui.QPen(QtGui.QColor(*self.colors[name]), 2)
                p.setPen(pen)
                p.drawLine(QtCore.QPointF(legend.left(), mid), QtCore.QPointF(legend.left() + 14, mid))
                p.setPen(fg)
                p.drawText(QtCore.QPointF(legend.left() + 18, mid + small.ascent() / 2 - 1), name)
        finally:
            p.end()
        self._static, self._static_key = pix, key
        return pix

    def paintEvent(self, ev):  # noqa: N802 - Qt naming
        p = QtGui.QPainter(self)
        try:
            p.drawPixmap(0, 0, self._static_layer())
            rect = self._layout()[0]
            p.setClipRect(rect)
            for name, (x, y) in self._drawn.items():
                if len(x):
                    p.setPen(self._pens[name])
                    self._draw_curve(p, *self._to_pixels(x, y, rect))
            if self._flip is not None:
                (x0, x1), _ = self.view_range()
                if x0 <= self._flip <= x1:
                    fx, _ = self._to_pixels(np.array([self._flip]), np.zeros(1), rect)
                    pen = QtGui.QPen(QtGui.QColor(*FLIP_COLOR), 1, Qt.PenStyle.DashLine)
                    p.setPen(pen)
                    p.drawLine(QtCore.QPointF(fx[0], rect.top()), QtCore.QPointF(fx[0], rect.bottom()))
                    p.setFont(self._small)
                    p.setPen(QtGui.QColor(255, 120, 120))
                    ascent = QtGui.QFontMetricsF(self._small).ascent()
                    p.drawText(QtCore.QPointF(fx[0] + 3, rect.top() + ascent), "label flipped")
        finally:
            p.end()

    @staticmethod
    def _draw_curve(p: QtGui.QPainter, px: np.ndarray, py: np.ndarray) -> None:
        """One polyline per run of finite points (a NaN leaves a gap); a lone point is drawn as a point."""
        finite = np.isfinite(px) & np.isfinite(py)
        if finite.all():
            runs = [(0, len(px))]
        else:
            edges = np.flatnonzero(np.diff(np.concatenate([[0], finite.astype(np.int8), [0]])))
            runs = list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
        for a, b in runs:
            if b - a == 1:
                p.drawPoint(QtCore.QPointF(float(px[a]), float(py[a])))
                continue
            poly = _pgfn.create_qpolygonf(b - a)
            arr = _pgfn.ndarray_from_qpolygonf(poly)
            arr[:, 0] = px[a:b]
            arr[:, 1] = py[a:b]
            p.drawPolyline(poly)

    # --- interaction -----------------------------------------------------------------------------------
    def value_at(self, iteration: float) -> tuple[float, dict[str, float]] | None:
        """The stored point nearest ``iteration``: (its iteration, term -> value), or None without data."""
        n = self._n
        if not n:
            return None
        xs = self._x[:n]
        i = int(np.clip(np.searchsorted(xs, iteration), 1, n - 1)) if n > 1 else 0
        if n > 1 and abs(xs[i - 1] - iteration) <= abs(xs[i] - iteration):
            i -= 1
        return float(xs[i]), {name: float(self._y[name][i]) for name in self.colors}

    def mousePressEvent(self, ev):  # noqa: N802 - Qt naming
        if ev.button() == Qt.MouseButton.LeftButton and self.plot_rect().contains(ev.position()):
            (x0, x1), (y0, y1) = self.view_range()
            self._drag = (ev.position(), (x0, x1, y0, y1))
            ev.accept()
            return
        super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev):  # noqa: N802 - Qt naming
        if self._drag is not None:
            start, (x0, x1, y0, y1) = self._drag
            rect = self.plot_rect()
            dx = (ev.position().x() - start.x()) / rect.width() * (x1 - x0)
            dy = (ev.position().y() - start.y()) / rect.height() * (y1 - y0)
            self.set_view_range((x0 - dx, x1 - dx), (y0 + dy, y1 + dy))
            ev.accept()
            return
        if self.plot_rect().contains(ev.position()):
            at = self.value_at(self._from_pixels(ev.position())[0])
            if at is not None:
                it, values = at
                parts = [f"{k} {v:.4g}" for k, v in values.items() if np.isfinite(v)]
                self.setToolTip(f"iteration {it:g}: " + " · ".join(parts))
        else:
            self.setToolTip(self._hint)
        super().mouseMoveEvent(ev)

    def mouseReleaseEvent(self, ev):  # noqa: N802 - Qt naming
        if self._drag is not None and ev.button() == Qt.MouseButton.LeftButton:
            self._drag = None
            ev.accept()
            return
        super().mouseReleaseEvent(ev)

    def mouseDoubleClickEvent(self, ev):  # noqa: N802 - Qt naming
        if ev.button() == Qt.MouseButton.LeftButton:
            self.follow_data()
            ev.accept()
            return
        super().mouseDoubleClickEvent(ev)

    def wheelEvent(self, ev):  # noqa: N802 - Qt naming
        notches = ev.angleDelta().y() / 120.0
        if not notches or not self.plot_rect().contains(ev.position()):
            super().wheelEvent(ev)
            return
        factor = _ZOOM_PER_NOTCH ** notches
        cx, cy = self._from_pixels(ev.position())
        (x0, x1), (y0, y1) = self.view_range()
        mods = ev.modifiers()
        zoom_x = not mods & Qt.KeyboardModifier.ControlModifier
        zoom_y = not mods & Qt.KeyboardModifier.ShiftModifier
        nx = (cx - (cx - x0) * factor, cx + (x1 - cx) * factor) if zoom_x else (x0, x1)
        ny = (cy - (cy - y0) * factor, cy + (y1 - cy) * factor) if zoom_y else (y0, y1)
        self.set_view_range(nx, ny)
        ev.accept()

    def contextMenuEvent(self, ev):  # noqa: N802 - Qt naming
        menu = QtWidgets.QMenu(self)
        menu.addAction(self.log_action)
        menu.addAction(self.fit_action)
        menu.exec(ev.globalPos())
