"""Exports of the selected motion and its shown run: clips (rendered in slices of ~20 ms between events
from a hidden view, with a progress dialog), the motion as npz, the runs' numbers as JSON/CSV, the plots
as one PNG. The save dialog opens in a writable folder (the last export folder, else the home folder);
PNG frames go into a folder that is created."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Signal

from . import export as export_mod
from .errors import Problem, describe
from .export_dock import ExportDock
from .plots_dock import PlotsDock
from .render import ClipJob, make_export_view, render_clip
from .results_dock import ResultsDock
from .settings import Settings
from .state import WorkbenchState

__all__ = ["Exporter"]

FILTERS = {"mp4": "MP4 video (*.mp4)", "gif": "GIF (*.gif)", "npz": "Workbench motion (*.npz)",
           "json": "JSON (*.json)", "csv": "CSV (*.csv)", "plots": "PNG image (*.png)",
           "png": "A new folder for the PNG frames (*)"}
EXPORT_HINT = "Choose another file or folder (is it writable? is the disk full?)."


def _writable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK)


class Exporter(QtCore.QObject):
    """Signals: ``finished(str)`` (the path written), ``status(str)``."""

    finished = Signal(str)
    status = Signal(str)

    def __init__(self, state: WorkbenchState, dock: ExportDock, plots: PlotsDock, results: ResultsDock,
                 settings: Settings, report: Callable[[str, Problem, str], None], parent: QtWidgets.QWidget):
        super().__init__(parent)
        self.state, self.dock, self.plots, self.results = state, dock, plots, results
        self.settings, self._report, self._parent = settings, report, parent
        self.view = None  # the hidden export view, made on first use
        self.gen = None
        self.dialog: QtWidgets.QProgressDialog | None = None
        self.path = ""
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)
        dock.export_requested.connect(self.ask)

    def folder(self) -> Path:
        """Where the save dialog opens: the last export folder, if still writable, else home."""
        for f in (self.settings.export_dir, str(Path.home())):
            if f and _writable(Path(f)):
                return Path(f)
        return Path.cwd()

    def ask(self, kind: str) -> None:
        st = self.state
        if st.dataset is None or st.index is None:
            self._report("Nothing to export", Problem("Select a motion first."), "")
            return
        stem = f"motion{st.index}" + (f"_run{st.shown.run_id}" if st.shown else "")
        ext = {"plots": "png", "png": ""}.get(kind, kind)
        base = self.folder() / (f"{stem}_frames" if kind == "png" else f"{stem}.{ext}")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self._parent, "Export", str(base), FILTERS[kind])
        if path:
            self.export(kind, path)

    def export(self, kind: str, path: str | Path) -> None:
        """Export without asking; errors give a dialog."""
        path = str(path)
        try:
            if kind in ("mp4", "gif", "png"):
                self.export_clip(path, kind)
                return
            {"npz": self._npz, "json": self._json, "csv": self._csv, "plots": self._plots}[kind](path)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a dialog
            self._report("Export failed", _about(path, describe(exc)), EXPORT_HINT)
            return
        self._done(path)

    def _done(self, path: str) -> None:
        folder = Path(path) if Path(path).is_dir() else Path(path).parent
        self.settings.export_dir = str(folder)
        self.status.emit(f"Exported {path}")
        self.finished.emit(path)

    # ------------------------------------------------------------------------------------------ clips
    def clip_job(self) -> ClipJob:
        st = self.state
        rec = st.shown
        orig = st.dataset.motions[st.index] if rec is None else rec.original
        d = self.dock
        return ClipJob(
            original=orig, adversarial=None if rec is None else rec.adversarial,
            bones=st.dataset.layout.bone_array(), clip_fps=st.dataset.fps,
            size=export_mod.parse_size(d.size_combo.currentText()), fps=float(d.fps_spin.value()),
            speed=float(d.speed_combo.currentData()), mode=d.mode_combo.currentData(),
            label_original=f"original: {st.class_name(int(st.dataset.labels[st.index]))}",
            label_adversarial=("adversarial" if rec is None else
                               f"adversarial: {st.model_class_name(rec.predicted)}"),
            caption="" if rec is None else rec.caption())

    def export_clip(self, path: str, kind: str | None = None) -> None:
        if self.gen is not None:
            self._report("Export busy", Problem("Another clip is being exported: wait for it or cancel it."),
                         "")
            return
        if self.state.index is None:
            raise ValueError("select a motion first")
        job = self.clip_job()
        if self.view is None:
            self.view = make_export_view()
        self.path = path
        self.gen = render_clip(self.view, job, path, kind)
        dlg = QtWidgets.QProgressDialog(f"Rendering {Path(path).name}…", "Cancel", 0, 100, self._parent)
        dlg.setWindowTitle("Export")
        dlg.setMinimumDuration(300)
        dlg.canceled.connect(self.cancel)
        self.dialog = dlg
        self._timer.start()

    def _tick(self) -> None:
        if self.gen is None:
            self._timer.stop()
            return
        t0 = time.monotonic()
        try:
            while time.monotonic() - t0 < 0.02:
                done, total = next(self.gen)
                if self.dialog is not None:
                    self.dialog.setMaximum(total)
                    self.dialog.setValue(done)
        except StopIteration:
            self._finish(None)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self._finish(exc)

    def _close_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.canceled.disconnect(self.cancel)
            self.dialog.reset()
            self.dialog.deleteLater()
            self.dialog = None

    def _finish(self, exc: Exception | None) -> None:
        self._timer.stop()
        self.gen = None
        self._close_dialog()
        if exc is not None:
            self._report("Export failed", _about(self.path, describe(exc)),
                         "Choose another file name or folder (is it writable?), or another size.")
            return
        self._done(self.path)

    def cancel(self) -> None:
        gen, self.gen = self.gen, None
        self._timer.stop()
        if gen is not None:
            gen.close()
        self._close_dialog()
        self.status.emit("Export cancelled")

    def busy(self) -> bool:
        return self.gen is not None

    def shutdown(self) -> None:
        if self.gen is not None:
            self.cancel()
        if self.view is not None:  # the hidden export view is a top-level widget
            self.view.deleteLater()
            self.view = None

    # ---------------------------------------------------------------------------------------- files
    def _npz(self, path: str) -> None:
        st = self.state
        rec = st.shown
        if rec is None:
            raise ValueError("There is no adversarial motion to save yet: run an attack first.")
        ds = st.dataset
        export_mod.save_motion_npz(path, rec.original, rec.adversarial, int(ds.labels[rec.motion]),
                                   list(ds.class_names), ds.layout, ds.fps,
                                   source=f"{st.source}#{rec.motion}",
                                   info={"run": rec.to_json()["params"], "model": rec.model})

    def _runs(self):
        runs = self.state.current_runs()
        if not runs:
            raise ValueError("There are no numbers to save yet: run an attack on this motion first.")
        return runs

    def _json(self, path: str) -> None:
        st = self.state
        names = st.model.class_names if st.model is not None else None
        export_mod.write_metrics_json(path, {"dataset": st.source, "motion": st.index,
                                             "runs": [r.to_json(names) for r in self._runs()]})

    def _csv(self, path: str) -> None:
        st = self.state
        rows = []
        for r in self._runs():
            row = {"run": r.run_id, "dataset": r.dataset, "motion": r.motion, "model": r.model,
                   "outcome": r.outcome}
            row.update({k: (",".join(map(str, v)) if isinstance(v, tuple) else v)
                        for k, v in r.params.items()})
            row.update({"success": r.success, "cancelled": r.cancelled, "iterations": r.iterations,
                        "flip_iteration": r.flip_iteration, "label": st.model_class_name(r.label),
                        "predicted": st.model_class_name(r.predicted)})
            row.update(r.metrics)
            rows.append(row)
        export_mod.write_metrics_csv(path, rows)

    def _plots(self, path: str) -> None:
        self.plots.loss_plot.flush()
        images = [self.plots.loss_plot.grab().toImage(), self.plots.prob_bars.grab().toImage(),
                  self.results.disp_chart.grab().toImage()]
        img = QtGui.QImage(sum(i.width() for i in images), max(i.height() for i in images),
                           QtGui.QImage.Format.Format_RGB32)
        img.fill(QtGui.QColor(0, 0, 0))
        p = QtGui.QPainter(img)
        x = 0
        for i in images:
            p.drawImage(x, 0, i)
            x += i.width()
        p.end()
        if not img.save(path, "PNG"):
            raise OSError(f"{path}: the image could not be written")


def _about(path: str, problem: Problem) -> Problem:
    """The problem's message naming ``path`` once."""
    msg = problem.message if path in problem.message else f"{path}: {problem.message}"
    return Problem(msg, problem.details)
