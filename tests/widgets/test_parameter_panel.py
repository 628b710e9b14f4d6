"""ParameterPanel: defaults, set_params -> widgets (no signal), widget edits -> params_changed."""

from __future__ import annotations

import pytest

from widgets.parameter_panel import DEFAULT_PARAMS, PARAM_KEYS, ParameterPanel


@pytest.fixture
def panel(qtbot):
    p = ParameterPanel(settle_ms=20)
    qtbot.addWidget(p)
    return p


def test_defaults(panel):
    assert PARAM_KEYS == ("strategy", "top_n", "target", "w", "alpha", "betas", "lr", "iterations",
                          "perceptual", "classification_loss", "stop_on_success", "seed")
    p = panel.params()
    assert list(p) == list(PARAM_KEYS)
    assert p == {
        "strategy": "ab", "top_n": 3, "target": None, "w": 0.4, "alpha": 0.3,
        "betas": (0.6, 0.0, 0.4, 0.0, 0.0), "lr": 0.005, "iterations": 300, "perceptual": "smart",
        "classification_loss": "ce", "stop_on_success": True, "seed": 0,
    }
    assert p == DEFAULT_PARAMS
    assert panel.run_button.isEnabled() and not panel.stop_button.isEnabled()


def test_set_params_fills_widgets_without_emitting(panel, qtbot):
    panel.set_class_names(["walk", "run", "jump"])
    new = {"strategy": "sa", "target": 2, "w": 0.75, "alpha": 0.125, "betas": (0.1, 0.2, 0.3, 0.4, 0.5),
           "lr": 0.01, "iterations": 50, "perceptual": "l2_bone", "classification_loss": "margin",
           "stop_on_success": False, "seed": 7, "top_n": 5}
    with qtbot.assertNotEmitted(panel.params_changed, wait=50):
        panel.set_params(new)
    assert panel.w_edit.spin.value() == 0.75 and panel.w_edit.slider.value() == 750
    assert panel.alpha_edit.slider.value() == 125
    assert [e.slider.value() for e in panel.beta_edits] == [100, 200, 300, 400, 500]
    assert panel.strategy_combo.currentData() == "sa" and panel.target_combo.currentData() == 2
    assert panel.target_combo.isEnabled() and not panel.top_n_spin.isEnabled()
    assert panel.keep_going_check.isChecked()
    assert panel.params() == new


def test_slider_to_spin_to_signal(panel, qtbot):
    seen = []
    panel.params_changed.connect(seen.append)
    panel.w_edit.slider.setValue(700)
    assert panel.w_edit.spin.value() == pytest.approx(0.7)
    assert len(seen) == 1 and seen[0]["w"] == pytest.approx(0.7)


def test_spin_to_slider_to_signal(panel, qtbot):
    with qtbot.waitSignal(panel.params_changed, timeout=1000) as sig:
        panel.beta_edits[3].spin.setValue(0.55)
    assert panel.beta_edits[3].slider.value() == 550
    assert sig.args[0]["betas"] == pytest.approx((0.6, 0.0, 0.4, 0.55, 0.0))


@pytest.mark.parametrize(
    ("edit", "key", "value"),
    [
        (lambda p: p.strategy_combo.setCurrentIndex(1), "strategy", "abn"),
        (lambda p: p.top_n_spin.setValue(4), "top_n", 4),
        (lambda p: p.lr_spin.setValue(0.02), "lr", 0.02),
        (lambda p: p.iterations_spin.setValue(10), "iterations", 10),
        (lambda p: p.perceptual_combo.setCurrentIndex(2), "perceptual", "l2_acc"),
        (lambda p: p.classification_combo.setCurrentIndex(1), "classification_loss", "margin"),
        (lambda p: p.keep_going_check.setChecked(True), "stop_on_success", False),
        (lambda p: p.seed_spin.setValue(3), "seed", 3),
    ],
)
def test_each_widget_emits_its_key(panel, qtbot, edit, key, value):
    with qtbot.waitSignal(panel.params_changed, timeout=1000) as sig:
        edit(panel)
    assert sig.args[0][key] == pytest.approx(value) if isinstance(value, float) else sig.args[0][key] == value


def test_target_only_for_sa(panel, qtbot):
    panel.set_class_names(["a", "b", "c"])
    assert panel.params()["target"] is None and not panel.target_combo.isEnabled()
    panel.strategy_combo.setCurrentIndex(2)
    assert panel.target_combo.isEnabled()
    with qtbot.waitSignal(panel.params_changed, timeout=1000) as sig:
        panel.target_combo.setCurrentIndex(1)
    assert sig.args[0]["target"] == 1
    panel.set_class_names(["a", "b", "c", "d"])  # keeps the chosen target
    assert panel.params()["target"] == 1


def test_target_before_class_names(panel):
    panel.set_params({"strategy": "sa", "target": 2})
    panel.set_class_names(["a", "b", "c"])
    assert panel.params()["target"] == 2


def test_bad_params_raise(panel):
    with pytest.raises(ValueError, match="unknown"):
        panel.set_params({"beta": 1})
    with pytest.raises(ValueError, match="strategy"):
        panel.set_params({"strategy": "xx"})
    with pytest.raises(ValueError, match="betas"):
        panel.set_params({"betas": (1, 2)})
    with pytest.raises(ValueError, match=r"lr must be in"):
        panel.set_params({"lr": 0.0})
    with pytest.raises(ValueError, match=r"betas\[2\] must be in"):
        panel.set_params({"betas": (0, 0, 1.5, 0, 0)})
    assert panel.params() == DEFAULT_PARAMS


def test_run_stop_progress(panel, qtbot):
    with qtbot.waitSignal(panel.run_requested, timeout=1000):
        panel.run_button.click()
    panel.set_running(True)
    assert not panel.run_button.isEnabled() and panel.stop_button.isEnabled()
    with qtbot.waitSignal(panel.stop_requested, timeout=1000):
        panel.stop_button.click()
    panel.set_progress(30, 300)
    assert panel.progress.value() == 30 and panel.progress.maximum() == 300
    panel.set_running(False)
    assert panel.run_button.isEnabled() and not panel.stop_button.isEnabled()


def test_settle_and_live(panel, qtbot):
    with qtbot.waitSignal(panel.params_settled, timeout=1000):
        with qtbot.assertNotEmitted(panel.run_requested, wait=0):
            panel.w_edit.spin.setValue(0.5)
    with qtbot.waitSignal(panel.live_changed, timeout=1000) as sig:
        panel.live_check.setChecked(True)
    assert sig.args == [True] and panel.is_live()
    with qtbot.waitSignal(panel.run_requested, timeout=1000):
        panel.w_edit.spin.setValue(0.6)
