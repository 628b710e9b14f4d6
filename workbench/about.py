"""Help → About (version, what the app is, the keyboard shortcuts) and Help → Keyboard shortcuts. The
shortcut list is read from the window's menus, so it never disagrees with them; the version is
``engine.__version__``, the package's one version (also ``smart-workbench --version``)."""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

import engine

__all__ = ["about_text", "shortcut_rows", "show_about", "show_shortcuts", "version"]


def version() -> str:
    return str(engine.__version__)


def shortcut_rows(window: QtWidgets.QMainWindow) -> list[tuple[str, str]]:
    """``(key, what)`` of every menu action with a shortcut, in menu order, then the mouse."""
    seen, rows = set(), []

    def walk(actions) -> None:
        for act in actions:
            if act.menu() is not None:
                walk(act.menu().actions())
                continue
            key = act.shortcut().toString(QtGui.QKeySequence.SequenceFormat.NativeText)
            text = act.text().replace("&", "").rstrip("…").strip()
            if key and (key, text) not in seen:
                seen.add((key, text))
                rows.append((key, text))

    walk(window.menuBar().actions())
    rows.append(("Drag + drop", "Open a dataset or a checkpoint (.pt) file"))
    rows.append(("Mouse drag / wheel", "Orbit / zoom the 3D view"))
    rows.append(("Loss plot: drag / wheel / double-click",
                 "Pan / zoom (Shift: iterations, Ctrl: values) / fit to the data; right-click: log scale"))
    return rows


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><td><b>{k}</b></td><td>{t}</td></tr>" for k, t in rows)
    return f"<table cellspacing=3>{body}</table>"


def about_text(window: QtWidgets.QMainWindow) -> str:
    return (f"<h3>SMART Workbench {version()}</h3>"
            "<p>Explore SMART adversarial attacks on skeleton-based action recognizers (He Wang et al., "
            "<i>Understanding the Robustness of Skeleton-based Action Recognition under Adversarial "
            "Attack</i>, CVPR 2021): pick a motion and a model, run the attack, watch the losses and class "
            "probabilities live, compare runs, see whether the attack fools the other models (black box), "
            "export clips and numbers.</p>"
            "<p>Headless: <code>smart-workbench render</code>, <code>smart-attack</code>, "
            "<code>smart-train</code>. HDM05 demo data: CC BY-SA 3.0.</p>"
            f"<h4>Keyboard shortcuts</h4>{_table(shortcut_rows(window))}")


def show_about(window: QtWidgets.QMainWindow) -> None:
    QtWidgets.QMessageBox.about(window, f"About SMART Workbench {version()}", about_text(window))


def show_shortcuts(window: QtWidgets.QMainWindow) -> None:
    QtWidgets.QMessageBox.information(window, "Keyboard shortcuts", _table(shortcut_rows(window)))
