"""The user's path on real data, asserting what the window shows at each step: the demo → a run → an
HDM05 ASF/AMC folder (the fitting HDM05 models are offered) → another model → a run and its black-box
verdicts → a run stopped mid-way (recorded as stopped) → a corrupt file (nothing changes) → a dataset no
model fits ("does not fit" with the reason, Run disabled with a tooltip). Skips without ``../shared``."""

from __future__ import annotations

import numpy as np

from workbench.state import ModelStatus


def _ready(win) -> bool:
    st = win.state
    return st.status == ModelStatus.READY and st.job is None and not win.tasks.running("catalog")


def _run(qtbot, win, timeout=60_000, **params):
    win.attack_dock.panel.set_params(params)
    with qtbot.waitSignal(win.attack_finished, timeout=timeout) as blocker:
        win.run_attack()
    return blocker.args[0]


def _combo_titles(win) -> list[str]:
    c = win.model_dock.combo
    return [c.itemText(i) for i in range(c.count())]


def test_the_users_path_on_real_data(make_main_window, qtbot, tmp_path, shared_data, message_boxes):
    hdm05 = shared_data / "hdm05-amc" / "train"
    cmu = shared_data / "cmu-amc"
    win = make_main_window()
    st, panel, view = win.state, win.attack_dock.panel, win.centre.view

    # 1. the demo, one run
    first = _run(qtbot, win, iterations=5, stop_on_success=False)
    assert st.shown is first and win.history_dock.table.rowCount() == 1

    # 2. an HDM05 ASF/AMC folder: the demo model does not fit; a fitting HDM05 model is chosen and offered
    win.open_dataset(hdm05)
    qtbot.waitUntil(lambda: st.source == str(hdm05) and _ready(win), timeout=120_000)
    ds = st.dataset
    assert ds.layout.name == "hdm05_25" and st.model.layout == "hdm05_25"
    titles = _combo_titles(win)
    assert titles and all("HDM05" in t for t in titles) and len(titles) >= 2, titles
    assert st.index == 0 and st.shown is None  # nothing of the demo is left on screen
    name0 = ds.class_names[int(ds.labels[0])]
    assert view._label_texts[0] == f"original: {name0}"
    assert name0 in win.data_dock.info.text() and "walk" not in win.data_dock.info.text()
    np.testing.assert_array_equal(view.original.joints.pos, ds.motions[0][view.frame])
    assert not view.adversarial.visible()
    assert win.history_dock.table.rowCount() == 0
    assert "press Run" in win.results_dock.result_label.text()
    assert win.plots_dock.loss_plot.n_points == 0

    # 3. switch model through the combo
    combo = win.model_dock.combo
    other = next(i for i in range(combo.count()) if combo.itemData(i) != st.model.source)
    target_source = combo.itemData(other)
    combo.activated.emit(other)
    qtbot.waitUntil(lambda: _ready(win) and st.model.source == target_source, timeout=120_000)
    assert combo.currentData() == target_source

    # 4. a run on an attack candidate: the record names the model and the dataset; the black box fills
    i = int(np.flatnonzero(st.correct_mask())[0])
    win.select_motion(i)
    assert panel.run_button.isEnabled()
    rec = _run(qtbot, win, iterations=30, stop_on_success=True)
    assert rec.model == st.model.title and rec.dataset == str(hdm05) and rec.motion == i
    assert win.history_dock.table.item(0, 3).text() == st.model.title
    assert rec.outcome in ("success", "failed")
    qtbot.waitUntil(lambda: len(st.transfer) == combo.count() - 1, timeout=60_000)
    others = {combo.itemText(k) for k in range(combo.count()) if k != combo.currentIndex()}
    assert {r.model for r in st.transfer} == others
    assert win.transfer_dock.table.rowCount() == len(st.transfer)
    assert all(r.original in ds.class_names for r in st.transfer)

    # 5. stop mid-run: the record says stopped at k
    panel.set_params({"iterations": 100_000, "stop_on_success": False})
    win.run_attack()
    qtbot.waitUntil(lambda: win.plots_dock.loss_plot.n_points >= 3, timeout=30_000)
    with qtbot.waitSignal(win.attack_finished, timeout=20_000) as blocker:
        win.stop_attack()
    stopped = blocker.args[0]
    assert stopped.outcome == "stopped" and stopped.iterations < 100_000
    assert f"stopped at {stopped.iterations}" in win.history_dock.table.item(1, 9).text()
    assert "Stopped at" in win.results_dock.result_label.text()

    # 6. a corrupt file: a dialog in our words, nothing changes
    before = (st.dataset, st.model, st.index, len(st.runs), st.status)
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    with qtbot.waitSignal(win.error_shown, timeout=30_000):
        win.open_dataset(bad)
    kind, title, text = message_boxes[-1]
    assert title == "Could not open the dataset" and text.count("corrupt.npz") == 1
    assert "allow_pickle" not in text and message_boxes.details[-1]  # library text only under details
    assert (st.dataset, st.model, st.index, len(st.runs), st.status) == before

    # 7. a dataset no model fits: "does not fit" with the reason; Run disabled with a tooltip
    win.open_dataset(cmu)
    qtbot.waitUntil(lambda: st.source == str(cmu) and st.status == ModelStatus.MISFIT and st.job is None,
                    timeout=120_000)
    assert "class names differ" in st.reason
    status = win.model_dock.status_label.text()
    assert "does not fit this dataset" in status and "class names differ" in status
    assert not panel.run_button.isEnabled() and "does not fit" in panel.run_button.toolTip()
    assert "does not fit" in win.data_dock.info.text()
    assert view._label_texts[0] == f"original: {st.dataset.class_names[int(st.dataset.labels[0])]}"
    assert win.model_dock.combo.count() == 0
    win.run_attack()
    assert not win.runner.running() and "does not fit" in message_boxes[-1][2]
