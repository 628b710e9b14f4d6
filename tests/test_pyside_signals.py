"""Regression: PySide6 6.12.0 on CPython 3.11 aborts after a few hundred Signal.emit() calls
("Fatal Python error: bool_dealloc"). A live-plotting worker emits thousands; the pin in
pyproject.toml keeps PySide6 below 6.12. This runs 5,000 cross-thread emits in a subprocess."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import numpy as np
    from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

    class Emitter(QObject):
        step = Signal(object)
        flag = Signal(bool, int)
        done = Signal()

        @Slot()
        def run(self):
            for i in range(5000):
                self.step.emit({"i": i, "ok": bool(i % 2), "p": np.zeros(4)})
                self.flag.emit(i % 3 == 0, i)
            self.done.emit()

    class Sink(QObject):
        def __init__(self):
            super().__init__()
            self.n = 0
        @Slot(object)
        def on_step(self, d):
            self.n += 1
        @Slot(bool, int)
        def on_flag(self, b, i):
            self.n += 1

    app = QCoreApplication(sys.argv)
    thread = QThread()
    em = Emitter()
    em.moveToThread(thread)
    sink = Sink()
    em.step.connect(sink.on_step)
    em.flag.connect(sink.on_flag)
    em.done.connect(thread.quit)
    thread.started.connect(em.run)
    thread.finished.connect(app.quit)
    thread.start()
    app.exec()
    thread.wait()
    print("received", sink.n)
    sys.exit(0 if sink.n == 10000 else 3)
    """
)


def test_five_thousand_emits_do_not_abort():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    tail = proc.stderr[-2000:]
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {tail}"
    assert "received 10000" in proc.stdout
