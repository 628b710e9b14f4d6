"""The Attack dock: the preset (natural, the default, or the paper's setting: :data:`engine.attack.PRESETS`)
and the parameter panel. Run is enabled only when the state allows an attack; otherwise its tooltip says
why. The panel shows the preset's values (read from :class:`engine.attack.AttackConfig`, no copy of a
default here); settings the panel does not show keep the preset's values."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from engine.attack import AttackConfig
from widgets.parameter_panel import ParameterPanel

from .attack_params import config_from_params, params_from_config, presets
from .state import WorkbenchState

__all__ = ["AttackDock"]

PRESET_TITLES = {"natural": "Natural (default)", "paper": "Paper (CVPR 2021, Eq. 2–8 as written)"}


class AttackDock(QtWidgets.QDockWidget):
    def __init__(self, state: WorkbenchState, parent=None):
        super().__init__("Attack", parent)
        self.setObjectName("dock_attack")
        self.state = state
        self._presets = presets()
        w = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(w)
        col.setContentsMargins(0, 0, 0, 0)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(9, 6, 9, 0)
        self.preset_combo = QtWidgets.QComboBox()
        for key in self._presets:
            self.preset_combo.addItem(PRESET_TITLES.get(key, key), key)
        self.preset_combo.setToolTip("Natural: the paper's objective, tuned so that the adversarial motion "
                                     "looks natural (the default). Paper: the paper's exact setting.")
        row.addWidget(QtWidgets.QLabel("Preset"))
        row.addWidget(self.preset_combo, 1)
        col.addLayout(row)
        self.panel = ParameterPanel()
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        col.addWidget(scroll, 1)
        self.setWidget(w)
        self.preset_combo.currentIndexChanged.connect(lambda _i: self.apply_preset(self.preset()))
        self.apply_preset(self.preset())
        for sig in (state.model_changed, state.selection_changed, state.run_started, state.run_ended,
                    state.dataset_changed):
            sig.connect(self.render)
        state.dataset_changed.connect(self._render_classes)
        state.runs_changed.connect(self._render_progress)

    def preset(self) -> str:
        return self.preset_combo.currentData() or "natural"

    def set_preset(self, key: str) -> None:
        idx = self.preset_combo.findData(key)
        if idx < 0:
            raise ValueError(f"preset must be one of {list(self._presets)}, got {key!r}")
        self.preset_combo.setCurrentIndex(idx)
        self.apply_preset(key)

    def base_config(self) -> AttackConfig:
        """The preset's config (the fields the panel does not show come from here)."""
        return self._presets.get(self.preset(), AttackConfig)()

    def apply_preset(self, key: str) -> None:
        with QtCore.QSignalBlocker(self.preset_combo):
            self.preset_combo.setCurrentIndex(max(self.preset_combo.findData(key), 0))
        self.panel.set_params(params_from_config(self._presets.get(key, AttackConfig)()))

    def config(self, device: str | None = None, params: dict | None = None) -> AttackConfig:
        """The config to run: the preset with the panel's values (ValueError in our words)."""
        return config_from_params(self.panel.params() if params is None else params, self.base_config(),
                                  device=device)

    def render(self) -> None:
        running = self.state.running is not None
        ok, why = self.state.can_attack()
        self.panel.set_running(running)
        self.panel.run_button.setEnabled(ok and not running)
        self.panel.run_button.setToolTip("Run the attack on the selected motion (Ctrl+R)" if ok else why)

    def _render_classes(self) -> None:
        self.panel.set_class_names(list(self.state.dataset.class_names))

    def _render_progress(self) -> None:
        rec = self.state.shown
        if rec is not None:
            self.panel.set_progress(rec.iterations, max(int(rec.params.get("iterations", 1)), 1))
        elif self.state.running is None:
            self.panel.set_progress(0, 1)
