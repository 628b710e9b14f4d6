"""Python's cyclic garbage collector, run in the GUI thread only.

CPython collects cycles in whichever thread happens to allocate past the threshold. In this app that is
often a worker (a dataset parser, the attack loop), and a cycle can hold Qt wrappers made in the GUI thread
(a dock's closure, a relay, a timer): their C++ objects are then torn down in the worker while the GUI
thread is inside Qt, which deadlocks (the worker waits on a Qt lock the GUI thread holds, the GUI thread on
the interpreter lock) or crashes. So the automatic collector is switched off while the app runs and a
timer in the GUI thread collects, generation by generation, when the allocation counts pass the same
thresholds the automatic collector would use (pyqtgraph documents the same remedy).

Pauses, now in the GUI thread: the timer ticks every 30 ms, so that a young-generation collection walks
only what was allocated since (1–4 ms during an attack). A full collection walks every object: 240–290 ms
for the 320,000 of a loaded window (this VM). So, as CPython does, the oldest generation is collected only
once the objects promoted into it since the last full collection reach a quarter of those it kept then;
and the app (``freeze=True``) freezes the 266,000 objects that exist when it starts (modules, classes:
never garbage), which leaves ~80,000 for a full pass (60 ms). Once the window has loaded its first dataset
and model, :func:`settle` makes that full pass once, at a moment the user waits anyway, and freezes what
survives (the window, the demo): otherwise the first full pass fell in the first attack (a 90 ms stall).
The price: a cycle among those objects that becomes garbage later is only freed at exit.

While a cycle of pyqtgraph items is torn down, Qt may call a Python override (``sizeHint``) of an item
whose attributes the collector has already cleared; PySide reports the AttributeError through
``sys.excepthook``. Those reports, raised by the collection itself and harmless, are counted in
``override_errors`` instead of printed (pytest-qt would fail the test that happened to be running).
"""

from __future__ import annotations

import gc
import sys

from PySide6 import QtCore

__all__ = ["GuiThreadCollector", "settle"]


class GuiThreadCollector(QtCore.QObject):
    """While it runs, cycles are collected by a timer in the thread that created it (the GUI thread).

    ``stop()`` (or the application quitting) collects once more and gives collection back to CPython.
    """

    def __init__(self, interval_ms: int = 30, freeze: bool = False, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._threshold = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        self._frozen = bool(freeze)
        self.collections = 0
        self.full_collections = 0
        self.settled = False
        if self._frozen:
            gc.collect()
            gc.freeze()  # never walked again (given back by stop())
        self._long_lived = len(gc.get_objects(generation=2))  # kept by the last full collection
        self._pending = 0  # promoted into the oldest generation since
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
        if gen == 2 and self._pending <= self._long_lived // 4:
            gen = 1  # CPython's rule: a full collection only once the old generation grew by a quarter
        if gen < 0:
            return gen
        if gen == 2:
            self._full_pass()
            return gen
        young = len(gc.get_objects(generation=0)) + len(gc.get_objects(generation=1)) if gen == 1 else 0
        collected = self._collect(gen)
        if gen == 1:
            self._pending += max(young - collected, 0)
        return gen

    def _full_pass(self, freeze: bool = False) -> None:
        """A full collection (then, with ``freeze``, what survives frozen) and the quarter rule's reset."""
        self._collect(2)
        if freeze:
            gc.freeze()
        self._pending, self._long_lived = 0, len(gc.get_objects(generation=2))
        self.full_collections += 1

    def _collect(self, generation: int) -> int:
        hook = sys.excepthook

        def count(*_exc) -> None:
            self.override_errors += 1

        sys.excepthook = count
        try:
            collected = gc.collect(generation)
        finally:
            sys.excepthook = hook
        self.collections += 1
        return collected

    def settle(self) -> bool:
        """With ``freeze``, once: a full collection now, and what survives frozen. True if it ran."""
        if not (self._frozen and self._timer.isActive()) or self.settled:
            return False
        self._full_pass(freeze=True)
        self.settled = True
        return True

    def stop(self) -> None:
        if not self._timer.isActive():
            return
        self._timer.stop()
        if self._frozen:
            gc.unfreeze()
        self._collect(2)
        if self._was_enabled:
            gc.enable()


def settle() -> bool:
    """:meth:`GuiThreadCollector.settle` on the application's collector, if it has one."""
    app = QtCore.QCoreApplication.instance()
    collector = None if app is None else app.findChild(GuiThreadCollector)
    return collector.settle() if collector is not None else False
