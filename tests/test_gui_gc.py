"""The app's garbage-collection policy (``workbench.gui_gc``): cycles are collected in the GUI thread only,
never in a worker thread that happens to allocate (which tore down widgets there and deadlocked)."""

from __future__ import annotations

import gc
import threading

import pytest

pytest.importorskip("PySide6")


class _Node:
    def __init__(self, seen: list):
        self.seen = seen
        self.me = self  # a cycle: only the cyclic collector frees it

    def __del__(self):
        self.seen.append(threading.get_ident())


def _make_cycles_in_a_thread(n: int, seen: list) -> None:
    def work():
        for _ in range(n):
            _Node(seen)
    t = threading.Thread(target=work)
    t.start()
    t.join()


def test_cycles_are_collected_in_the_gui_thread_only(qapp, qtbot):
    from workbench.gui_gc import GuiThreadCollector

    gui = threading.get_ident()
    was_enabled = gc.isenabled()
    gc.enable()
    gc.collect()
    try:
        # without it, CPython collects in the allocating worker thread: the hazard
        seen: list[int] = []
        _make_cycles_in_a_thread(5000, seen)
        assert any(ident != gui for ident in seen)

        collector = GuiThreadCollector(interval_ms=10)
        assert not gc.isenabled() and collector.active
        seen = []
        _make_cycles_in_a_thread(5000, seen)
        assert seen == []  # nothing collected in the worker
        qtbot.waitUntil(lambda: len(seen) == 5000, timeout=10_000)  # the GUI thread's timer did it
        assert set(seen) == {gui} and collector.collections > 0
        collector.stop()
        assert gc.isenabled() and not collector.active
    finally:
        gc.enable() if was_enabled else gc.disable()


def test_the_application_collects_in_its_gui_thread(qapp):
    from workbench.app import create_application
    from workbench.gui_gc import GuiThreadCollector

    app = create_application()
    collector = app.findChild(GuiThreadCollector)
    try:
        assert collector is not None and collector.active and not gc.isenabled()
        assert create_application().findChildren(GuiThreadCollector) == [collector]  # one, however often
    finally:
        if collector is not None:
            collector.stop()
            collector.setParent(None)


def test_a_full_collection_waits_until_the_old_generation_grew_by_a_quarter(qapp):
    """CPython's rule, kept in the GUI thread: a full pass (hundreds of ms in a loaded app) only once the
    objects promoted since the last one reach a quarter of those it kept."""
    from workbench.gui_gc import GuiThreadCollector

    threshold, was_enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(1, 1, 1)  # every check is due for some generation
    collector = GuiThreadCollector(interval_ms=3_600_000)  # checked by hand below
    try:
        for _ in range(30):  # garbage and a little growth: young collections only
            _Node([])
            collector.check()
        assert collector.collections >= 10 and collector.full_collections == 0
        keep = [[] for _ in range(collector._long_lived // 4 + 1000)]  # a quarter more long-lived objects
        for _ in range(30):
            _Node([])
            collector.check()
        assert collector.full_collections >= 1
        assert len(keep) > 0
    finally:
        collector.stop()
        gc.set_threshold(*threshold)
        gc.enable() if was_enabled else gc.disable()


def test_the_app_freezes_what_exists_at_start_and_gives_it_back(qapp):
    from workbench.gui_gc import GuiThreadCollector

    was_enabled = gc.isenabled()
    collector = GuiThreadCollector(freeze=True)
    try:
        assert gc.get_freeze_count() > 1000  # the modules and classes loaded so far
        assert collector._long_lived < gc.get_freeze_count()  # what a full pass still walks
        frozen = gc.get_freeze_count()
        keep = [[] for _ in range(5000)]  # the window and the demo, loaded after the start
        assert collector.settle() and gc.get_freeze_count() >= frozen + 5000 and len(keep) == 5000
        assert not collector.settle()  # once
    finally:
        collector.stop()
        gc.enable() if was_enabled else gc.disable()
    assert gc.get_freeze_count() == 0
    plain = GuiThreadCollector()  # the tests' collector: nothing frozen, nothing to settle
    try:
        assert not plain.settle() and gc.get_freeze_count() == 0
    finally:
        plain.stop()
        gc.enable() if was_enabled else gc.disable()
