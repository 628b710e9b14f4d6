"""Attack parameter panel: strategy, loss weights (sliders + spin boxes), optimiser settings, Run/Stop.

Binding (STYLE.md W1): every user edit emits ``params_changed(dict)`` with the whole config;
:meth:`ParameterPanel.set_params` fills the fields under ``QSignalBlocker`` and emits nothing, so a model ->
widget update never bounces back. Slider and spin box of one weight are kept in step the same way.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import Qt, Signal

__all__ = ["DEFAULT_PARAMS", "PARAM_KEYS", "ParameterPanel", "SliderSpin"]

STRATEGIES = (
    ("ab", "AB (any but the true class)"),
    ("abn", "ABN (one of the top N)"),
    ("sa", "SA (target class)"),
)
PERCEPTUAL = ("smart", "l2", "l2_acc", "l2_bone")
CLASSIFICATION = ("ce", "margin")

DEFAULT_PARAMS: dict = {
    "strategy": "ab",
    "top_n": 3,
    "target": None,
    "w": 0.4,
    "alpha": 0.3,
    "betas": (0.6, 0.0, 0.4, 0.0, 0.0),
    "lr": 0.005,
    "iterations": 300,
    "perceptual": "smart",
    "classification_loss": "ce",
    "stop_on_success": True,
    "seed": 0,
}
PARAM_KEYS = tuple(DEFAULT_PARAMS)


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


class ParameterPanel(QtWidgets.QWidget):
    """Attack settings and Run/Stop.

    Signals: ``params_changed(dict)`` on every user edit (the full :meth:`params` dict);
    ``params_settled(dict)`` once the user has paused for ``settle_ms`` (debounced);
    ``run_requested()`` (Run button, and, while *live* is on, after each settled change: the receiver
    restarts a running attack); ``stop_requested()``; ``live_changed(bool)``.

    Keys of the dict: strategy ('ab'|'abn'|'sa'), top_n (int), target (int or None; None unless the
    strategy is 'sa'), w, alpha (floats), betas (tuple of 5 floats), lr (float), iterations (int),
    perceptual ('smart'|'l2'|'l2_acc'|'l2_bone'), classification_loss ('ce'|'margin'),
    stop_on_success (bool; the check box "keep optimising after success" is its negation), seed (int).
    """

    params_changed = Signal(object)
    params_settled = Signal(object)
    run_requested = Signal()
    stop_requested = Signal()
    live_changed = Signal(bool)

    def __init__(self, parent=None, *, settle_ms: int = 400):
        super().__init__(parent)
        self._class_names: list[str] = []
        self._pending_target: int | None = None
        self._settle = QtCore.QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(int(settle_ms))
        self._settle.timeout.connect(self._on_settled)
        self._build()
        self.set_params(DEFAULT_PARAMS)
        self.set_running(False)

    # --- UI --------------------------------------------------------------------------------------------
    def _build(self) -> None:
        form = QtWidgets.QFormLayout()
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.strategy_combo = _combo(STRATEGIES)
        self.top_n_spin = QtWidgets.QSpinBox()
        self.top_n_spin.setRange(1, 1000)
        self.top_n_spin.setToolTip("ABN: the adversarial label must be among the model's top N")
        self.target_combo = QtWidgets.QComboBox()
        self.target_combo.setToolTip("SA: the target class")
        form.addRow("Strategy", self.strategy_combo)
        form.addRow("Top N", self.top_n_spin)
        form.addRow("Target", self.target_combo)

        self.w_edit = SliderSpin()
        self.w_edit.setToolTip("w: weight of the classification loss against the perceptual loss")
        self.alpha_edit = SliderSpin()
        self.alpha_edit.setToolTip("α: weight of the bone-length term against the dynamics term")
        form.addRow("w", self.w_edit)
        form.addRow("α", self.alpha_edit)
        self.beta_edits = []
        for k in range(5):
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
        form.addRow("Learning rate", self.lr_spin)
        form.addRow("Iterations", self.iterations_spin)

        self.perceptual_combo = _combo((p, p) for p in PERCEPTUAL)
        self.classification_combo = _combo((c, c) for c in CLASSIFICATION)
        form.addRow("Perceptual loss", self.perceptual_combo)
        form.addRow("Classification loss", self.classification_combo)
        self.keep_going_check = QtWidgets.QCheckBox("Keep optimising after success")
        form.addRow(self.keep_going_check)
        self.seed_spin = QtWidgets.QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setKeyboardTracking(False)
        form.addRow("Seed", self.seed_spin)

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
        self.run_button.clicked.connect(self.run_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.live_check.toggled.connect(self.live_changed)

    def _update_enabled(self) -> None:
        strategy = self.strategy_combo.currentData()
        self.top_n_spin.setEnabled(strategy == "abn")
        self.target_combo.setEnabled(strategy == "sa" and self.target_combo.count() > 0)

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
        return {
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

    def set_params(self, params: dict) -> None:
        """Fill the fields from ``params`` (any subset of the keys) without emitting anything.

        Raises ValueError for unknown keys or values (nothing is changed then).
        """
        unknown = set(params) - set(PARAM_KEYS)
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)}; known: {list(PARAM_KEYS)}")
        p = dict(params)
        if "strategy" in p and p["strategy"] not in dict(STRATEGIES):
            raise ValueError(f"strategy must be one of {[s for s, _ in STRATEGIES]}, got {p['strategy']!r}")
        if "perceptual" in p and p["perceptual"] not in PERCEPTUAL:
            raise ValueError(f"perceptual must be one of {list(PERCEPTUAL)}, got {p['perceptual']!r}")
        if "classification_loss" in p and p["classification_loss"] not in CLASSIFICATION:
            raise ValueError(
                f"classification_loss must be one of {list(CLASSIFICATION)}, got {p['classification_loss']!r}"
            )
        if "betas" in p and len(tuple(p["betas"])) != 5:
            raise ValueError(f"betas must have 5 values, got {p['betas']!r}")
        self._check_ranges(p)
        widgets = [self.strategy_combo, self.top_n_spin, self.target_combo, self.w_edit, self.alpha_edit,
                   *self.beta_edits, self.lr_spin, self.iterations_spin, self.perceptual_combo,
                   self.classification_combo, self.keep_going_check, self.seed_spin]
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
