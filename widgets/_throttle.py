"""Redraw at most once per display frame, whatever rate the data comes at.

:class:`FrameThrottle` wraps a redraw function. :meth:`~FrameThrottle.request` runs it at once when the
last redraw is at least one frame old (a single update is never delayed) and otherwise arms a single-shot
timer for the rest of the frame; requests that arrive meanwhile are merged into that one redraw, which
reads the newest data (the last data wins). :meth:`~FrameThrottle.flush` runs a pending redraw now.

Paced redraws (``paced=True``, and any caller of :func:`pace_delay_ms` / :func:`mark_paced`) share one
clock: the expensive redraws of a window (a 3D frame, 2–10 ms of the GUI thread under software rendering;
the live group of loss curves and probability bars, 1–5 ms since both are painted directly) start at
least ``PACE_MS`` (one display frame) apart, so that two of them never fall into one turn of the event
loop — the user's input (and everything else) gets a turn between.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6 import QtCore

__all__ = ["FRAME_MS", "PACE_MS", "FrameThrottle", "mark_paced", "pace_delay_ms"]

#: One display frame (60 Hz). Widgets that take data at any rate redraw at most this often.
FRAME_MS = 16
#: The least time between the starts of two paced redraws (see the module docstring).
PACE_MS = 16
_last_paced = [-1e9]  # perf_counter seconds of the last paced redraw's start (GUI thread only)


def pace_delay_ms() -> int:
    """Milliseconds until a paced redraw may start (0: now)."""
    return max(int(PACE_MS - (time.perf_counter() - _last_paced[0]) * 1000.0 + 0.999), 0)


def mark_paced() -> None:
    """A paced redraw starts now."""
    _last_paced[0] = time.perf_counter()


class FrameThrottle(QtCore.QObject):
    """Calls ``redraw()`` at most once per ``interval_ms`` (leading and trailing edge).

    Attributes: ``redraws`` (how many times ``redraw`` ran), ``pending`` (a redraw is scheduled).
    ``interval_ms <= 0`` redraws on every request. ``leading=False``: the redraw always runs from the
    event loop (after the caller's other updates of this turn), never inside :meth:`request`.
    ``paced=True``: a redraw from the event loop also waits for the shared pace (:func:`pace_delay_ms`);
    :meth:`flush` does not.
    """

    def __init__(self, redraw: Callable[[], None], interval_ms: int = FRAME_MS, parent=None, *,
                 leading: bool = True, paced: bool = False):
        super().__init__(parent)
        self._redraw = redraw
        self._leading = bool(leading)  # False: never inside request(), always from the event loop
        self._paced = bool(paced)
        self._interval = max(int(interval_ms), 0)
        self._last = -1e9  # perf_counter seconds of the last redraw
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer)
        self.redraws = 0

    @property
    def interval_ms(self) -> int:
        return self._interval

    @property
    def pending(self) -> bool:
        return self._timer.isActive()

    def request(self) -> None:
        """Redraw now if a frame has passed since the last redraw, else once at the end of this frame."""
        if self._timer.isActive():
            return  # the scheduled redraw will read the newest data
        wait_ms = self._interval - (time.perf_counter() - self._last) * 1000.0
        if self._paced:
            wait_ms = max(wait_ms, pace_delay_ms())
        if wait_ms <= 0.0 and self._leading:
            self._run()
        else:
            self._timer.start(max(int(wait_ms + 0.999), 0))

    def flush(self) -> None:
        """Run a pending redraw now (nothing when none is pending)."""
        if self._timer.isActive():
            self._run()

    def cancel(self) -> None:
        """Drop a pending redraw."""
        self._timer.stop()

    def _on_timer(self) -> None:
        delay = pace_delay_ms() if self._paced else 0
        if delay:
            self._timer.start(delay)  # another paced redraw just ran: this one in a later turn
        else:
            self._run()

    def _run(self) -> None:
        self._timer.stop()
        self._last = time.perf_counter()
        if self._paced:
            mark_paced()
        self.redraws += 1
        self._redraw()
