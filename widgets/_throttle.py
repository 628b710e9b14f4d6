"""Redraw at most once per display frame, whatever rate the data comes at.

:class:`FrameThrottle` wraps a redraw function. :meth:`~FrameThrottle.request` runs it at once when the
last redraw is at least one frame old (a single update is never delayed) and otherwise arms a single-shot
timer for the rest of the frame; requests that arrive meanwhile are merged into that one redraw, which
reads the newest data (the last data wins). :meth:`~FrameThrottle.flush` runs a pending redraw now.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6 import QtCore

__all__ = ["FRAME_MS", "FrameThrottle"]

#: One display frame (60 Hz). Widgets that take data at any rate redraw at most this often.
FRAME_MS = 16


class FrameThrottle(QtCore.QObject):
    """Calls ``redraw()`` at most once per ``interval_ms`` (leading and trailing edge).

    Attributes: ``redraws`` (how many times ``redraw`` ran), ``pending`` (a redraw is scheduled).
    ``interval_ms <= 0`` redraws on every request. ``leading=False``: the redraw always runs from the
    event loop (after the caller's other updates of this turn), never inside :meth:`request`.
    """

    def __init__(self, redraw: Callable[[], None], interval_ms: int = FRAME_MS, parent=None, *,
                 leading: bool = True):
        super().__init__(parent)
        self._redraw = redraw
        self._leading = bool(leading)  # False: never inside request(), always from the event loop
        self._interval = max(int(interval_ms), 0)
        self._last = -1e9  # perf_counter seconds of the last redraw
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._run)
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

    def _run(self) -> None:
        self._timer.stop()
        self._last = time.perf_counter()
        self.redraws += 1
        self._redraw()
