"""Shared fixtures. Real-data tests use ``shared_data`` and skip with a reason when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the project; skips the test where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} is absent (see ../shared/README.md)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def gl_unavailable_reason(qapp) -> str | None:
    """None when an OpenGL context can be made current (Xvfb + GLX, a desktop); else why not.

    For the widget and workbench tests; PySide6 is imported only when a test asks for it.
    """
    from PySide6.QtGui import QOffscreenSurface, QOpenGLContext

    ctx = QOpenGLContext()
    surface = QOffscreenSurface()
    surface.create()
    reason = None
    if not ctx.create():
        reason = "cannot create an OpenGL context (QT_QPA_PLATFORM=offscreen has none; run under Xvfb)"
    elif not ctx.makeCurrent(surface):
        reason = "cannot make an OpenGL context current"
    else:
        ctx.doneCurrent()
    surface.destroy()
    return reason


@pytest.fixture
def gui_thread_gc(qapp):
    """Cycles collected only in the GUI thread during a Qt test (``workbench.gui_gc``): CPython's
    automatic collector, run in a worker thread, tore down widgets of earlier tests there and deadlocked
    with the GUI thread. Collects once more and restores automatic collection afterwards."""
    from workbench.gui_gc import GuiThreadCollector

    collector = GuiThreadCollector()
    yield collector
    collector.stop()
    collector.deleteLater()
