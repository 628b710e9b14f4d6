"""Exports (GIF/MP4 frame count and size, PNG frames, npz, JSON/CSV), the headless render command, the
attack worker's throttling and the settings file."""

from __future__ import annotations

import json

import imageio.v2 as iio2
import imageio.v3 as iio3
import numpy as np
import pytest
from PySide6.QtCore import QObject, QThread, Slot

from engine import datasets
from workbench.export import ClipWriter, even_size, frame_indices, parse_size
from workbench.settings import MAX_RECENT, Settings


def _attack(qtbot, win, **params):
    win.attack_dock.panel.set_params(params)
    with qtbot.waitSignal(win.attack_finished, timeout=30_000) as blocker:
        win.run_attack()
    return blocker.args[0]


def _set_export(win, size="320x240", fps=30, speed=None, mode="overlay"):
    d = win.export_dock
    d.size_combo.setEditText(size)
    d.fps_spin.setValue(fps)
    if speed is not None:
        d.speed_combo.setCurrentIndex(d.speed_combo.findData(speed))
    d.set_mode(mode)


def test_frame_indices_follow_speed_and_fps():
    assert len(frame_indices(60, 30, 30, 1.0)) == 60
    assert len(frame_indices(60, 30, 30, 2.0)) == 30
    assert len(frame_indices(60, 30, 15, 1.0)) == 30
    idx = frame_indices(60, 30, 30, 1 / 3)
    assert len(idx) == 180 and idx[-1] == 59 and (np.diff(idx) >= 0).all()
    assert even_size(641, 481) == (640, 480)
    assert parse_size("1280x720") == (1280, 720)
    with pytest.raises(ValueError, match="size"):
        parse_size("big")


@pytest.mark.gl
def test_export_gif_and_mp4_have_expected_frames_and_size(make_main_window, qtbot, tmp_path):
    win = make_main_window()
    _attack(qtbot, win, iterations=10)
    _set_export(win, "322x240", fps=30, speed=2.0, mode="side")
    gif = tmp_path / "clip.gif"
    with qtbot.waitSignal(win.export_finished, timeout=60_000):
        win.export("gif", gif)
    frames = iio3.imread(gif, index=None)
    assert frames.shape[:3] == (30, 240, 322)  # 60 frames at 2x, 30 fps
    assert frames.std() > 5  # not blank
    from PIL import Image

    with Image.open(gif) as im:
        assert im.info.get("loop") == 0
        assert im.info.get("duration") in (30, 40)  # 10 ms steps around 1/30 s
        total = 0
        for k in range(im.n_frames):
            im.seek(k)
            total += im.info["duration"]
        assert abs(total - 1000) <= 10  # 60 frames at 2x: one second

    _set_export(win, "322x240", fps=60, speed=1.0)
    mp4 = tmp_path / "clip.mp4"
    with qtbot.waitSignal(win.export_finished, timeout=60_000):
        win.export("mp4", mp4)
    reader = iio2.get_reader(str(mp4), format="FFMPEG")
    try:
        n = reader.count_frames()
        first = reader.get_data(0)
        assert reader.get_meta_data()["fps"] == pytest.approx(60)
    finally:
        reader.close()
    assert n == 120  # 2 s at 60 fps
    assert first.shape == (240, 322, 3)  # even size kept


def test_gif_is_capped_at_30_fps(tmp_path):
    w = ClipWriter(tmp_path / "a.gif", fps=60)
    assert w.fps == 30
    for k in range(4):
        w.append(np.full((16, 16, 3), 60 * k, np.uint8))
    w.close()
    assert iio3.imread(tmp_path / "a.gif", index=None).shape[0] == 4


def test_export_motion_numbers_and_plots(make_main_window, qtbot, tmp_path, message_boxes):
    win = make_main_window()
    win.export("npz", tmp_path / "none.npz")  # no run yet: a dialog, nothing written
    assert message_boxes and not (tmp_path / "none.npz").exists()
    rec = _attack(qtbot, win, iterations=5, stop_on_success=False)
    for kind, name in (("npz", "m.npz"), ("json", "m.json"), ("csv", "m.csv"), ("plots", "p.png")):
        with qtbot.waitSignal(win.export_finished, timeout=10_000):
            win.export(kind, tmp_path / name)
    ds = datasets.load(tmp_path / "m.npz")
    assert ds.motions.shape == (2, 60, 25, 3)
    np.testing.assert_allclose(ds.motions[1], rec.adversarial, atol=1e-6)
    np.testing.assert_allclose(ds.motions[0], win.state.dataset.motions[0], atol=1e-6)
    data = json.loads((tmp_path / "m.json").read_text())
    assert data["runs"][0]["iterations"] == 5 and "displacement_mean" in data["runs"][0]["metrics"]
    assert len(data["runs"][0]["history"]["total"]) == 6
    csv_text = (tmp_path / "m.csv").read_text().splitlines()
    assert len(csv_text) == 2 and "displacement_mean" in csv_text[0]
    assert iio3.imread(tmp_path / "p.png").shape[1] > 200


def test_export_failure_gives_a_dialog(make_main_window, qtbot, tmp_path, message_boxes):
    win = make_main_window()
    _attack(qtbot, win, iterations=3)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with qtbot.waitSignal(win.error_shown, timeout=20_000):
        win.export("json", blocker / "sub" / "m.json")  # a file where a folder should be
    assert message_boxes[-1][1] == "Export failed"


@pytest.mark.gl
def test_render_command_writes_a_clip(qapp, tmp_path):
    from workbench.app import render_main

    out = tmp_path / "r.gif"
    rc = render_main(["--iterations", "5", "--out", str(out), "--size", "160x120", "--speed", "2",
                      "--fps", "15"])
    assert rc == 0
    import torch

    from workbench.runtime import torch_threads

    assert torch.get_num_threads() == torch_threads()  # the app's thread policy
    frames = iio3.imread(out, index=None)
    assert frames.shape[:3] == (15, 120, 160)


class _Sink(QObject):
    """Receives worker signals in the GUI thread (bound slots: queued connections). A plain function or
    pytest-qt's waitSignal connected to a worker's signal would run in the worker thread."""

    def __init__(self):
        super().__init__()
        self.steps: list[tuple[int, bool]] = []
        self.result = None

    @Slot(object)
    def on_step(self, report) -> None:
        self.steps.append((report.iteration, QThread.currentThread() is self.thread()))

    @Slot(object)
    def on_finished(self, result) -> None:
        self.result = result


def test_attack_worker_throttles_but_emits_the_last_step(qtbot):
    from engine.attack import AttackConfig
    from engine.demo import demo_checkpoint, load_demo
    from engine.models import load_checkpoint
    from workbench.worker import AttackWorker, start_in_thread

    ds = load_demo("demo")
    model, meta = load_checkpoint(demo_checkpoint("demo", "mlp"))
    cfg = AttackConfig(iterations=60, stop_on_success=False)
    worker = AttackWorker(model, meta.layout, cfg, ds.motions[:1], ds.labels[:1], max_rate=4)
    sink = _Sink()
    worker.step.connect(sink.on_step)
    worker.finished.connect(sink.on_finished)
    start_in_thread(worker, (worker.finished, worker.failed))
    qtbot.waitUntil(lambda: sink.result is not None, timeout=30_000)
    assert sink.steps[-1][0] == 60 and len(sink.steps) < 61
    assert all(in_gui for _, in_gui in sink.steps)
    assert int(sink.result.iterations[0]) == 60 and not sink.result.cancelled


def test_attack_worker_cancel_stops_within_an_iteration(qtbot):
    from engine.attack import AttackConfig
    from engine.demo import demo_checkpoint, load_demo
    from engine.models import load_checkpoint
    from workbench.worker import AttackWorker, start_in_thread, stop_thread

    ds = load_demo("demo")
    model, meta = load_checkpoint(demo_checkpoint("demo", "mlp"))
    cfg = AttackConfig(iterations=1_000_000, stop_on_success=False)
    worker = AttackWorker(model, meta.layout, cfg, ds.motions[:1], ds.labels[:1])
    sink = _Sink()
    worker.step.connect(sink.on_step)
    worker.finished.connect(sink.on_finished)
    thread = start_in_thread(worker, (worker.finished, worker.failed))
    qtbot.waitUntil(lambda: len(sink.steps) >= 2, timeout=20_000)
    assert stop_thread(thread, worker, timeout_ms=5000)  # cancel + quit + wait from the GUI thread
    qtbot.waitUntil(lambda: sink.result is not None, timeout=5000)
    assert sink.result.cancelled and int(sink.result.iterations[0]) < 1_000_000


def test_settings_round_trip(tmp_path):
    path = tmp_path / "s" / "settings.ini"
    s = Settings.load(path)
    assert s.recent_files == [] and s.last_model == "" and s.export_dir == ""
    for k in range(MAX_RECENT + 3):
        s.add_recent(tmp_path / f"d{k}.npz")
    s.add_recent(tmp_path / "d5.npz")
    s.geometry = b"\x01\x02\x00geo"
    s.last_device = "cuda"
    s.playback_speed = 1 / 3
    s.save()
    t = Settings.load(path)
    assert t.recent_files[0].endswith("d5.npz") and len(t.recent_files) == MAX_RECENT
    assert len(set(t.recent_files)) == MAX_RECENT
    assert t.geometry == b"\x01\x02\x00geo"
    assert t.last_device == "cuda" and t.playback_speed == pytest.approx(1 / 3)


@pytest.mark.gl
@pytest.mark.slow
def test_screenshot_mode_saves_the_real_window(tmp_path):
    """``smart-workbench --screenshot`` as a user runs it (a subprocess on the same X display)."""
    import os
    import subprocess
    import sys

    out = tmp_path / "window.png"
    env = dict(os.environ, PYQTGRAPH_QT_LIB="PySide6")
    proc = subprocess.run([sys.executable, "-m", "workbench.app", "--screenshot", str(out), "--size",
                           "1200x800", "--timeout", "120"], env=env, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    img = iio3.imread(out)
    assert img.shape[:2] == (800, 1200)
    assert img[..., :3].std() > 20  # a real window, not a blank frame


@pytest.mark.gl
def test_cancelling_a_clip_export_removes_the_partial_file(make_main_window, qtbot, tmp_path):
    win = make_main_window()
    _set_export(win, "320x240", fps=30, speed=0.25)
    out = tmp_path / "long.mp4"
    win.export("mp4", out)
    qtbot.waitUntil(lambda: out.exists(), timeout=20_000)
    finished = []
    win.export_finished.connect(finished.append)
    from PySide6 import QtWidgets

    win.exporter.dialog.findChild(QtWidgets.QPushButton).click()  # the dialog's Cancel button
    qtbot.wait(100)
    assert win.exporter.gen is None and not finished
    assert not out.exists()


@pytest.mark.gl
def test_png_frames_go_into_a_new_folder_and_the_dialog_opens_in_a_writable_one(make_main_window, qtbot,
                                                                                 tmp_path):
    import os

    win = make_main_window()
    assert os.access(win.exporter.folder(), os.W_OK)
    _set_export(win, "64x48", fps=10, speed=2.0)
    out = tmp_path / "new" / "frames"
    with qtbot.waitSignal(win.export_finished, timeout=60_000):
        win.export("png", out)
    assert len(list(out.glob("*.png"))) == 10  # 60 frames at 2x, 10 fps
    assert win.exporter.folder() == out  # the next dialog opens where the last export went
    win.settings.export_dir = str(tmp_path / "missing")
    assert win.exporter.folder() != tmp_path / "missing"


def test_attack_worker_runs_a_job_between_its_iterations(qtbot):
    """``run_between``: the job runs in the attack's thread (not the GUI's) while the attack goes on, and its
    result or its failure comes back with the token."""
    import threading

    from engine.attack import AttackConfig
    from engine.demo import demo_checkpoint, load_demo
    from engine.models import load_checkpoint
    from workbench.worker import AttackWorker, start_in_thread, stop_thread

    ds = load_demo("demo")
    model, meta = load_checkpoint(demo_checkpoint("demo", "mlp"))
    worker = AttackWorker(model, meta.layout, AttackConfig(iterations=1_000_000, stop_on_success=False),
                          ds.motions[:1], ds.labels[:1])
    sink = _Sink()
    worker.step.connect(sink.on_step)
    worker.finished.connect(sink.on_finished)
    done = []
    worker.side_done.connect(lambda token, result, problem: done.append((token, result, problem)))
    thread = start_in_thread(worker, (worker.finished, worker.failed))
    qtbot.waitUntil(lambda: len(sink.steps) >= 1, timeout=20_000)
    worker.run_between("a", threading.get_ident)
    qtbot.waitUntil(lambda: len(done) == 1, timeout=10_000)
    token, ident, problem = done[0]
    assert token == "a" and problem is None and ident != threading.get_ident()

    def broken():
        raise ValueError("no such model")

    worker.run_between("b", broken)
    qtbot.waitUntil(lambda: len(done) == 2, timeout=10_000)
    assert done[1][0] == "b" and done[1][1] is None and "no such model" in str(done[1][2].details)
    assert not sink.result  # the attack went on
    assert stop_thread(thread, worker, timeout_ms=5000)
    qtbot.waitUntil(lambda: sink.result is not None, timeout=5000)
