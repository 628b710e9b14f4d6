"""Opening datasets and models for the window, in background tasks, into the :class:`WorkbenchState`.

After a dataset opens, one "model" task finds the shipped checkpoints that fit it (same layout, class
names, fps: :func:`engine.models.fit`), keeps the current model if it fits, otherwise switches to the
fitting model used last (or a preferred one), and evaluates it over the dataset. When nothing fits, the
state says "does not fit" with the reason. A model the user picks is checked the same way; if it does not
fit, a dialog says why and the previous model stays.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from engine import datasets as datasets_mod
from engine import demo as demo_mod
from engine.models import ModelDataMismatch, fit

from .catalog import (
    LoadedModel,
    ModelChoice,
    closest_mismatch,
    first_fitting,
    fitting_models,
    load_model,
    resolve_model_spec,
)
from .errors import Problem
from .evaluation import evaluate, prepare_inference, warm_up
from .settings import Settings
from .state import ModelStatus, WorkbenchState
from .tasks import TaskRunner

__all__ = ["Loader"]

# the loaders' messages say what is wrong and what to do; these only say what stays
DATASET_HINT = "The dataset that was open stays open."
MODEL_HINT = "The previous model stays loaded."


class Loader(QtCore.QObject):
    """``report(title, problem, hint)`` shows an error; ``device()`` gives the evaluation device.
    Signals: ``settled()`` each time a dataset or model request has been answered (loaded or failed)."""

    settled = QtCore.Signal()
    status = QtCore.Signal(str)

    def __init__(self, state: WorkbenchState, tasks: TaskRunner, settings: Settings,
                 report: Callable[[str, Problem, str], None], device: Callable[[], str], parent=None):
        super().__init__(parent)
        self.state, self.tasks, self.settings = state, tasks, settings
        self._report, self._device = report, device
        self.user_checkpoints: list[str] = []  # checkpoint files opened this session

    # ------------------------------------------------------------------------------------- datasets
    def open_demo(self, name: str, model: str | None = None) -> None:
        self.status.emit(f"Loading {demo_mod.demo_title(name)}…")
        self.tasks.start("dataset", lambda progress, cancelled: demo_mod.load_demo(name),
                         lambda ds: self._dataset_loaded(ds, f"demo:{name}", name, model),
                         on_fail=lambda p: self._dataset_failed(f"the {name} demo", p))

    def open_dataset(self, path: str | Path, model: str | None = None, parent: QtWidgets.QWidget | None = None
                     ) -> None:
        """Open a dataset file or folder (and then ``model``: a checkpoint or a shipped model's name)."""
        path = str(path)
        self.status.emit(f"Opening {path}…")
        dlg = None
        if parent is not None:
            dlg = QtWidgets.QProgressDialog(f"Opening {Path(path).name}…", "Cancel", 0, 0, parent)
            dlg.setWindowTitle("Opening dataset")
            dlg.setMinimumDuration(400)

        def close_dialog():
            if dlg is not None:
                dlg.canceled.disconnect()
                dlg.reset()
                dlg.deleteLater()

        def done(ds):
            close_dialog()
            self.settings.add_recent(path)
            self._dataset_loaded(ds, path, None, model)

        def failed(problem):
            close_dialog()
            self._dataset_failed(path, problem)

        self.tasks.start("dataset", lambda progress, cancelled: datasets_mod.load(path), done, on_fail=failed)
        if dlg is not None:
            def cancelled():
                self.tasks.cancel("dataset")
                self.status.emit("Opening cancelled; the dataset that was open stays open")
                close_dialog()
            dlg.canceled.connect(cancelled)

    def _dataset_failed(self, what: str, problem: Problem) -> None:
        msg = problem.message if what in problem.message else f"{what}: {problem.message}"
        self._report("Could not open the dataset", Problem(msg, problem.details), DATASET_HINT)
        self.settled.emit()

    def _dataset_loaded(self, ds, source: str, demo_name: str | None, requested: str | None) -> None:
        st = self.state
        if demo_name is not None:
            self.settings.last_demo = demo_name
        st.set_dataset(ds, source, demo_name)
        self.status.emit(f"Loaded {st.title}: {len(ds)} motions")
        self._resolve_model(requested)

    # --------------------------------------------------------------------------------------- models
    def _resolve_model(self, requested: str | None) -> None:
        """The "model" task after a dataset change (see the module docstring)."""
        st = self.state
        ds, current, device = st.dataset, st.model, self._device()
        last, extra = self.settings.last_model, list(self.user_checkpoints)
        st.set_job(("Finding the models that fit…", 0, 0))

        def job(progress, cancelled):
            requested_problem = None
            lm = None
            why_not = ""
            if requested:
                try:
                    lm = load_model(resolve_model_spec(requested, ds))
                    fit(lm.model, ds)
                except (ValueError, OSError) as exc:  # WorkbenchError, ModelDataMismatch are ValueErrors
                    requested_problem, lm = str(exc), None
            if lm is None and current is not None:
                try:
                    fit(current.model, ds)
                    lm = current
                except ModelDataMismatch as exc:
                    why_not = f"{current.title}: {exc}"
            if lm is None:
                lm = first_fitting(ds, last, extra)
                if lm is None:
                    return None, None, None, why_not or closest_mismatch(ds), requested_problem
            label_map = fit(lm.model, ds)
            progress(0, len(ds), "evaluating")
            probs = evaluate(lm.model, ds.motions, device, progress=progress)
            if len(ds):
                warm_up(lm.model, ds.layout, ds.motions[0], max(int(label_map[int(ds.labels[0])]), 0))
            return lm, probs, label_map, why_not, requested_problem

        def done(result):
            lm, probs, label_map, why_not, requested_problem = result
            st.set_job(None)
            if requested_problem:
                self._report("Could not use the model", Problem(requested_problem), "")
            if lm is None:
                reason = why_not or "no model is loaded."
                reason += (" No shipped model fits this dataset either: open a checkpoint trained on its "
                           "classes and skeleton (Model → Open…).")
                st.set_model_status(ModelStatus.MISFIT, reason)
                self.status.emit("The model does not fit this dataset")
            else:
                if why_not:
                    old = why_not.split(":")[0]
                    self.status.emit(f"{old} does not fit this dataset: switched to {lm.title}")
                self._accept(lm, probs, label_map)
            self._offer_models(ds, extra)

        def failed(problem: Problem):
            st.set_job(None)
            st.set_model_status(ModelStatus.MISFIT, problem.message)
            self._report("Could not use a model on this dataset", problem, "")
            self.settled.emit()

        self.tasks.start("model", job, done, on_progress=self._progress, on_fail=failed)

    def _offer_models(self, ds, extra: list[str]) -> None:
        """The "catalog" task: every model that fits ``ds`` goes into the Model combo (then ``settled``)."""
        def done(choices):
            if self.state.dataset is ds:
                self.state.set_choices(choices)
            self.settled.emit()

        def failed(problem: Problem):
            self.settled.emit()

        device = self._device()

        def job(progress, cancelled):
            choices = fitting_models(ds, extra)
            for c in choices:  # the black-box panel's copies, made now rather than during an attack
                if cancelled():
                    break
                try:
                    prepare_inference(load_model(c.source).model, device)
                except (ValueError, OSError, RuntimeError):  # offered anyway: the panel says what fails
                    continue
            return choices

        self.tasks.start("catalog", job, done, on_fail=failed)

    def _progress(self, done: int, total: int, _text: str) -> None:
        self.state.set_job((f"evaluating {done} / {total}", done, total))

    def _accept(self, lm: LoadedModel, probs, label_map) -> None:
        self.settings.last_model = lm.source
        self.state.set_model(lm, probs, label_map)

    def load_model(self, source: str) -> None:
        """Load the checkpoint ``source`` (a path or a shipped model's name), check it fits the open
        dataset, evaluate it; the current model stays until this succeeds."""
        if not source:
            return
        st = self.state
        ds, device = st.dataset, self._device()
        st.set_job((f"Loading {Path(source).name}…", 0, 0))

        def job(progress, cancelled):
            lm = load_model(resolve_model_spec(source, ds))
            if ds is None:
                return lm, None, None
            label_map = fit(lm.model, ds)
            probs = evaluate(lm.model, ds.motions, device, progress=progress)
            if len(ds):
                warm_up(lm.model, ds.layout, ds.motions[0], max(int(label_map[int(ds.labels[0])]), 0))
            return lm, probs, label_map

        def done(result):
            lm, probs, label_map = result
            st.set_job(None)
            if not any(c.source == lm.source for c in st.choices):
                self.user_checkpoints.append(lm.source)
                st.set_choices([*st.choices, ModelChoice(lm.source, lm.title, lm.name, False)])
            self._accept(lm, probs, label_map)
            self.settled.emit()

        def failed(problem: Problem):
            st.set_job(None)
            st.model_changed.emit()
            self._report("Could not use the model", problem, MODEL_HINT)
            self.settled.emit()

        self.tasks.start("model", job, done, on_progress=self._progress, on_fail=failed)

    def cancel_model(self) -> None:
        """Cancel a model load / evaluation: a model that was ready stays."""
        self.tasks.cancel("model")
        st = self.state
        st.set_job(None)
        if st.status == ModelStatus.EVALUATING:
            st.set_model_status(ModelStatus.NONE, "The evaluation was cancelled: pick a model in the list to "
                                                  "evaluate it on this dataset.")
        self.status.emit("Model loading cancelled")
