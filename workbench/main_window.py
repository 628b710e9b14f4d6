"""The workbench's main window: wiring only.

The truth lives in :class:`~workbench.state.WorkbenchState`; each dock renders from it
(``data_dock``, ``model_dock``, ``attack_dock``, ``plots_dock``, ``results_dock``, ``history_dock``,
``transfer_dock``, ``export_dock``; the 3D view in ``view_panel``). Slow work runs in threads:
datasets and models through :class:`~workbench.loading.Loader`, the attack through
:class:`~workbench.attack_runner.AttackRunner`, the black-box predictions through
:class:`~workbench.transfer.TransferController`, clips through :class:`~workbench.exporter.Exporter`.
This module builds them, connects the docks' requests to them, restores and saves the settings, and
shows errors (our words, the library's text under "details"), once.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt, Signal, Slot

from . import gui_gc
from .attack_dock import AttackDock
from .attack_runner import AttackRunner
from .data_dock import DataDock
from .errors import Problem, show_problem
from .export_dock import ExportDock
from .exporter import Exporter
from .history_dock import HistoryDock
from .live_updates import LiveUpdates
from .loading import Loader
from .menus import build_menus
from .model_dock import ModelDock
from .plots_dock import PlotsDock
from .results_dock import ResultsDock
from .runtime import cuda_available
from .settings import Settings
from .state import ModelStatus, WorkbenchState
from .tasks import TaskRunner
from .transfer import TransferController
from .transfer_dock import TransferDock
from .view_panel import ViewPanel

__all__ = ["MainWindow"]

DATASET_FILTER = "Motion datasets (*.npz *.npy *.bvh *.amc *.asf *.skeleton *.pkl);;All files (*)"
CHECKPOINT_FILTER = "Checkpoints (*.pt *.pth *.ckpt);;All files (*)"


class MainWindow(QtWidgets.QMainWindow):
    """SMART Workbench. ``settings``: a :class:`Settings` (tests give one under ``tmp_path``);
    ``start_demo``: the demo opened at start (None: nothing). Signals: ``ready()`` once the first
    dataset and its model are in (or failed), ``error_shown(str)`` with every error's text;
    ``attack_finished`` / ``export_finished`` are the runner's and the exporter's."""

    ready = Signal()
    error_shown = Signal(str)

    def __init__(self, settings: Settings, *, start_demo: str | None = "demo", parent=None):
        super().__init__(parent)
        self.settings = settings
        self.modal_errors = True  # False: errors go to the status bar and error_shown only (screenshots)
        self._started = False
        self.setWindowTitle("SMART Workbench")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        st = self.state = WorkbenchState(self)
        self.tasks = TaskRunner(lambda p: self.show_error("Error", p), self)
        # docks and the view: each renders from the state
        self.centre = ViewPanel(st)
        self.setCentralWidget(self.centre)
        self.playback_actions = self.centre.playback.create_actions(self)
        self.data_dock = DataDock(st, self)
        self.model_dock = ModelDock(st, self)
        self.attack_dock = AttackDock(st, self)
        self.plots_dock = PlotsDock(st, self)
        self.results_dock = ResultsDock(st, self)
        self.history_dock = HistoryDock(st, self)
        self.transfer_dock = TransferDock(st, self)
        self.export_dock = ExportDock(self)
        self._arrange()
        # controllers
        self.loader = Loader(st, self.tasks, settings, self.show_error, self.model_dock.device, self)
        self.runner = AttackRunner(st, self.show_error, self)
        self.transfer = TransferController(st, self.tasks, self.model_dock.device, self,
                                           between=self.runner.run_between)
        self.exporter = Exporter(st, self.export_dock, self.plots_dock, self.results_dock, settings,
                                 self.show_error, self)
        self.live = LiveUpdates(st, self.plots_dock, self.attack_dock, self.centre, self)
        self.attack_finished = self.runner.finished
        self.attack_failed = self.runner.failed
        self.export_finished = self.exporter.finished
        self.actions_by_name = build_menus(self)
        self._connect()
        self._restore_settings()
        self.statusBar().showMessage("Ready")
        if start_demo is not None:
            QtCore.QTimer.singleShot(0, lambda: self.open_demo(start_demo))

    def docks(self) -> list[QtWidgets.QDockWidget]:
        return [self.data_dock, self.model_dock, self.attack_dock, self.plots_dock, self.results_dock,
                self.history_dock, self.transfer_dock, self.export_dock]

    def _arrange(self) -> None:
        left, right, bottom = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                               Qt.DockWidgetArea.BottomDockWidgetArea)
        for dock, area in ((self.data_dock, left), (self.model_dock, left), (self.export_dock, left),
                           (self.attack_dock, right), (self.plots_dock, right), (self.results_dock, bottom),
                           (self.history_dock, bottom), (self.transfer_dock, bottom)):
            self.addDockWidget(area, dock)
        self.tabifyDockWidget(self.results_dock, self.history_dock)
        self.tabifyDockWidget(self.history_dock, self.transfer_dock)
        self.tabifyDockWidget(self.model_dock, self.export_dock)
        self.results_dock.raise_()
        self.model_dock.raise_()
        self.setCorner(Qt.Corner.BottomLeftCorner, left)
        self.setCorner(Qt.Corner.BottomRightCorner, right)
        self.resizeDocks([self.data_dock, self.attack_dock], [330, 360], Qt.Orientation.Horizontal)
        self.resizeDocks([self.results_dock], [300], Qt.Orientation.Vertical)
        self.resizeDocks([self.data_dock, self.model_dock], [600, 200], Qt.Orientation.Vertical)
        self.resizeDocks([self.attack_dock, self.plots_dock], [560, 360], Qt.Orientation.Vertical)
        self.resize(1560, 960)

    def _connect(self) -> None:
        st, data, model = self.state, self.data_dock, self.model_dock
        data.demo_requested.connect(self.open_demo)
        data.open_file_requested.connect(self.open_dataset_dialog)
        data.open_folder_requested.connect(self.open_folder_dialog)
        model.model_requested.connect(self.load_model)
        model.checkpoint_requested.connect(self.open_checkpoint_dialog)
        model.cancel_requested.connect(self.loader.cancel_model)
        model.device_changed.connect(self._on_device)
        panel = self.attack_dock.panel
        panel.run_requested.connect(self.run_attack)
        panel.stop_requested.connect(self.stop_attack)
        self.history_dock.compare_requested.connect(self.centre.compare)
        self.history_dock.params_requested.connect(panel.set_params)
        self.centre.view.mode_changed.connect(self._on_view_mode)
        self.centre.playback.speed_changed.connect(self._on_speed)
        for src in (self.loader, self.runner, self.exporter):
            src.status.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        self.loader.settled.connect(self._on_settled)
        st.dataset_changed.connect(self._on_dataset)

    # ------------------------------------------------------------------------------------- settings
    def _restore_settings(self) -> None:
        s = self.settings
        if s.geometry:
            self.restoreGeometry(QtCore.QByteArray(s.geometry))
        if s.window_state:
            self.restoreState(QtCore.QByteArray(s.window_state))
        if s.view_mode in ("overlay", "side"):
            self.centre.view.set_mode(s.view_mode)
        self.centre.playback.set_speed(s.playback_speed)
        if s.last_device == "cuda" and cuda_available():
            self.model_dock.set_device("cuda")
        self.export_dock.restore(s)
        if s.last_model and Path(s.last_model).is_file():
            self.loader.user_checkpoints.append(s.last_model)  # offered wherever it fits
        self._refresh_recent()

    def save_settings(self) -> None:
        s = self.settings
        s.geometry = bytes(self.saveGeometry().data())
        s.window_state = bytes(self.saveState().data())
        s.last_device = self.model_dock.device()
        self.export_dock.save(s)
        try:
            s.save()
        except OSError as exc:  # settings are a convenience: never fail a close on them
            self.statusBar().showMessage(f"Could not save the settings ({exc})")

    def _refresh_recent(self) -> None:
        self.data_dock.set_recent(self.settings.recent_files, self.open_dataset)

    def _on_view_mode(self, mode: str) -> None:
        self.settings.view_mode = mode
        self.export_dock.set_mode(mode)

    def _on_speed(self, speed: float) -> None:
        self.settings.playback_speed = float(speed)

    def _on_device(self, device: str) -> None:
        self.settings.last_device = device

    def _on_dataset(self) -> None:
        self.setWindowTitle(f"SMART Workbench — {self.state.title}")
        self._refresh_recent()

    def _on_settled(self) -> None:
        if not self._started:
            self._started = True
            QtCore.QTimer.singleShot(0, self.ready.emit)
        if self.state.status == ModelStatus.READY:  # the first time: one full collection (gui_gc.settle)
            QtCore.QTimer.singleShot(0, gui_gc.settle)

    # --------------------------------------------------------------------------------------- errors
    def show_error(self, title: str, problem: Problem | str, hint: str = "") -> None:
        """Say what happened and what to do, once (details folded away); the state stays as it was."""
        if isinstance(problem, str):
            problem = Problem(problem)
        self.statusBar().showMessage(f"{title}: {problem.first_line()}", 10_000)
        text = show_problem(self, title, problem, hint, modal=self.modal_errors)
        self.error_shown.emit(text)

    # -------------------------------------------------------------------------------------- actions
    def open_demo(self, name: str, model: str | None = None) -> None:
        self.loader.open_demo(name, model)

    def open_dataset(self, path: str | Path, model: str | None = None) -> None:
        """Open a dataset file or folder (then ``model``: a checkpoint or a shipped model's name)."""
        self.loader.open_dataset(path, model, parent=self)

    def load_model(self, source: str) -> None:
        self.loader.load_model(source)

    def _start_dir(self) -> str:
        for f in self.settings.recent_files:
            if not f.startswith("demo:") and Path(f).parent.is_dir():
                return str(Path(f).parent)
        return str(Path.home())

    def open_dataset_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open dataset", self._start_dir(),
                                                        DATASET_FILTER)
        if path:
            self.open_dataset(path)

    def open_folder_dialog(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Open dataset folder", self._start_dir())
        if path:
            self.open_dataset(path)

    def open_checkpoint_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open checkpoint", self._start_dir(),
                                                        CHECKPOINT_FILTER)
        if path:
            self.load_model(path)

    def select_motion(self, i: int) -> None:
        self.state.select(int(i))

    @Slot()
    def run_attack(self) -> None:
        """Attack the selected motion with the attack panel's settings (live mode: a running attack is
        replaced). When the state does not allow it, say why (a dialog, or the status bar in live mode)."""
        ok, why = self.state.can_attack()
        if not ok:
            if self.attack_dock.panel.is_live():  # live restarts must not pile up dialogs
                self.statusBar().showMessage(why, 8000)
            else:
                self.show_error("Cannot attack", Problem(why))
            return
        try:
            config = self.attack_dock.config(device=self.model_dock.device())
        except ValueError as exc:
            self.show_error("Invalid attack parameters", Problem(str(exc)))
            return
        self.runner.run(self.attack_dock.panel.params(), config, restart=self.run_attack)

    @Slot()
    def stop_attack(self) -> None:
        self.runner.stop()

    def export(self, kind: str, path: str | Path) -> None:
        self.exporter.export(kind, path)

    def busy(self) -> bool:
        """True while a load, an evaluation or an attack runs."""
        return self.tasks.running() or self.runner.running()

    # --------------------------------------------------------------------------------- drag & drop
    def dragEnterEvent(self, ev: QtGui.QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev: QtGui.QDropEvent) -> None:  # noqa: N802 - Qt API
        urls = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if not urls:
            return
        ev.acceptProposedAction()
        if Path(urls[0]).suffix.lower() in (".pt", ".pth", ".ckpt"):
            self.load_model(urls[0])
        else:
            self.open_dataset(urls[0])

    # --------------------------------------------------------------------------------------- close
    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Stop every worker and any export; safe to call twice."""
        self.exporter.shutdown()
        self.runner.shutdown(timeout_ms)
        self.tasks.shutdown(timeout_ms)

    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.save_settings()
        self.shutdown()
        self.centre.playback.pause()
        super().closeEvent(ev)
