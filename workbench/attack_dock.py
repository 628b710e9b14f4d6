"""The Attack dock: the parameter panel with the presets of :data:`engine.attack.PRESETS` (natural, the
default, and the paper's setting); every field and default comes from :class:`engine.attack.AttackConfig`
(no copy here). Run is enabled only when the state allows an attack; otherwise its tooltip says why."""

from __future__ import annotations

from PySide6 import QtWidgets

from engine.attack import AttackConfig
from widgets.parameter_panel import ParameterPanel

from .attack_params import config_from_params, params_from_config, presets
from .state import WorkbenchState

__all__ = ["AttackDock"]



class AttackDock(QtWidgets.QDockWidget):
    def __init__(self, state: WorkbenchState, parent=None):
        super().__init__("Attack", parent)
        self.setObjectName("dock_attack")
        self.state = state
        self._presets = presets()
        self.panel = ParameterPanel(
            defaults=params_from_config(AttackConfig()),
            presets={k: params_from_config(make()) for k, make in self._presets.items()})
        self.panel.preset_combo.setToolTip("natural: the paper's objective, tuned so that the adversarial "
                                           "motion looks natural (the default); paper: the paper's exact "
                                           "setting (Eq. 2–8 as written)")
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setWidget(scroll)
        for sig in (state.model_changed, state.selection_changed, state.run_started, state.run_ended,
                    state.dataset_changed):
            sig.connect(self.render)
        state.dataset_changed.connect(self._render_classes)
        state.runs_changed.connect(self._render_progress)

    def preset_names(self) -> list[str]:
        return list(self._presets)

    def preset(self) -> str:
        return self.panel.preset() or "natural"

    def set_preset(self, key: str) -> None:
        self.panel.set_preset(key)

    def base_config(self) -> AttackConfig:
        """The selected preset's config (fields the panel does not show come from here)."""
        return self._presets.get(self.preset(), AttackConfig)()

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
