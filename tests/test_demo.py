"""The demo generator and the shipped demos (engine.demo). No Qt."""

from __future__ import annotations

import time

import numpy as np
import pytest

from engine import demo
from engine.demo.generator import CLASS_NAMES, generate_arrays, rest_offsets
from engine.errors import WorkbenchError
from engine.skeleton import NTU25


@pytest.fixture(scope="module")
def small():
    return generate_arrays(n_per_class=10, seed=7, frames=60, n_subjects=5)


def test_generator_is_deterministic_for_a_seed(small):
    again = generate_arrays(n_per_class=10, seed=7, frames=60, n_subjects=5)
    for a, b in zip(small, again, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    other = generate_arrays(n_per_class=10, seed=8, frames=60, n_subjects=5)
    assert not np.allclose(small[0], other[0])


def test_shapes_units_and_labels(small):
    motions, labels, names, subjects = small
    assert len(names) >= 10 and names == list(CLASS_NAMES)
    assert motions.shape == (10 * len(names), 60, NTU25.num_joints, 3) and motions.dtype == np.float32
    assert labels.dtype == np.int64 and set(labels.tolist()) == set(range(len(names)))
    assert len(subjects) == len(labels) and sorted(set(subjects)) == [f"s{k:02d}" for k in range(5)]
    # metres, y up, standing on the floor
    assert motions[..., 1].min() >= 0.0
    head = motions[:, :, NTU25.index("Head"), 1]
    assert 1.2 < np.median(head) < 2.0


def test_bones_keep_their_lengths_within_each_clip(small):
    motions = small[0].astype(np.float64)
    b = NTU25.bone_array()
    lengths = np.linalg.norm(motions[:, :, b[:, 1]] - motions[:, :, b[:, 0]], axis=-1)  # (N, T, E)
    spread = lengths.max(axis=1) - lengths.min(axis=1)
    assert spread.max() < 1e-5  # float32 rounding only
    assert lengths.min() > 0.02


def test_subjects_have_their_own_bodies(small):
    motions, labels, _, subjects = small
    b = NTU25.bone_array()
    lengths = np.linalg.norm(motions[:, 0, b[:, 1]] - motions[:, 0, b[:, 0]], axis=-1)
    subj = np.array(subjects)
    # the same subject has the same bones in every class
    for s in np.unique(subj):
        rows = lengths[subj == s]
        np.testing.assert_allclose(rows, np.broadcast_to(rows[0], rows.shape), atol=1e-5)
    # different subjects differ
    firsts = np.stack([lengths[subj == s][0] for s in np.unique(subj)])
    assert np.ptp(firsts, axis=0).max() > 0.02
    offs = rest_offsets(5, 7)
    np.testing.assert_allclose(np.linalg.norm(offs[:, b[:, 1]], axis=-1)[0], firsts[0], atol=1e-5)


def _features(motions: np.ndarray) -> np.ndarray:
    """Facing-invariant features: joint heights and distances from the root, mean and spread over time,
    plus the root's horizontal speed."""
    rel = motions - motions[:, :, :1]
    h = motions[..., 1]
    d = np.linalg.norm(rel[..., [0, 2]], axis=-1)
    speed = np.linalg.norm(np.diff(motions[:, :, 0, [0, 2]], axis=1), axis=-1).mean(1, keepdims=True)
    thirds = [slice(0, 20), slice(20, 40), slice(40, 60)]
    parts = [h.mean(1), h.std(1), d.mean(1), d.std(1), speed * 30]
    parts += [h[:, s].mean(1) - h.mean(1) for s in thirds]
    return np.concatenate(parts, axis=1)


def test_classes_are_distinguishable_on_held_out_subjects(small):
    motions, labels, names, subjects = small
    f = _features(motions.astype(np.float64))
    test = np.isin(subjects, ["s03", "s04"])
    mu, sd = f[~test].mean(0), f[~test].std(0) + 1e-6
    z = (f - mu) / sd
    cents = np.stack([z[~test & (labels == c)].mean(0) for c in range(len(names))])
    pred = np.argmin(((z[test][:, None] - cents[None]) ** 2).sum(-1), axis=1)
    acc = (pred == labels[test]).mean()
    assert acc > 0.75, f"nearest-centroid accuracy on held-out subjects only {acc:.2f}"


def test_per_sample_variation():
    motions, labels, _, subjects = generate_arrays(n_per_class=12, seed=1, n_subjects=2,
                                                   classes=["wave one hand", "squat"])
    wave = motions[labels == 0]
    # facing differs between samples of one subject (hip line direction at frame 0)
    hips = wave[:, 0, NTU25.index("HipLeft")] - wave[:, 0, NTU25.index("HipRight")]
    yaw = np.degrees(np.arctan2(hips[:, 2], hips[:, 0]))
    assert np.ptp(yaw) > 30
    # the timing differs: the frame where the right hand first goes over the head
    hand = wave[:, :, NTU25.index("HandRight"), 1] - wave[:, :, NTU25.index("Head"), 1]
    first = np.argmax(hand > 0, axis=1)
    assert len(set(first.tolist())) > 3


def test_generate_returns_a_dataset():
    ds = demo.generate(n_per_class=2, seed=3, frames=30)
    assert ds.layout.name == "ntu25" and ds.fps == 30.0 and ds.num_classes == len(CLASS_NAMES)
    assert ds.motions.shape == (2 * len(CLASS_NAMES), 30, 25, 3)
    assert ds.subjects[0] == "s00"


def test_generator_rejects_bad_input():
    with pytest.raises(ValueError, match="n_per_class"):
        generate_arrays(n_per_class=0)
    with pytest.raises(ValueError, match="unknown demo classes"):
        generate_arrays(n_per_class=1, classes=["juggle"])


def test_whole_demo_set_is_fast():
    t0 = time.perf_counter()
    motions, *_ = generate_arrays(n_per_class=60, seed=0, frames=60)
    assert motions.shape[0] == 60 * len(CLASS_NAMES)
    assert time.perf_counter() - t0 < 10.0


def test_demo_registry():
    assert demo.demo_names() == ["demo", "hdm05-demo"]
    assert demo.ASSETS.name == "assets"
    ds = demo.load_demo("demo")
    assert len(ds) == 12 * 60 and ds.layout.name == "ntu25"
    train, held = demo.demo_split("demo")
    assert set(held.subjects) == set(demo.DEMO_VAL_SUBJECTS) and len(train) + len(held) == len(ds)
    ds.motions[:] = 0  # a copy: the cached demo is untouched
    assert demo.load_demo("demo").motions.any()
    with pytest.raises(WorkbenchError, match="unknown demo"):
        demo.load_demo("nope")
    with pytest.raises(WorkbenchError, match="no shipped"):
        demo.demo_checkpoint("demo", "no-such-model")


def _shipped() -> list[tuple[str, str]]:
    return [(d, m) for d in demo.demo_names() for m in demo.demo_models(d)]


@pytest.mark.parametrize("demo_name", ["demo", "hdm05-demo"])
def test_demo_has_shipped_checkpoints(demo_name):
    if not demo.demo_models(demo_name):
        pytest.skip(f"assets not made yet: no checkpoints in assets/{demo_name} "
                    "(run scripts/make_demo_assets.py)")
    if demo_name == "hdm05-demo":
        ds = demo.load_demo(demo_name)
        assert ds.layout.name == "hdm05_25" and ds.num_classes == 11
        assert (demo.ASSETS / demo_name / "LICENSE.txt").is_file()
    assert {"mlp", "stgcn", "agcn"} <= set(demo.demo_models(demo_name))


_NOT_MADE = pytest.mark.skip(reason="assets not made yet: run scripts/make_demo_assets.py")


@pytest.mark.parametrize("demo_name,model_name", _shipped() or [pytest.param("demo", "-", marks=_NOT_MADE)])
def test_shipped_checkpoint_reaches_its_claimed_accuracy(demo_name, model_name):
    from engine.models import load_checkpoint
    from engine.train import evaluate

    model, meta = load_checkpoint(demo.demo_checkpoint(demo_name, model_name))
    _, held = demo.demo_split(demo_name)
    assert meta.model == model_name and meta.layout == held.layout.name
    assert meta.class_names == held.class_names and meta.fps == held.fps
    # the HDM05 demo ships all of the held-out actor's default windows: the metadata's accuracy is on them
    claimed = meta.metrics.get("demo_accuracy", meta.metrics["accuracy"])
    acc, _ = evaluate(model, held.motions, held.labels)
    assert abs(acc - claimed) <= 0.01, f"{demo_name}/{model_name}: {acc:.3f} vs claimed {claimed:.3f}"
    if demo_name == "demo":
        assert acc >= 0.9


def test_resolve_checkpoint(tmp_path):
    if "mlp" in demo.demo_models("demo"):
        assert demo.resolve_checkpoint("mlp", "demo") == demo.demo_checkpoint("demo", "mlp")
    f = tmp_path / "x.pt"
    f.write_bytes(b"")
    assert demo.resolve_checkpoint(str(f)) == f
    with pytest.raises(WorkbenchError, match="neither a shipped model"):
        demo.resolve_checkpoint("no-such-model", "demo")
