"""engine.datasets against the real files in ../shared/data (skipped where that folder is absent)."""

from __future__ import annotations

import numpy as np
import pytest

from engine import datasets
from engine.datasets.bvh import bvh_positions, parse_bvh
from engine.errors import DatasetError
from engine.skeleton import HDM05_25, HDM05_FROM_ASF31

CARTWHEEL = "hdm05-bvh/HDM_bd_cartwheelLHandStart1Reps_001_120"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("dataset-cache")


@pytest.fixture(scope="module")
def hdm05_train(shared_data, cache_dir):
    return datasets.load(shared_data / "hdm05-amc" / "train", cache_dir=cache_dir)


def _bone_lengths(m: np.ndarray) -> np.ndarray:
    b = HDM05_25.bone_array()
    return np.linalg.norm(m[..., b[:, 1], :] - m[..., b[:, 0], :], axis=-1)


# -- SMART npz -------------------------------------------------------------------------------------------
def test_smart_npz(shared_data):
    ds = datasets.load(shared_data / "hdm05-smart" / "adClassTrain.npz")
    assert ds.info["format"] == "smart_npz"
    assert ds.motions.shape == (219, 60, 25, 3) and ds.motions.dtype == np.float32
    assert (
        len(ds.class_names) == 65
        and ds.class_names[0] == "cartwheel"
        and ds.class_names[64] == "walk_rightRC"
    )
    assert len(ds.classes_present()) == 22
    assert ds.layout is HDM05_25 and ds.fps == 30
    # hip-centred; un-normalised bone lengths constant over time (one reference skeleton)
    np.testing.assert_allclose(ds.motions[:, :, HDM05_25.root], 0.0, atol=1e-5)
    lengths = _bone_lengths(ds.motions)
    assert np.abs(lengths - lengths[:, :1]).max() < 1e-3  # metres
    assert np.abs(lengths - lengths[:1, :1]).max() < 1e-3
    # coincident joints coincide; the femur (hip -> knee) is about 0.4 m
    for group in HDM05_25.coincident:
        np.testing.assert_allclose(ds.motions[..., group, :].std(axis=-2), 0.0, atol=1e-5)
    femur = lengths[0, 0, HDM05_25.bones.index((1, 2))]
    assert 0.35 < femur < 0.45


def test_smart_npz_label_file_must_match(shared_data, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("a\nb\nc\n")
    with pytest.raises(DatasetError, match="names 3"):
        datasets.load_smart_npz(shared_data / "hdm05-smart" / "adClassTrain.npz", class_names=names)


# -- HDM05 ASF/AMC train split -----------------------------------------------------------------------------
def test_hdm05_train_split(hdm05_train):
    ds = hdm05_train
    assert ds.class_names[0] == "depositFloorR" and ds.class_names[-1] == "throwBasketball"
    assert len(ds.class_names) == 11 and ds.classes_present() == list(range(11))
    assert ds.subject_names() == ["bd", "bk", "dg"]
    assert ds.info["takes"] == 189  # 188 '.amc' plus one '.AMC'
    assert ds.info["skipped"] == []
    assert ds.motions.shape[1:] == (60, 25, 3) and ds.fps == 30
    # every take is in the dataset, short ones as one padded clip
    assert len(set(ds.sources)) == 189
    assert ds.padded.sum() > 0
    assert all(ds.first_frames[ds.padded] == 0)


def test_hdm05_heights_and_floor(hdm05_train):
    m = hdm05_train.motions
    for actor in hdm05_train.subject_names():
        sel = np.array([s == actor for s in hdm05_train.subjects])
        height = (m[sel, :, :, 1].max(-1) - m[sel, :, :, 1].min(-1)).max()  # feet to upper neck, upright
        assert 1.4 < height < 2.0, (actor, height)
    feet = m[:, :, [3, 4, 8, 9], 1].min(axis=(1, 2))  # lowest ankle/toe height per clip
    assert abs(np.median(feet)) < 0.05
    assert np.mean(np.abs(feet) < 0.1) > 0.95


def test_hdm05_bone_lengths_constant_per_actor(hdm05_train):
    lengths = _bone_lengths(hdm05_train.motions)
    assert np.abs(lengths - lengths[:, :1]).max() < 1e-4
    for group in HDM05_25.coincident:
        np.testing.assert_allclose(hdm05_train.motions[..., group, :].std(axis=-2), 0.0, atol=1e-5)


def test_hdm05_cache_is_fast(shared_data, hdm05_train, cache_dir):
    import time

    t0 = time.perf_counter()
    again = datasets.load(shared_data / "hdm05-amc" / "train", cache_dir=cache_dir)
    assert time.perf_counter() - t0 < 2.0  # cold: 3-8 s on a busy 2-core machine
    assert "cache" in again.info
    np.testing.assert_array_equal(again.motions, hdm05_train.motions)


def test_hdm05_subject_split(hdm05_train):
    train, val = hdm05_train.split_by_subject(["dg"])
    assert set(val.subjects) == {"dg"} and "dg" not in train.subjects
    assert len(train) + len(val) == len(hdm05_train)


def test_hdm05_centred_faced(shared_data, tmp_path):
    ds = datasets.load(shared_data / "hdm05-amc" / "train" / "10", centre=True, face=True, cache_dir=tmp_path)
    np.testing.assert_allclose(ds.motions[:, :, HDM05_25.root], 0.0, atol=1e-6)
    firsts = ds.motions[ds.first_frames == 0]
    hip = firsts[:, 0, 1] - firsts[:, 0, 6]
    assert np.all(hip[:, 0] > 0) and np.abs(hip[:, 2]).max() < 1e-5


# -- BVH cartwheel against ground truth -------------------------------------------------------------------
def test_cartwheel_bvh_matches_ground_truth(shared_data):
    gt = np.load(shared_data / f"{CARTWHEEL}.positions25.npz")["positions"].reshape(-1, 25, 3)
    bvh = parse_bvh(shared_data / f"{CARTWHEEL}.bvh")
    assert bvh.num_frames == 401 and len(bvh.names) == 31
    pos = bvh_positions(bvh)[:, list(HDM05_FROM_ASF31)]
    np.testing.assert_allclose(pos, gt, atol=1e-5, rtol=0)
    # the same through the dataset loader, in the BVH's own units, and in metres
    ds = datasets.load_bvh(
        shared_data / f"{CARTWHEEL}.bvh", metres_per_unit=1.0, fps=None, window=None, cache=False
    )
    assert ds.fps == 120 and ds.motions.shape == (1, 401, 25, 3)
    np.testing.assert_allclose(ds.motions[0], gt, atol=1e-5, rtol=0)
    metres = datasets.load(shared_data / f"{CARTWHEEL}.bvh", fps=None, window=None, cache=False)
    assert metres.info["unit"] == "hdm05/cmu"
    np.testing.assert_allclose(metres.motions[0], gt * 0.0254 / 0.45, atol=1e-6, rtol=0)


def test_cartwheel_bvh_windows(shared_data):
    ds = datasets.load(shared_data / f"{CARTWHEEL}.bvh", cache=False)
    assert ds.fps == 30 and len(ds) == 3  # 401 frames -> 101 at 30 fps -> windows at 0, 20, 40
    assert ds.subjects == ["bd"] * 3 and ds.class_names == ["cartwheelLHandStart1Reps"]


def test_rest_bvh_is_the_smart_skeleton(shared_data):
    smart = datasets.load(shared_data / "hdm05-smart" / "adClassTrain.npz")
    rest = datasets.load(shared_data / "hdm05-bvh" / "hdm05_rest.bvh", window=None, fps=None, cache=False)
    np.testing.assert_allclose(
        _bone_lengths(rest.motions)[0, 0], _bone_lengths(smart.motions)[0, 0], atol=1e-4
    )


# -- CMU ----------------------------------------------------------------------------------------------------
def test_cmu_take(shared_data):
    ds = datasets.load(shared_data / "cmu-amc" / "01_01.amc", cache=False)
    assert ds.info["format"] == "amc" and ds.info["asf"].endswith("01.asf")
    # 2751 frames at 120 Hz -> 688 at 30 fps -> windows every 20 frames
    assert len(ds) == (688 - 60) // 20 + 1
    assert ds.subjects[0] == "01"
    m = ds.motions
    height = (m[..., 1].max(-1) - m[..., 1].min(-1)).max()
    assert 1.3 < height < 2.0
    assert np.all(np.isfinite(m))


# -- round trip of a real dataset --------------------------------------------------------------------------
def test_own_npz_round_trip_real(hdm05_train, tmp_path):
    path = datasets.save(hdm05_train, tmp_path / "hdm05.npz")
    back = datasets.load(path)
    np.testing.assert_array_equal(back.motions, hdm05_train.motions)
    assert back.sources == hdm05_train.sources and back.subjects == hdm05_train.subjects
    np.testing.assert_array_equal(back.padded, hdm05_train.padded)
    info = dict(hdm05_train.info)
    info.pop("cache", None)
    back.info.pop("cache", None)
    assert back.info == info


def test_amc_on_the_smart_reference_skeleton(shared_data, tmp_path):
    smart = datasets.load(shared_data / "hdm05-smart" / "adClassTrain.npz")
    ref = datasets.bone_lengths(smart.motions[0, 0], HDM05_25)
    ds = datasets.load(
        shared_data / "hdm05-amc" / "train" / "6", bone_lengths=ref, centre=True, cache_dir=tmp_path
    )
    np.testing.assert_allclose(
        datasets.bone_lengths(ds.motions, HDM05_25),
        np.broadcast_to(ref, (*ds.motions.shape[:2], HDM05_25.num_bones)),
        atol=1e-5,
    )
    for group in HDM05_25.coincident:
        np.testing.assert_allclose(ds.motions[..., group, :].std(axis=-2), 0.0, atol=1e-5)
    assert ds.info["bone_lengths"] == pytest.approx(ref.tolist())
