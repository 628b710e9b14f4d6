"""Attack parameter panel: preset, strategy, loss weights (sliders + spin boxes), optimiser, Run/Stop.

The panel holds **no default of its own**: the caller passes ``defaults`` (a dict like
``dataclasses.asdict(AttackConfig())`` / ``AttackConfig().to_dict()``) and ``presets`` (name -> such a
dict, e.g. from ``engine.attack.PRESETS``); the panel imports nothing from the engine (import-linter: no
widgets -> engine/torch). Keys the panel knows get their own widget (:data:`FIELDS`: label, tooltip,
range); other keys of ``defaults`` are rendered generically (bool: check box, int: spin box, float: text
field, str: combo box when ``choices`` names the options, else a text field); ``hidden`` keys (default:
``device``) are not shown and not returned. Without ``defaults`` the twelve classic fields
(:data:`PARAM_KEYS`) are shown empty until :meth:`ParameterPanel.set_params` or
:meth:`ParameterPanel.set_defaults` fills them.

Binding (STYLE.md W1): every user edit emits ``params_changed(dict)`` with the whole config;
:meth:`ParameterPanel.set_params` fills the fields under ``QSignalBlocker`` and emits nothing, so a model ->
widget update never bounces back. Slider and spin box of one weight are kept in step the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt, Signal

__all__ = ["FIELDS", "PARAM_KEYS", "ParameterPanel", "SliderSpin"]

STRATEGIES = (
    ("ab", "AB (any but the true class)"),
    ("abn", "ABN (one of the top N)"),
    ("sa", "SA (target class)"),
)
#: Option lists of the known choice fields (value, text). ``choices`` given to the panel add or replace.
CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "strategy": STRATEGIES,
    "perceptual": (("smart", "smart"), ("l2", "l2"), ("l2_acc", "l2_acc"), ("l2_bone", "l2_bone")),
    "classification_loss": (("ce", "ce (cross entropy)"), ("margin", "margin (hinge, stops at κ)")),
    "select": (("best", "best successful (lowest Lp)"), ("last", "last")),
    "lr_schedule": (("constant", "constant"), ("cosine", "cosine decay"), ("anneal", "anneal (2nd half)")),
    "ab_reference": (("label", "one-hot clean label"), ("prediction", "clean prediction Φ(q)")),
}
PERCEPTUAL = tuple(v for v, _ in CHOICES["perceptual"])
CLASSIFICATION = tuple(v for v, _ in CHOICES["classification_loss"])

#: What the panel shows for the keys it knows: (label, tooltip). Values and defaults come from the caller.
FIELDS: dict[str, tuple[str, str]] = {
    "strategy": ("Strategy", "AB: any class but the true one; ABN: out of the top N; SA: a target class"),
    "top_n": ("Top N", "ABN: the adversarial label must be among the model's top N"),
    "target": ("Target", "SA: the target class"),
    "w": ("w", "w: weight of the classification loss against the perceptual loss (Eq. 2)"),
    "alpha": ("α", "α: weight of the dynamics term against the bone-length term (Eq. 3)"),
    "betas": ("β", "β₀…β₄: weights of the derivatives of order 0…4 in the dynamics loss (Eq. 5)"),
    "lr": ("Learning rate", "Adam's learning rate (metres)"),
    "lr_schedule": ("LR schedule", "constant (the paper), cosine decay, or constant then decay (anneal)"),
    "iterations": ("Iterations", "The budget of optimisation steps"),
    "perceptual": ("Perceptual loss", "smart (Eq. 3) or the ablations l2, l2_acc, l2_bone (§4.5)"),
    "classification_loss": ("Classification loss",
                            "ce: the paper's cross entropy; margin: its hinge form, flat once the goal "
                            "holds by κ"),
    "confidence": ("κ (margin)", "Margin loss: the hinge is flat once the goal holds by κ logits"),
    "ab_reference": ("AB reference", "Eq. 6's Φ(q): the one-hot clean label or the clean prediction"),
    "stop_on_success": ("Stop at first success",
                        "Stop at the first success (the paper) instead of using the whole budget"),
    "select": ("Returned iterate", "best: the successful iterate with the lowest Lp; last: the last one"),
    "tie_coincident": ("Tie coincident joints",
                       "Joints that coincide in the skeleton (root/hips, …) move together"),
    "smoothing": ("Smoothing σ (frames)",
                  "Adam moves a temporally smoothed displacement (Gaussian σ in frames; 0: none, the paper)"),
    "adam_beta2": ("Adam β₂", "Adam's second-moment decay (0.999: torch's default and the paper's)"),
    "seed": ("Seed", "Random seed of the run"),
}
#: The classic fields, always present (the dict keys of :meth:`ParameterPanel.params`, in order).
PARAM_KEYS = ("strategy", "top_n", "target", "w", "alpha", "betas", "lr", "iterations", "perceptual",
              "classification_loss", "stop_on_success", "seed")
#: Known fields shown only when ``defaults`` (or :meth:`ParameterPanel.set_params`) has them, in order.
EXTRA_KEYS = ("confidence", "lr_schedule", "select", "tie_coincident", "smoothing", "adam_beta2",
              "ab_reference")
N_BETAS = 5


class SliderSpin(QtWidgets.QWidget):
    """A slider and a QDoubleSpinBox showing one float; ``valueChanged(float)`` on user edits only.

    The slider has ``steps`` ticks over ``[lo, hi]``; the spin box is exact (``decimals``). Each side
    updates the other under a QSignalBlocker, so one edit gives exactly one ``valueChanged``.
    """

    valueChanged = Signal(float)  # noqa: N815 - Qt naming

    def __init__(self, lo: float = 0.0, hi: float = 1.0, step: float = 0.01, decimals: int = 3,
                 steps: int = 1000, parent=None):
        super().__init__(parent)
        self._lo, self._hi, self._steps = float(lo), float(hi), int(steps)
        self.slider = QtWidgets.QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, self._steps)
        self.slider.setPageStep(max(self._steps // 20, 1))
        self.spin = QtWidgets.QDoubleSpinBox()
        self.spin.setRange(self._lo, self._hi)
        self.spin.setDecimals(decimals)
        self.spin.setSingleStep(step)
        self.spin.setKeyboardTracking(False)
        self.spin.setMinimumWidth(70)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        self.slider.valueChanged.connect(self._on_slider)
        self.spin.valueChanged.connect(self._on_spin)

    def _to_tick(self, v: float) -> int:
        if self._hi == self._lo:
            return 0
        return round((v - self._lo) / (self._hi - self._lo) * self._steps)

    def _from_tick(self, t: int) -> float:
        return self._lo + (self._hi - self._lo) * t / self._steps

    def _on_slider(self, t: int) -> None:
        v = self._from_tick(t)
        with QtCore.QSignalBlocker(self.spin):
            self.spin.setValue(v)
        self.valueChanged.emit(self.spin.value())

    def _on_spin(self, v: float) -> None:
        with QtCore.QSignalBlocker(self.slider):
            self.slider.setValue(self._to_tick(v))
        self.valueChanged.emit(float(v))

    def value(self) -> float:
        return float(self.spin.value())

    def setValue(self, v: float) -> None:  # noqa: N802 - Qt naming
        """Set both widgets without emitting ``valueChanged``."""
        with QtCore.QSignalBlocker(self.spin):
            self.spin.setValue(float(v))
        with QtCore.QSignalBlocker(self.slider):
            self.slider.setValue(self._to_tick(self.spin.value()))


def _combo(items) -> QtWidgets.QComboBox:
    c = QtWidgets.QComboBox()
    for data, text in items:
        c.addItem(text, data)
    return c


def _set_combo_data(combo: QtWidgets.QComboBox, value, what: str) -> None:
    idx = combo.findData(value)
    if idx < 0:
        allowed = [combo.itemData(k) for k in range(combo.count())]
        raise ValueError(f"{what} must be one of {allowed}, got {value!r}")
    combo.setCurrentIndex(idx)


class _FloatEdit(QtWidgets.QLineEdit):
    """A float in a text field (any magnitude, e.g. 1e-8); ``valueChanged(float)`` when editing ends."""

    valueChanged = Signal(float)  # noqa: N815 - Qt naming

    def __init__(self, parent=None):
        super().__init__(parent)
        v = QtGui.QDoubleValidator(self)
        v.setNotation(QtGui.QDoubleValidator.Notation.ScientificNotation)
        v.setLocale(QtCore.QLocale.c())
        self.setValidator(v)
        self._value = 0.0
        self.editingFinished.connect(self._on_edited)

    def _on_edited(self) -> None:
        try:
            v = float(self.text())
        except ValueError:
            self.setText(f"{self._value:g}")
            return
        if v != self._value:
            self._value = v
            self.valueChanged.emit(v)

    def value(self) -> float:
        return self._value

    def setValue(self, v: float) -> None:  # noqa: N802 - Qt naming
        self._value = float(v)
        self.setText(f"{self._value:g}")


def _title(key: str) -> str:
    return key.replace("_", " ").capitalize()


class ParameterPanel(QtWidgets.QWidget):
    """Attack settings, an optional preset selector, and Run/Stop.

    ``defaults``: the settings to start from and to return to (a dict like ``AttackConfig().to_dict()``;
    tuples may be lists; ``targets`` is shown as ``target``). ``presets``: name -> such a dict; with
    presets a selector is shown ("Natural", "Paper", … in the dict's order; the first, or the one whose
    values equal ``defaults``, is selected). ``choices``: key -> option values for str fields (adds to or
    replaces :data:`CHOICES`). ``hidden``: keys neither shown nor returned.

    Signals: ``params_changed(dict)`` on every user edit (the full :meth:`params` dict), also when a
    preset is picked; ``params_settled(dict)`` once the user has paused for ``settle_ms`` (debounced);
    ``run_requested()`` (Run button, and, while *live* is on, after each settled change: the receiver
    restarts a running attack); ``stop_requested()``; ``live_changed(bool)``; ``preset_changed(str)``
    (the user picked a preset).

    Keys of :meth:`params`: :data:`PARAM_KEYS` — strategy ('ab'|'abn'|'sa'), top_n (int), target (int or
    None; None unless the strategy is 'sa'), w, alpha (floats), betas (tuple of 5 floats), lr (float),
    iterations (int), perceptual, classification_loss, stop_on_success (bool; the check box "keep
    optimising after success" is its negation), seed (int) — then every other shown key of ``defaults``
    (e.g. confidence, lr_schedule, select, tie_coincident, ab_reference, adam_eps …).
    """

    params_changed = Signal(object)
    params_settled = Signal(object)
    run_requested = Signal()
    stop_requested = Signal()
    live_changed = Signal(bool)
    preset_changed = Signal(str)

    def __init__(self, parent=None, *, settle_ms: int = 400, defaults: Mapping | None = None,
                 presets: Mapping[str, Mapping] | None = None, choices: Mapping[str, Sequence] | None = None,
                 hidden: Sequence[str] = ("device",)):
        super().__init__(parent)
        self._class_names: list[str] = []
        self._pending_target: int | None = None
        self._choices = {k: tuple(v) for k, v in CHOICES.items()}
        for k, values in (choices or {}).items():
            self._choices[k] = tuple((str(v), dict(CHOICES.get(k, ())).get(str(v), str(v))) for v in values)
        self._hidden = set(hidden)
        self._defaults: dict = {}
        self._presets: dict[str, dict] = {}
        self._extra: dict[str, QtWidgets.QWidget] = {}  # key -> widget of the non-classic fields
        self._extra_types: dict[str, type] = {}
        self._settle = QtCore.QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(int(settle_ms))
        self._settle.timeout.connect(self._on_settled)
        self._build()
        self.set_running(False)
        if defaults is not None or presets is not None:
            self.set_defaults(defaults, presets)

    # --- UI --------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.preset_combo = QtWidgets.QComboBox()
        self.preset_combo.setToolTip("Settings to start from: the preset's values fill every field")
        self.preset_label = QtWidgets.QLabel("Preset")
        preset_row = QtWidgets.QHBoxLayout()
        preset_row.addWidget(self.preset_label)
        preset_row.addWidget(self.preset_combo, 1)
        self.preset_label.hide()
        self.preset_combo.hide()

        form = self.form = QtWidgets.QFormLayout()
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.strategy_combo = _combo(self._choices["strategy"])
        self.top_n_spin = QtWidgets.QSpinBox()
        self.top_n_spin.setRange(1, 1000)
        self.target_combo = QtWidgets.QComboBox()
        self._add_row("strategy", self.strategy_combo)
        self._add_row("top_n", self.top_n_spin)
        self._add_row("target", self.target_combo)

        self.w_edit = SliderSpin()
        self.alpha_edit = SliderSpin()
        self._add_row("w", self.w_edit)
        self._add_row("alpha", self.alpha_edit)
        self.beta_edits = []
        for k in range(N_BETAS):
            e = SliderSpin()
            e.setToolTip(f"β{k}: weight of the order-{k} derivative in the dynamics loss")
            self.beta_edits.append(e)
            form.addRow(f"β{'₀₁₂₃₄'[k]}", e)

        self.lr_spin = QtWidgets.QDoubleSpinBox()
        self.lr_spin.setDecimals(5)
        self.lr_spin.setRange(1e-5, 1.0)
        self.lr_spin.setSingleStep(0.001)
        self.lr_spin.setKeyboardTracking(False)
        self.iterations_spin = QtWidgets.QSpinBox()
        self.iterations_spin.setRange(1, 100_000)
        self.iterations_spin.setKeyboardTracking(False)
        self._add_row("lr", self.lr_spin)
        self._add_row("iterations", self.iterations_spin)

        self.perceptual_combo = _combo(self._choices["perceptual"])
        self.classification_combo = _combo(self._choices["classification_loss"])
        self._add_row("perceptual", self.perceptual_combo)
        self._add_row("classification_loss", self.classification_combo)
        self.keep_going_check = QtWidgets.QCheckBox("Keep optimising after success")
        self.keep_going_check.setToolTip("Use the whole budget (unchecked: stop at the first success, "
                                         "the paper's protocol)")
        form.addRow(self.keep_going_check)
        self.seed_spin = QtWidgets.QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setKeyboardTracking(False)
        self._add_row("seed", self.seed_spin)
        # extra fields (κ, schedule, returned iterate, …) are appended to the same form (one label column)
        # by set_defaults / set_params
        self.extra_form = form

        self.run_button = QtWidgets.QPushButton("Run")
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.live_check = QtWidgets.QCheckBox("Live")
        self.live_check.setToolTip("Restart the attack shortly after each parameter change")
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.live_check)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m")

        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(preset_row)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addStretch(1)

        edits = (
            self.strategy_combo.currentIndexChanged, self.target_combo.currentIndexChanged,
            self.perceptual_combo.currentIndexChanged, self.classification_combo.currentIndexChanged,
            self.top_n_spin.valueChanged, self.iterations_spin.valueChanged, self.seed_spin.valueChanged,
            self.lr_spin.valueChanged, self.keep_going_check.toggled, self.w_edit.valueChanged,
            self.alpha_edit.valueChanged, *(e.valueChanged for e in self.beta_edits),
        )
        for sig in edits:
            sig.connect(self._on_edited)
        self.preset_combo.currentIndexChanged.connect(self._on_preset_picked)
        self.run_button.clicked.connect(self.run_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.live_check.toggled.connect(self.live_changed)

    def _add_row(self, key: str, widget: QtWidgets.QWidget, form: QtWidgets.QFormLayout | None = None
                 ) -> None:
        label, tip = FIELDS.get(key, (_title(key), key))
        widget.setToolTip(tip)
        (form or self.form).addRow(label, widget)

    def _classic_widgets(self) -> list[QtWidgets.QWidget]:
        return [self.strategy_combo, self.top_n_spin, self.target_combo, self.w_edit, self.alpha_edit,
                *self.beta_edits, self.lr_spin, self.iterations_spin, self.perceptual_combo,
                self.classification_combo, self.keep_going_check, self.seed_spin]

    def _ensure_extra(self, key: str, value) -> None:
        """A widget for a non-classic key, chosen by the value's type (once per key)."""
        if key in self._extra or key in PARAM_KEYS or key in self._hidden:
            return
        if isinstance(value, bool):
            w = QtWidgets.QCheckBox(FIELDS.get(key, (_title(key),))[0])
            w.setToolTip(FIELDS.get(key, ("", key))[1])
            w.toggled.connect(self._on_edited)
            self.extra_form.addRow(w)
            self._extra[key], self._extra_types[key] = w, bool
            return
        if key in self._choices or isinstance(value, str):
            w = _combo(self._choices[key]) if key in self._choices else QtWidgets.QLineEdit()
            if isinstance(w, QtWidgets.QComboBox):
                w.currentIndexChanged.connect(self._on_edited)
            else:
                w.editingFinished.connect(self._on_edited)
            kind: type = str
        elif isinstance(value, int):
            w = QtWidgets.QSpinBox()
            w.setRange(-(2**31), 2**31 - 1)
            w.setKeyboardTracking(False)
            w.valueChanged.connect(self._on_edited)
            kind = int
        elif isinstance(value, float):
            w = _FloatEdit()
            w.valueChanged.connect(self._on_edited)
            kind = float
        else:
            return  # None, sequences, …: nothing generic to show
        self._add_row(key, w, self.extra_form)
        self._extra[key], self._extra_types[key] = w, kind

    def _update_enabled(self) -> None:
        strategy = self.strategy_combo.currentData()
        self.top_n_spin.setEnabled(strategy == "abn")
        self.target_combo.setEnabled(strategy == "sa" and self.target_combo.count() > 0)
        kappa = self._extra.get("confidence")
        if kappa is not None:
            kappa.setEnabled(self.classification_combo.currentData() == "margin")

    # --- defaults and presets ----------------------------------------------------------------------------
    def set_defaults(self, defaults: Mapping | None, presets: Mapping[str, Mapping] | None = None) -> None:
        """Take the settings to show (``defaults``; None keeps the current ones) and the presets to offer
        (None: no selector). Fields for new keys are added; the fields are filled with the defaults (or
        the first preset without defaults). Emits nothing."""
        self._presets = {str(k): self._normalise(v) for k, v in (presets or {}).items()}
        if defaults is not None:
            self._defaults = self._normalise(defaults)
        elif not self._defaults and self._presets:
            self._defaults = dict(next(iter(self._presets.values())))
        with QtCore.QSignalBlocker(self.preset_combo):
            self.preset_combo.clear()
            for key in self._presets:
                self.preset_combo.addItem(_title(key), key)
        self.preset_combo.setVisible(bool(self._presets))
        self.preset_label.setVisible(bool(self._presets))
        self.set_params(self._defaults)
        self._select_matching_preset()

    @property
    def defaults(self) -> dict:
        """The defaults given by the caller (normalised: ``target``, tuples), a copy."""
        return dict(self._defaults)

    @property
    def presets(self) -> dict[str, dict]:
        return {k: dict(v) for k, v in self._presets.items()}

    def preset(self) -> str | None:
        """The selected preset's name (None without presets)."""
        return self.preset_combo.currentData()

    def set_preset(self, name: str) -> None:
        """Select a preset and fill the fields with its values; emits nothing (a caller's choice)."""
        if name not in self._presets:
            raise ValueError(f"preset must be one of {list(self._presets)}, got {name!r}")
        with QtCore.QSignalBlocker(self.preset_combo):
            self.preset_combo.setCurrentIndex(self.preset_combo.findData(name))
        self.set_params(self._presets[name])

    def reset_to_defaults(self) -> None:
        """Fill the fields with the defaults again (emits nothing)."""
        self.set_params(self._defaults)
        self._select_matching_preset()

    def _select_matching_preset(self) -> None:
        current = self.params()
        for name, values in self._presets.items():
            if all(current.get(k) == v for k, v in values.items() if k in current):
                with QtCore.QSignalBlocker(self.preset_combo):
                    self.preset_combo.setCurrentIndex(self.preset_combo.findData(name))
                return

    def _on_preset_picked(self, _index: int) -> None:
        name = self.preset_combo.currentData()
        if name is None or name not in self._presets:
            return
        self.set_params(self._presets[name])
        self.preset_changed.emit(name)
        self._on_edited()

    def _normalise(self, values: Mapping) -> dict:
        """A caller's dict as the panel's keys: ``targets`` -> ``target``; lists -> tuples; hidden and
        unshowable keys dropped."""
        out = {}
        for k, v in dict(values).items():
            k = str(k)
            if k == "targets":
                if isinstance(v, list | tuple):
                    v = v[0] if len(v) else None
                k = "target"
            if k in self._hidden or k.startswith("_"):
                continue
            if isinstance(v, list):
                v = tuple(v)
            if k not in PARAM_KEYS and not isinstance(v, bool | int | float | str):
                continue  # nothing generic to show (None, sequences)
            out[k] = v
        return out

    # --- binding ---------------------------------------------------------------------------------------
    def _on_edited(self, *_args) -> None:
        self._update_enabled()
        p = self.params()
        self.params_changed.emit(p)
        self._settle.start()

    def _on_settled(self) -> None:
        p = self.params()
        self.params_settled.emit(p)
        if self.live_check.isChecked():
            self.run_requested.emit()

    def params(self) -> dict:
        """The current config (keys as in the class docstring)."""
        strategy = self.strategy_combo.currentData()
        target = self.target_combo.currentData() if strategy == "sa" else None
        out = {
            "strategy": strategy,
            "top_n": int(self.top_n_spin.value()),
            "target": None if target is None else int(target),
            "w": self.w_edit.value(),
            "alpha": self.alpha_edit.value(),
            "betas": tuple(e.value() for e in self.beta_edits),
            "lr": float(self.lr_spin.value()),
            "iterations": int(self.iterations_spin.value()),
            "perceptual": self.perceptual_combo.currentData(),
            "classification_loss": self.classification_combo.currentData(),
            "stop_on_success": not self.keep_going_check.isChecked(),
            "seed": int(self.seed_spin.value()),
        }
        for key, w in self._extra.items():
            out[key] = self._extra_value(key, w)
        return out

    def _extra_value(self, key: str, w: QtWidgets.QWidget):
        kind = self._extra_types[key]
        if kind is bool:
            return bool(w.isChecked())
        if isinstance(w, QtWidgets.QComboBox):
            return w.currentData()
        if isinstance(w, QtWidgets.QLineEdit) and kind is str:
            return w.text()
        return kind(w.value())

    def set_params(self, params: Mapping) -> None:
        """Fill the fields from ``params`` (any subset of the keys) without emitting anything.

        ``targets`` is accepted for ``target``; keys of ``hidden`` are ignored; a key the panel has no
        field for yet gets one when its value is a bool, int, float or str. Raises ValueError for
        unknown keys or values (nothing is changed then).
        """
        p = {}
        for k, v in dict(params).items():
            if k == "targets":
                k, v = "target", (v[0] if isinstance(v, list | tuple) and len(v) else
                                  None if isinstance(v, list | tuple) else v)
            if k in self._hidden:
                continue
            p[k] = tuple(v) if isinstance(v, list) else v
        # a key gets a field when the panel knows it (FIELDS) or the caller's defaults have it; others
        # are typos
        known = {*PARAM_KEYS, *self._extra, *FIELDS, *self._defaults}
        unknown = [k for k in p if k not in known or (k not in PARAM_KEYS and k not in self._extra
                                                      and not isinstance(p[k], bool | int | float | str))]
        if unknown:
            known = [*PARAM_KEYS, *self._extra]
            raise ValueError(f"unknown parameter(s) {sorted(unknown)}; known: {known}")
        for key, values in self._choices.items():
            if key in p and p[key] not in (v for v, _ in values):
                raise ValueError(f"{key} must be one of {[v for v, _ in values]}, got {p[key]!r}")
        if "betas" in p and len(tuple(p["betas"])) != N_BETAS:
            raise ValueError(f"betas must have {N_BETAS} values, got {p['betas']!r}")
        for k, v in p.items():
            if k in self._extra_types and self._extra_types[k] in (int, float) and (
                    isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)):
                raise ValueError(f"{k} must be a finite number, got {v!r}")
        self._check_ranges(p)
        for key in [*EXTRA_KEYS, *p]:  # known extras first, in their order
            if key in p:
                self._ensure_extra(key, p[key])
        widgets = self._classic_widgets() + list(self._extra.values())
        blockers = [QtCore.QSignalBlocker(w) for w in widgets]
        try:
            if "strategy" in p:
                _set_combo_data(self.strategy_combo, p["strategy"], "strategy")
            if "top_n" in p:
                self.top_n_spin.setValue(int(p["top_n"]))
            if "target" in p and p["target"] is not None:
                self._pending_target = int(p["target"])
                idx = self.target_combo.findData(int(p["target"]))
                if idx >= 0:
                    self.target_combo.setCurrentIndex(idx)
            if "w" in p:
                self.w_edit.setValue(p["w"])
            if "alpha" in p:
                self.alpha_edit.setValue(p["alpha"])
            if "betas" in p:
                for e, b in zip(self.beta_edits, p["betas"], strict=True):
                    e.setValue(b)
            if "lr" in p:
                self.lr_spin.setValue(float(p["lr"]))
            if "iterations" in p:
                self.iterations_spin.setValue(int(p["iterations"]))
            if "perceptual" in p:
                _set_combo_data(self.perceptual_combo, p["perceptual"], "perceptual")
            if "classification_loss" in p:
                _set_combo_data(self.classification_combo, p["classification_loss"], "classification_loss")
            if "stop_on_success" in p:
                self.keep_going_check.setChecked(not bool(p["stop_on_success"]))
            if "seed" in p:
                self.seed_spin.setValue(int(p["seed"]))
            for key, w in self._extra.items():
                if key not in p:
                    continue
                v = p[key]
                if self._extra_types[key] is bool:
                    w.setChecked(bool(v))
                elif isinstance(w, QtWidgets.QComboBox):
                    _set_combo_data(w, v, key)
                elif isinstance(w, QtWidgets.QLineEdit) and self._extra_types[key] is str:
                    w.setText(str(v))
                else:
                    w.setValue(self._extra_types[key](v))
        finally:
            for b in blockers:
                b.unblock()
        self._update_enabled()

    def _check_ranges(self, p: dict) -> None:
        """Out-of-range values raise instead of being clamped silently by the spin boxes."""
        checks = []
        for key, edit in (("w", self.w_edit.spin), ("alpha", self.alpha_edit.spin)):
            if key in p:
                checks.append((key, p[key], edit))
        if "betas" in p:
            for k, (b, e) in enumerate(zip(p["betas"], self.beta_edits, strict=True)):
                checks.append((f"betas[{k}]", b, e.spin))
        boxes = (("lr", self.lr_spin), ("iterations", self.iterations_spin), ("top_n", self.top_n_spin),
                 ("seed", self.seed_spin))
        for key, box in boxes:
            if key in p:
                checks.append((key, p[key], box))
        for key, value, box in checks:
            if not box.minimum() <= float(value) <= box.maximum():
                raise ValueError(f"{key} must be in [{box.minimum():g}, {box.maximum():g}], got {value!r}")

    def set_class_names(self, names) -> None:
        """Classes offered as SA targets (index = class id); keeps the selected target if it still exists."""
        self._class_names = [str(n) for n in names]
        current = self.target_combo.currentData()
        if current is None:
            current = self._pending_target
        with QtCore.QSignalBlocker(self.target_combo):
            self.target_combo.clear()
            for i, n in enumerate(self._class_names):
                self.target_combo.addItem(f"{i}: {n}", i)
            idx = self.target_combo.findData(current) if current is not None else -1
            self.target_combo.setCurrentIndex(idx if idx >= 0 else (0 if self._class_names else -1))
        self._update_enabled()

    # --- run state -------------------------------------------------------------------------------------
    def is_live(self) -> bool:
        return self.live_check.isChecked()

    def set_live(self, on: bool) -> None:
        self.live_check.setChecked(bool(on))

    def set_running(self, running: bool) -> None:
        """Run is enabled while idle, Stop while running."""
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(bool(running))

    def set_progress(self, i: int, n: int) -> None:
        """Show ``i`` of ``n`` iterations."""
        n = max(int(n), 1)
        v = int(min(max(i, 0), n))
        if self.progress.maximum() == n and self.progress.value() == v:
            return
        # QProgressBar.setValue repaints *synchronously* (QWidget::repaint) whenever its text changes; in a
        # window with a GL view that is a whole-window composition inside the caller (10-40 ms under
        # software GL, benchmarks/gui_latency.py). With updates off it only schedules a normal update.
        self.progress.setUpdatesEnabled(False)
        try:
            self.progress.setRange(0, n)
            self.progress.setValue(v)
        finally:
            self.progress.setUpdatesEnabled(True)
        self.progress.update()
