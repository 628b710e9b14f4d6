"""LossPlot, ProbabilityBars, DisplacementChart and the heat scale: data lands in the items."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

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
    assert loss.curves["total"].getData()[0] is None or len(loss.curves["total"].getData()[0]) < 50
    qtbot.waitUntil(lambda: loss.curves["total"].getData()[0] is not None
                    and len(loss.curves["total"].getData()[0]) == 50, timeout=2000)
    x, y = loss.curves["total"].getData()
    np.testing.assert_array_equal(x, np.arange(50))
    np.testing.assert_allclose(y, 10.0 / (np.arange(50) + 1))
    assert list(loss.curves)[:5] == ["total", "Lc", "Lp", "l_dyn", "l_bl"]


def test_loss_new_term_and_missing_values(loss):
    loss.append(0, {"total": 1.0})
    loss.append(1, {"total": 0.5, "l_dyn_2": 0.25})
    loss.flush()
    assert "l_dyn_2" in loss.curves
    _, y = loss.data("l_dyn_2")
    assert np.isnan(y[0]) and y[1] == 0.25
    assert "l_dyn_2" in [item.text for _, item in loss.legend.items]


def test_loss_history_clear_log_and_flip(loss, qtbot):
    loss.set_history({"total": [3.0, 2.0, 1.0, 0.0], "Lc": [1.0, -1.0, 0.5, 0.2]}, iterations=[0, 10, 20, 30])
    x, y = loss.curves["Lc"].getData()
    np.testing.assert_array_equal(x, [0, 10, 20, 30])
    with qtbot.waitSignal(loss.log_scale_changed, timeout=1000) as sig:
        loss.set_log_scale(True)
    assert sig.args == [True] and loss.log_scale
    assert np.isnan(loss.curves["Lc"].getData()[1][1])  # -1 has no logarithm: a gap, no warning
    loss.plotItem.ctrl.logYCheck.setChecked(False)  # the context menu's toggle
    assert not loss.log_scale
    loss.set_log_scale(True)
    _, y = loss.data("Lc")
    np.testing.assert_array_equal(y, [1.0, -1.0, 0.5, 0.2])  # stored values untouched
    loss.mark_flip(20)
    assert loss.flip_line.isVisible() and loss.flip_line.value() == 20 and loss.flip_iteration == 20
    loss.clear()
    assert loss.n_points == 0 and not loss.flip_line.isVisible()
    x, _ = loss.curves["total"].getData()
    assert x is None or len(x) == 0
    with pytest.raises(ValueError, match="length"):
        loss.set_history({"total": [1, 2], "Lc": [1]})


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
    x, y = loss.curves["total"].getData()
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
    assert loss.step() is True and len(loss.curves["total"].getData()[0]) == 11  # inside the view
    assert loss._view == view
    for i in range(11, 200):  # far past the view's right end
        loss.append(i, {"total": 1.0 + 0.01 * i})
    assert loss.step() is False and loss._view != view and len(loss.curves["total"].getData()[0]) == 11
    (x0, x1), _ = loss.plotItem.vb.viewRange()
    assert x1 >= 199
    assert loss.step() is True and len(loss.curves["total"].getData()[0]) == 200
    for i in range(200, 400):
        loss.append(i, {"total": 5.0})
    loss.flush()  # both at once
    assert len(loss.curves["total"].getData()[0]) == 400 and loss.plotItem.vb.viewRange()[0][1] >= 399


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
    legend = loss.legend.sceneBoundingRect()
    plot_area = loss.plotItem.vb.sceneBoundingRect()
    assert not legend.intersects(plot_area)
    visible = QtCore.QRectF(loss.viewport().rect())
    for _sample, label in loss.legend.items:  # every entry, l_bl included, is inside the widget
        assert visible.contains(label.sceneBoundingRect()), label.text
    assert [label.text for _s, label in loss.legend.items] == ["total", "Lc", "Lp", "l_dyn", "l_bl"]


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
    from PySide6 import QtGui

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
    vb = loss.plotItem.vb
    changes = []
    vb.sigRangeChanged.connect(lambda *_a: changes.append(1))
    for i in range(300):
        loss.append(i, {"total": 2.0 / (i + 1), "Lc": 1.0 + 0.001 * i})
        loss.flush()
    assert len(changes) < 60  # pyqtgraph's autorange would move (and rebuild the axes) 300 times
    (x0, x1), (y0, y1) = vb.viewRange()
    assert x0 <= 0 and x1 >= 299 and y0 <= 2.0 / 300 and y1 >= 2.0  # every point is in view
    vb.setRange(xRange=(10, 20), padding=0)
    vb.sigRangeChangedManually.emit([True, True])  # what a wheel zoom or a drag emits
    loss.append(300, {"total": 5.0, "Lc": 1.0})
    loss.flush()
    assert vb.viewRange()[0] == pytest.approx([10, 20])  # the user's range stays
    loss.clear_data()
    loss.append(0, {"total": 1.0})
    loss.flush()
    assert vb.viewRange()[0][1] <= 2  # a new run follows the data again
