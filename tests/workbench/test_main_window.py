"""The main window on the embedded demo: start-up, motion selection, attacks (progress, plots, Stop,
live restart, history), the 3D view's pixels, playback speed, errors as dialogs, closing during a run."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from widgets.skeleton_view import BACKGROUND
from workbench.state import ModelStatus


def _not_background(a: np.ndarray) -> np.ndarray:
    return np.abs(a[..., :3].astype(int) - np.array(BACKGROUND)).sum(axis=2) > 40


def _attack(qtbot, win, timeout=30_000, **params):
    win.attack_dock.panel.set_params(params)
    with qtbot.waitSignal(win.attack_finished, timeout=timeout) as blocker:
        win.run_attack()
    return blocker.args[0]


def test_starts_on_demo_with_model_and_first_motion(make_main_window):
    win = make_main_window()
    st = win.state
    assert st.dataset is not None and len(st.dataset) == 720
    assert st.demo_name == "demo"
    assert st.model is not None and st.model.name == "mlp" and st.status == ModelStatus.READY
    assert st.probabilities is not None and st.probabilities.shape == (720, 12)
    assert st.index == 0
    assert win.data_dock.table.currentIndex().row() == 0
    assert win.data_dock.table_model.text(0, 3) == "✓"
    info = win.data_dock.info.text()
    assert "walk" in info and "top-5" in info
    np.testing.assert_array_equal(win.centre.view.original.joints.pos, st.dataset.motions[0][0])
    assert win.centre.playback.length == 60
    assert st.correct_mask().sum() > 600
    assert win.attack_dock.panel.run_button.isEnabled()
    # the demo's shipped models are offered (every one of them fits the demo)
    titles = [win.model_dock.combo.itemText(i) for i in range(win.model_dock.combo.count())]
    assert "mlp (demo)" in titles and "stgcn (demo)" in titles and not any("HDM05" in t for t in titles)


def test_panel_starts_from_the_attack_config_defaults(make_main_window):
    from engine.attack import PRESETS, AttackConfig

    win = make_main_window()
    dock = win.attack_dock
    assert dock.preset() == "natural" and dock.config() == AttackConfig()
    assert dock.panel.params()["w"] == pytest.approx(AttackConfig().w)
    for key in ("lr_schedule", "select", "tie_coincident", "confidence", "smoothing", "adam_beta2"):
        assert dock.panel.params()[key] == getattr(AttackConfig(), key)
    dock.set_preset("paper")
    assert dock.config() == PRESETS["paper"]() == AttackConfig.paper()
    dock.panel.w_edit.spin.setValue(0.7)  # a user edit on top of the preset
    assert dock.config() == AttackConfig.paper().replace(w=0.7)


def test_selecting_a_motion_updates_view_info_and_filter(make_main_window, qtbot):
    win = make_main_window()
    st, data = win.state, win.data_dock
    with qtbot.waitSignal(st.selection_changed, timeout=5000):
        win.select_motion(130)
    assert st.index == 130
    win.centre.playback.set_frame(12)
    np.testing.assert_array_equal(win.centre.view.original.joints.pos, st.dataset.motions[130][12])
    assert st.class_name(int(st.dataset.labels[130])) in data.info.text()
    # the filter box narrows the list; a click on a row selects that motion
    data.filter_edit.setText("jump")
    rows = data.proxy.rowCount()
    assert 0 < rows < 720
    idx = data.proxy.index(3, 0)
    i = int(idx.data())
    assert st.class_name(int(st.dataset.labels[i])) == "jump"
    with qtbot.waitSignal(st.selection_changed, timeout=5000):
        data.table.setCurrentIndex(idx)
    assert st.index == i


def test_attack_emits_progress_fills_both_plots_and_finishes(make_main_window, qtbot):
    win = make_main_window()
    st, plots, panel = win.state, win.plots_dock, win.attack_dock.panel
    steps = []
    win.centre.view.set_camera_preset("top")
    panel.set_params({"iterations": 15, "stop_on_success": False})
    with qtbot.waitSignal(win.attack_finished, timeout=30_000) as blocker:
        win.run_attack()
        win.runner.worker.step.connect(lambda r: steps.append(r.iteration))
        assert win.runner.running() and not panel.run_button.isEnabled()
        assert "Running" in win.results_dock.result_label.text()  # not the previous run's numbers
    rec = blocker.args[0]
    assert steps and steps[-1] == 15
    assert rec.iterations == 15 and not rec.cancelled and rec.outcome in ("success", "failed")
    assert rec.model == "mlp (demo)" and rec.dataset == "demo:demo" and rec.motion == 0
    assert plots.loss_plot.n_points == 16
    x, y = plots.loss_plot.data("total")
    assert np.isfinite(y).all()
    assert plots.prob_bars.heights().max() > 0
    assert panel.progress.value() == 15
    assert win.history_dock.table.rowCount() == 1
    assert st.shown is rec
    assert "displacement_mean" in rec.metrics and rec.per_joint.shape == (25,)
    assert win.results_dock.metric_labels["displacement_mean"].text().endswith("mm")
    view = win.centre.view
    assert view.adversarial.visible()
    np.testing.assert_allclose(view.adversarial.joints.pos, rec.adversarial[view.frame])
    assert panel.run_button.isEnabled()
    assert view.camera()["elevation"] == pytest.approx(90)  # the user's camera is kept


def test_stop_records_stopped_at_k(make_main_window, qtbot):
    win = make_main_window()
    win.attack_dock.panel.set_params({"iterations": 100_000, "stop_on_success": False})
    win.run_attack()
    qtbot.waitUntil(lambda: win.plots_dock.loss_plot.n_points >= 3, timeout=20_000)
    t0 = time.monotonic()
    with qtbot.waitSignal(win.attack_finished, timeout=10_000) as blocker:
        win.stop_attack()
    assert time.monotonic() - t0 < 5.0
    rec = blocker.args[0]
    assert rec.cancelled and rec.iterations < 100_000
    assert rec.outcome == "stopped" and rec.outcome_text().startswith(f"stopped at {rec.iterations} / 100000")
    assert "stopped at" in win.history_dock.table.item(0, 9).text()
    assert "Stopped at" in win.results_dock.result_label.text()
    assert not win.runner.running()
    panel = win.attack_dock.panel
    assert panel.run_button.isEnabled() and not panel.stop_button.isEnabled()


def test_live_mode_restarts_after_a_parameter_change(make_main_window, qtbot):
    win = make_main_window()
    panel = win.attack_dock.panel
    panel.set_live(True)
    panel.set_params({"iterations": 100_000, "stop_on_success": False})
    win.run_attack()
    qtbot.waitUntil(lambda: win.plots_dock.loss_plot.n_points >= 2, timeout=20_000)
    first = win.runner.worker
    panel.w_edit.spin.setValue(0.6)  # a user edit: the panel's debounced run_requested follows
    qtbot.waitUntil(lambda: win.runner.worker is not None and win.runner.worker is not first, timeout=15_000)
    assert win.state.running.params["w"] == pytest.approx(0.6)
    with qtbot.waitSignal(win.attack_finished, timeout=10_000):
        win.stop_attack()
    assert len(win.state.current_runs()) == 1  # the stale run was dropped, the stopped one kept


def test_run_history_compares_two_runs(make_main_window, qtbot):
    win = make_main_window()
    hist = win.history_dock
    a = _attack(qtbot, win, iterations=5, w=0.4, stop_on_success=False)
    b = _attack(qtbot, win, iterations=5, w=0.8, stop_on_success=False)
    assert hist.table.rowCount() == 2
    hist.table.selectAll()
    assert hist.compare_button.isEnabled()
    text = hist.compare_label.text()
    assert f"#{a.run_id}" in text and f"#{b.run_id}" in text and "0.4" in text and "0.8" in text
    hist.compare_button.click()
    pb, view = win.centre.playback, win.centre.view
    assert pb.playing
    pb.pause()
    np.testing.assert_allclose(view.original.joints.pos, a.adversarial[view.frame])
    np.testing.assert_allclose(view.adversarial.joints.pos, b.adversarial[view.frame])
    # one selected run: shown, and its parameters can be put back into the panel
    hist.table.clearSelection()
    hist.table.selectRow(0)
    assert win.state.shown is a
    hist.params_button.click()
    assert win.attack_dock.panel.params()["w"] == pytest.approx(0.4)
    # runs on two motions are not compared: the panel says why
    win.select_motion(1)
    c = _attack(qtbot, win, iterations=3, stop_on_success=False)
    hist.all_check.setChecked(True)
    assert hist.table.rowCount() == 3
    hist.table.clearSelection()
    sel = QtCore.QItemSelection(hist.table.model().index(1, 0), hist.table.model().index(2, 0))
    hist.table.selectionModel().select(sel, QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect
                                       | QtCore.QItemSelectionModel.SelectionFlag.Rows)
    assert not hist.compare_button.isEnabled()
    assert "same motion" in hist.compare_label.text() and f"#{c.run_id}" in hist.compare_label.text()


@pytest.mark.gl
def test_view_renders_a_nonblank_frame_that_changes(make_main_window, qtbot):
    win = make_main_window()
    win.select_motion(60)  # 'run': moving
    view, pb = win.centre.view, win.centre.playback
    pb.set_frame(0)
    a = view.grab_array()
    pb.set_frame(20)
    b = view.grab_array()
    assert a.shape == b.shape and a.shape[0] > 100
    assert _not_background(a).sum() > 200
    changed = (np.abs(a[..., :3].astype(int) - b[..., :3].astype(int)).sum(axis=2) > 40).sum()
    assert changed > 50


def test_playback_speed_changes_the_frame_rate(make_main_window, qtbot):
    win = make_main_window()
    pb = win.centre.playback
    reached = {}
    for speed in (0.25, 2.0):  # frames advance by elapsed time (a busy machine skips repaints, not time)
        pb.set_frame(0)
        pb.set_speed(speed)
        pb.play()
        qtbot.wait(600)
        pb.pause()
        reached[speed] = pb.frame
    assert reached[2.0] > 3 * max(reached[0.25], 1)


def test_corrupt_files_give_one_dialog_in_our_words(make_main_window, qtbot, tmp_path, message_boxes):
    win = make_main_window()
    st = win.state
    before = st.dataset
    bad = tmp_path / "broken.npz"
    bad.write_bytes(bytes(range(256)) * 40)  # random bytes: numpy would advise allow_pickle
    with qtbot.waitSignal(win.error_shown, timeout=20_000):
        win.open_dataset(bad)
    kind, title, text = message_boxes[-1]
    assert kind == "critical" and title == "Could not open the dataset"
    assert text.count("broken.npz") == 1 and "allow_pickle" not in text
    assert st.dataset is before and len(st.dataset) == 720
    assert st.index == 0 and st.model is not None and st.status == ModelStatus.READY
    assert str(bad) not in win.settings.recent_files
    bad_pt = tmp_path / "random.pt"
    bad_pt.write_bytes(bytes(range(256)) * 40)
    with qtbot.waitSignal(win.error_shown, timeout=20_000):
        win.load_model(str(bad_pt))
    kind, title, text = message_boxes[-1]
    assert title == "Could not use the model" and "weights_only" not in text and text.count("random.pt") == 1
    assert st.model.name == "mlp" and st.status == ModelStatus.READY


def test_checkpoint_for_another_layout_gives_a_dialog(make_main_window, qtbot, message_boxes):
    from engine.demo import demo_checkpoint

    win = make_main_window()
    model = win.state.model
    with qtbot.waitSignal(win.error_shown, timeout=20_000):
        win.load_model(str(demo_checkpoint("hdm05-demo", "mlp")))
    assert "hdm05_25" in message_boxes[-1][2] and "ntu25" in message_boxes[-1][2]
    assert win.state.model is model and win.state.status == ModelStatus.READY


def test_misclassified_motion_is_not_attacked(make_main_window, message_boxes):
    win = make_main_window()
    st = win.state
    wrong = np.flatnonzero(~st.correct_mask())
    if wrong.size == 0:
        st.probabilities = st.probabilities[:, ::-1].copy()  # make motion 0 misclassified
        wrong = np.array([0])
    win.select_motion(int(wrong[0]))
    panel = win.attack_dock.panel
    assert not panel.run_button.isEnabled() and "misclassif" in panel.run_button.toolTip()
    win.run_attack()
    assert not win.runner.running()
    assert message_boxes and "misclassif" in message_boxes[-1][2]


def test_hdm05_demo_is_one_click_away(make_main_window, qtbot):
    win = make_main_window()
    st = win.state
    win.data_dock.demo_buttons["hdm05-demo"].click()
    qtbot.waitUntil(lambda: st.demo_name == "hdm05-demo" and st.status == ModelStatus.READY, timeout=60_000)
    assert st.model.layout == "hdm05_25" and "HDM05" in st.model.title
    assert win.centre.view.original.n_joints == 25 and st.index == 0
    assert st.class_name(int(st.dataset.labels[0])) in win.centre.view._label_texts[0]


def test_closing_during_a_run_stops_the_worker(make_main_window, qtbot):
    win = make_main_window()
    win.attack_dock.panel.set_params({"iterations": 100_000, "stop_on_success": False})
    win.run_attack()
    qtbot.waitUntil(lambda: win.plots_dock.loss_plot.n_points >= 2, timeout=20_000)
    thread = win.runner.thread
    t0 = time.monotonic()
    win.close()
    assert time.monotonic() - t0 < 10
    assert not win.runner.running()
    try:
        assert not thread.isRunning()
    except RuntimeError:  # already deleted: stopped
        pass
    assert win.settings.path.is_file()


def test_window_layout_and_export_settings_persist(make_main_window, qtbot):
    win = make_main_window(settings_name="layout.ini")
    win.history_dock.hide()
    win.centre.view.set_mode("side")
    win.export_dock.speed_combo.setCurrentIndex(win.export_dock.speed_combo.findData(0.25))
    win.close()
    win2 = make_main_window(settings_name="layout.ini", start_demo=None)
    assert not win2.history_dock.isVisible()
    assert win2.centre.view.mode == "side"
    assert win2.export_dock.speed_combo.currentData() == pytest.approx(0.25)
    assert win2.settings.last_model.endswith("mlp.pt")
    QtWidgets.QApplication.processEvents()


def test_about_shows_the_version_and_the_shortcuts(make_main_window, message_boxes):
    import engine

    win = make_main_window(start_demo=None)
    win.actions_by_name["about"].trigger()
    kind, title, text = message_boxes[-1]
    assert engine.__version__ in title and engine.__version__ in text
    assert "Ctrl+R" in text and "Space" in text and "Open checkpoint" in text and "Loss plot" in text


def test_dropping_a_dataset_file_opens_it_and_remembers_it(make_main_window, qtbot, tmp_path):
    from PySide6 import QtGui

    from engine import datasets

    win = make_main_window()
    st = win.state
    small = st.dataset.subset(np.arange(0, 720, 30))
    path = tmp_path / "small.npz"
    datasets.save(small, path)
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    ev = QtGui.QDropEvent(QtCore.QPointF(10, 10), QtCore.Qt.DropAction.CopyAction, mime,
                          QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier)
    win.dropEvent(ev)
    qtbot.waitUntil(lambda: st.source == str(path) and st.status == ModelStatus.READY, timeout=30_000)
    assert len(st.dataset) == 24 and st.model.name == "mlp"  # the demo model fits: kept, re-evaluated
    assert win.settings.recent_files[0] == str(path.resolve())
    assert st.probabilities.shape == (24, 12) and st.index == 0
    assert win.data_dock.recent_menu.actions()[0].text() == str(path.resolve())


def test_closing_while_loading_stops_the_loaders(make_main_window, qtbot):
    from engine.demo import demo_checkpoint
    from workbench import worker

    win = make_main_window(wait=False)
    qtbot.waitUntil(lambda: win.tasks.running("model") or win.state.model is not None, timeout=30_000)
    win.load_model(str(demo_checkpoint("demo", "stgcn")))  # a slow evaluation over 720 motions
    qtbot.waitUntil(lambda: not win.model_dock.progress_row.isHidden(), timeout=10_000)
    t0 = time.monotonic()
    win.close()
    assert time.monotonic() - t0 < 20
    assert worker.reap() == 0  # no worker thread left running


def test_cancelling_a_model_evaluation_keeps_the_model(make_main_window, qtbot):
    from engine.demo import demo_checkpoint

    win = make_main_window()
    st = win.state
    model = st.model
    win.load_model(str(demo_checkpoint("demo", "stgcn")))
    assert not win.model_dock.progress_row.isHidden()
    win.model_dock.cancel_button.click()
    assert win.model_dock.progress_row.isHidden() and not win.tasks.running("model")
    qtbot.wait(300)
    assert st.model is model and st.probabilities is not None and st.status == ModelStatus.READY


def test_a_dataset_with_the_models_classes_in_another_order_is_mapped_by_name(make_main_window, qtbot,
                                                                               tmp_path):
    from engine import datasets
    from engine.datasets import MotionDataset

    win = make_main_window()
    st = win.state
    idx = np.arange(0, 720, 30)
    small = st.dataset.subset(idx)
    names = list(small.class_names)[::-1]
    perm = MotionDataset(small.motions, len(names) - 1 - np.asarray(small.labels), names, small.layout,
                         small.fps, name="permuted")
    path = tmp_path / "permuted.npz"
    datasets.save(perm, path)
    win.open_dataset(path, model="stgcn")  # a shipped model's name, as on the command line
    qtbot.waitUntil(lambda: st.source == str(path) and st.status == ModelStatus.READY and st.job is None,
                    timeout=60_000)
    assert st.model.name == "stgcn"
    np.testing.assert_array_equal(st.label_map, np.arange(12)[::-1])
    i = int(np.flatnonzero(st.correct_mask())[0])
    win.select_motion(i)
    truth = names[int(perm.labels[i])]
    assert win.centre.view._label_texts[0] == f"original: {truth}"
    rec = _attack(qtbot, win, iterations=3, stop_on_success=False)
    assert st.model_class_name(rec.label) == truth


def test_live_black_box_predictions_come_from_the_attack_thread(make_main_window, qtbot, monkeypatch):
    """During an attack the other models' predictions of the current iterate are made between two of the
    attack's iterations (no third busy thread beside the GUI's): the panel fills with live rows, and no
    "transfer" task thread is started while the attack runs."""
    from workbench.transfer import TransferController

    monkeypatch.setattr(TransferController, "LIVE_INTERVAL_S", 0.2)
    win = make_main_window()
    st = win.state
    started = []
    real_start = win.tasks.start

    def start(key, *args, **kwargs):
        started.append(key)
        return real_start(key, *args, **kwargs)

    monkeypatch.setattr(win.tasks, "start", start)
    win.attack_dock.panel.set_params({"iterations": 100_000, "stop_on_success": False})
    win.run_attack()
    qtbot.waitUntil(lambda: st.transfer_note.startswith("Live: iteration"), timeout=30_000)
    others = {c.title for c in win.transfer.others()}
    assert others and {r.model for r in st.transfer} == others
    assert "transfer" not in started
    with qtbot.waitSignal(win.attack_finished, timeout=20_000):
        win.stop_attack()
    assert not win.transfer._live_pending
