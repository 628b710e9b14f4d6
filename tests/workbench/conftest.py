"""Fixtures of the workbench tests: ``make_main_window`` (a factory that closes its windows and fails on
leaked visible top-level widgets), settings under ``tmp_path``, QMessageBox recorded instead of shown.

Run under Xvfb (pytest-xvfb starts it); ``QT_QPA_PLATFORM=offscreen`` has no OpenGL.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import PySide6  # noqa: E402,F401  (before pyqtgraph)
import pytest  # noqa: E402
from PySide6 import QtCore, QtWidgets  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

# Before the QApplication exists (pytest-qt makes it in the first test): the main view and the hidden
# export view must share GL objects.
if QtWidgets.QApplication.instance() is None:
    QtCore.QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

@pytest.fixture(autouse=True)
def _skip_without_gl(qapp, gl_unavailable_reason, gui_thread_gc):
    """The main window always holds a GL view: every workbench test needs a context (Xvfb + GLX;
    ``gl_unavailable_reason`` is in ``tests/conftest.py``)."""
    if gl_unavailable_reason:
        pytest.skip(gl_unavailable_reason)


@pytest.fixture
def message_boxes(monkeypatch):
    """QMessageBox.critical/warning/information/about/question and ``QMessageBox.exec`` (the error
    dialogs with details) record ``(kind, title, text)`` instead of blocking; question answers Yes. The
    details of each exec'd box go to ``message_boxes.details``."""
    calls = _Calls()

    def exec_(box):
        icon = QtWidgets.QMessageBox.Icon
        icons = {icon.Critical: "critical", icon.Warning: "warning"}
        calls.append((icons.get(box.icon(), "information"), box.windowTitle(), box.text()))
        calls.details.append(box.detailedText())
        return QtWidgets.QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QtWidgets.QMessageBox, "exec", exec_)

    def record(kind, answer=QtWidgets.QMessageBox.StandardButton.Ok):
        def fn(parent, title, text, *args, **kwargs):
            calls.append((kind, title, text))
            return answer
        return staticmethod(fn)

    for kind in ("critical", "warning", "information", "about"):
        monkeypatch.setattr(QtWidgets.QMessageBox, kind, record(kind))
    monkeypatch.setattr(QtWidgets.QMessageBox, "question",
                        record("question", QtWidgets.QMessageBox.StandardButton.Yes))
    return calls


class _Calls(list):
    def __init__(self):
        super().__init__()
        self.details: list[str] = []


@pytest.fixture
def make_main_window(qtbot, tmp_path, message_boxes):
    """``make_main_window(start_demo="demo", wait=True)`` -> a shown MainWindow with settings in
    ``tmp_path``; waits for the demo and its model unless ``wait`` is False. Closes every window it made
    (stopping workers) and fails if a visible top-level widget is left behind."""
    from workbench.main_window import MainWindow
    from workbench.settings import Settings

    before = {id(w) for w in QtWidgets.QApplication.topLevelWidgets()}
    windows: list[MainWindow] = []

    def factory(start_demo: str | None = "demo", wait: bool = True, settings_name: str = "settings.ini"):
        settings = Settings.load(tmp_path / settings_name)
        win = MainWindow(settings, start_demo=start_demo)
        qtbot.addWidget(win)
        windows.append(win)
        win.resize(1280, 800)
        if wait and start_demo is not None:
            with qtbot.waitSignal(win.ready, timeout=60_000):
                win.show()
        else:
            win.show()
        qtbot.waitExposed(win)
        return win

    yield factory
    for w in windows:
        w.shutdown(timeout_ms=20_000)
        w.close()
    QtWidgets.QApplication.processEvents()
    leaked = [w for w in QtWidgets.QApplication.topLevelWidgets()
              if id(w) not in before and w.isVisible() and not isinstance(w, QtWidgets.QMainWindow)]
    assert not leaked, f"leaked top-level widgets: {leaked}"
