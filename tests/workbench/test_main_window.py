"""The main window on the embedded demo: start-up, motion selection, attacks (progress, plots, Stop,
live restart, history), the 3D view's pixels, playback speed, errors as dialogs, closing during a run."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from widgets.skeleton_view import BACKGROUND


def _not_background(a: np.ndarray) -> np.ndarray:
    return np.abs(a[..., :3].astype(int) - np.array(BACKGROUND)).sum(axis=2) > 40


def _attack(qtbot, win, timeout=30_000, **params):
    win.panel.set_params(params)
    with qtbot.waitSignal(win.attack_finished, timeout=timeout) as blocker:
        win.run_attack()
    return blocker.args[0]


def test_starts_on_demo_with_model_and_first_motion(make_main_window):
    win = make_main_window()
    assert win.dataset is not None and len(win.dataset) == 720
    assert win.demo_name == "demo"
    assert win.model is not None and win.model.source == "mlp"
    assert win.probabilities is not None and win.probabilities.shape == (720, 12)
    assert win.current_index == 0
    assert win.motion_table.currentIndex().row() == 0
    assert win.motion_model.text(0, 3) == "✓"
    assert "walk" in win.motion_info.text() and "top-5" in win.motion_info.text()
    np.testing.assert_array_equal(win.view.original.joints.pos, win.dataset.motions[0][0])
    assert win.playback.length == 60
    assert win.correct_mask().sum() > 600


def test_selecting_a_motion_updates_view_info_and_filter(make_main_window, qtbot):
    win = make_main_window()
    with qtbot.waitSignal(win.motion_selected, timeout=5000) as blocker:
        win.select_motion(130)
    assert blocker.args == [130]
    win.playback.set_frame(12)
    np.testing.assert_array_equal(win.view.original.joints.pos, win.dataset.motions[130][12])
    name = win.dataset.class_names[int(win.dataset.labels[130])]
    assert name in win.motion_info.text()
    # the filter box narrows the list; a click on a row selects that motion
    win.filter_edit.setText("jump")
    rows = win.motion_proxy.rowCount()
    assert 0 < rows < 720
    idx = win.motion_proxy.index(3, 0)
    i = int(idx.data())
    assert win.dataset.class_names[int(win.dataset.labels[i])] == "jump"
    with qtbot.waitSignal(win.motion_selected, timeout=5000):
        win.motion_table.setCurrentIndex(idx)
    assert win.current_index == i


def test_attack_emits_progress_fills_both_plots_and_finishes(make_main_window, qtbot):
    win = make_main_window()
    steps = []
    win.view.set_camera_preset("top")
    win.panel.set_params({"iterations": 15, "stop_on_success": False})
    with qtbot.waitSignal(win.attack_finished, timeout=30_000) as blocker:
        win.run_attack()
        win._attack_worker.step.connect(lambda r: steps.append(r.iteration))
        assert win.attack_running()
    rec = blocker.args[0]
    assert steps and steps[-1] == 15
    assert rec.iterations == 15 and not rec.cancelled
    assert win.loss_plot.n_points == 16
    x, y = win.loss_plot.data("total")
    assert np.isfinite(y).all()
    assert win.prob_bars.heights().max() > 0
    assert win.panel.progress.value() == 15
    assert win.history_table.rowCount() == 1
    assert win.shown_run is rec
    assert "displacement_mean" in rec.metrics and rec.per_joint.shape == (25,)
    assert win.view.adversarial.visible()
    np.testing.assert_allclose(win.view.adversarial.joints.pos, rec.adversarial[win.view.frame])
    assert win.panel.run_button.isEnabled()
    assert win.view.camera()["elevation"] == pytest.approx(90)  # the user's camera is kept


def test_stop_cancels_within_an_iteration(make_main_window, qtbot):
    win = make_main_window()
    win.panel.set_params({"iterations": 100_000, "stop_on_success": False})
    win.run_attack()
    qtbot.waitUntil(lambda: win.loss_plot.n_points >= 3, timeout=20_000)
    t0 = time.monotonic()
    with qtbot.waitSignal(win.attack_finished, timeout=10_000) as blocker:
        win.stop_attack()
    assert time.monotonic() - t0 < 5.0
    rec = blocker.args[0]
    assert rec.cancelled and rec.iterations < 100_000
    assert not win.attack_running()
    assert win.panel.run_button.isEnabled() and not win.panel.stop_button.isEnabled()


def test_live_mode_restarts_after_a_parameter_change(make_main_window, qtbot):
    win = make_main_window()
    win.panel.set_live(True)
    win.panel.set_params({"iterations": 100_000, "stop_on_success": False})
    win.run_attack()
    qtbot.waitUntil(lambda: win.loss_plot.n_points >= 2, timeout=20_000)
    first = win._attack_worker
    win.panel.w_edit.spin.setValue(0.6)  # a user edit: the panel's debounced run_requested follows
    qtbot.waitUntil(lambda: win._attack_worker is not None and win._attack_worker is not first,
                    timeout=15_000)
    assert win._attack_params["w"] == pytest.approx(0.6)
    with qtbot.waitSignal(win.attack_finished, timeout=10_000):
        win.stop_attack()
    assert len(win.current_runs()) == 1  # the stale run was dropped, the stopped one kept


def test_run_history_compares_two_runs(make_main_window, qtbot):
    win = make_main_window()
    a = _attack(qtbot, win, iterations=5, w=0.4, stop_on_success=False)
    b = _attack(qtbot, win, iterations=5, w=0.8, stop_on_success=False)
    assert win.history_table.rowCount() == 2
    win.history_table.selectAll()
    assert win.compare_button.isEnabled()
    text = win.compare_label.text()
    assert f"#{a.run_id}" in text and f"#{b.run_id}" in text and "0.4" in text and "0.8" in text
    win.play_compare()
    assert win.playback.playing
    win.playback.pause()
    np.testing.assert_allclose(win.view.original.joints.pos, a.adversarial[win.view.frame])
    np.testing.assert_allclose(win.view.adversarial.joints.pos, b.adversarial[win.view.frame])
    # one selected run: shown, and its parameters can be put back into the panel
    win.history_table.clearSelection()
    win.history_table.selectRow(0)
    assert win.shown_run is a
    win.restore_params_button.click()
    assert win.panel.params()["w"] == pytest.approx(0.4)


@pytest.mark.gl
def test_view_renders_a_nonblank_frame_that_changes(make_main_window, qtbot):
    win = make_main_window()
    win.select_motion(60)  # 'run': moving
    win.playback.set_frame(0)
    a = win.view.grab_array()
    win.playback.set_frame(20)
    b = win.view.grab_array()
    assert a.shape == b.shape and a.shape[0] > 100
    assert _not_background(a).sum() > 200
    changed = (np.abs(a[..., :3].astype(int) - b[..., :3].astype(int)).sum(axis=2) > 40).sum()
    assert changed > 50


def test_playback_speed_changes_the_frame_rate(make_main_window, qtbot):
    win = make_main_window()
    counts = {}
    for speed in (0.25, 2.0):
        win.playback.set_frame(0)
        win.playback.set_speed(speed)
        frames = []
        win.playback.frame_changed.connect(frames.append)
        win.playback.play()
        qtbot.wait(600)
        win.playback.pause()
        win.playback.frame_changed.disconnect(frames.append)
        counts[speed] = len(frames)
    assert counts[2.0] > 3 * max(counts[0.25], 1)


def test_corrupt_dataset_gives_a_dialog_and_keeps_the_data(make_main_window, qtbot, tmp_path, message_boxes):
    win = make_main_window()
    before = win.dataset
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 this is not a zip archive at all" * 10)
    with qtbot.waitSignal(win.error_shown, timeout=20_000):
        win.open_dataset(bad)
    assert message_boxes and message_boxes[-1][0] == "critical"
    assert "broken.npz" in message_boxes[-1][2]
    assert win.dataset is before and len(win.dataset) == 720
    assert win.current_index == 0 and win.model is not None
    assert str(bad) not in win.settings.recent_files


def test_checkpoint_for_another_layout_gives_a_dialog(make_main_window, qtbot, message_boxes):
    from engine.demo import demo_checkpoint

    win = make_main_window()
    model = win.model
    with qtbot.waitSignal(win.error_shown, timeout=20_000):
        win.load_model(str(demo_checkpoint("hdm05-demo", "mlp")))
    assert "hdm05_25" in message_boxes[-1][2] and "ntu25" in message_boxes[-1][2]
    assert win.model is model


def test_misclassified_motion_is_not_attacked(make_main_window, message_boxes):
    win = make_main_window()
    wrong = np.flatnonzero(~win.correct_mask())
    if wrong.size == 0:
        win.probabilities = win.probabilities[:, ::-1].copy()  # make motion 0 misclassified
        wrong = np.array([0])
    win.select_motion(int(wrong[0]))
    win.run_attack()
    assert not win.attack_running()
    assert message_boxes and "misclassif" in message_boxes[-1][2]


def test_hdm05_demo_is_one_click_away(make_main_window, qtbot):
    win = make_main_window()
    with qtbot.waitSignal(win.model_changed, timeout=60_000):
        win.demo_buttons["hdm05-demo"].click()
    assert win.demo_name == "hdm05-demo"
    assert win.model.layout == "hdm05_25"
    assert win.view.original.n_joints == 25 and win.current_index == 0


def test_closing_during_a_run_stops_the_worker(make_main_window, qtbot):
    win = make_main_window()
    win.panel.set_params({"iterations": 100_000, "stop_on_success": False})
    win.run_attack()
    qtbot.waitUntil(lambda: win.loss_plot.n_points >= 2, timeout=20_000)
    thread = win._attack_thread
    t0 = time.monotonic()
    win.close()
    assert time.monotonic() - t0 < 10
    assert not win.attack_running()
    try:
        assert not thread.isRunning()
    except RuntimeError:  # already deleted: stopped
        pass
    assert win.settings.path.is_file()


def test_window_layout_persists(make_main_window, qtbot):
    win = make_main_window(settings_name="layout.ini")
    win.history_dock.hide()
    win.view.set_mode("side")
    win.close()
    win2 = make_main_window(settings_name="layout.ini", start_demo=None)
    assert not win2.history_dock.isVisible()
    assert win2.view.mode == "side"
    QtWidgets.QApplication.processEvents()
    QtCore.QCoreApplication.processEvents()


def test_dropping_a_dataset_file_opens_it_and_remembers_it(make_main_window, qtbot, tmp_path):
    from PySide6 import QtGui

    from engine import datasets

    win = make_main_window()
    small = win.dataset.subset(np.arange(0, 720, 30))
    path = tmp_path / "small.npz"
    datasets.save(small, path)
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    ev = QtGui.QDropEvent(QtCore.QPointF(10, 10), QtCore.Qt.DropAction.CopyAction, mime,
                          QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(win.model_changed, timeout=30_000):  # the demo model fits: re-evaluated
        win.dropEvent(ev)
    assert len(win.dataset) == 24 and win.dataset_source == str(path)
    assert win.settings.recent_files[0] == str(path.resolve())
    assert win.probabilities.shape == (24, 12) and win.current_index == 0
    assert win.recent_menu.actions()[0].text() == str(path.resolve())


def test_closing_while_loading_stops_the_loaders(make_main_window, qtbot):
    from workbench import worker

    win = make_main_window(wait=False)
    qtbot.waitUntil(lambda: "model" in win._tasks or win.model is not None, timeout=30_000)
    win.load_model("stgcn")  # a slow evaluation over 720 motions, replacing the first one
    qtbot.waitUntil(lambda: not win.eval_row.isHidden(), timeout=10_000)
    t0 = time.monotonic()
    win.close()
    assert time.monotonic() - t0 < 20
    assert worker.reap() == 0  # no worker thread left running


def test_cancelling_a_model_evaluation_keeps_the_model(make_main_window, qtbot):
    win = make_main_window()
    model = win.model
    win.load_model("stgcn")
    assert not win.eval_row.isHidden()
    win.eval_cancel.click()
    assert win.eval_row.isHidden() and "model" not in win._tasks
    qtbot.wait(300)
    assert win.model is model and win.probabilities is not None
