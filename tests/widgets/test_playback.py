"""PlaybackBar: frame = start + int(elapsed * fps * speed), clamping, looping, speed presets, keys."""

from __future__ import annotations

import time

import pytest
from PySide6 import QtWidgets

from widgets.playback import SPEEDS, PlaybackBar, speed_label


class FakeClock:
    """Milliseconds set by the test; restart() zeroes them."""

    def __init__(self):
        self.ms = 0

    def restart(self):
        self.ms = 0

    def elapsed(self):
        return self.ms


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def bar(qtbot, clock):
    b = PlaybackBar(clock=clock)
    qtbot.addWidget(b)
    b.set_length(100)
    b.set_fps(30)
    return b


def test_frame_follows_elapsed_time_not_ticks(bar, clock):
    bar.play()
    assert bar.playing
    clock.ms = 500
    bar._tick()
    assert bar.frame == 15
    bar._tick()  # more ticks without time passing do not advance
    assert bar.frame == 15
    clock.ms = 1000
    bar._tick()
    assert bar.frame == 30
    bar.pause()


def test_speed_changes_frame_rate(bar, clock):
    bar.play()
    clock.ms = 500
    bar._tick()
    assert bar.frame == 15
    bar.set_speed(2.0)  # re-anchors at frame 15
    clock.ms = 250
    bar._tick()
    assert bar.frame == 30
    bar.set_speed(1 / 3)
    clock.ms = 1000
    bar._tick()
    assert bar.frame == 40
    bar.pause()


@pytest.mark.parametrize(("speed", "frames_per_s"), [(0.1, 3), (1 / 3, 10), (1.0, 30), (4.0, 120)])
def test_frames_per_second_at_speed(qtbot, speed, frames_per_s):
    clock = FakeClock()
    b = PlaybackBar(clock=clock)
    qtbot.addWidget(b)
    b.set_length(1000)
    b.set_fps(30)
    b.set_speed(speed)
    b.play()
    clock.ms = 1000
    b._tick()
    assert b.frame == frames_per_s
    b.pause()


def test_loop_wraps_and_no_loop_stops(bar, clock, qtbot):
    bar.set_length(20)
    bar.set_fps(10)
    bar.set_loop(True)
    bar.play()
    clock.ms = 2500
    bar._tick()
    assert bar.frame == 5 and bar.playing
    bar.pause()
    bar.set_loop(False)
    bar.set_frame(0)
    bar.play()
    clock.ms = 2500
    with qtbot.waitSignal(bar.playing_changed, timeout=1000) as sig:
        bar._tick()
    assert sig.args == [False]
    assert bar.frame == 19 and not bar.playing


def test_set_frame_clamps_and_emits_only_changes(bar, qtbot):
    seen = []
    bar.frame_changed.connect(seen.append)
    bar.set_frame(-5)
    assert bar.frame == 0 and seen == []
    bar.set_frame(999)
    assert bar.frame == 99 and seen == [99]
    bar.set_frame(99)
    assert seen == [99]
    bar.set_length(50)
    assert bar.frame == 49 and seen == [99, 49]
    assert bar.slider.value() == 49 and bar.frame_label.text() == "49 / 49"


def test_slider_scrubs(bar, qtbot):
    with qtbot.waitSignal(bar.frame_changed, timeout=1000) as sig:
        bar.slider.setValue(42)
    assert sig.args == [42] and bar.frame == 42


def test_steps_wrap_with_loop(bar):
    bar.step_back()
    assert bar.frame == 99
    bar.step_forward()
    assert bar.frame == 0
    bar.set_loop(False)
    bar.step_back()
    assert bar.frame == 0
    bar.last_frame()
    bar.step_forward()
    assert bar.frame == 99
    bar.first_frame()
    assert bar.frame == 0


def test_speed_presets_and_clamp(bar, qtbot):
    assert bar.speed == 1.0 and bar.speed_combo.currentText() == "1×"
    assert SPEEDS[0] == 0.1 and SPEEDS[-1] == 4.0 and any(abs(s - 1 / 3) < 1e-9 for s in SPEEDS)
    assert speed_label(1 / 3) == "⅓×" and speed_label(2.0) == "2×" and speed_label(0.25) == "0.25×"
    with qtbot.waitSignal(bar.speed_changed, timeout=1000) as sig:
        bar.slower()
    assert sig.args == [0.75]
    bar.slower()
    bar.slower()
    assert abs(bar.speed - 1 / 3) < 1e-9 and bar.speed_combo.currentText() == "⅓×"
    bar.set_speed(10)
    assert bar.speed == 4.0
    bar.faster()
    assert bar.speed == 4.0
    bar.set_speed(0.01)
    assert bar.speed == 0.1
    bar.set_speed(0.2)  # between presets: added to the combo
    assert bar.speed_combo.currentData() == 0.2
    bar.speed_combo.setCurrentIndex(bar.speed_combo.findData(1.5))
    assert bar.speed == 1.5


def test_window_actions(qtbot, clock):
    window = QtWidgets.QWidget()
    qtbot.addWidget(window)
    bar = PlaybackBar(window, clock=clock)
    bar.set_length(10)
    actions = bar.create_actions(window)
    assert {a.shortcut().toString() for a in actions.values()} == {"Space", "Left", "Right", "Home", "End",
                                                                   "[", "]"}
    actions["step_forward"].trigger()
    assert bar.frame == 1
    actions["last"].trigger()
    assert bar.frame == 9
    actions["first"].trigger()
    assert bar.frame == 0
    actions["faster"].trigger()
    assert bar.speed == 1.5
    actions["play"].trigger()
    assert bar.playing
    actions["play"].trigger()
    assert not bar.playing


def test_real_timer_plays(qtbot):
    """With the real clock: about fps * speed frames per second go by."""
    bar = PlaybackBar()
    qtbot.addWidget(bar)
    bar.set_length(10_000)
    bar.set_fps(100)
    bar.set_speed(2.0)
    t0 = time.perf_counter()
    bar.play()
    qtbot.waitUntil(lambda: bar.frame >= 60, timeout=3000)
    dt = time.perf_counter() - t0
    bar.pause()
    assert dt > 0.25  # 60 frames at 200 frames/s take 0.3 s; ticks alone would not get there
