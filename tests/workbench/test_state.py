"""WorkbenchState on its own (no window): what a new dataset or model invalidates, labels by the dataset's
class names through the model's label map, why Run is refused, run records and their comparison."""

from __future__ import annotations

import numpy as np
import pytest

from engine.datasets import MotionDataset
from workbench.catalog import LoadedModel
from workbench.records import RunRecord, compare_reason
from workbench.state import ModelStatus, RunningAttack, WorkbenchState


def _dataset(names=("a", "b", "c"), n=6, source="x"):
    rng = np.random.default_rng(0)
    return MotionDataset(rng.normal(size=(n, 8, 25, 3)).astype(np.float32), np.arange(n) % len(names),
                         list(names), "ntu25", 30.0, name=source)


def _model(source="m.pt", names=("c", "b", "a")):
    class Meta:
        model, layout, class_names = "mlp", "ntu25", list(names)
    return LoadedModel(model=None, meta=Meta(), source=source, title=source)


def _record(run_id=1, dataset="x", motion=0, model="m.pt", cancelled=False, success=True, iterations=7):
    z = np.zeros((8, 25, 3), np.float32)
    params = {"strategy": "ab", "w": 0.4, "alpha": 0.3, "betas": (0.6, 0, 0.4, 0, 0), "iterations": 300}
    return RunRecord(run_id, dataset, dataset, motion, model, model, params, z, z, 0, -1, success, iterations,
                     3, 1, np.array([0.1, 0.8, 0.1]), {}, {}, np.zeros(25), cancelled)


def test_a_new_dataset_invalidates_selection_run_and_evaluation(qtbot):
    st = WorkbenchState()
    st.set_dataset(_dataset(), "x")
    st.set_model(_model(), np.tile([[0.1, 0.2, 0.7]], (6, 1)).astype(np.float32), np.array([2, 1, 0]))
    st.select(3)
    rec = _record(motion=3)
    st.runs.append(rec)
    st.show_run(rec)
    signals = [st.dataset_changed, st.selection_changed, st.runs_changed, st.model_changed]
    with qtbot.waitSignals(signals, timeout=1000):
        st.set_dataset(_dataset(n=4, source="y"), "y")
    assert st.index == 0 and st.shown is None and st.probabilities is None and st.label_map is None
    assert st.status == ModelStatus.EVALUATING and st.transfer == []
    assert st.can_attack() == (False, "The model is still being evaluated on the dataset; Run is enabled "
                                      "when it is done.")
    assert st.runs == [rec]  # the history stays, with its dataset


def test_labels_are_the_datasets_names_mapped_by_name(qtbot):
    st = WorkbenchState()
    st.set_dataset(_dataset(), "x")
    # the model's classes are the dataset's in reverse order: dataset class k is model class 2 - k
    probs = np.zeros((6, 3), np.float32)
    probs[np.arange(6), 2 - np.arange(6) % 3] = 1.0  # every motion classified correctly
    st.set_model(_model(), probs, np.array([2, 1, 0]))
    assert st.correct_mask().all()
    assert [st.model_class_name(c) for c in range(3)] == ["c", "b", "a"]
    assert st.model_label(0) == 2 and st.can_attack() == (True, "")


def test_misfit_says_why_and_a_new_model_drops_the_shown_run(qtbot):
    st = WorkbenchState()
    st.set_dataset(_dataset(), "x")
    st.set_model(_model(), np.tile([[0.7, 0.2, 0.1]], (6, 1)).astype(np.float32), np.array([0, 1, 2]))
    rec = _record()
    st.runs.append(rec)
    st.show_run(rec)
    st.set_model_status(ModelStatus.MISFIT, "class names differ")
    ok, why = st.can_attack()
    assert not ok and "does not fit" in why and "class names differ" in why
    st.set_model(_model("other.pt"), np.tile([[0.7, 0.2, 0.1]], (6, 1)).astype(np.float32), None)
    assert st.shown is None  # the old model's result is not shown beside the new model's probabilities
    st.select(0, force=True)
    assert st.shown is None  # and selecting the motion again shows only runs by the current model


def test_running_clears_the_shown_run_and_a_stopped_record_says_so(qtbot):
    st = WorkbenchState()
    st.set_dataset(_dataset(), "x")
    st.set_model(_model(), np.tile([[0.7, 0.2, 0.1]], (6, 1)).astype(np.float32), np.array([0, 1, 2]))
    st.runs.append(old := _record(run_id=1))
    st.show_run(old)
    st.start_run(RunningAttack({"strategy": "ab"}, 0, "m.pt", 300))
    assert st.shown is None and st.running is not None
    stopped = _record(run_id=2, cancelled=True, success=False, iterations=77)
    st.end_run(stopped)
    assert st.running is None and st.shown is stopped
    assert stopped.outcome == "stopped" and stopped.outcome_text() == "stopped at 77 / 300"
    assert _record(cancelled=True, success=True).outcome_text().endswith("goal reached")


@pytest.mark.parametrize(("a", "b", "why"), [
    (dict(motion=0), dict(motion=0), ""),
    (dict(motion=0), dict(motion=1), "motion #0"),
    (dict(dataset="x"), dict(dataset="y"), "same motion"),
])
def test_runs_are_compared_only_on_the_same_motion(a, b, why):
    text = compare_reason(_record(run_id=1, **a), _record(run_id=2, **b))
    assert (why in text) if why else text == ""
