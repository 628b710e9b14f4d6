"""Python's cyclic garbage collector, run in the GUI thread only.

CPython collects cycles in whichever thread happens to allocate past the threshold. In this app that is
often a worker (a dataset parser, the attack loop), and a cycle can hold Qt wrappers made in the GUI thread
(a dock's closure, a relay, a timer): their C++ objects are then torn down in the worker while the GUI
thread is inside Qt, which deadlocks (the worker waits on a Qt lock the GUI thread holds, the GUI thread on
the interpreter lock) or crashes. So the automatic collector is switched off while the app runs and a
timer in the GUI thread collects, generation by generation, when the allocation counts pass the same
thresholds the automatic collector would use (pyqtgraph documents the same remedy).

While a cycle of pyqtgraph items is torn down, Qt may call a Python override (``sizeHint``) of an item
whose attributes the collector has already cleared; PySide reports the AttributeError through
``sys.excepthook``. Those reports, raised by the collection itself and harmless, are counted in
``override_errors`` instead of printed (pytest-qt would fail the test that happened to be running).
"""

from __future__ import annotations

import gc
import sys

from PySide6 import QtCore

__all__ = ["GuiThreadCollector"]


class GuiThreadCollector(QtCore.QObject):
    """While it runs, cycles are collected by a timer in the thread that created it (the GUI thread).

    ``stop()`` (or the application quitting) collects once more and gives collection back to CPython.
    """

    def __init__(self, interval_ms: int = 500, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._threshold = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        self.collections = 0
        self.override_errors = 0
        gc.disable()
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(int(interval_ms))
        self._timer.timeout.connect(self.check)
        self._timer.start()
        app = QtCore.QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def check(self) -> int:
        """Collect the oldest generation whose count (and every younger one's) passed its threshold;
        returns the generation collected, or -1."""
        counts = gc.get_count()
        gen = -1
        for g in range(3):
            if counts[g] <= self._threshold[g]:
                break
            gen = g
        if gen >= 0:
            self._collect(gen)
        return gen

    def _collect(self, generation: int) -> None:
        hook = sys.excepthook

        def count(*_exc) -> None:
            self.override_errors += 1

        sys.excepthook = count
        try:
            gc.collect(generation)
        finally:
            sys.excepthook = hook
        self.collections += 1

    def stop(self) -> None:
        if not self._timer.isActive():
            return
        self._timer.stop()
        self._collect(2)
        if self._was_enabled:
            gc.enable()
