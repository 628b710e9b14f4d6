"""LossPlot, ProbabilityBars, DisplacementChart and the heat scale: data lands in the items."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from widgets.colormap import HEAT_COLORS, heat_colormap, heat_rgba
from widgets.displacement_chart import DisplacementChart
from widgets.loss_plot import LossPlot
from widgets.probability_chart import CLEAN_COLOR, OTHER_COLOR, TARGET_COLOR, ProbabilityBars


@pytest.fixture
def loss(qtbot):
    p = LossPlot(refresh_ms=10, capacity=4)
    qtbot.addWidget(p)
    return p


def test_loss_append_grows_and_is_throttled(loss, qtbot):
    for i in range(50):
        loss.append(i, {"total": 10.0 / (i + 1), "Lc": 1.0, "Lp": 0.01 * i, "l_dyn": 0.5, "l_bl": 0.1})
    assert loss.n_points == 50
    assert len(loss.curve_data("total")[0]) < 50  # the first append may draw; the rest wait for the frame
    qtbot.waitUntil(lambda: len(loss.curve_data("total")[0]) == 50, timeout=2000)
    x, y = loss.curve_data("total")
    np.testing.assert_array_equal(x, np.arange(50))
    np.testing.assert_allclose(y, 10.0 / (np.arange(50) + 1))
    assert loss.terms[:5] == ["total", "Lc", "Lp", "l_dyn", "l_bl"]


def test_loss_new_term_and_missing_values(loss):
    loss.append(0, {"total": 1.0})
    loss.append(1, {"total": 0.5, "l_dyn_2": 0.25})
    loss.flush()
    assert "l_dyn_2" in loss.terms
    _, y = loss.data("l_dyn_2")
    assert np.isnan(y[0]) and y[1] == 0.25
    assert loss.legend_texts[-1] == "l_dyn_2"
    assert loss.colors["l_dyn_2"] not in [loss.colors[t] for t in loss.terms[:-1]]


def test_loss_history_clear_log_and_flip(loss, qtbot):
    loss.set_history({"total": [3.0, 2.0, 1.0, 0.0], "Lc": [1.0, -1.0, 0.5, 0.2]}, iterations=[0, 10, 20, 30])
    x, y = loss.curve_data("Lc")
    np.testing.assert_array_equal(x, [0, 10, 20, 30])
    with qtbot.waitSignal(loss.log_scale_changed, timeout=1000) as sig:
        loss.set_log_scale(True)
    assert sig.args == [True] and loss.log_scale and loss.log_action.isChecked()
    _, y = loss.curve_data("Lc")
    assert np.isnan(y[1]) and y[0] == 0.0  # log10: -1 has no logarithm (a gap, no warning), 1 -> 0
    (_, _), (y0, y1) = loss.view_range()
    assert y0 <= np.log10(0.2) and y1 >= np.log10(3.0)  # the view is in log10 units
    loss.log_action.setChecked(False)  # the context menu's toggle
    assert not loss.log_scale
    loss.set_log_scale(True)
    _, y = loss.data("Lc")
    np.testing.assert_array_equal(y, [1.0, -1.0, 0.5, 0.2])  # stored values untouched
    loss.mark_flip(20)
    assert loss.flip_iteration == 20
    loss.clear()
    assert loss.n_points == 0 and loss.flip_iteration is None
    assert len(loss.curve_data("total")[0]) == 0
    with pytest.raises(ValueError, match="length"):
        loss.set_history({"total": [1, 2], "Lc": [1]})


def _rgb(image, x: float, y: float) -> np.ndarray:
    c = image.pixelColor(int(round(x)), int(round(y)))
    return np.array([c.red(), c.green(), c.blue()])


def test_loss_curves_and_flip_marker_are_drawn_where_the_data_is(qtbot):
    """The painted picture: each curve passes through the pixels of its points, in its colour; the flip
    marker is a dashed vertical line at its iteration; nothing is drawn where there is no data."""
    from widgets.loss_plot import FLIP_COLOR

    loss = LossPlot(refresh_ms=0)
    qtbot.addWidget(loss)
    loss.resize(420, 260)
    loss.show()
    qtbot.waitExposed(loss)
    n = 100
    it = np.arange(n, dtype=float)
    loss.set_history({"total": np.full(n, 2.0), "Lc": np.linspace(1.0, -1.0, n)}, iterations=it)
    loss.mark_flip(60)
    image = loss.grab().toImage()
    rect = loss.plot_rect()
    (x0, x1), (y0, y1) = loss.view_range()

    def pixel(x, y):
        return (rect.left() + (x - x0) / (x1 - x0) * rect.width(),
                rect.bottom() - (y - y0) / (y1 - y0) * rect.height())

    dpr = image.devicePixelRatio()
    for name, x, y in (("total", 20.0, 2.0), ("Lc", 30.0, 1.0 - 2.0 * 30 / 99)):
        px, py = pixel(x, y)
        near = [_rgb(image, px * dpr, (py + d) * dpr) for d in (-1, 0, 1)]
        assert min(np.abs(c - loss.colors[name]).max() for c in near) <= 8, (name, near)
    fx, _ = pixel(60.0, 0.0)
    ys = np.linspace(rect.top() + 20, rect.bottom() - 5, 40)
    hits = [any(np.abs(_rgb(image, (fx + dx) * dpr, yy * dpr) - FLIP_COLOR).max() <= 8 for dx in (-1, 0, 1))
            for yy in ys]  # (the 1-pixel line lies on the pixel its x rounds to: either side of fx)
    assert sum(hits) >= 10  # dashed: many of its pixels
    empty = pixel(90.0, 1.5)  # between the total (2) and Lc (-0.8 there): background, maybe a faint grid
    assert _rgb(image, empty[0] * dpr, empty[1] * dpr).max() < 100


def test_loss_user_pan_zoom_and_fit(qtbot):
    """Wheel zooms about the cursor, a drag pans, either stops the following; a double-click fits the data
    and follows it again; the hover tooltip shows the nearest iteration's values."""
    loss = LossPlot(refresh_ms=0)
    qtbot.addWidget(loss)
    loss.resize(420, 260)
    loss.show()
    qtbot.waitExposed(loss)
    loss.set_history({"total": np.linspace(2.0, 0.0, 101)})
    (x0, x1), (y0, y1) = loss.view_range()
    rect = loss.plot_rect()
    centre = rect.center()
    cx = x0 + (centre.x() - rect.left()) / rect.width() * (x1 - x0)
    wheel = QtGui.QWheelEvent(centre, loss.mapToGlobal(centre), QtCore.QPoint(), QtCore.QPoint(0, 120),
                              QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier,
                              QtCore.Qt.ScrollPhase.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(loss, wheel)
    (zx0, zx1), (zy0, zy1) = loss.view_range()
    assert zx1 - zx0 == pytest.approx(0.85 * (x1 - x0)) and zy1 - zy0 == pytest.approx(0.85 * (y1 - y0))
    assert zx0 < cx < zx1 and (cx - zx0) / (zx1 - zx0) == pytest.approx((cx - x0) / (x1 - x0))
    assert not loss.following
    loss.append(300, {"total": 5.0})
    loss.flush()
    assert loss.view_range()[0] == pytest.approx((zx0, zx1))  # the user's range stays
    start = centre.toPoint()
    qtbot.mousePress(loss, QtCore.Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(loss, start + QtCore.QPoint(40, 0))
    qtbot.mouseRelease(loss, QtCore.Qt.MouseButton.LeftButton, pos=start + QtCore.QPoint(40, 0))
    (px0, px1), _ = loss.view_range()
    assert px1 - px0 == pytest.approx(zx1 - zx0)
    assert px0 == pytest.approx(zx0 - 40 / rect.width() * (zx1 - zx0))  # dragged 40 px right
    qtbot.mouseDClick(loss, QtCore.Qt.MouseButton.LeftButton, pos=start)
    assert loss.following and loss.view_range()[0][1] >= 300
    rect = loss.plot_rect()  # (the value axis' numbers changed with the range: so did its width)
    qtbot.mouseMove(loss, QtCore.QPoint(int(rect.left() + 1), int(rect.center().y())))
    qtbot.waitUntil(lambda: loss.toolTip().startswith("iteration 0: total 2"), timeout=2000)
    with pytest.raises(ValueError, match="empty"):
        loss.set_view_range((5, 5))


def test_tick_values_are_round_and_cover_the_range():
    from widgets.loss_plot import _tick_text, tick_values

    v, step = tick_values(0.0, 300.0, 5)
    assert step == 100 and list(v) == [0, 100, 200, 300]
    v, step = tick_values(-0.37, 1.2, 8)
    assert step == 0.2 and v[0] == pytest.approx(-0.2) and v[-1] == pytest.approx(1.2) and 0.0 in v
    v, step = tick_values(0.0, 1.0, 4)
    assert step == 0.25
    assert [_tick_text(x, step, False) for x in v] == ["0.00", "0.25", "0.50", "0.75", "1.00"]
    assert _tick_text(-3.0, 1.0, True) == "0.001" and _tick_text(-5.0, 1.0, True) == "1e-05"
    v, step = tick_values(-6.2, -1.1, 8, integer=True)  # decades of a log axis
    assert step == 1 and list(v) == [-6, -5, -4, -3, -2]
    v, step = tick_values(1e-7, 3e-7, 4)
    assert len(v) >= 2 and np.all((v >= 1e-7 - 1e-16) & (v <= 3e-7 + 1e-16))
    assert len(tick_values(1.0, 1.0, 4)[0]) == 0


@pytest.fixture
def bars(qtbot):
    b = ProbabilityBars()
    qtbot.addWidget(b)
    return b


def _brush_rgb(brush):
    c = brush.color()
    return (c.red(), c.green(), c.blue())


def test_probability_top_k(bars):
    names = [f"class{i}" for i in range(20)]
    p = np.linspace(1, 2, 20)
    p /= p.sum()
    bars.set_probabilities(p, names, clean=19, target=17, k=5)
    assert bars.shown_classes == [19, 18, 17, 16, 15]
    np.testing.assert_allclose(bars.heights(), p[[19, 18, 17, 16, 15]])
    assert bars.label_texts == [f"class{i}" for i in (19, 18, 17, 16, 15)]
    rgb = bars.bar_colors
    assert rgb[0] == CLEAN_COLOR and rgb[2] == TARGET_COLOR and rgb[1] == OTHER_COLOR


def test_probability_marks_clean_outside_top_k_and_reuses_brushes(bars):
    p = np.array([0.5, 0.3, 0.1, 0.06, 0.04])
    bars.set_probabilities(p, None, clean=4, target=None, k=2)
    assert bars.shown_classes == [0, 1, 4]
    bars.flush()
    colors = bars.bar_colors
    bars.set_probabilities(np.array([0.45, 0.35, 0.1, 0.06, 0.04]), None, clean=4, k=2)
    bars.flush()
    assert bars.bar_colors is colors  # only the bar lengths changed
    np.testing.assert_allclose(bars.heights(), [0.45, 0.35, 0.04])
    assert [lbl.toPlainText() for lbl in bars.value_labels] == ["0.45", "0.35", "0.04"]
    with pytest.raises(ValueError):
        bars.set_probabilities(p, ["a"], k=2)


def test_displacement_chart(qtbot, joint_names):
    chart = DisplacementChart()
    qtbot.addWidget(chart)
    v = np.linspace(0.0, 0.03, len(joint_names))
    chart.set_displacement(v, joint_names)
    np.testing.assert_allclose(chart.bars.opts["width"], v * 1000)
    assert chart.joint_names == list(joint_names)
    rgb = [_brush_rgb(b) for b in chart.bars.opts["brushes"]]
    np.testing.assert_allclose(rgb[0], HEAT_COLORS[0, :3] * 255, atol=1)
    np.testing.assert_allclose(rgb[-1], HEAT_COLORS[-1, :3] * 255, atol=1)
    chart.set_displacement(np.zeros(0))  # empty is allowed
    assert len(chart.bars.opts["width"]) == 0


def test_heat_scale():
    c = heat_rgba(np.array([0.0, 0.5, 1.0, np.nan]))
    assert c.shape == (4, 4) and c.dtype == np.float32
    np.testing.assert_allclose(c[0], HEAT_COLORS[0])
    np.testing.assert_allclose(c[2], HEAT_COLORS[-1])
    np.testing.assert_allclose(c[3], HEAT_COLORS[0])
    assert (c >= 0).all() and (c <= 1).all()
    np.testing.assert_allclose(heat_rgba(np.zeros(3)), np.tile(HEAT_COLORS[0], (3, 1)))
    assert heat_colormap().getColors().shape == (4, 4)


def test_throttle_coalesces_and_last_data_wins(qtbot):
    bars = ProbabilityBars(refresh_ms=400)  # a long "frame", so that a busy test machine cannot end it early
    qtbot.addWidget(bars)
    names = [f"c{i}" for i in range(8)]
    first = np.full(8, 1 / 8)
    bars.set_probabilities(first, names, k=3)  # the first update of a frame is drawn at once
    assert bars.redraws == 1
    rng = np.random.default_rng(0)
    for _ in range(50):  # 50 updates within one frame: one more redraw, at the end of the frame
        last = rng.dirichlet(np.ones(8))
        bars.set_probabilities(last, names, clean=2, k=3)
    assert bars.redraws == 1 and bars._throttle.pending
    assert bars.shown_classes[0] == int(np.argmax(last))  # the rows follow the data at once
    qtbot.waitUntil(lambda: not bars._throttle.pending, timeout=3000)
    assert bars.redraws == 2
    np.testing.assert_allclose(bars._widths, np.sort(last[bars.shown_classes])[::-1])

    loss = LossPlot(refresh_ms=400)
    qtbot.addWidget(loss)
    for i in range(100):
        loss.append(i, {"total": float(i)})
    assert loss.redraws <= 1  # the first append may draw; the rest wait for the frame
    qtbot.waitUntil(lambda: loss.redraws == 2, timeout=3000)
    qtbot.wait(100)
    assert loss.redraws == 2  # one redraw for the 99 later points
    x, y = loss.curve_data("total")
    assert len(x) == 100 and y[-1] == 99.0


def test_frame_throttle_rate(qtbot):
    from widgets._throttle import FrameThrottle

    calls = []
    t = FrameThrottle(lambda: calls.append(1), 20)
    timer_end = QtCore.QElapsedTimer()
    timer_end.start()
    while timer_end.elapsed() < 200:  # requests as fast as the event loop turns, for 200 ms
        t.request()
        qtbot.wait(1)
    qtbot.wait(40)
    assert 5 <= len(calls) <= 200 / 20 + 2  # at most one per 20 ms frame (+ leading and trailing edge)
    t.flush()
    n = len(calls)
    t.flush()  # nothing pending: nothing drawn
    assert len(calls) == n


def test_paced_redraws_never_share_a_turn_of_the_event_loop(qtbot):
    """Two paced throttles (say a 3D frame and the live plots) requested together: each draws, never
    within ``PACE_MS`` of the other's start; an unpaced one is not held back; flush() draws at once."""
    import time

    from widgets._throttle import PACE_MS, FrameThrottle, mark_paced, pace_delay_ms

    starts: list[tuple[str, float]] = []
    a = FrameThrottle(lambda: starts.append(("a", time.perf_counter())), 0, leading=False, paced=True)
    b = FrameThrottle(lambda: starts.append(("b", time.perf_counter())), 0, leading=False, paced=True)
    free = FrameThrottle(lambda: starts.append(("free", time.perf_counter())), 0, leading=False)
    for _ in range(3):
        a.request()
        b.request()
        free.request()
        qtbot.waitUntil(lambda: not (a.pending or b.pending or free.pending), timeout=2000)
    paced = [t for name, t in starts if name != "free"]
    assert [n for n, _ in starts].count("a") == 3 and [n for n, _ in starts].count("b") == 3
    assert min(np.diff(paced)) >= PACE_MS / 1000.0 * 0.95
    assert [n for n, _ in starts].count("free") == 3
    mark_paced()
    assert pace_delay_ms() > 0
    a.request()
    a.flush()  # an explicit flush does not wait for the pace
    assert starts[-1][0] == "a" and not a.pending


def test_live_step_moves_the_range_and_the_curves_in_separate_calls(qtbot):
    """``step()``: when the data leaves the view, the new range first (nothing else), the curves at the next
    call; while the data stays inside, the curves at once. ``flush()`` does both in one call."""
    loss = LossPlot(refresh_ms=60_000)
    qtbot.addWidget(loss)
    for i in range(10):
        loss.append(i, {"total": 1.0})
    loss.flush()
    view = loss._view
    assert view[1] >= 9
    loss.append(view[1] - 0.1, {"total": 1.0})
    assert loss.step() is True and len(loss.curve_data("total")[0]) == 11  # inside the view
    assert loss._view == view
    for i in range(11, 200):  # far past the view's right end
        loss.append(i, {"total": 1.0 + 0.01 * i})
    assert loss.step() is False and loss._view != view and len(loss.curve_data("total")[0]) == 11
    (x0, x1), _ = loss.view_range()
    assert x1 >= 199
    assert loss.step() is True and len(loss.curve_data("total")[0]) == 200
    for i in range(200, 400):
        loss.append(i, {"total": 5.0})
    loss.flush()  # both at once
    assert len(loss.curve_data("total")[0]) == 400 and loss.view_range()[0][1] >= 399


def test_loss_legend_outside_the_plot_and_uncut(qtbot):
    loss = LossPlot()
    qtbot.addWidget(loss)
    loss.resize(320, 170)
    loss.show()
    qtbot.waitExposed(loss)
    for i in range(30):
        loss.append(i, {"total": 3 / (i + 1), "Lc": 1.0, "Lp": 0.1 * i, "l_dyn": 0.5, "l_bl": 0.2})
    loss.flush()
    qtbot.wait(50)
    legend = loss.legend_rect()
    assert not legend.intersects(loss.plot_rect())
    assert QtCore.QRectF(loss.rect()).contains(legend)
    fm = QtGui.QFontMetricsF(loss._small)
    for name in loss.legend_texts:  # every entry, l_bl included, fits in the legend's column
        assert legend.left() + 18 + fm.horizontalAdvance(name) <= loss.width(), name
    assert loss.legend_texts == ["total", "Lc", "Lp", "l_dyn", "l_bl"]


def test_long_class_names_are_elided_with_a_tooltip(qtbot):
    bars = ProbabilityBars(max_label_px=110)
    qtbot.addWidget(bars)
    bars.resize(360, 200)
    bars.show()
    qtbot.waitExposed(bars)
    long_name = "put on a shoe while standing on one leg"
    names = ["clap", long_name, "kick"]
    bars.set_probabilities(np.array([0.2, 0.7, 0.1]), names, clean=2, k=3)
    bars.flush()
    qtbot.wait(50)
    assert bars.shown_names == [long_name, "clap", "kick"]
    shown = bars.label_texts[0]
    assert shown != long_name and shown.endswith("…") and long_name.startswith(shown[:-1])
    assert bars.label_texts[1:] == ["clap", "kick"]  # short names untouched
    assert long_name in bars.row_tooltip(0) and "0.700" in bars.row_tooltip(0)
    assert "clean" in bars.row_tooltip(2)
    # the name and value columns are as wide as their texts: nothing is clipped
    fm = QtGui.QFontMetricsF(bars.font())
    names_w, left, width, top, row_h = bars._layout()
    assert names_w >= max(fm.horizontalAdvance(t) for t in bars.label_texts) and left > names_w
    assert left + width + fm.horizontalAdvance("0.70") < bars.width()
    assert bars.row_at(top + 0.5 * row_h) == 0 and bars.row_at(top + 2.5 * row_h) == 2
    assert bars.row_at(top - 1) == -1 and bars.row_at(top + 3.5 * row_h) == -1
    # what is drawn: the three bars in their colours, from the names column on, as long as p
    image = bars.grab().toImage()
    for row, (p, color) in enumerate(zip((0.7, 0.2, 0.1), bars.bar_colors, strict=True)):
        y = int(top + (row + 0.5) * row_h)
        inside = image.pixelColor(int(left + 0.5 * p * width), y)  # (the X visual may round a colour)
        assert np.abs(np.subtract((inside.red(), inside.green(), inside.blue()), color)).max() <= 8
        past = image.pixelColor(int(left + p * width + 3), y)
        assert np.abs(np.subtract((past.red(), past.green(), past.blue()), color)).max() > 40
    assert bars.value_texts == ["0.70", "0.20", "0.10"]
    # hovering a row shows its tooltip
    qtbot.mouseMove(bars, QtCore.QPoint(int(left + 10), int(top + 0.5 * row_h)))
    qtbot.waitUntil(lambda: long_name in bars.toolTip(), timeout=2000)
    qtbot.mouseMove(bars, QtCore.QPoint(int(left + 10), int(top + 2.5 * row_h)))
    qtbot.waitUntil(lambda: "kick" in bars.toolTip(), timeout=2000)


def test_loss_range_follows_in_steps_and_stops_after_a_user_zoom(qtbot):
    loss = LossPlot(refresh_ms=0)
    qtbot.addWidget(loss)
    changes = []
    loss.view_changed.connect(lambda: changes.append(1))
    for i in range(300):
        loss.append(i, {"total": 2.0 / (i + 1), "Lc": 1.0 + 0.001 * i})
        loss.flush()
    assert len(changes) < 60  # an autorange would move (and redraw the axes) 300 times
    (x0, x1), (y0, y1) = loss.view_range()
    assert x0 <= 0 and x1 >= 299 and y0 <= 2.0 / 300 and y1 >= 2.0  # every point is in view
    loss.set_view_range((10, 20))  # what a wheel zoom or a drag does
    loss.append(300, {"total": 5.0, "Lc": 1.0})
    loss.flush()
    assert loss.view_range()[0] == pytest.approx((10, 20))  # the user's range stays
    loss.clear_data()
    loss.append(0, {"total": 1.0})
    loss.flush()
    assert loss.view_range()[0][1] <= 2  # a new run follows the data again
