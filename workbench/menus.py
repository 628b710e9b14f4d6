"""The window's menu bar: File, Attack, View, Playback, Help. Menus only call the window's public
methods; what they show comes from there."""

from __future__ import annotations

from PySide6 import QtGui

from engine import demo as demo_mod

from .about import show_about, show_shortcuts
from .export_dock import EXPORTS

__all__ = ["build_menus"]


def build_menus(win) -> dict[str, QtGui.QAction]:
    """Fill ``win.menuBar()``; returns the actions tests and scripts may need by name."""
    mb = win.menuBar()
    acts: dict[str, QtGui.QAction] = {}
    fm = mb.addMenu("&File")
    acts["open"] = fm.addAction("Open dataset…", QtGui.QKeySequence.StandardKey.Open, win.open_dataset_dialog)
    acts["open_folder"] = fm.addAction("Open dataset folder…", QtGui.QKeySequence("Ctrl+Shift+O"),
                                       win.open_folder_dialog)
    fm.addMenu(win.data_dock.recent_menu)
    dm = fm.addMenu("Demos")
    for name in demo_mod.demo_names():
        dm.addAction(demo_mod.demo_title(name), lambda n=name: win.open_demo(n))
    acts["checkpoint"] = fm.addAction("Open checkpoint…", QtGui.QKeySequence("Ctrl+K"),
                                      win.open_checkpoint_dialog)
    fm.addSeparator()
    em = fm.addMenu("Export")
    for key, text in EXPORTS:
        em.addAction(text, lambda k=key: win.exporter.ask(k))
    fm.addSeparator()
    acts["quit"] = fm.addAction("Quit", QtGui.QKeySequence.StandardKey.Quit, win.close)

    am = mb.addMenu("&Attack")
    acts["run"] = am.addAction("Run", QtGui.QKeySequence("Ctrl+R"), win.run_attack)
    acts["stop"] = am.addAction("Stop", QtGui.QKeySequence("Escape"), win.stop_attack)
    pm = am.addMenu("Preset")
    dock = win.attack_dock
    for key in dock.preset_names():
        pm.addAction(key, lambda k=key: dock.set_preset(k))

    vm = mb.addMenu("&View")
    for d in win.docks():
        vm.addAction(d.toggleViewAction())
    vm.addSeparator()
    view = win.centre.view
    acts["overlay"] = vm.addAction("Overlay", QtGui.QKeySequence("Ctrl+1"), lambda: view.set_mode("overlay"))
    acts["side"] = vm.addAction("Side by side", QtGui.QKeySequence("Ctrl+2"), lambda: view.set_mode("side"))
    acts["camera"] = vm.addAction("Reset camera", QtGui.QKeySequence("Ctrl+0"), view.reset_camera)

    playm = mb.addMenu("&Playback")
    for act in win.playback_actions.values():
        playm.addAction(act)

    hm = mb.addMenu("&Help")
    acts["shortcuts"] = hm.addAction("Keyboard shortcuts", QtGui.QKeySequence("F1"),
                                     lambda: show_shortcuts(win))
    acts["about"] = hm.addAction("About SMART Workbench", lambda: show_about(win))
    return acts
