"""Playback bar: a small time model (QTimer + QElapsedTimer) with its controls.

The frame is derived from wall-clock time, never counted per tick (STYLE.md W5)::

    frame = start_frame + int(elapsed_s * fps * speed)

where ``start_frame`` and the clock are re-anchored on play, seek and speed change. A slow event loop
therefore drops frames instead of slowing the motion down. Views only listen to ``frame_changed``.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt, Signal, Slot

__all__ = ["SPEEDS", "PlaybackBar", "speed_label"]

#: Preset speeds of the combo box and of the faster/slower steps (0.1x .. 4x, with the paper's 1/3x).
SPEEDS: tuple[float, ...] = (0.1, 0.25, 1 / 3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
MIN_SPEED, MAX_SPEED = 0.1, 4.0


def speed_label(s: float) -> str:
    """'1×', '0.25×', '⅓×' ..."""
    if abs(s - 1 / 3) < 1e-6:
        return "⅓×"
    frac = Fraction(s).limit_denominator(100)
    if abs(float(frac) - s) < 1e-9 and frac.denominator == 1:
        return f"{frac.numerator}×"
    return f"{s:g}×"


class _ElapsedClock:
    """Monotonic milliseconds since the last restart (a QElapsedTimer)."""

    def __init__(self):
        self._t = QtCore.QElapsedTimer()
        self._t.start()

    def restart(self) -> None:
        self._t.restart()

    def elapsed(self) -> int:
        return int(self._t.elapsed())


class PlaybackBar(QtWidgets.QWidget):
    """Play/pause, step, scrubber with frame number, loop toggle and speed (0.1x to 4x).

    Signals: ``frame_changed(int)`` (only when the frame actually changes), ``playing_changed(bool)``,
    ``speed_changed(float)``, ``loop_changed(bool)``.
    Slots (for window-level keyboard actions, see :meth:`create_actions`): :meth:`toggle_play`,
    :meth:`play`, :meth:`pause`, :meth:`step_forward`, :meth:`step_back`, :meth:`first_frame`,
    :meth:`last_frame`, :meth:`faster`, :meth:`slower`, :meth:`set_frame`, :meth:`set_speed`,
    :meth:`set_loop`.

    ``clock`` (tests): an object with ``restart()`` and ``elapsed() -> int`` milliseconds; default a
    QElapsedTimer. ``tick_ms``: timer interval; the frame is computed from elapsed time at each tick.
    """

    frame_changed = Signal(int)
    playing_changed = Signal(bool)
    speed_changed = Signal(float)
    loop_changed = Signal(bool)

    def __init__(self, parent=None, *, clock=None, tick_ms: int = 10):
        super().__init__(parent)
        self._n = 0
        self._frame = 0
        self._fps = 30.0
        self._speed = 1.0
        self._loop = True
        self._playing = False
        self._start_frame = 0
        self._clock = clock if clock is not None else _ElapsedClock()
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(int(tick_ms))
        self._timer.timeout.connect(self._tick)
        self._build()
        self._sync_widgets()

    # --- UI --------------------------------------------------------------------------------------------
    def _build(self) -> None:
        style = self.style()
        sp = QtWidgets.QStyle.StandardPixmap
        self.back_button = QtWidgets.QToolButton()
        self.back_button.setIcon(style.standardIcon(sp.SP_MediaSeekBackward))
        self.back_button.setToolTip("Step back (←)")
        self.back_button.clicked.connect(self.step_back)
        self.play_button = QtWidgets.QToolButton()
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play / pause (space)")
        self.play_button.toggled.connect(self._on_play_toggled)
        self.forward_button = QtWidgets.QToolButton()
        self.forward_button.setIcon(style.standardIcon(sp.SP_MediaSeekForward))
        self.forward_button.setToolTip("Step forward (→)")
        self.forward_button.clicked.connect(self.step_forward)
        self.slider = QtWidgets.QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Frame (Home / End)")
        self.slider.valueChanged.connect(self.set_frame)
        self.frame_label = QtWidgets.QLabel()
        self.frame_label.setMinimumWidth(QtGui.QFontMetrics(self.font()).horizontalAdvance("00000 / 00000 "))
        self.frame_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.loop_button = QtWidgets.QToolButton()
        self.loop_button.setText("Loop")
        self.loop_button.setCheckable(True)
        self.loop_button.setChecked(self._loop)
        self.loop_button.setToolTip("Loop playback")
        self.loop_button.toggled.connect(self.set_loop)
        self.speed_combo = QtWidgets.QComboBox()
        self.speed_combo.setToolTip("Playback speed ([ slower, ] faster)")
        for s in SPEEDS:
            self.speed_combo.addItem(speed_label(s), s)
        self.speed_combo.setCurrentIndex(self._speed_index(self._speed))
        self.speed_combo.currentIndexChanged.connect(self._on_speed_index)

        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(2, 2, 2, 2)
        for w in (self.back_button, self.play_button, self.forward_button):
            row.addWidget(w)
        row.addWidget(self.slider, 1)
        row.addWidget(self.frame_label)
        row.addWidget(self.loop_button)
        row.addWidget(self.speed_combo)
        # Keys belong to the window's actions: a focused button would eat space, the slider ←/→.
        for w in (self.back_button, self.play_button, self.forward_button, self.slider, self.loop_button,
                  self.speed_combo):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def _sync_widgets(self) -> None:
        with QtCore.QSignalBlocker(self.slider):
            self.slider.setRange(0, max(self._n - 1, 0))
            self.slider.setValue(self._frame)
        last = max(self._n - 1, 0)
        self.frame_label.setText(f"{self._frame} / {last}")
        with QtCore.QSignalBlocker(self.play_button):
            self.play_button.setChecked(self._playing)
        sp = QtWidgets.QStyle.StandardPixmap
        icon = sp.SP_MediaPause if self._playing else sp.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        enabled = self._n > 0
        for w in (self.back_button, self.play_button, self.forward_button, self.slider):
            w.setEnabled(enabled)

    # --- model -----------------------------------------------------------------------------------------
    @property
    def frame(self) -> int:
        return self._frame

    @property
    def length(self) -> int:
        return self._n

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def loop(self) -> bool:
        return self._loop

    @property
    def playing(self) -> bool:
        return self._playing

    def set_length(self, n: int) -> None:
        """Number of frames; the current frame is clamped (and emitted if that changes it)."""
        if n < 0:
            raise ValueError(f"length must be >= 0, got {n}")
        self._n = int(n)
        if self._n == 0:
            self.pause()
        self._sync_widgets()
        self.set_frame(self._frame)

    def set_fps(self, fps: float) -> None:
        """Frame rate of the clip at 1x."""
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self._reanchor()
        self._fps = float(fps)

    @Slot(int)
    def set_frame(self, i: int) -> None:
        """Go to frame ``i``, clamped to ``[0, length - 1]``; emits ``frame_changed`` if it changed."""
        i = int(min(max(int(i), 0), max(self._n - 1, 0)))
        self._start_frame = i
        self._clock.restart()
        self._set_current(i)

    def _set_current(self, i: int) -> None:
        changed = i != self._frame
        self._frame = i
        self._sync_widgets()
        if changed:
            self.frame_changed.emit(i)

    @Slot(float)
    def set_speed(self, s: float) -> None:
        """Playback speed, clamped to 0.1..4; values between presets are added to the combo box."""
        s = float(min(max(float(s), MIN_SPEED), MAX_SPEED))
        self._reanchor()
        changed = abs(s - self._speed) > 1e-12
        self._speed = s
        idx = self._speed_index(s)
        if idx < 0:
            pos = sum(1 for k in range(self.speed_combo.count()) if self.speed_combo.itemData(k) < s)
            with QtCore.QSignalBlocker(self.speed_combo):
                self.speed_combo.insertItem(pos, speed_label(s), s)
            idx = pos
        with QtCore.QSignalBlocker(self.speed_combo):
            self.speed_combo.setCurrentIndex(idx)
        if changed:
            self.speed_changed.emit(s)

    def _speed_index(self, s: float) -> int:
        for k in range(self.speed_combo.count()):
            if abs(self.speed_combo.itemData(k) - s) < 1e-9:
                return k
        return -1

    def _on_speed_index(self, idx: int) -> None:
        if idx >= 0:
            self.set_speed(self.speed_combo.itemData(idx))

    @Slot()
    def faster(self) -> None:
        """Next preset speed up (']')."""
        nxt = [s for s in SPEEDS if s > self._speed + 1e-9]
        if nxt:
            self.set_speed(nxt[0])

    @Slot()
    def slower(self) -> None:
        """Next preset speed down ('[')."""
        prev = [s for s in SPEEDS if s < self._speed - 1e-9]
        if prev:
            self.set_speed(prev[-1])

    @Slot(bool)
    def set_loop(self, on: bool) -> None:
        on = bool(on)
        changed = on != self._loop
        self._loop = on
        with QtCore.QSignalBlocker(self.loop_button):
            self.loop_button.setChecked(on)
        if changed:
            self.loop_changed.emit(on)

    # --- transport -------------------------------------------------------------------------------------
    @Slot()
    def play(self) -> None:
        if self._playing or self._n <= 1:
            return
        if not self._loop and self._frame >= self._n - 1:
            self.set_frame(0)  # replay from the start instead of stopping at once
        self._playing = True
        self._start_frame = self._frame
        self._clock.restart()
        self._timer.start()
        self._sync_widgets()
        self.playing_changed.emit(True)

    @Slot()
    def pause(self) -> None:
        if not self._playing:
            return
        self._tick()
        self._playing = False
        self._timer.stop()
        self._sync_widgets()
        self.playing_changed.emit(False)

    @Slot()
    def toggle_play(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    def _on_play_toggled(self, checked: bool) -> None:
        self.play() if checked else self.pause()
        self._sync_widgets()

    @Slot()
    def step_forward(self) -> None:
        """One frame on (wraps at the end when looping); pauses playback."""
        self.pause()
        if self._n:
            nxt = self._frame + 1
            self.set_frame(0 if (nxt >= self._n and self._loop) else nxt)

    @Slot()
    def step_back(self) -> None:
        """One frame back (wraps at the start when looping); pauses playback."""
        self.pause()
        if self._n:
            prv = self._frame - 1
            self.set_frame(self._n - 1 if (prv < 0 and self._loop) else prv)

    @Slot()
    def first_frame(self) -> None:
        self.set_frame(0)

    @Slot()
    def last_frame(self) -> None:
        self.set_frame(self._n - 1)

    def _target_frame(self) -> int:
        return self._start_frame + int(self._clock.elapsed() / 1000.0 * self._fps * self._speed)

    def _reanchor(self) -> None:
        """Fold the elapsed time into ``start_frame`` (before fps/speed change)."""
        if self._playing:
            self._tick()
            self._start_frame = self._frame
            self._clock.restart()

    @Slot()
    def _tick(self) -> None:
        if not self._playing or self._n == 0:
            return
        f = self._target_frame()
        if f >= self._n:
            if self._loop:
                f %= self._n
            else:
                self._set_current(self._n - 1)
                self._playing = False
                self._timer.stop()
                self._sync_widgets()
                self.playing_changed.emit(False)
                return
        self._set_current(f)

    # --- keyboard ------------------------------------------------------------------------------------
    def create_actions(self, parent: QtWidgets.QWidget) -> dict[str, QtGui.QAction]:
        """Window-level actions (space, ←/→, Home/End, [ and ]) added to ``parent``.

        Window shortcuts fire before the focused widget sees the key, so they work while the GL view
        has focus (which would otherwise orbit with ←/→).
        """
        spec: list[tuple[str, str, str, Callable[[], None]]] = [
            ("play", "Play / pause", "Space", self.toggle_play),
            ("step_back", "Step back", "Left", self.step_back),
            ("step_forward", "Step forward", "Right", self.step_forward),
            ("first", "First frame", "Home", self.first_frame),
            ("last", "Last frame", "End", self.last_frame),
            ("slower", "Slower", "[", self.slower),
            ("faster", "Faster", "]", self.faster),
        ]
        actions = {}
        for name, text, key, slot in spec:
            act = QtGui.QAction(text, parent)
            act.setShortcut(QtGui.QKeySequence(key))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)
            parent.addAction(act)
            actions[name] = act
        return actions
