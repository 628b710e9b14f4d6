"""The workbench's main window: docks for data, model, attack, live plots, results, run history and export
around the 3D view and its playback bar.

``MainWindow._connect()`` is the only place where widgets meet the workers (STYLE.md B1). Everything slow
(dataset loading, model loading + evaluation over the dataset, the attack) runs in a QThread; the GUI thread
only draws. Every error reaches the user as a dialog (:meth:`MainWindow.show_error`) and leaves the loaded
state as it was.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt, Signal, Slot

from engine import datasets as datasets_mod
from engine import demo as demo_mod
from engine.attack import StepReport
from widgets.displacement_chart import DisplacementChart
from widgets.loss_plot import LossPlot
from widgets.parameter_panel import ParameterPanel
from widgets.playback import PlaybackBar
from widgets.probability_chart import ProbabilityBars
from widgets.skeleton_view import SkeletonView

from . import export as export_mod
from .render import ClipJob, make_export_view, render_clip
from .session import (
    LoadedModel,
    RunRecord,
    check_compatible,
    config_from_params,
    cuda_available,
    evaluate,
    load_model,
    make_record,
    metric_rows,
    warm_up,
)
from .settings import Settings
from .worker import AttackWorker, TaskWorker, start_in_thread, stop_all, stop_thread

__all__ = ["MainWindow"]

DATASET_FILTER = ("Motion datasets (*.npz *.npy *.bvh *.amc *.asf *.skeleton *.pkl);;All files (*)")
CHECKPOINT_FILTER = "Checkpoints (*.pt *.pth *.ckpt);;All files (*)"
LOSS_TERMS = ("total", "Lc", "Lp", "l_dyn", "l_bl")
PREFERRED_MODELS = ("mlp", "stgcn", "hrnn")


def _top_k(p: np.ndarray, k: int = 5) -> list[int]:
    return [int(i) for i in np.argsort(-p)[:k]]


class MainWindow(QtWidgets.QMainWindow):
    """SMART Workbench. ``settings``: a :class:`Settings` (tests give one under ``tmp_path``).

    ``start_demo``: the demo opened at start (None: start empty). Signals for scripts and tests:
    ``dataset_changed(object)``, ``model_changed(object)`` (after evaluation), ``motion_selected(int)``,
    ``attack_started()``, ``attack_finished(object)`` (a RunRecord), ``attack_failed(str)``,
    ``export_finished(str)``, ``error_shown(str)``, ``ready()`` (the first dataset and its model are
    loaded, or failed to load).
    """

    dataset_changed = Signal(object)
    model_changed = Signal(object)
    motion_selected = Signal(int)
    attack_started = Signal()
    attack_finished = Signal(object)
    attack_failed = Signal(str)
    export_finished = Signal(str)
    error_shown = Signal(str)
    ready = Signal()

    #: Each group of live widgets (curves; progress + bars; the adversarial skeleton) redraws at most
    #: this often while an attack runs; the groups take turns.
    UI_HZ = 8
    #: The attack thread's nice value over the GUI's (Linux): the GUI wins the CPU on small machines.
    WORKER_NICE = 10

    def __init__(self, settings: Settings, *, start_demo: str | None = "demo", parent=None):
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("SMART Workbench")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        # state
        self.dataset = None
        self.dataset_source = ""
        self.demo_name: str | None = None
        self.model: LoadedModel | None = None
        self.probabilities: np.ndarray | None = None  # (N, C) clean probabilities of self.model
        self.current_index: int | None = None
        self.runs: dict[tuple, list[RunRecord]] = {}
        self.shown_run: RunRecord | None = None
        self._comparing = False  # the view shows two runs' adversarial motions (Play A vs B)
        self.device = "cpu"
        self._attack_thread: QtCore.QThread | None = None
        self._attack_worker: AttackWorker | None = None
        self._attack_motion: tuple | None = None
        self._attack_params: dict | None = None
        self._attack_t0 = 0.0
        self._restart_pending = False
        self._flip_marked = False
        self._tasks: dict[str, tuple[QtCore.QThread, TaskWorker]] = {}
        self._export_view: SkeletonView | None = None
        self._export_gen = None
        self._latest_report: StepReport | None = None
        self._ui_timer = QtCore.QTimer(self)
        self._ui_timer.setSingleShot(True)
        self._ui_timer.setInterval(int(1000 / (3 * self.UI_HZ)))
        self._ui_phase = 0
        self._ui_timer.timeout.connect(self._ui_tick)
        self._export_timer = QtCore.QTimer(self)
        self._export_timer.setInterval(0)
        self._export_timer.timeout.connect(self._export_tick)
        self._export_dialog: QtWidgets.QProgressDialog | None = None
        self._export_path = ""
        self._starting = True  # until the first dataset (and its model) are in or failed: then ``ready``
        #: False: errors go to the status bar and ``error_shown`` only (screenshot mode, scripts)
        self.modal_errors = True
        self._closing = False

        self._build()
        self._connect()
        self._restore_settings()
        self.statusBar().showMessage("Ready")
        if start_demo is not None:
            QtCore.QTimer.singleShot(0, lambda: self.open_demo(start_demo))

    # ============================================================================================ UI
    def _build(self) -> None:
        # --- centre: 3D view + playback -------------------------------------------------------------
        centre = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(centre)
        col.setContentsMargins(2, 2, 2, 2)
        self.view = SkeletonView()
        self.playback = PlaybackBar()
        col.addWidget(self.view, 1)
        col.addWidget(self.playback)
        self.setCentralWidget(centre)
        self.playback_actions = self.playback.create_actions(self)

        # --- Data dock ------------------------------------------------------------------------------
        data = QtWidgets.QWidget()
        dl = QtWidgets.QVBoxLayout(data)
        row = QtWidgets.QHBoxLayout()
        self.demo_buttons: dict[str, QtWidgets.QPushButton] = {}
        for name in demo_mod.demo_names():
            b = QtWidgets.QPushButton("Demo" if name == "demo" else "HDM05 demo")
            b.setToolTip(demo_mod.demo_title(name))
            b.clicked.connect(lambda _c=False, n=name: self.open_demo(n))
            row.addWidget(b)
            self.demo_buttons[name] = b
        self.open_button = QtWidgets.QToolButton()
        self.open_button.setText("Open…")
        self.open_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.open_button.clicked.connect(self.open_dataset_dialog)
        self.recent_menu = QtWidgets.QMenu("Recent", self)
        open_menu = QtWidgets.QMenu(self)
        open_menu.addAction("Open file…", self.open_dataset_dialog)
        open_menu.addAction("Open folder…", self.open_folder_dialog)
        open_menu.addMenu(self.recent_menu)
        self.open_button.setMenu(open_menu)
        row.addWidget(self.open_button)
        dl.addLayout(row)
        self.dataset_label = QtWidgets.QLabel("No dataset")
        self.dataset_label.setWordWrap(True)
        dl.addWidget(self.dataset_label)
        frow = QtWidgets.QHBoxLayout()
        self.filter_edit = QtWidgets.QLineEdit()
        self.filter_edit.setPlaceholderText("Filter (class, subject, #)…")
        self.filter_edit.setClearButtonEnabled(True)
        self.correct_only = QtWidgets.QCheckBox("Attack candidates only")
        self.correct_only.setToolTip("Show only motions the model classifies correctly (as in the paper)")
        frow.addWidget(self.filter_edit, 1)
        frow.addWidget(self.correct_only)
        dl.addLayout(frow)
        self.motion_model = _MotionTableModel(self)
        self.motion_proxy = _MotionFilter(self)
        self.motion_proxy.setSourceModel(self.motion_model)
        self.motion_table = QtWidgets.QTableView()
        self.motion_table.setModel(self.motion_proxy)
        self.motion_table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.motion_table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.motion_table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.motion_table.verticalHeader().hide()
        self.motion_table.verticalHeader().setDefaultSectionSize(20)
        hh = self.motion_table.horizontalHeader()
        hh.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        for c in (0, 2):
            hh.setSectionResizeMode(c, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(3, QtWidgets.QHeaderView.ResizeMode.Interactive)
        hh.resizeSection(3, 64)  # "✓" or "✗ <predicted class>" (elided; the tooltip has it all)
        dl.addWidget(self.motion_table, 1)
        self.motion_info = QtWidgets.QLabel("")
        self.motion_info.setWordWrap(True)
        self.motion_info.setTextFormat(Qt.TextFormat.RichText)
        self.motion_info.setMinimumHeight(60)
        dl.addWidget(self.motion_info)
        self.data_dock = self._dock("Data", "data", data, Qt.DockWidgetArea.LeftDockWidgetArea)

        # --- Model dock -----------------------------------------------------------------------------
        mw = QtWidgets.QWidget()
        ml = QtWidgets.QFormLayout(mw)
        mrow = QtWidgets.QHBoxLayout()
        self.model_combo = QtWidgets.QComboBox()
        self.model_combo.setToolTip("Shipped models of the current demo")
        self.model_open_button = QtWidgets.QPushButton("Checkpoint…")
        self.model_open_button.setToolTip("Open a checkpoint file (.pt)")
        mrow.addWidget(self.model_combo, 1)
        mrow.addWidget(self.model_open_button)
        ml.addRow("Model", mrow)
        self.device_combo = QtWidgets.QComboBox()
        self.device_combo.addItem("CPU", "cpu")
        self.device_combo.addItem("CUDA", "cuda")
        if not cuda_available():
            item = self.device_combo.model().item(1)
            item.setEnabled(False)
            self.device_combo.setItemData(1, "CUDA is not available on this machine",
                                          Qt.ItemDataRole.ToolTipRole)
        ml.addRow("Device", self.device_combo)
        self.model_status = QtWidgets.QLabel("No model")
        self.model_status.setWordWrap(True)
        ml.addRow(self.model_status)
        prow = QtWidgets.QHBoxLayout()
        self.eval_progress = QtWidgets.QProgressBar()
        self.eval_progress.setFormat("evaluating %v / %m")
        self.eval_cancel = QtWidgets.QPushButton("Cancel")
        prow.addWidget(self.eval_progress, 1)
        prow.addWidget(self.eval_cancel)
        self.eval_row = QtWidgets.QWidget()
        self.eval_row.setLayout(prow)
        self.eval_row.hide()
        ml.addRow(self.eval_row)
        self.model_dock = self._dock("Model", "model", mw, Qt.DockWidgetArea.LeftDockWidgetArea)

        # --- Attack dock ----------------------------------------------------------------------------
        self.panel = ParameterPanel()
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.attack_dock = self._dock("Attack", "attack", scroll, Qt.DockWidgetArea.RightDockWidgetArea)

        # --- Live plots dock ------------------------------------------------------------------------
        # redrawn by the window's UI tick (all live widgets in one repaint), not by the plot's own timer
        self.loss_plot = LossPlot(terms=LOSS_TERMS, refresh_ms=60_000)
        self.prob_bars = ProbabilityBars()
        plots = QtWidgets.QWidget()
        pl = QtWidgets.QVBoxLayout(plots)
        pl.setContentsMargins(2, 2, 2, 2)
        top = QtWidgets.QHBoxLayout()
        self.log_check = QtWidgets.QCheckBox("Log scale")
        top.addWidget(QtWidgets.QLabel("Loss"))
        top.addStretch(1)
        top.addWidget(self.log_check)
        pl.addLayout(top)
        split = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.loss_plot)
        split.addWidget(self.prob_bars)
        pl.addWidget(split, 1)
        self.plots_dock = self._dock("Live plots", "plots", plots, Qt.DockWidgetArea.RightDockWidgetArea)

        # --- Results dock ---------------------------------------------------------------------------
        res = QtWidgets.QWidget()
        rh = QtWidgets.QHBoxLayout(res)
        left = QtWidgets.QVBoxLayout()
        self.result_label = QtWidgets.QLabel("No attack yet")
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.TextFormat.RichText)
        left.addWidget(self.result_label)
        self.metrics_form = QtWidgets.QFormLayout()
        self.metric_labels: dict[str, QtWidgets.QLabel] = {}
        left.addLayout(self.metrics_form)
        left.addStretch(1)
        lw = QtWidgets.QWidget()
        lw.setLayout(left)
        lw.setMinimumWidth(300)
        lw.setMaximumWidth(420)
        rh.addWidget(lw)
        self.disp_chart = DisplacementChart()
        self.disp_chart.setMinimumHeight(200)
        small = QtGui.QFont()
        small.setPixelSize(9)
        self.disp_chart.getAxis("left").setStyle(tickFont=small)
        rh.addWidget(self.disp_chart, 1)
        self.results_dock = self._dock("Results", "results", res, Qt.DockWidgetArea.BottomDockWidgetArea)

        # --- History dock ---------------------------------------------------------------------------
        hist = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        left_hist = QtWidgets.QWidget()
        hl = QtWidgets.QVBoxLayout(left_hist)
        hl.setContentsMargins(0, 0, 0, 0)
        self.history_table = QtWidgets.QTableWidget(0, 8)
        self.history_table.setHorizontalHeaderLabels(
            ["Run", "Strategy", "w", "α", "β", "Iter.", "Success", "Disp. (mm)"])
        self.history_table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.history_table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.history_table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_table.verticalHeader().hide()
        self.history_table.horizontalHeader().setSectionResizeMode(
            QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.history_table.horizontalHeader().setStretchLastSection(False)
        hl.addWidget(self.history_table, 1)
        brow = QtWidgets.QHBoxLayout()
        self.compare_button = QtWidgets.QPushButton("Play A vs B")
        self.compare_button.setToolTip("Select two runs: play their adversarial motions against each other")
        self.compare_button.setEnabled(False)
        self.restore_params_button = QtWidgets.QPushButton("Use parameters")
        self.restore_params_button.setToolTip("Put the selected run's parameters into the attack panel")
        self.restore_params_button.setEnabled(False)
        brow.addWidget(self.compare_button)
        brow.addWidget(self.restore_params_button)
        brow.addStretch(1)
        hl.addLayout(brow)
        self.compare_label = QtWidgets.QLabel("Select one run to show it, two to compare.")
        self.compare_label.setTextFormat(Qt.TextFormat.RichText)
        self.compare_label.setWordWrap(True)
        self.compare_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        compare_scroll = QtWidgets.QScrollArea()
        compare_scroll.setWidget(self.compare_label)
        compare_scroll.setWidgetResizable(True)
        compare_scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        hist.addWidget(left_hist)
        hist.addWidget(compare_scroll)
        hist.setSizes([470, 480])
        self.history_dock = self._dock("Run history", "history", hist, Qt.DockWidgetArea.BottomDockWidgetArea)

        # --- Export dock ----------------------------------------------------------------------------
        ex = QtWidgets.QWidget()
        el = QtWidgets.QVBoxLayout(ex)
        ef = QtWidgets.QFormLayout()
        self.export_size = QtWidgets.QComboBox()
        self.export_size.setEditable(True)
        self.export_size.addItems(["640x480", "1280x720", "1920x1080", "800x800", "480x360"])
        self.export_fps = QtWidgets.QSpinBox()
        self.export_fps.setRange(1, 120)
        self.export_fps.setValue(30)
        self.export_fps.setToolTip("Frames per second of the video (GIF: at most 30)")
        self.export_speed = QtWidgets.QComboBox()
        for s, t in ((1.0, "1×"), (0.5, "0.5×"), (1 / 3, "⅓× (paper)"), (0.25, "0.25×"), (2.0, "2×")):
            self.export_speed.addItem(t, s)
        self.export_mode = QtWidgets.QComboBox()
        self.export_mode.addItem("Overlay", "overlay")
        self.export_mode.addItem("Side by side", "side")
        ef.addRow("Size", self.export_size)
        ef.addRow("FPS", self.export_fps)
        ef.addRow("Speed", self.export_speed)
        ef.addRow("Layout", self.export_mode)
        el.addLayout(ef)
        grid = QtWidgets.QGridLayout()
        self.export_buttons: dict[str, QtWidgets.QPushButton] = {}
        for k, (key, text) in enumerate((("mp4", "MP4…"), ("gif", "GIF…"), ("png", "PNG frames…"),
                                         ("npz", "Motion (npz)…"), ("json", "Metrics JSON…"),
                                         ("csv", "Metrics CSV…"), ("plots", "Plots PNG…"))):
            b = QtWidgets.QPushButton(text)
            grid.addWidget(b, k // 2, k % 2)
            self.export_buttons[key] = b
        el.addLayout(grid)
        el.addStretch(1)
        self.export_dock = self._dock("Export", "export", ex, Qt.DockWidgetArea.LeftDockWidgetArea)

        self.tabifyDockWidget(self.results_dock, self.history_dock)
        self.tabifyDockWidget(self.model_dock, self.export_dock)
        self.results_dock.raise_()
        self.model_dock.raise_()
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([self.data_dock, self.attack_dock], [330, 360], Qt.Orientation.Horizontal)
        self.resizeDocks([self.results_dock], [300], Qt.Orientation.Vertical)
        self.resizeDocks([self.data_dock, self.model_dock], [600, 200], Qt.Orientation.Vertical)
        self.resizeDocks([self.attack_dock, self.plots_dock], [560, 360], Qt.Orientation.Vertical)
        self._build_menus()
        self.resize(1560, 960)

    def _dock(self, title: str, name: str, widget: QtWidgets.QWidget, area) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        mb = self.menuBar()
        fm = mb.addMenu("&File")
        fm.addAction("Open dataset…", QtGui.QKeySequence.StandardKey.Open, self.open_dataset_dialog)
        fm.addAction("Open dataset folder…", self.open_folder_dialog)
        fm.addMenu(self.recent_menu)
        dm = fm.addMenu("Demos")
        for name in demo_mod.demo_names():
            dm.addAction(demo_mod.demo_title(name), lambda n=name: self.open_demo(n))
        fm.addAction("Open checkpoint…", self.open_checkpoint_dialog)
        fm.addSeparator()
        em = fm.addMenu("Export")
        for key, b in self.export_buttons.items():
            em.addAction(b.text(), lambda k=key: self.export_dialog(k))
        fm.addSeparator()
        fm.addAction("Quit", QtGui.QKeySequence.StandardKey.Quit, self.close)
        am = mb.addMenu("&Attack")
        run = am.addAction("Run", self.run_attack)
        run.setShortcut(QtGui.QKeySequence("Ctrl+R"))
        stop = am.addAction("Stop", self.stop_attack)
        stop.setShortcut(QtGui.QKeySequence("Escape"))
        vm = mb.addMenu("&View")
        for d in (self.data_dock, self.model_dock, self.attack_dock, self.plots_dock, self.results_dock,
                  self.history_dock, self.export_dock):
            vm.addAction(d.toggleViewAction())
        vm.addSeparator()
        vm.addAction("Overlay", lambda: self.view.set_mode("overlay"))
        vm.addAction("Side by side", lambda: self.view.set_mode("side"))
        vm.addAction("Reset camera", self.view.reset_camera)
        pm = mb.addMenu("&Playback")
        for act in self.playback_actions.values():
            pm.addAction(act)
        hm = mb.addMenu("&Help")
        hm.addAction("About", self._about)

    def _about(self) -> None:
        QtWidgets.QMessageBox.about(
            self, "SMART Workbench",
            "Explore SMART adversarial attacks on skeleton action recognizers "
            "(Wang et al., CVPR 2021): one motion at a time, with live loss and probability plots.")

    # ======================================================================================== wiring
    def _connect(self) -> None:
        self.playback.frame_changed.connect(self.view.set_frame)
        self.motion_table.selectionModel().currentRowChanged.connect(self._on_motion_row)
        self.filter_edit.textChanged.connect(self.motion_proxy.set_text)
        self.correct_only.toggled.connect(self.motion_proxy.set_correct_only)
        self.model_combo.activated.connect(self._on_model_combo)
        self.model_open_button.clicked.connect(self.open_checkpoint_dialog)
        self.device_combo.currentIndexChanged.connect(self._on_device)
        self.eval_cancel.clicked.connect(self._cancel_model_job)
        self.panel.run_requested.connect(self.run_attack)
        self.panel.stop_requested.connect(self.stop_attack)
        self.log_check.toggled.connect(self.loss_plot.set_log_scale)
        self.loss_plot.log_scale_changed.connect(self._sync_log_check)
        self.history_table.itemSelectionChanged.connect(self._on_history_selection)
        self.compare_button.clicked.connect(self.play_compare)
        self.restore_params_button.clicked.connect(self._use_run_params)
        for key, b in self.export_buttons.items():
            b.clicked.connect(lambda _c=False, k=key: self.export_dialog(k))
        self.view.mode_changed.connect(self._on_view_mode)
        self.playback.speed_changed.connect(self._on_speed)

    def _sync_log_check(self, on: bool) -> None:
        with QtCore.QSignalBlocker(self.log_check):
            self.log_check.setChecked(on)

    def _on_view_mode(self, mode: str) -> None:
        self.settings.view_mode = mode
        idx = self.export_mode.findData(mode)
        if idx >= 0:
            self.export_mode.setCurrentIndex(idx)

    def _on_speed(self, s: float) -> None:
        self.settings.playback_speed = float(s)

    # ====================================================================================== settings
    def _restore_settings(self) -> None:
        s = self.settings
        if s.geometry:
            self.restoreGeometry(QtCore.QByteArray(s.geometry))
        if s.window_state:
            self.restoreState(QtCore.QByteArray(s.window_state))
        if s.view_mode in ("overlay", "side"):
            self.view.set_mode(s.view_mode)
        self.playback.set_speed(s.playback_speed)
        if s.last_device == "cuda" and cuda_available():
            self.device_combo.setCurrentIndex(1)
        idx = self.export_size.findText(s.export_size)
        if idx >= 0:
            self.export_size.setCurrentIndex(idx)
        else:
            self.export_size.setEditText(s.export_size)
        self.export_fps.setValue(int(s.export_fps))
        self._refresh_recent()

    def save_settings(self) -> None:
        s = self.settings
        s.geometry = bytes(self.saveGeometry().data())
        s.window_state = bytes(self.saveState().data())
        s.last_device = self.device
        s.export_size = self.export_size.currentText()
        s.export_fps = int(self.export_fps.value())
        try:
            s.save()
        except OSError as exc:  # settings are a convenience: never fail a close on them
            self.statusBar().showMessage(f"Could not save settings: {exc}")

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files
        if not files:
            a = self.recent_menu.addAction("(none)")
            a.setEnabled(False)
        for f in files:
            self.recent_menu.addAction(f, lambda p=f: self.open_dataset(p))

    # ======================================================================================== errors
    def show_error(self, title: str, text: str, hint: str = "") -> None:
        """A modal dialog saying what happened (and what to do); the state is left as it was."""
        msg = text if not hint else f"{text}\n\n{hint}"
        self.statusBar().showMessage(f"{title}: {text.splitlines()[0] if text else ''}", 10_000)
        self.error_shown.emit(msg)
        if self.modal_errors:
            QtWidgets.QMessageBox.critical(self, title, msg)

    # ======================================================================================= tasks
    def _start_task(self, key: str, fn, on_done, on_progress=None, on_fail=None) -> TaskWorker:
        """Run ``fn(progress, cancelled)`` in a thread; a task with the same key is cancelled first.

        The worker's signals go to a :class:`_Relay` living in the GUI thread (bound slots: queued
        connections), which calls ``on_done`` / ``on_fail`` / ``on_progress`` there, unless the task was
        replaced or cancelled meanwhile.
        """
        self._cancel_task(key)
        worker = TaskWorker(fn, key)

        def current() -> bool:
            entry = self._tasks.get(key)
            return entry is not None and entry[1] is worker

        def finish(cb, *args):
            if current():
                self._tasks.pop(key, None)
                cb(*args)
            relay.deleteLater()

        relay = _Relay(self)
        relay.on_done = lambda r: finish(on_done, r)
        relay.on_fail = lambda t: finish(on_fail or (lambda x: self.show_error("Error", x)), t)
        relay.on_cancel = lambda: finish(lambda: None)
        if on_progress is not None:
            relay.on_progress = lambda d, n, t: on_progress(d, n, t) if current() else None
        worker.progress.connect(relay.progress)
        worker.finished.connect(relay.done)
        worker.failed.connect(relay.fail)
        worker.cancelled_signal.connect(relay.cancelled)
        thread = start_in_thread(worker, (worker.finished, worker.failed, worker.cancelled_signal))
        self._tasks[key] = (thread, worker)
        return worker

    def _cancel_task(self, key: str) -> None:
        entry = self._tasks.pop(key, None)
        if entry is not None:
            thread, worker = entry
            try:
                worker.cancel()
            except RuntimeError:
                pass

    def busy(self) -> bool:
        """True while a load, an evaluation or an attack runs."""
        return bool(self._tasks) or self.attack_running()

    # ======================================================================================= datasets
    def open_demo(self, name: str) -> None:
        """Load a shipped demo (in a thread) and, if the model doesn't fit it, the demo's model."""
        self.statusBar().showMessage(f"Loading {demo_mod.demo_title(name)}…")

        def job(progress, cancelled):
            return demo_mod.load_demo(name)

        self._start_task("dataset", job, lambda ds: self._set_dataset(ds, f"demo:{name}", name),
                         on_fail=lambda t: self._dataset_failed(f"demo {name}", t))

    def open_dataset(self, path: str | Path) -> None:
        """Open a dataset file or folder in any format the engine reads (in a thread)."""
        path = str(path)
        self.statusBar().showMessage(f"Opening {path}…")
        dlg = QtWidgets.QProgressDialog(f"Opening {Path(path).name}…", "Cancel", 0, 0, self)
        dlg.setWindowTitle("Opening dataset")
        dlg.setMinimumDuration(400)
        dlg.setAutoClose(True)

        def job(progress, cancelled):
            return datasets_mod.load(path)

        def done(ds):
            dlg.reset()
            dlg.deleteLater()
            self._set_dataset(ds, path, None)
            self.settings.add_recent(path)
            self._refresh_recent()

        def failed(text):
            dlg.reset()
            dlg.deleteLater()
            self._dataset_failed(path, text)

        self._start_task("dataset", job, done, on_fail=failed)

        def cancelled():
            self._cancel_task("dataset")
            self.statusBar().showMessage("Opening cancelled; the dataset that was open stays", 5000)
            dlg.deleteLater()

        dlg.canceled.connect(cancelled)

    def _dataset_failed(self, what: str, text: str) -> None:
        self.show_error("Could not open the dataset", f"{what}:\n{text}",
                        "Check that the file is a motion dataset the workbench reads (our .npz, the SMART "
                        "authors' .npz, ASF/AMC, BVH, NTU .skeleton or ST-GCN .npy + .pkl) and that it is "
                        "not damaged. The dataset that was open is still loaded.")
        self._start_done()

    def open_dataset_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open dataset", self._last_dir(),
                                                        DATASET_FILTER)
        if path:
            self.open_dataset(path)

    def open_folder_dialog(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Open dataset folder", self._last_dir())
        if path:
            self.open_dataset(path)

    def _last_dir(self) -> str:
        for f in self.settings.recent_files:
            if not f.startswith("demo:"):
                return str(Path(f).parent)
        return str(Path.home())

    def _set_dataset(self, ds, source: str, demo_name: str | None) -> None:
        if self.attack_running():
            self.stop_attack()
        self.dataset = ds
        self.dataset_source = source
        self.demo_name = demo_name
        if demo_name is not None:
            self.settings.last_demo = demo_name
        title = demo_mod.demo_title(demo_name) if demo_name else ds.name or Path(source).name
        lay = ds.layout.name if hasattr(ds.layout, "name") else str(ds.layout)
        self.dataset_label.setText(
            f"<b>{title}</b><br>{len(ds)} motions · {len(ds.class_names)} classes · {lay} · {ds.fps:g} fps")
        self.dataset_label.setTextFormat(Qt.TextFormat.RichText)
        self.setWindowTitle(f"SMART Workbench — {title}")
        self.panel.set_class_names(ds.class_names)
        self.probabilities = None
        self._fill_motion_table()
        self._refresh_model_combo()
        self.dataset_changed.emit(ds)
        self.statusBar().showMessage(f"Loaded {title}", 5000)
        if len(ds):
            self.select_motion(0)
        # the model: keep it if it fits, else the demo's own (or ask for one)
        if self.model is not None:
            try:
                check_compatible(self.model, ds)
            except ValueError as exc:
                if demo_name is None:
                    self._set_model_status("The model does not fit this dataset: open a checkpoint for it.")
                    self._start_done()
                    self.show_error("The model does not fit this dataset", str(exc))
                    return
            else:
                self._evaluate_model(self.model)
                return
        if demo_name is not None:
            self.load_model(self._default_demo_model(demo_name))
        elif self.model is None and Path(self.settings.last_model).is_file():
            self.load_model(self.settings.last_model)  # the checkpoint used last time, if it fits
        else:
            self._start_done()  # nothing more to load

    def _default_demo_model(self, demo_name: str) -> str:
        shipped = demo_mod.demo_models(demo_name)
        last = self.settings.last_model
        if last in shipped:
            return last
        for m in PREFERRED_MODELS:
            if m in shipped:
                return m
        return shipped[0] if shipped else ""

    def _fill_motion_table(self) -> None:
        ds = self.dataset
        subjects = getattr(ds, "subjects", None)
        subj = ["" if subjects is None or subjects[i] is None else str(subjects[i]) for i in range(len(ds))]
        self.motion_model.set_motions(np.asarray(ds.labels), list(ds.class_names), subj)

    def _update_motion_table_predictions(self) -> None:
        ds, probs = self.dataset, self.probabilities
        if ds is None:
            return
        names = self.model.class_names if self.model is not None else list(ds.class_names)
        if probs is None:
            self.motion_model.set_predictions(None, names)
        else:
            self.motion_model.set_predictions(probs, names)
        self.motion_proxy.invalidate()

    # ========================================================================================= models
    def _refresh_model_combo(self) -> None:
        with QtCore.QSignalBlocker(self.model_combo):
            self.model_combo.clear()
            if self.demo_name:
                for m in demo_mod.demo_models(self.demo_name):
                    self.model_combo.addItem(f"{m} (demo)", m)
            if self.model is not None and (not self.demo_name or
                                           self.model.source not in demo_mod.demo_models(self.demo_name)):
                if self.model_combo.findData(self.model.source) < 0:
                    self.model_combo.addItem(self.model.title, self.model.source)
            if self.model is not None:
                idx = self.model_combo.findData(self.model.source)
                if idx >= 0:
                    self.model_combo.setCurrentIndex(idx)

    def _on_model_combo(self, idx: int) -> None:
        source = self.model_combo.itemData(idx)
        if source and (self.model is None or source != self.model.source):
            self.load_model(source)

    def open_checkpoint_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open checkpoint", self._last_dir(),
                                                        CHECKPOINT_FILTER)
        if path:
            self.load_model(path)

    def load_model(self, source: str) -> None:
        """Load a demo model (by name) or a checkpoint file, check it fits the dataset, evaluate it over
        the dataset -- all in a thread, with progress; the current model stays until this succeeds."""
        if not source:
            return
        ds = self.dataset
        demo_name = self.demo_name
        device = self.device
        self._set_model_status(f"Loading {source}…")

        def job(progress, cancelled):
            lm = load_model(source, demo_name)
            if ds is not None:
                check_compatible(lm, ds)
                probs = evaluate(lm.model, ds.motions, device, progress=progress)
                if len(ds):
                    warm_up(lm.model, ds.layout, ds.motions[0], int(ds.labels[0]))
            else:
                probs = None
            return lm, probs

        self._run_model_job(job, source)

    def _cancel_model_job(self) -> None:
        self._cancel_task("model")
        self.eval_row.hide()
        self._set_model_status(self._model_status_text())
        self.statusBar().showMessage("Model loading cancelled; the previous model stays", 5000)

    def _evaluate_model(self, lm: LoadedModel) -> None:
        ds, device = self.dataset, self.device

        def job(progress, cancelled):
            return lm, evaluate(lm.model, ds.motions, device, progress=progress)

        self._run_model_job(job, lm.source)

    def _run_model_job(self, job, source: str) -> None:
        self.eval_progress.setRange(0, 0)
        self.eval_row.show()

        def progress(done, total, _text):
            self.eval_progress.setRange(0, total)
            self.eval_progress.setValue(done)

        def done(result):
            self.eval_row.hide()
            lm, probs = result
            self._set_model(lm, probs)

        def failed(text):
            self.eval_row.hide()
            self._set_model_status(self._model_status_text())
            self._refresh_model_combo()
            self._start_done()
            self.show_error("Could not use the model", f"{source}:\n{text}",
                            "Open a checkpoint trained for this dataset's skeleton layout and classes "
                            "(or pick a shipped demo model). The previous model is still loaded.")

        self._start_task("model", job, done, on_progress=progress, on_fail=failed)

    def _set_model(self, lm: LoadedModel, probs: np.ndarray | None) -> None:
        if self.attack_running():
            self.stop_attack()
        self.model = lm
        self.probabilities = probs
        shipped = demo_mod.demo_models(self.demo_name) if self.demo_name else []
        if lm.source in shipped or Path(lm.source).is_file():
            self.settings.last_model = lm.source
        self._refresh_model_combo()
        self._update_motion_table_predictions()
        self._set_model_status(self._model_status_text())
        if self.current_index is not None:
            self._update_motion_info()
            self._show_clean_probabilities()
        self.model_changed.emit(lm)
        self._start_done()

    def _start_done(self) -> None:
        """Emit ``ready`` once, when the start-up dataset and its model are in (or failed)."""
        if self._starting:
            self._starting = False
            QtCore.QTimer.singleShot(0, self.ready.emit)

    def _model_status_text(self) -> str:
        if self.model is None:
            return "No model"
        text = f"<b>{self.model.title}</b> · {self.model.meta.model} · {self.model.layout}"
        if self.probabilities is not None and self.dataset is not None and len(self.dataset):
            ok = self.correct_mask()
            text += (f"<br>{int(ok.sum())} / {len(ok)} motions classified correctly ({ok.mean():.1%}); "
                     "only those are attack candidates.")
        return text

    def _set_model_status(self, text: str) -> None:
        self.model_status.setText(text)

    def correct_mask(self) -> np.ndarray:
        """(N,) bool: the model classifies motion i correctly (all False before evaluation)."""
        if self.dataset is None:
            return np.zeros(0, dtype=bool)
        if self.probabilities is None:
            return np.zeros(len(self.dataset), dtype=bool)
        return np.argmax(self.probabilities, axis=1) == np.asarray(self.dataset.labels)

    def _on_device(self, idx: int) -> None:
        dev = self.device_combo.itemData(idx)
        if dev == "cuda" and not cuda_available():
            self.show_error("CUDA is not available", "This machine has no usable CUDA device.",
                            "The attack keeps running on the CPU.")
            with QtCore.QSignalBlocker(self.device_combo):
                self.device_combo.setCurrentIndex(0)
            return
        self.device = dev
        self.settings.last_device = dev

    # ======================================================================================== motions
    def _on_motion_row(self, current: QtCore.QModelIndex, _previous) -> None:
        if not current.isValid():
            return
        i = int(self.motion_proxy.mapToSource(current).row())
        if i != self.current_index:
            self._show_motion(i)

    def select_motion(self, i: int) -> None:
        """Select motion ``i`` of the dataset (list selection, view, info, history)."""
        if self.dataset is None or not 0 <= i < len(self.dataset):
            return
        src = self.motion_model.index(i, 0)
        proxy = self.motion_proxy.mapFromSource(src)
        if proxy.isValid():
            self.motion_table.selectionModel().setCurrentIndex(
                proxy, QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QtCore.QItemSelectionModel.SelectionFlag.Rows)
            self.motion_table.scrollTo(proxy)
        if i != self.current_index:
            self._show_motion(i)

    def motion_key(self, i: int | None = None) -> tuple:
        i = self.current_index if i is None else i
        return (self.dataset_source, int(i))

    def _show_motion(self, i: int) -> None:
        if self.attack_running() and self._attack_motion != self.motion_key(i):
            self.stop_attack()
        ds = self.dataset
        self.current_index = int(i)
        clip = ds.motions[i]
        runs = self.runs.get(self.motion_key(), [])
        last = runs[-1] if runs else None
        adv = None if last is None else last.adversarial
        self.view.set_motions(clip, adv, ds.layout.bone_array(), ds.fps)
        self._comparing = False
        self._set_view_labels(last)
        self.playback.set_fps(ds.fps)
        self.playback.set_length(len(clip))
        self.playback.set_frame(0)
        self.view.set_frame(self.playback.frame)
        self._update_motion_info()
        self._refresh_history()
        if last is not None:
            self._show_run(last)
        else:
            self.shown_run = None
            self.loss_plot.clear()
            self._show_clean_probabilities()
            self._show_result(None)
        self.motion_selected.emit(int(i))

    def _class_name(self, c: int) -> str:
        names = self.model.class_names if self.model is not None else list(self.dataset.class_names)
        return names[c] if 0 <= c < len(names) else str(c)

    def _update_motion_info(self) -> None:
        ds, i = self.dataset, self.current_index
        if ds is None or i is None:
            self.motion_info.setText("")
            return
        label = int(ds.labels[i])
        src = ds.sources[i] if getattr(ds, "sources", None) else ""
        text = f"<b>#{i}</b> true label: <b>{ds.class_names[label]}</b>"
        if src:
            text += f"<br><small>{src}</small>"
        if self.probabilities is not None and np.isfinite(self.probabilities[i]).all():
            p = self.probabilities[i]
            items = []
            for c in _top_k(p, 5):
                name = self._class_name(c)
                s = f"{name} {p[c]:.0%}"
                items.append(f"<b>{s}</b>" if c == label else s)
            ok = int(np.argmax(p)) == label
            mark = "<span style='color:#5c6'>✓ correct</span>" if ok else \
                "<span style='color:#e55'>✗ misclassified: not an attack candidate</span>"
            text += f"<br>Model top-5: {', '.join(items)}<br>{mark}"
        elif self.model is not None:
            text += "<br>Model: evaluating…"
        self.motion_info.setText(text)

    def _show_clean_probabilities(self) -> None:
        if self.probabilities is None or self.current_index is None or self.model is None:
            return
        p = self.probabilities[self.current_index]
        if not np.isfinite(p).all():
            return
        self.prob_bars.set_probabilities(p, self.model.class_names, clean=int(self.dataset.labels[
            self.current_index]), target=None, k=5)

    def _set_view_labels(self, run: RunRecord | None, caption: str | None = None) -> None:
        if self.dataset is None or self.current_index is None:
            return
        label = int(self.dataset.labels[self.current_index])
        orig = f"original: {self._class_name(label)}"
        if run is None:
            adv = "adversarial"
            cap = caption if caption is not None else ""
        else:
            adv = f"adversarial: {self._class_name(run.predicted)}"
            cap = caption if caption is not None else self._run_caption(run)
        self.view.set_labels(orig, adv, cap)

    def _run_caption(self, run: RunRecord) -> str:
        p = run.params
        strat = p["strategy"].upper() + (f"{p['top_n']}" if p["strategy"] == "abn" else "")
        state = "success" if run.success else ("stopped" if run.cancelled else "failed")
        return f"SMART {strat} w={p['w']:.2f} α={p['alpha']:.2f} · {state} after {run.iterations} it."

    # ========================================================================================= attack
    def attack_running(self) -> bool:
        return self._attack_worker is not None

    def can_attack(self) -> tuple[bool, str]:
        if self.dataset is None or self.current_index is None:
            return False, "Select a motion first."
        if self.model is None:
            return False, "Load a model first (Model panel)."
        if self.probabilities is None:
            return False, "The model is still being evaluated on the dataset; wait a moment."
        if not self.correct_mask()[self.current_index]:
            return False, ("The model misclassifies this motion, so there is nothing to attack (the paper "
                           "attacks only correctly classified motions). Pick one marked ✓ in the list.")
        return True, ""

    @Slot()
    def run_attack(self) -> None:
        """Start an attack on the current motion with the panel's parameters; a running one is
        cancelled first and this one starts as soon as it has stopped (live mode)."""
        ok, why = self.can_attack()
        if not ok:
            if self.panel.is_live():  # live restarts must not pile up dialogs
                self.statusBar().showMessage(why, 8000)
                return
            self.show_error("Cannot attack", why)
            return
        if self.attack_running():
            self._restart_pending = True
            self._attack_worker.cancel()
            return
        params = self.panel.params()
        try:
            config = config_from_params(params, device=self.device)
        except ValueError as exc:
            self.show_error("Invalid attack parameters", str(exc))
            return
        ds, i = self.dataset, self.current_index
        worker = AttackWorker(self.model.model, ds.layout, config, ds.motions[i:i + 1], ds.labels[i:i + 1],
                              nice=self.WORKER_NICE)
        worker.step.connect(self._on_step)
        worker.finished.connect(self._on_attack_finished)
        worker.failed.connect(self._on_attack_failed)
        self._attack_worker = worker
        self._attack_motion = self.motion_key()
        self._attack_params = params
        self._attack_t0 = time.monotonic()
        self._flip_marked = False
        self._restart_pending = False
        self.loss_plot.clear()
        self.panel.set_running(True)
        self.panel.set_progress(0, config.iterations)
        self.result_label.setText(f"Running {config.strategy.upper()} on motion #{i}…")
        if self._comparing:
            self._comparing = False
            self.view.set_motions(ds.motions[i], None, ds.layout.bone_array(), ds.fps)
            self._set_view_labels(None)
        self.view.set_labels(adversarial="adversarial (optimising…)", caption="")
        self._attack_thread = start_in_thread(worker, (worker.finished, worker.failed))
        self.attack_started.emit()

    @Slot()
    def stop_attack(self) -> None:
        """Cancel the running attack (it stops within one iteration and keeps what it found)."""
        self._restart_pending = False
        if self._attack_worker is not None:
            self._attack_worker.cancel()
            self.statusBar().showMessage("Stopping the attack…", 3000)

    @Slot(object)
    def _on_step(self, report: StepReport) -> None:
        """Record a step (cheap); the widgets are redrawn together by :meth:`_ui_tick` at most
        ``UI_HZ`` times a second, so plotting never competes with the attack for the GIL."""
        # One attack runs at a time and its signals arrive in order, so anything that arrives while a
        # worker is registered is that worker's (sender() is None once the finished worker is deleted).
        if self._attack_worker is None or self._attack_motion != self.motion_key():
            return
        it = int(report.iteration)
        self.loss_plot.append(it, {k: float(report.losses[k][0]) for k in LOSS_TERMS if k in report.losses})
        if bool(report.success[0]) and not self._flip_marked:
            self._flip_marked = True
            self.loss_plot.mark_flip(it)
        self._latest_report = report
        if not self._ui_timer.isActive():
            self._ui_timer.start()

    def _ui_tick(self) -> None:
        """Apply the latest step to one group of live widgets per tick, in turn: the loss curves; the
        progress bar and probability bars; the adversarial skeleton. Each repaint costs ~10 ms under
        software GL, so one group per event-loop turn keeps every stall short (benchmarks/gui_latency.py)."""
        report = self._latest_report
        if report is None or self._attack_worker is None or self._attack_motion != self.motion_key():
            return
        phase = self._ui_phase
        self._ui_phase = (phase + 1) % 3
        if phase == 0:
            self.loss_plot.flush()
        elif phase == 1:
            self.panel.set_progress(int(report.iteration), report.total_iterations)
            self.prob_bars.set_probabilities(report.probabilities[0], self.model.class_names,
                                             clean=int(self.dataset.labels[self.current_index]),
                                             target=self._attack_target(), k=5)
        elif report.adversarial is not None:
            self.view.set_adversarial(report.adversarial[0])
        if self._ui_phase != 0 or self._latest_report is not report:
            self._ui_timer.start()  # the other groups still have to see this report
        else:
            self._latest_report = None

    def _attack_target(self) -> int | None:
        p = self._attack_params or {}
        return p.get("target") if p.get("strategy") == "sa" else None

    def _attack_done(self) -> None:
        self._ui_timer.stop()
        self._latest_report = None
        self.loss_plot.flush()
        self._attack_worker = None
        self._attack_thread = None
        self.panel.set_running(False)

    @Slot(object)
    def _on_attack_finished(self, result) -> None:
        if self._attack_worker is None:
            return
        motion_key, params = self._attack_motion, self._attack_params
        self._attack_done()
        restart = self._restart_pending
        self._restart_pending = False
        if restart:
            # live mode: the parameters changed while it ran; the stale result is dropped
            QtCore.QTimer.singleShot(0, self.run_attack)
            return
        if self._closing or self.dataset is None:
            return
        idx = motion_key[1]
        name = self.model.title if self.model else ""
        try:
            rec = make_record(result, params, motion_key, self.dataset.layout, self.dataset.fps, model=name)
        except Exception as exc:
            self.show_error("Could not evaluate the attack", str(exc))
            return
        self.runs.setdefault(motion_key, []).append(rec)
        dt = time.monotonic() - self._attack_t0
        self.statusBar().showMessage(
            f"Run #{rec.run_id} on motion #{idx}: {'success' if rec.success else 'no success'} after "
            f"{rec.iterations} iterations ({dt:.1f} s)", 10_000)
        if motion_key == self.motion_key():
            self._refresh_history(select=rec)
            self._show_run(rec)
        for w in rec.warnings:
            self.statusBar().showMessage(w, 15_000)
        self.attack_finished.emit(rec)

    @Slot(str)
    def _on_attack_failed(self, text: str) -> None:
        if self._attack_worker is None:
            return
        self._attack_done()
        self._restart_pending = False
        self.result_label.setText("The attack failed.")
        self.attack_failed.emit(text)
        hint = "Check the parameters and the device."
        if "CUDA" in text or "cuda" in text:
            hint = "Switch the device to CPU in the Model panel."
        self.show_error("The attack failed", text, hint)

    # ======================================================================================= results
    def _show_run(self, rec: RunRecord) -> None:
        """Show one run: adversarial clip in the view, its curves, final probabilities and metrics."""
        self.shown_run = rec
        if self.dataset is not None and self.current_index is not None \
                and rec.motion_key == self.motion_key():
            if self._comparing:  # the view holds two runs: back to original vs adversarial
                self._comparing = False
                self.view.set_motions(rec.original, rec.adversarial, self.dataset.layout.bone_array(),
                                      self.dataset.fps)
            else:  # keep the user's camera
                self.view.set_adversarial(rec.adversarial)
            self.view.set_frame(self.playback.frame)
            self._set_view_labels(rec)
        hist = {k: v for k, v in rec.history.items() if k in LOSS_TERMS}
        if hist:
            self.loss_plot.set_history(hist)
        self.loss_plot.mark_flip(rec.flip_iteration if rec.flip_iteration >= 0 else None)
        if self.model is not None and len(rec.probabilities) == len(self.model.class_names):
            self.prob_bars.set_probabilities(
                rec.probabilities, self.model.class_names, clean=rec.label,
                target=rec.target if rec.target >= 0 else None, k=5)
        self.panel.set_progress(rec.iterations, max(int(rec.params.get("iterations", 1)), 1))
        self._show_result(rec)

    def _show_result(self, rec: RunRecord | None) -> None:
        for lbl in self.metric_labels.values():
            lbl.setText("—")
        if rec is None:
            self.result_label.setText("No attack on this motion yet: press Run.")
            names = list(self.dataset.layout.joint_names)
            self.disp_chart.set_displacement(np.zeros(len(names)), names)
            return
        colour = "#5c6" if rec.success else "#e55"
        state = "Success" if rec.success else ("Stopped" if rec.cancelled else "No success")
        flip = f", label flipped at iteration {rec.flip_iteration}" if rec.flip_iteration >= 0 else ""
        self.result_label.setText(
            f"<span style='color:{colour}'><b>{state}</b></span> — run #{rec.run_id}: "
            f"{rec.iterations} iterations{flip}.<br>"
            f"{self._class_name(rec.label)} → <b>{self._class_name(rec.predicted)}</b> "
            f"({rec.probabilities[rec.predicted]:.0%})")
        for key, label, value in metric_rows(rec.metrics):
            if key not in self.metric_labels:
                w = QtWidgets.QLabel()
                self.metric_labels[key] = w
                self.metrics_form.addRow(label, w)
            self.metric_labels[key].setText(value)
        self.disp_chart.set_displacement(rec.per_joint, list(self.dataset.layout.joint_names))

    # ======================================================================================= history
    def current_runs(self) -> list[RunRecord]:
        if self.current_index is None:
            return []
        return self.runs.get(self.motion_key(), [])

    def _refresh_history(self, select: RunRecord | None = None) -> None:
        runs = self.current_runs()
        t = self.history_table
        with QtCore.QSignalBlocker(t):
            t.setRowCount(len(runs))
            for r, rec in enumerate(runs):
                p = rec.params
                betas = ",".join(f"{b:g}" for b in p["betas"])
                strat = p["strategy"].upper() + (str(p["top_n"]) if p["strategy"] == "abn" else "")
                vals = [f"#{rec.run_id}", strat, f"{p['w']:.2f}", f"{p['alpha']:.2f}", betas,
                        str(rec.iterations), "✓" if rec.success else ("stopped" if rec.cancelled else "✗"),
                        f"{rec.metrics.get('displacement_mean', float('nan')) * 1000:.1f}"]
                for c, v in enumerate(vals):
                    item = QtWidgets.QTableWidgetItem(v)
                    item.setData(Qt.ItemDataRole.UserRole, rec.run_id)
                    t.setItem(r, c, item)
            t.clearSelection()
            if select is not None and select in runs:
                t.selectRow(runs.index(select))
        self._update_compare()

    def selected_runs(self) -> list[RunRecord]:
        runs = self.current_runs()
        rows = sorted({i.row() for i in self.history_table.selectedIndexes()})
        return [runs[r] for r in rows if r < len(runs)]

    def _on_history_selection(self) -> None:
        sel = self.selected_runs()
        if len(sel) == 1:
            self._show_run(sel[0])
        self._update_compare()

    def _update_compare(self) -> None:
        sel = self.selected_runs()
        self.compare_button.setEnabled(len(sel) == 2)
        self.restore_params_button.setEnabled(len(sel) == 1)
        if len(sel) != 2:
            self.compare_label.setText("Select one run to show it, two to compare.")
            return
        a, b = sel
        rows = [("Success", "✓" if a.success else "✗", "✓" if b.success else "✗"),
                ("Iterations", str(a.iterations), str(b.iterations)),
                ("Predicted", self._class_name(a.predicted), self._class_name(b.predicted))]
        for key, label, va in metric_rows(a.metrics):
            vb = dict((k, v) for k, _, v in metric_rows(b.metrics)).get(key, "—")
            rows.append((label, va, vb))
        diff = [k for k in a.params if a.params[k] != b.params.get(k)]
        html = f"<table cellspacing=4><tr><th></th><th>A #{a.run_id}</th><th>B #{b.run_id}</th></tr>"
        for k in diff:
            html += f"<tr><td><i>{k}</i></td><td>{a.params[k]}</td><td>{b.params[k]}</td></tr>"
        for name, va, vb in rows:
            html += f"<tr><td>{name}</td><td>{va}</td><td>{vb}</td></tr>"
        self.compare_label.setText(html + "</table>")

    def play_compare(self) -> None:
        """Play the adversarial motions of the two selected runs against each other (A blue, B pink)."""
        sel = self.selected_runs()
        if len(sel) != 2 or self.dataset is None:
            return
        a, b = sel
        ds = self.dataset
        self.view.set_motions(a.adversarial, b.adversarial, ds.layout.bone_array(), ds.fps)
        self._comparing = True
        self.view.set_labels(f"A: run #{a.run_id} ({self._class_name(a.predicted)})",
                             f"B: run #{b.run_id} ({self._class_name(b.predicted)})",
                             "A vs B · heat = distance between the two")
        self.view.set_frame(self.playback.frame)
        self.playback.play()

    def _use_run_params(self) -> None:
        sel = self.selected_runs()
        if len(sel) == 1:
            self.panel.set_params(sel[0].params)

    # ======================================================================================== export
    def _clip_job(self) -> ClipJob | None:
        if self.dataset is None or self.current_index is None:
            return None
        rec = self.shown_run
        orig = self.dataset.motions[self.current_index] if rec is None else rec.original
        adv = None if rec is None else rec.adversarial
        label = int(self.dataset.labels[self.current_index])
        size = export_mod.parse_size(self.export_size.currentText())
        return ClipJob(
            original=orig, adversarial=adv, bones=self.dataset.layout.bone_array(), clip_fps=self.dataset.fps,
            size=size, fps=float(self.export_fps.value()), speed=float(self.export_speed.currentData()),
            mode=self.export_mode.currentData(), label_original=f"original: {self._class_name(label)}",
            label_adversarial=("adversarial" if rec is None else
                               f"adversarial: {self._class_name(rec.predicted)}"),
            caption="" if rec is None else self._run_caption(rec),
        )

    def export_dialog(self, kind: str) -> None:
        """Ask for a file name and export ``kind`` ('mp4', 'gif', 'png', 'npz', 'json', 'csv', 'plots')."""
        if self.dataset is None or self.current_index is None:
            self.show_error("Nothing to export", "Select a motion first.")
            return
        stem = f"motion{self.current_index}" + (f"_run{self.shown_run.run_id}" if self.shown_run else "")
        base = str(Path(self._last_dir()) / stem)
        if kind == "png":
            path = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder for PNG frames", self._last_dir())
        else:
            filt = {"mp4": "MP4 video (*.mp4)", "gif": "GIF (*.gif)", "npz": "Workbench motion (*.npz)",
                    "json": "JSON (*.json)", "csv": "CSV (*.csv)", "plots": "PNG image (*.png)"}[kind]
            ext = {"plots": "png"}.get(kind, kind)
            path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export", f"{base}.{ext}", filt)
        if path:
            self.export(kind, path)

    def export(self, kind: str, path: str | Path) -> None:
        """Export without asking. Clips render in slices between events (``export_finished`` at the end);
        the rest is written at once. Errors give a dialog."""
        path = str(path)
        try:
            if kind in ("mp4", "gif", "png"):
                self.export_clip(path, kind)
                return
            if kind == "npz":
                self._export_npz(path)
            elif kind == "json":
                self._export_json(path)
            elif kind == "csv":
                self._export_csv(path)
            elif kind == "plots":
                self._export_plots(path)
            else:
                raise ValueError(f"unknown export kind {kind!r}")
        except Exception as exc:
            self.show_error("Export failed", f"{path}:\n{exc}",
                            "Choose another file or folder (is it writable? is the disk full?).")
            return
        self.statusBar().showMessage(f"Exported {path}", 8000)
        self.export_finished.emit(path)

    def export_clip(self, path: str, kind: str | None = None) -> None:
        if self._export_gen is not None:
            self.show_error("Export busy", "Another clip is being exported; wait for it or cancel it.")
            return
        job = self._clip_job()
        if job is None:
            raise ValueError("select a motion first")
        if self._export_view is None:
            self._export_view = make_export_view()
        self._export_path = path
        self._export_gen = render_clip(self._export_view, job, path, kind)
        dlg = QtWidgets.QProgressDialog(f"Rendering {Path(path).name}…", "Cancel", 0, 100, self)
        dlg.setWindowTitle("Export")
        dlg.setMinimumDuration(300)
        dlg.canceled.connect(self._cancel_export)
        self._export_dialog = dlg
        self._export_timer.start()

    def _export_tick(self) -> None:
        gen = self._export_gen
        if gen is None:
            self._export_timer.stop()
            return
        t0 = time.monotonic()
        try:
            while time.monotonic() - t0 < 0.02:  # a slice of at most ~20 ms per event-loop turn
                done, total = next(gen)
                if self._export_dialog is not None:
                    self._export_dialog.setMaximum(total)
                    self._export_dialog.setValue(done)
        except StopIteration:
            self._finish_export(None)
        except Exception as exc:
            self._finish_export(exc)

    def _finish_export(self, exc: Exception | None) -> None:
        self._export_timer.stop()
        self._export_gen = None
        if self._export_dialog is not None:
            self._export_dialog.canceled.disconnect(self._cancel_export)
            self._export_dialog.reset()
            self._export_dialog.deleteLater()
            self._export_dialog = None
        if exc is not None:
            self.show_error("Export failed", f"{self._export_path}:\n{exc}",
                            "Choose another file name or folder (is it writable?), or another size.")
            return
        self.statusBar().showMessage(f"Exported {self._export_path}", 8000)
        self.export_finished.emit(self._export_path)

    def _cancel_export(self) -> None:
        gen = self._export_gen
        self._export_gen = None
        self._export_timer.stop()
        if gen is not None:
            gen.close()
        if self._export_dialog is not None:
            self._export_dialog.deleteLater()
        self._export_dialog = None
        self.statusBar().showMessage("Export cancelled", 5000)

    def _export_npz(self, path: str) -> None:
        rec = self.shown_run
        if rec is None:
            raise ValueError("run an attack first: there is no adversarial motion to save")
        ds = self.dataset
        export_mod.save_motion_npz(path, rec.original, rec.adversarial, rec.label, list(ds.class_names),
                                   ds.layout, ds.fps, source=f"{self.dataset_source}#{self.current_index}",
                                   info={"run": rec.to_json(list(ds.class_names))["params"]})

    def _export_json(self, path: str) -> None:
        runs = self.current_runs()
        if not runs:
            raise ValueError("run an attack first: there are no numbers to save")
        names = list(self.dataset.class_names)
        export_mod.write_metrics_json(path, {"dataset": self.dataset_source, "motion": self.current_index,
                                             "runs": [r.to_json(names) for r in runs]})

    def _export_csv(self, path: str) -> None:
        runs = self.current_runs()
        if not runs:
            raise ValueError("run an attack first: there are no numbers to save")
        rows = []
        for r in runs:
            row = {"run": r.run_id, "dataset": self.dataset_source, "motion": self.current_index,
                   "model": r.model}
            row.update({k: (",".join(map(str, v)) if isinstance(v, tuple) else v)
                        for k, v in r.params.items()})
            row.update({"success": r.success, "cancelled": r.cancelled, "iterations": r.iterations,
                        "flip_iteration": r.flip_iteration, "label": self._class_name(r.label),
                        "predicted": self._class_name(r.predicted)})
            row.update(r.metrics)
            rows.append(row)
        export_mod.write_metrics_csv(path, rows)

    def _export_plots(self, path: str) -> None:
        self.loss_plot.flush()
        a = self.loss_plot.grab().toImage()
        b = self.prob_bars.grab().toImage()
        c = self.disp_chart.grab().toImage()
        w = a.width() + b.width() + c.width()
        h = max(a.height(), b.height(), c.height())
        img = QtGui.QImage(w, h, QtGui.QImage.Format.Format_RGB32)
        img.fill(QtGui.QColor(0, 0, 0))
        p = QtGui.QPainter(img)
        p.drawImage(0, 0, a)
        p.drawImage(a.width(), 0, b)
        p.drawImage(a.width() + b.width(), 0, c)
        p.end()
        if not img.save(path, "PNG"):
            raise OSError("the image could not be written")

    # ==================================================================================== drag & drop
    def dragEnterEvent(self, ev: QtGui.QDragEnterEvent) -> None:
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev: QtGui.QDropEvent) -> None:
        urls = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if not urls:
            return
        ev.acceptProposedAction()
        path = urls[0]
        if Path(path).suffix.lower() in (".pt", ".pth", ".ckpt"):
            self.load_model(path)
        else:
            self.open_dataset(path)

    # ========================================================================================= close
    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Stop every worker (cancel, quit, wait) and any export; safe to call twice."""
        self._closing = True
        self._restart_pending = False
        if self._export_gen is not None:
            self._cancel_export()
        worker, thread = self._attack_worker, self._attack_thread
        self._attack_worker = None
        self._attack_thread = None
        stop_thread(thread, worker, timeout_ms)
        for key in list(self._tasks):
            thread, worker = self._tasks.pop(key)
            stop_thread(thread, worker, timeout_ms)
        stop_all(timeout_ms)  # tasks that were replaced while running, too
        if self._export_view is not None:  # the hidden export view is a top-level widget
            self._export_view.deleteLater()
            self._export_view = None

    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:
        self.save_settings()
        self.shutdown()
        self.playback.pause()
        super().closeEvent(ev)


class _MotionTableModel(QtCore.QAbstractTableModel):
    """Motions as rows (#, class, subject, the model's verdict), read from arrays: setting the model's
    predictions for thousands of motions is one ``dataChanged``, not thousands of item edits."""

    HEADERS = ("#", "Class", "Subject", "Model")
    CORRECT_ROLE = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent=None):
        super().__init__(parent)
        self.labels = np.zeros(0, dtype=np.int64)
        self.class_names: list[str] = []
        self.subjects: list[str] = []
        self.pred: np.ndarray | None = None
        self.conf: np.ndarray | None = None
        self.pred_names: list[str] = []
        self._green = QtGui.QBrush(QtGui.QColor(90, 200, 110))
        self._red = QtGui.QBrush(QtGui.QColor(235, 90, 90))

    def set_motions(self, labels: np.ndarray, class_names: list[str], subjects: list[str]) -> None:
        self.beginResetModel()
        self.labels = np.asarray(labels, dtype=np.int64)
        self.class_names = list(class_names)
        self.subjects = list(subjects)
        self.pred = self.conf = None
        self.endResetModel()

    def set_predictions(self, probs: np.ndarray | None, names: list[str]) -> None:
        if probs is None:
            self.pred = self.conf = None
        else:
            finite = np.isfinite(probs).all(axis=1)
            self.pred = np.where(finite, np.argmax(np.nan_to_num(probs, nan=-1.0), axis=1), -1)
            self.conf = np.nan_to_num(probs.max(axis=1, initial=0.0), nan=0.0)
        self.pred_names = list(names)
        n = len(self.labels)
        if n:
            self.dataChanged.emit(self.index(0, 3), self.index(n - 1, 3))

    def correct(self, row: int) -> bool | None:
        if self.pred is None or self.pred[row] < 0:
            return None
        return bool(self.pred[row] == self.labels[row])

    def rowCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: B008,N802 - Qt API
        return 0 if parent.isValid() else len(self.labels)

    def columnCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: B008,N802 - Qt API
        return 0 if parent.isValid() else 4

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 - Qt API
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def text(self, row: int, col: int) -> str:
        if col == 0:
            return str(row)
        if col == 1:
            return self.class_names[int(self.labels[row])]
        if col == 2:
            return self.subjects[row] if row < len(self.subjects) else ""
        ok = self.correct(row)
        if ok is None:
            return "…"
        return "✓" if ok else f"✗ {self.pred_names[int(self.pred[row])]}"

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return row if col == 0 else self.text(row, col)
        if col == 3:
            ok = self.correct(row)
            if role == Qt.ItemDataRole.ForegroundRole and ok is not None:
                return self._green if ok else self._red
            if role == Qt.ItemDataRole.ToolTipRole and ok is not None:
                p = int(self.pred[row])
                return f"predicted {self.pred_names[p]} ({self.conf[row]:.0%})"
            if role == self.CORRECT_ROLE:
                return ok
        return None


class _MotionFilter(QtCore.QSortFilterProxyModel):
    """Case-insensitive text filter over #, class and subject, plus "attack candidates only"."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._correct_only = False
        self._text = ""

    def set_correct_only(self, on: bool) -> None:
        self._correct_only = bool(on)
        self.invalidate()

    def set_text(self, text: str) -> None:
        self._text = text.strip().lower()
        self.invalidate()

    def filterAcceptsRow(self, row: int, parent) -> bool:  # noqa: N802 - Qt naming
        m: _MotionTableModel = self.sourceModel()
        if self._correct_only and m.correct(row) is not True:
            return False
        if not self._text:
            return True
        return any(self._text in m.text(row, c).lower() for c in (0, 1, 2, 3))


class _Relay(QtCore.QObject):
    """Receives a TaskWorker's signals in the GUI thread (its slots are bound methods of a GUI-thread
    object, so the connections are queued) and calls plain Python callbacks there."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.on_done = self.on_fail = self.on_cancel = self.on_progress = None

    @Slot(object)
    def done(self, result) -> None:
        self.on_done(result)

    @Slot(str)
    def fail(self, text: str) -> None:
        self.on_fail(text)

    @Slot()
    def cancelled(self) -> None:
        self.on_cancel()

    @Slot(int, int, str)
    def progress(self, done: int, total: int, text: str) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total, text)
