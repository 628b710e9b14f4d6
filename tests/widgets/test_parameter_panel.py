"""ParameterPanel: defaults and presets from the caller's dicts, set_params -> widgets (no signal),
widget edits -> params_changed."""

from __future__ import annotations

import pytest

from widgets.parameter_panel import PARAM_KEYS, ParameterPanel

#: What the app passes: ``AttackConfig().to_dict()``-like (lists for tuples, ``targets``, ``device``, keys
#: the panel has no special widget for). Test data, deliberately unlike the engine's values.
DEFAULTS = {
    "strategy": "ab", "top_n": 2, "targets": None, "iterations": 120, "stop_on_success": False,
    "classification_loss": "margin", "confidence": 0.5, "ab_reference": "label", "device": None, "seed": 1,
    "w": 0.25, "alpha": 0.5, "betas": [0.5, 0.0, 0.5, 0.0, 0.0], "lr": 0.002, "perceptual": "smart",
    "select": "best", "lr_schedule": "anneal", "tie_coincident": True, "adam_eps": 1e-8,
    "saturation_tol": 1e-4, "new_int_knob": 7,
}
PAPER = {**DEFAULTS, "classification_loss": "ce", "confidence": 0.0, "stop_on_success": True,
         "select": "last", "lr_schedule": "constant", "tie_coincident": False, "iterations": 300}
PRESETS = {"natural": DEFAULTS, "paper": PAPER}
CLASSIC = {"strategy": "ab", "top_n": 2, "target": None, "w": 0.25, "alpha": 0.5,
           "betas": (0.5, 0.0, 0.5, 0.0, 0.0), "lr": 0.002, "iterations": 120, "perceptual": "smart",
           "classification_loss": "margin", "stop_on_success": False, "seed": 1}


@pytest.fixture
def panel(qtbot):
    p = ParameterPanel(settle_ms=20, defaults=DEFAULTS, presets=PRESETS)
    qtbot.addWidget(p)
    return p


def test_defaults_come_from_the_passed_dict(panel):
    assert PARAM_KEYS == ("strategy", "top_n", "target", "w", "alpha", "betas", "lr", "iterations",
                          "perceptual", "classification_loss", "stop_on_success", "seed")
    p = panel.params()
    assert list(p)[: len(PARAM_KEYS)] == list(PARAM_KEYS)
    assert {k: p[k] for k in PARAM_KEYS} == CLASSIC
    # issue 12's fields get their widgets; unknown extra keys are rendered generically; device is hidden
    assert {k: p[k] for k in ("confidence", "select", "lr_schedule", "tie_coincident", "ab_reference")} == {
        "confidence": 0.5, "select": "best", "lr_schedule": "anneal", "tie_coincident": True,
        "ab_reference": "label"}
    assert p["adam_eps"] == 1e-8 and p["saturation_tol"] == 1e-4 and p["new_int_knob"] == 7
    assert "device" not in p and "targets" not in p
    assert panel.defaults["betas"] == (0.5, 0.0, 0.5, 0.0, 0.0)
    assert panel.run_button.isEnabled() and not panel.stop_button.isEnabled()


def test_presets_selector(panel, qtbot):
    assert panel.preset_combo.isVisibleTo(panel) and panel.preset() == "natural"
    assert [panel.preset_combo.itemText(i) for i in range(panel.preset_combo.count())] == ["Natural", "Paper"]
    with qtbot.waitSignal(panel.params_changed, timeout=1000) as sig, \
            qtbot.waitSignal(panel.preset_changed, timeout=1000) as picked:
        panel.preset_combo.setCurrentIndex(1)
    assert picked.args == ["paper"]
    p = sig.args[0]
    assert p["classification_loss"] == "ce" and p["stop_on_success"] and p["select"] == "last"
    assert p["lr_schedule"] == "constant" and p["tie_coincident"] is False and p["iterations"] == 300
    assert not panel._extra["confidence"].isEnabled()  # κ only matters for the margin loss
    with qtbot.assertNotEmitted(panel.params_changed, wait=20):
        panel.set_preset("natural")
    assert panel.params() == {**panel.params(), **{k: CLASSIC[k] for k in PARAM_KEYS}}
    assert panel._extra["confidence"].isEnabled()
    panel.w_edit.spin.setValue(0.9)
    panel.reset_to_defaults()
    assert panel.params()["w"] == 0.25 and panel.preset() == "natural"
    with pytest.raises(ValueError, match="preset"):
        panel.set_preset("fast")


def test_without_defaults_fields_are_empty_until_set(qtbot):
    bare = ParameterPanel()  # the app's constructor until it passes its dicts
    qtbot.addWidget(bare)
    assert list(bare.params()) == list(PARAM_KEYS) and not bare.preset_combo.isVisibleTo(bare)
    bare.set_params({k: v for k, v in CLASSIC.items()})
    assert bare.params() == CLASSIC
    bare.set_params({"select": "last", "confidence": 1.5})  # fields the panel knows are added on demand
    assert bare.params()["select"] == "last" and bare.params()["confidence"] == 1.5
    bare.set_defaults(DEFAULTS, PRESETS)
    assert bare.preset_combo.isVisibleTo(bare) and bare.params()["select"] == "best"


def test_real_attack_config_round_trip(qtbot):
    attack = pytest.importorskip("engine.attack")
    defaults = attack.AttackConfig().to_dict()
    presets = {k: f().to_dict() for k, f in attack.PRESETS.items()}
    p = ParameterPanel(defaults=defaults, presets=presets)
    qtbot.addWidget(p)
    shown = p.params()
    for key, value in defaults.items():
        if key in ("device", "targets"):
            continue
        assert shown[key] == (tuple(value) if isinstance(value, list) else value), key
    p.set_preset("paper")
    for key, value in presets["paper"].items():
        if key not in ("device", "targets"):
            assert p.params()[key] == (tuple(value) if isinstance(value, list) else value), key


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
    assert {k: panel.params()[k] for k in new} == new


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
    assert sig.args[0]["betas"] == pytest.approx((0.5, 0.0, 0.5, 0.55, 0.0))


@pytest.mark.parametrize(
    ("edit", "key", "value"),
    [
        (lambda p: p.strategy_combo.setCurrentIndex(1), "strategy", "abn"),
        (lambda p: p.top_n_spin.setValue(4), "top_n", 4),
        (lambda p: p.lr_spin.setValue(0.02), "lr", 0.02),
        (lambda p: p.iterations_spin.setValue(10), "iterations", 10),
        (lambda p: p.perceptual_combo.setCurrentIndex(2), "perceptual", "l2_acc"),
        (lambda p: p.classification_combo.setCurrentIndex(0), "classification_loss", "ce"),
        (lambda p: p.keep_going_check.setChecked(False), "stop_on_success", True),
        (lambda p: p._extra["select"].setCurrentIndex(1), "select", "last"),
        (lambda p: p._extra["tie_coincident"].setChecked(False), "tie_coincident", False),
        (lambda p: p._extra["new_int_knob"].setValue(9), "new_int_knob", 9),
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
    with pytest.raises(ValueError, match="select"):
        panel.set_params({"select": "worst"})
    with pytest.raises(ValueError, match="adam_eps"):
        panel.set_params({"adam_eps": "tiny"})
    assert {k: panel.params()[k] for k in PARAM_KEYS} == CLASSIC


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
