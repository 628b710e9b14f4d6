"""The one truth of the workbench window: what is open, what is selected, what runs and what ran.

:class:`WorkbenchState` owns the dataset, the model and its evaluation status (evaluating / ready /
does not fit, with the reason), the models on offer, the selected motion, the attack that is running,
the run history, the run on screen and the black-box (transfer) predictions. It emits a change signal
for each; every dock renders from it and keeps no copy of what it shows (napari's split between a
viewer model and its Qt views). It holds no widget and starts no thread.

Invalidation lives here: a new dataset clears the selection (to motion 0), the model's evaluation, the
shown run and the transfer rows; a new model clears the shown run and the transfer rows. Labels are
always the dataset's class names (the model's classes are mapped to them by name through
``label_map``, :func:`engine.models.fit`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine.attack import StepReport

from .catalog import LoadedModel, ModelChoice
from .records import RunRecord

__all__ = ["ModelStatus", "RunningAttack", "TransferRow", "WorkbenchState"]


class ModelStatus:
    """The model's status for the open dataset."""

    NONE = "none"
    LOADING = "loading"
    EVALUATING = "evaluating"
    READY = "ready"
    MISFIT = "does-not-fit"


@dataclass
class RunningAttack:
    """The attack in progress: its parameters, the motion it works on, the model, the latest step."""

    params: dict
    motion: int
    model: str
    iterations: int
    target_model: int | None = None  # SA: the target in the model's classes
    started: float = field(default_factory=time.monotonic)
    report: StepReport | None = None


@dataclass(frozen=True)
class TransferRow:
    """One other model's verdict on the shown run: its prediction of the original and of the adversarial
    motion (dataset class names), whether the adversarial motion fools it too."""

    model: str
    source: str
    original: str
    adversarial: str
    confidence: float
    fooled: bool
    original_correct: bool


class WorkbenchState(QObject):
    """See the module docstring. Signals carry nothing: receivers read the state."""

    dataset_changed = Signal()
    model_changed = Signal()  # model, status, probabilities or the models on offer
    job_changed = Signal()  # a model load / evaluation started, progressed or ended (``job``)
    selection_changed = Signal()
    run_started = Signal()
    run_stepped = Signal()  # ``running.report`` was replaced (often: receivers throttle)
    run_ended = Signal()
    runs_changed = Signal()  # history or the shown run
    transfer_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.dataset = None
        self.source = ""  # a path or "demo:<name>"
        self.demo_name: str | None = None
        self.model: LoadedModel | None = None
        self.status = ModelStatus.NONE
        self.reason = ""  # why the model does not fit / what is happening
        self.probabilities: np.ndarray | None = None  # (N, C) clean probabilities of the model
        self.label_map: np.ndarray | None = None  # dataset class k -> model class label_map[k] (-1: none)
        self.choices: list[ModelChoice] = []
        self.index: int | None = None
        self.running: RunningAttack | None = None
        self.runs: list[RunRecord] = []
        self.shown: RunRecord | None = None
        self.transfer: list[TransferRow] = []
        self.transfer_note = ""
        self.job: tuple[str, int, int] | None = None  # a model load/evaluation in progress: text, done, total

    # ------------------------------------------------------------------------------------------ dataset
    @property
    def title(self) -> str:
        if self.dataset is None:
            return ""
        if self.demo_name:
            return str(self.dataset.info.get("title", self.demo_name)) if hasattr(self.dataset, "info") \
                else self.demo_name
        path = Path(self.source)
        name = self.dataset.name or path.name
        return f"{path.parent.name}/{path.name}" if name == path.name and path.parent.name else name

    @property
    def short_title(self) -> str:
        """The demo's name or the file's folder/name (for tables)."""
        if self.dataset is None:
            return ""
        if self.demo_name:
            return self.demo_name
        path = Path(self.source)
        return f"{path.parent.name}/{path.name}" if path.parent.name else path.name

    def set_dataset(self, dataset, source: str, demo_name: str | None = None) -> None:
        """A new dataset: motion 0 selected; the model's evaluation, the shown run and the transfer rows
        are gone (the model stays, to be checked and evaluated again)."""
        self.dataset, self.source, self.demo_name = dataset, str(source), demo_name
        self.probabilities = self.label_map = None
        self.choices = []
        self.status = ModelStatus.EVALUATING if self.model is not None else ModelStatus.NONE
        self.reason = ""
        self.index = 0 if len(dataset) else None
        self.shown = None
        self.transfer, self.transfer_note = [], ""
        self.dataset_changed.emit()
        self.model_changed.emit()
        self.selection_changed.emit()
        self.runs_changed.emit()
        self.transfer_changed.emit()

    def class_name(self, k: int) -> str:
        """The dataset's name of its class ``k``."""
        names = list(self.dataset.class_names) if self.dataset is not None else []
        return names[k] if 0 <= k < len(names) else str(k)

    def motion_key(self, i: int | None = None) -> tuple[str, int]:
        return (self.source, int(self.index if i is None else i))

    # -------------------------------------------------------------------------------------------- model
    def set_choices(self, choices: list[ModelChoice]) -> None:
        self.choices = list(choices)
        self.model_changed.emit()

    def set_job(self, job: tuple[str, int, int] | None) -> None:
        """A model load / evaluation in progress (``(text, done, total)``; total 0: unknown) or None."""
        self.job = job
        self.job_changed.emit()

    def set_model_status(self, status: str, reason: str = "") -> None:
        """LOADING / EVALUATING (with a note) or MISFIT (with the reason): no probabilities until READY."""
        self.status, self.reason = status, reason
        if status != ModelStatus.READY:
            self.probabilities = None
        self.model_changed.emit()

    def set_model(self, model: LoadedModel, probabilities: np.ndarray | None, label_map: np.ndarray | None
                  ) -> None:
        """The model is ready for the open dataset (``probabilities`` ``(N, C)``)."""
        changed = self.model is None or model.source != self.model.source
        self.model = model
        self.probabilities = probabilities
        self.label_map = None if label_map is None else np.asarray(label_map, dtype=np.int64)
        self.status, self.reason = ModelStatus.READY, ""
        if changed:
            self.shown = None
            self.transfer, self.transfer_note = [], ""
        self.model_changed.emit()
        if changed:
            self.runs_changed.emit()
            self.transfer_changed.emit()
        if self.index is not None:
            self.select(self.index, force=True)

    def model_label(self, i: int) -> int:
        """Motion ``i``'s true class in the model's classes (-1: the model does not know it)."""
        k = int(self.dataset.labels[i])
        if self.label_map is None:
            return k
        return int(self.label_map[k]) if 0 <= k < len(self.label_map) else -1

    def model_class_name(self, c: int) -> str:
        """The name of the model's class ``c``: the dataset's name of it where it has one."""
        if self.label_map is not None:
            hits = np.flatnonzero(self.label_map == c)
            if hits.size:
                return self.class_name(int(hits[0]))
        elif self.dataset is not None and 0 <= c < len(self.dataset.class_names):
            return self.class_name(c)
        names = self.model.class_names if self.model is not None else []
        return names[c] if 0 <= c < len(names) else str(c)

    def correct_mask(self) -> np.ndarray:
        """(N,) bool: the model classifies motion i correctly (all False until it is ready)."""
        if self.dataset is None:
            return np.zeros(0, dtype=bool)
        if self.probabilities is None or self.status != ModelStatus.READY:
            return np.zeros(len(self.dataset), dtype=bool)
        labels = np.asarray(self.dataset.labels, dtype=np.int64)
        truth = labels if self.label_map is None else self.label_map[labels]
        ok = np.isfinite(self.probabilities).all(axis=1)
        return ok & (np.argmax(np.nan_to_num(self.probabilities, nan=-1.0), axis=1) == truth) & (truth >= 0)

    def can_attack(self) -> tuple[bool, str]:
        """Whether Run may start, and if not, why (in the user's words)."""
        if self.dataset is None or self.index is None:
            return False, "Open a dataset and select a motion first."
        if self.status == ModelStatus.MISFIT:
            return False, f"The model does not fit this dataset: {self.reason}"
        if self.model is None:
            return False, "Load a model first (Model panel)."
        if self.status == ModelStatus.NONE:
            return False, self.reason or "Pick a model in the Model panel."
        if self.status in (ModelStatus.LOADING, ModelStatus.EVALUATING) or self.probabilities is None:
            return False, "The model is still being evaluated on the dataset; Run is enabled when it is done."
        if self.model_label(self.index) < 0:
            name = self.class_name(int(self.dataset.labels[self.index]))
            return False, f"The model does not know this motion's class ({name}): there is nothing to attack."
        if not self.correct_mask()[self.index]:
            return False, ("The model misclassifies this motion, so there is nothing to attack (the paper "
                           "attacks only correctly classified motions). Pick one marked ✓ in the list.")
        return True, ""

    # ---------------------------------------------------------------------------------------- selection
    def select(self, i: int, force: bool = False) -> None:
        """Select motion ``i``; the shown run becomes the latest run on it by the current model."""
        if self.dataset is None or not 0 <= i < len(self.dataset):
            return
        if i == self.index and not force:
            return
        self.index = int(i)
        mine = [r for r in self.runs_for(self.motion_key())
                if self.model is not None and r.model_source == self.model.source]
        self.shown = mine[-1] if mine and self.running is None else None
        self.transfer, self.transfer_note = [], ""
        self.selection_changed.emit()
        self.runs_changed.emit()
        self.transfer_changed.emit()

    # --------------------------------------------------------------------------------------------- runs
    def runs_for(self, key: tuple[str, int]) -> list[RunRecord]:
        return [r for r in self.runs if r.motion_key == key]

    def current_runs(self) -> list[RunRecord]:
        return [] if self.index is None else self.runs_for(self.motion_key())

    def start_run(self, running: RunningAttack) -> None:
        self.running = running
        self.shown = None
        self.transfer, self.transfer_note = [], ""
        self.run_started.emit()
        self.runs_changed.emit()
        self.transfer_changed.emit()

    def step(self, report: StepReport) -> None:
        if self.running is not None:
            self.running.report = report
            self.run_stepped.emit()

    def end_run(self, record: RunRecord | None) -> None:
        """The run ended; ``record`` (None: dropped, e.g. a live restart) joins the history and is shown
        if it is on the selected motion."""
        self.running = None
        if record is not None:
            self.runs.append(record)
            if self.index is not None and record.motion_key == self.motion_key() \
                    and self.model is not None and record.model_source == self.model.source:
                self.shown = record
        self.run_ended.emit()
        self.runs_changed.emit()

    def show_run(self, record: RunRecord | None) -> None:
        if record is self.shown:
            return
        self.shown = record
        self.transfer, self.transfer_note = [], ""
        self.runs_changed.emit()
        self.transfer_changed.emit()

    def set_transfer(self, rows: list[TransferRow], note: str = "") -> None:
        self.transfer, self.transfer_note = list(rows), note
        self.transfer_changed.emit()
