"""Redraws the live widgets while an attack runs, at most ``UI_HZ`` times a second per group: the loss
curves; the progress bar and probability bars; the adversarial skeleton. Groups take turns (one repaint
per event-loop turn keeps every stall short under software GL: benchmarks/gui_latency.py), paced with the
3D view's frames (a paced :class:`~widgets._throttle.FrameThrottle`). Each step's
losses are appended when it arrives (cheap); everything else reads ``state.running.report``."""

from __future__ import annotations

from PySide6 import QtCore

from widgets._throttle import FrameThrottle

from .attack_dock import AttackDock
from .plots_dock import LOSS_TERMS, PlotsDock
from .state import WorkbenchState
from .view_panel import ViewPanel

__all__ = ["LiveUpdates"]


class LiveUpdates(QtCore.QObject):
    UI_HZ = 8

    def __init__(self, state: WorkbenchState, plots: PlotsDock, attack: AttackDock, centre: ViewPanel,
                 parent=None):
        super().__init__(parent)
        self.state, self.plots, self.attack, self.centre = state, plots, attack, centre
        # one group per tick, a tick at most every 1/(3·UI_HZ) s and a display frame after any other paced
        # redraw (the 3D view's frames)
        self._throttle = FrameThrottle(self._tick, int(1000 / (3 * self.UI_HZ)), self, leading=False,
                                       paced=True)
        self._phase = 0
        self._drawn = None  # the report of the current round of groups
        self._flip_marked = False
        state.run_started.connect(self._on_start)
        state.run_stepped.connect(self._on_step)
        state.run_ended.connect(self._on_end)

    def _on_start(self) -> None:
        self._flip_marked = False
        self._drawn = None
        self.plots.loss_plot.clear()
        r = self.state.running
        self.attack.panel.set_progress(0, r.iterations if r is not None else 1)

    def _on_step(self) -> None:
        r = self.state.running
        report = r.report
        it = int(report.iteration)
        self.plots.loss_plot.append(it, {k: float(report.losses[k][0]) for k in LOSS_TERMS
                                         if k in report.losses})
        if bool(report.success[0]) and not self._flip_marked:
            self._flip_marked = True
            self.plots.loss_plot.mark_flip(it)
        self._throttle.request()

    def _tick(self) -> None:
        r = self.state.running
        if r is None or r.report is None:
            return
        report = r.report
        phase = self._phase
        self._phase = (phase + 1) % 3
        if phase == 0:
            if self.plots.loss_plot.step():  # (False: only the range moved; the curves in the next round)
                self._drawn = report
        elif phase == 1:
            self.attack.panel.set_progress(int(report.iteration), report.total_iterations)
            self.plots.show_probabilities(report.probabilities[0], r.target_model)
        elif report.adversarial is not None:
            self.centre.show_iterate(report.adversarial[0])
        if self._phase != 0 or r.report is not self._drawn:
            self._throttle.request()  # the other groups (or a newer report) are still to draw

    def _on_end(self) -> None:
        self._throttle.cancel()
        self.plots.loss_plot.flush()
