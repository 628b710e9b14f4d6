"""The model/data contract (issue 11): class names mapped by name, other layouts and frame rates refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _model_helpers import _one_thread  # noqa: F401  (the module's autouse fixture)

from engine import models
from engine.datasets import MotionDataset
from engine.errors import CheckpointError
from engine.models import ModelDataMismatch, fit, match_classes

NAMES = ["walk", "run", "jump", "kick"]


def _kw(**over):
    kw = {"model_layout": "hdm05_25", "dataset_layout": "hdm05_25", "model_fps": 30.0, "dataset_fps": 30.0}
    return {**kw, **over}


def test_identical_names_give_arange():
    m = match_classes(NAMES, NAMES, **_kw())
    assert m.dtype == np.int64 and m.tolist() == [0, 1, 2, 3]


def test_permuted_and_partial_names_map_by_name():
    assert match_classes(NAMES, ["kick", "walk", "jump", "run"], **_kw()).tolist() == [3, 0, 2, 1]
    # case and surrounding white space do not matter; an unknown class maps to -1
    assert match_classes(NAMES, [" Run", "swim"], **_kw()).tolist() == [1, -1]


def test_disjoint_names_are_refused_naming_both_sets():
    with pytest.raises(ModelDataMismatch, match="class names differ") as info:
        match_classes(NAMES, ["sit", "stand"], **_kw(), model_path="m.pt", dataset_path="data/")
    msg = str(info.value)
    assert all(repr(n) in msg for n in NAMES + ["sit", "stand"]) and "m.pt" in msg and "data/" in msg
    assert isinstance(info.value, ValueError)


def test_ambiguous_names_are_refused():
    assert match_classes(["a", "A"], ["a", "x"], **_kw(model_fps=None)).tolist() == [0, -1]  # exact wins
    with pytest.raises(ModelDataMismatch, match="ambiguous"):
        match_classes(["a", "A"], ["A "], **_kw())


def test_layout_and_fps_mismatch_are_refused():
    with pytest.raises(ModelDataMismatch, match="layout differs.*'hdm05_25'.*'ntu25'"):
        match_classes(NAMES, NAMES, **_kw(dataset_layout="ntu25"))
    with pytest.raises(ModelDataMismatch, match="frame rate differs.*30 fps.*120 fps"):
        match_classes(NAMES, NAMES, **_kw(dataset_fps=120.0))
    assert match_classes(NAMES, NAMES, **_kw(dataset_fps=30.1)).tolist() == [0, 1, 2, 3]


def _dataset(names, layout="hdm05_25", fps=30.0, n=8):
    rng = np.random.default_rng(0)
    v = 25
    x = rng.normal(size=(n, 10, v, 3)).astype(np.float32) * 0.2
    return MotionDataset(x, np.arange(n) % len(names), names, layout, fps, name="toy")


def test_loaded_model_scores_a_permuted_dataset_right(tmp_path):
    torch.manual_seed(0)
    net = models.create("mlp", "hdm05_25", len(NAMES), frames=10).eval()
    models.save_checkpoint(net, tmp_path / "m.pt", NAMES, fps=30.0)
    model, meta = models.load_checkpoint(tmp_path / "m.pt")
    assert model.class_names == NAMES and model.fps == 30.0 and meta.layout == model.layout
    ds = _dataset(NAMES)
    with torch.no_grad():
        pred = model(torch.from_numpy(ds.motions)).argmax(1).numpy()
    ds.labels = pred.copy()  # the model is right on every sample in its own order
    perm = [2, 0, 3, 1]
    permuted = MotionDataset(ds.motions, np.argsort(perm)[pred], [NAMES[i] for i in perm], "hdm05_25", 30.0)
    mapping = fit(model, permuted)
    assert mapping.tolist() == perm
    assert (mapping[permuted.labels] == pred).all()  # every sample scored right after mapping
    assert (permuted.labels != pred).any()  # and the raw labels would have been wrong
    with pytest.raises(ModelDataMismatch, match="class names differ"):
        fit(model, _dataset(["x", "y"]))
    with pytest.raises(ModelDataMismatch, match="layout"):
        fit(model, _dataset(NAMES, layout="ntu25"))
    with pytest.raises(ModelDataMismatch, match="frame rate"):
        fit(model, _dataset(NAMES, fps=120.0))


def test_meta_layout_is_a_layout_that_still_equals_its_name(tmp_path):
    net = models.create("mlp", "ntu25", 3, frames=10)
    models.save_checkpoint(net, tmp_path / "m.pt", ["a", "b", "c"])
    model, meta = models.load_checkpoint(tmp_path / "m.pt")
    from engine.skeleton import Layout, layout
    assert isinstance(meta.layout, Layout) and meta.layout == layout("ntu25") and meta.layout == "ntu25"
    assert str(meta.layout) == "ntu25" and meta.layout.num_joints == 25


def test_load_into_a_given_module_and_refuse_other_objects(tmp_path):
    torch.manual_seed(0)
    net = models.create("mlp", "ntu25", 3, frames=10).eval()
    models.save_checkpoint(net, tmp_path / "m.pt", ["a", "b", "c"])
    into = models.create("mlp", "ntu25", 3, frames=10)
    model, meta = models.load_checkpoint(tmp_path / "m.pt", model=into)
    assert model is into and not model.training and model.class_names == ["a", "b", "c"]
    x = torch.randn(2, 10, 25, 3)
    with torch.no_grad():
        torch.testing.assert_close(model(x), net(x))
    with pytest.raises(CheckpointError, match="not built by engine.models.create") as info:
        models.load_checkpoint(tmp_path / "m.pt", model=torch.nn.Linear(3, 3))
    assert "Linear(in_features" not in str(info.value)
    with pytest.raises(CheckpointError, match="model name"):
        models.load_checkpoint(tmp_path / "m.pt", model=3)


def test_random_bytes_error_is_ours_with_torch_text_as_cause(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(CheckpointError) as info:
        models.load_checkpoint(bad)
    assert "bad.pt" in str(info.value) and "weights_only" not in str(info.value)
    assert info.value.__cause__ is not None


def test_official_state_dict_says_which_layout_it_assumed(tmp_path):
    torch.manual_seed(0)
    net = models.create("stgcn", "ntu25", 4, width=8, pad_to=16)
    torch.save(net.state_dict(), tmp_path / "official.pt")
    model, meta = models.load_checkpoint(tmp_path / "official.pt", width=8, pad_to=16)
    assert meta.layout == "ntu25" and meta.extra["layout_source"].startswith("assumed ntu25")
    model, meta = models.load_checkpoint(tmp_path / "official.pt", layout="hdm05_25", width=8, pad_to=16)
    assert meta.layout == "hdm05_25" and meta.extra["layout_source"] == "given"
    assert model.class_names == [f"class {i}" for i in range(4)] and model.fps == 30.0
