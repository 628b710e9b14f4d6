"""engine.datasets: the MotionDataset container, our npz, format detection, the cache and synthetic files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from data_factories import (
    BONES,
    amc_text,
    amc_values,
    asf_text,
    write_amc_take,
    write_mhad,
    write_ntu,
    write_stgcn,
)

from engine import datasets
from engine.datasets import MotionDataset
from engine.datasets.asf import amc_positions, parse_amc, parse_asf
from engine.errors import DatasetError
from engine.skeleton import HDM05_25, NTU25


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SMART_WORKBENCH_CACHE", str(tmp_path / "cache"))


def _toy(n=6, t=10, subjects=("a", "b", "a", "c", "b", None)):
    rng = np.random.default_rng(0)
    return MotionDataset(
        rng.normal(size=(n, t, 25, 3)),
        [0, 1, 2, 0, 1, 2],
        ["x", "y", "z"],
        "hdm05_25",
        30,
        sources=[f"f{i}.amc" for i in range(n)],
        first_frames=range(n),
        subjects=list(subjects),
        padded=[i % 2 == 0 for i in range(n)],
        name="toy",
        info={"window": t, "stride": 5, "skipped": ["bad.amc: broken"], "nested": {"a": [1, 2]}},
    )


# -- container ---------------------------------------------------------------------------------------
def test_dataset_fields_and_dtypes():
    ds = _toy()
    assert len(ds) == 6
    assert ds.motions.dtype == np.float32 and ds.motions.shape == (6, 10, 25, 3)
    assert ds.labels.dtype == np.int64
    assert ds.layout is HDM05_25
    assert ds.fps == 30.0
    motion, label = ds[1]
    assert motion.shape == (10, 25, 3) and label == 1
    assert "toy" in repr(ds)


def test_subset_and_split_by_subject():
    ds = _toy()
    sub = ds.subset([4, 0])
    assert sub.sources == ["f4.amc", "f0.amc"]
    assert list(sub.first_frames) == [4, 0]
    np.testing.assert_array_equal(sub.motions[0], ds.motions[4])
    mask = ds.subset(np.array([True, False, True, False, False, False]))
    assert len(mask) == 2
    train, val = ds.split_by_subject(["b"])
    assert val.subjects == ["b", "b"]
    assert len(train) == 4 and "b" not in train.subjects
    with pytest.raises(DatasetError, match="unknown subjects"):
        ds.split_by_subject(["nobody"])


def test_dataset_validates_shapes():
    with pytest.raises(DatasetError, match="labels"):
        MotionDataset(np.zeros((2, 3, 25, 3)), [0], ["a"], "hdm05_25", 30)
    with pytest.raises(DatasetError, match="class names"):
        MotionDataset(np.zeros((1, 3, 25, 3)), [3], ["a"], "hdm05_25", 30)
    with pytest.raises(ValueError, match="joints"):
        MotionDataset(np.zeros((1, 3, 24, 3)), [0], ["a"], "hdm05_25", 30)


# -- our npz ---------------------------------------------------------------------------------------------
def test_save_round_trip_is_lossless(tmp_path):
    ds = _toy()
    path = datasets.save(ds, tmp_path / "toy.npz")
    back = datasets.load(path)
    assert datasets.detect_format(path) == "workbench_npz"
    np.testing.assert_array_equal(back.motions, ds.motions)
    np.testing.assert_array_equal(back.labels, ds.labels)
    assert back.class_names == ds.class_names
    assert back.layout is HDM05_25
    assert back.fps == ds.fps and back.name == ds.name
    assert back.sources == ds.sources and back.subjects == ds.subjects
    np.testing.assert_array_equal(back.first_frames, ds.first_frames)
    np.testing.assert_array_equal(back.padded, ds.padded)
    assert back.info == ds.info


def test_save_round_trip_empty_strings_and_ntu(tmp_path):
    ds = MotionDataset(np.ones((1, 2, 25, 3)), [0], [""], NTU25, 15, subjects=[""], name="")
    back = datasets.load_workbench_npz(datasets.save(ds, tmp_path / "e.npz"))
    assert back.subjects == [""] and back.class_names == [""] and back.layout is NTU25 and back.fps == 15


def test_formats_and_detection(tmp_path):
    assert {
        "smart_npz",
        "workbench_npz",
        "amc",
        "amc_folder",
        "bvh",
        "mhad",
        "ntu_skeleton",
        "ntu_npy",
    } <= set(datasets.formats())
    with pytest.raises(DatasetError, match="no dataset files"):
        datasets.load(tmp_path)
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(DatasetError, match="unknown dataset file type"):
        datasets.load(tmp_path / "x.txt")
    with pytest.raises(DatasetError, match="no such file"):
        datasets.load(tmp_path / "missing.amc")


def test_unknown_option_is_refused(tmp_path):
    path = datasets.save(_toy(), tmp_path / "toy.npz")
    with pytest.raises(DatasetError, match="takes no option"):
        datasets.load(path, window=3)


# -- ASF/AMC synthetic -----------------------------------------------------------------------------------
def test_amc_bone_lengths_match_asf(tmp_path):
    amc = write_amc_take(tmp_path, "xx", "walk", 1, frames=50)
    skel = parse_asf(tmp_path / "HDM_xx.asf")
    pos = amc_positions(skel, parse_amc(amc, skel))
    assert pos.shape == (50, 31, 3)
    # joint k sits where bone k starts: |joint(k) - joint(parent(k))| is the parent bone's length
    for k, p in enumerate(skel.parents):
        if p > 0:
            d = np.linalg.norm(pos[:, k] - pos[:, p], axis=-1)
            np.testing.assert_allclose(d, skel.lengths[p], atol=1e-9)


def test_amc_axis_semantics(tmp_path):
    """A bone along +x whose ASF axis is turned 90 deg about z: its rx turns it about world y."""
    bones = [
        ("arm", "root", (1.0, 0.0, 0.0), 2.0, "rx", (0, 0, 90)),
        ("hand", "arm", (1, 0, 0), 1.0, "", (0, 0, 0)),
    ]
    (tmp_path / "t.asf").write_text(asf_text(bones))
    (tmp_path / "t.amc").write_text(amc_text([{"root": [0, 0, 0, 0, 0, 0], "arm": [90.0]}]))
    skel = parse_asf(tmp_path / "t.asf")
    pos = amc_positions(skel, parse_amc(tmp_path / "t.amc", skel))
    # hand starts at the arm's end: +x rotated by 90 deg about +y is -z
    np.testing.assert_allclose(pos[0, 2], [0.0, 0.0, -2.0], atol=1e-12)


def test_amc_take_windows_and_padding(tmp_path):
    amc = write_amc_take(tmp_path, "xx", "kick", 1, frames=100)  # 25 frames at 30 fps
    ds = datasets.load(amc)
    assert len(ds) == 1 and bool(ds.padded[0])
    assert ds.motions.shape == (1, 60, 25, 3)
    np.testing.assert_array_equal(ds.motions[0, 25:], np.repeat(ds.motions[0, 24:25], 35, axis=0))
    assert ds.class_names == ["kick"] and ds.subjects == ["xx"]
    long = write_amc_take(tmp_path, "xx", "walk", 2, frames=480)  # 120 frames -> windows at 0, 20, ..., 60
    ds = datasets.load(long, cache=False)
    assert len(ds) == 4 and not ds.padded.any()
    assert list(ds.first_frames) == [0, 80, 160, 240]  # source (120 Hz) frame numbers
    assert ds.info["window"] == 60 and ds.info["stride"] == 20


def test_amc_smart_skeleton_makes_layout_joints_coincide(tmp_path):
    amc = write_amc_take(tmp_path, "xx", "walk", 1, frames=240)
    ds = datasets.load_amc(amc, cache=False)
    for group in HDM05_25.coincident:
        for j in group[1:]:
            np.testing.assert_allclose(ds.motions[..., j, :], ds.motions[..., group[0], :], atol=1e-6)
    raw = datasets.load_amc(amc, smart_skeleton=False, cache=False)
    assert np.abs(raw.motions[..., 12, :] - raw.motions[..., 13, :]).max() > 0.05


def test_amc_centre_and_face(tmp_path):
    amc = write_amc_take(tmp_path, "xx", "walk", 1, frames=240)
    ds = datasets.load_amc(amc, centre=True, face=True, cache=False)
    np.testing.assert_allclose(ds.motions[:, :, HDM05_25.root], 0.0, atol=1e-6)
    hip = ds.motions[0, 0, 1] - ds.motions[0, 0, 6]  # left minus right femur at the first frame
    assert hip[0] > 0 and abs(hip[2]) < 1e-5


def test_amc_folder_dataset(tmp_path):
    for cls, motion in ((1, "kick"), (2, "squat")):
        for k, actor in enumerate(("aa", "bb")):
            write_amc_take(tmp_path / str(cls), actor, motion, k + 1, frames=300, seed=k)
    (tmp_path / "10").mkdir()  # empty class folders are not classes
    ds = datasets.load(tmp_path)
    assert ds.class_names == ["kick", "squat"]
    assert sorted(set(ds.labels.tolist())) == [0, 1]
    assert ds.subject_names() == ["aa", "bb"]
    named = datasets.load_amc_folder(tmp_path, class_names={"1": "K", "2": "S"}, cache=False)
    assert named.class_names == ["K", "S"]
    with pytest.raises(DatasetError, match="class names"):
        datasets.load_amc_folder(tmp_path, class_names=["only one"], cache=False)


# -- cache -----------------------------------------------------------------------------------------------
def test_cache_hit_is_keyed_by_content(tmp_path):
    folder = tmp_path / "data"
    amc = write_amc_take(folder, "xx", "walk", 1, frames=600)
    cache = tmp_path / "c"
    a = datasets.load(amc, cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 1 and "cache" not in a.info
    b = datasets.load(amc, cache_dir=cache)
    assert b.info["cache"].startswith(str(cache))
    np.testing.assert_array_equal(a.motions, b.motions)
    # new content, new entry; other options, new entry
    amc.write_text(amc_text(amc_values(BONES, 600, seed=5)))
    c = datasets.load(amc, cache_dir=cache)
    assert "cache" not in c.info and not np.array_equal(a.motions, c.motions)
    datasets.load(amc, cache_dir=cache, stride=30)
    assert len(list(cache.glob("*.npz"))) == 3


def test_cache_env_var_and_disable(tmp_path, monkeypatch):
    amc = write_amc_take(tmp_path / "d", "xx", "walk", 1, frames=100)
    monkeypatch.setenv("SMART_WORKBENCH_CACHE", str(tmp_path / "env"))
    datasets.load(amc)
    assert len(list((tmp_path / "env").glob("*.npz"))) == 1
    datasets.load(amc, cache=False, stride=7)
    assert len(list((tmp_path / "env").glob("*.npz"))) == 1
    assert datasets.cache_root() == tmp_path / "env"


def test_corrupt_cache_entry_is_rebuilt(tmp_path):
    amc = write_amc_take(tmp_path / "d", "xx", "walk", 1, frames=100)
    cache = tmp_path / "c"
    datasets.load(amc, cache_dir=cache)
    entry = next(cache.glob("*.npz"))
    entry.write_bytes(b"garbage")
    ds = datasets.load(amc, cache_dir=cache)
    assert len(ds) == 1 and "cache" not in ds.info


# -- BVH / MHAD synthetic ------------------------------------------------------------------------------
def test_mhad_folder(tmp_path):
    write_mhad(tmp_path, 1, 3, 1, frames=960)
    write_mhad(tmp_path, 2, 5, 2, frames=480, seed=1)
    ds = datasets.load(tmp_path)
    assert ds.info["format"] == "mhad"
    assert ds.class_names[2] == "bending" and len(ds.class_names) == 11
    assert sorted(ds.labels.tolist()) == [2, 4]
    assert sorted(ds.subjects) == ["s01", "s02"]
    assert sorted(ds.info["repetitions"]) == [1, 2]
    assert ds.fps == 30 and ds.motions.shape[1:] == (60, 25, 3)
    assert ds.info["unit"] == "mm" and ds.info["metres_per_unit"] == 0.001
    assert ds.padded.tolist().count(True) == 1  # the 1 s take gives 30 frames, padded to 60
    # hip height ~0.95 m, legs reach the floor
    first = ds.motions[ds.labels == 2][0, 0]
    assert 0.9 < first[HDM05_25.root, 1] < 1.0
    assert first[[3, 8], 1].min() < 0.1
    # joints the MHAD names lack take their parent's place
    assert "lthumb" in ds.info["missing_joints"]


def test_bvh_explicit_units_and_rate(tmp_path):
    p = write_mhad(tmp_path, 1, 1, 1, frames=480)
    ds = datasets.load_bvh(p, metres_per_unit=1.0, fps=None, window=None, cache=False)
    assert ds.fps == 480 and ds.motions.shape[1] == 480
    assert ds.motions[0, 0, HDM05_25.root, 1] == pytest.approx(950.0)


# -- NTU synthetic -------------------------------------------------------------------------------------
def test_ntu_skeleton_most_active_body(tmp_path):
    p = write_ntu(tmp_path, "S001C002P003R001A010", n_frames=40, n_bodies=3)
    ds = datasets.load(p)
    assert ds.layout is NTU25 and ds.fps == 30
    assert ds.labels.tolist() == [9] and ds.class_names[9] == "clapping"
    assert ds.subjects == ["P003"] and ds.info["cameras"] == ["C002"]
    assert ds.info["bodies_dropped"] == 2
    assert ds.motions.shape == (1, 40, 25, 3)
    assert ds.motions.std(axis=1).mean() > 0.05  # the active body was kept


def test_ntu_folder_pads_to_longest(tmp_path):
    write_ntu(tmp_path, "S001C001P001R001A001", n_frames=30)
    write_ntu(tmp_path, "S001C001P002R001A002", n_frames=45, seed=3)
    ds = datasets.load(tmp_path)
    assert ds.motions.shape == (2, 45, 25, 3)
    assert ds.padded.tolist() == [True, False]
    train, val = ds.split_by_subject(["P002"])
    assert len(train) == 1 and len(val) == 1


def test_ntu_npy(tmp_path):
    npy, data = write_stgcn(tmp_path, "train", ["S001C001P001R001A001", "S002C003P008R002A060"], [0, 59])
    ds = datasets.load(npy)
    assert ds.info["format"] == "ntu_npy"
    assert ds.motions.shape == (2, 50, 25, 3)
    assert ds.labels.tolist() == [0, 59] and ds.subjects == ["P001", "P008"]
    assert ds.padded.all() and ds.info["bodies_dropped"] == 2
    np.testing.assert_allclose(ds.motions[1, :30], data[1, :, :30, :, 1].transpose(1, 2, 0), atol=1e-6)
    np.testing.assert_allclose(ds.motions[1, 30:], np.broadcast_to(ds.motions[1, 29], (20, 25, 3)))


def test_cache_key_follows_file_location(tmp_path):
    a = write_amc_take(tmp_path / "1", "aa", "kick", 1, frames=100)
    write_amc_take(tmp_path / "2", "aa", "squat", 2, frames=100)
    cache = tmp_path / "c"
    first = datasets.load(tmp_path, cache_dir=cache, class_names=["A", "B"])
    assert first.labels.tolist() == [0, 1]
    a.rename(tmp_path / "2" / a.name)  # same content, other class folder
    (tmp_path / "1" / "HDM_aa.asf").rename(tmp_path / "1" / "x.txt")
    (tmp_path / "1" / "x.txt").unlink()
    moved = datasets.load(tmp_path, cache_dir=cache, class_names=["B"])
    assert "cache" not in moved.info and moved.labels.tolist() == [0, 0]
    assert all("/2/" in s for s in moved.sources)


def test_uppercase_amc_is_found(tmp_path):
    amc = write_amc_take(tmp_path / "1", "aa", "kick", 1, frames=100)
    amc.rename(amc.with_suffix(".AMC"))
    assert datasets.detect_format(tmp_path) == "amc_folder"
    ds = datasets.load(tmp_path, cache=False)
    assert ds.sources[0].endswith(".AMC")


def test_bvh_interpolated_rate(tmp_path):
    from data_factories import MHAD_JOINTS, bvh_text, dfs_order, mhad_motion

    joints = dfs_order(MHAD_JOINTS)
    p = tmp_path / "take.bvh"
    p.write_text(bvh_text(joints, mhad_motion(100, joints=joints), 1 / 100))  # 100 Hz, 1 s
    assert datasets.detect_format(p) == "bvh"
    ds = datasets.load(p, window=None, cache=False)
    assert ds.fps == 30 and ds.motions.shape[1] == 30  # frames at 0, 3.33, 6.67 ... source frames
    raw = datasets.load(p, window=None, fps=None, cache=False)
    np.testing.assert_allclose(ds.motions[0, 3], raw.motions[0, 10], atol=1e-5)  # t = 0.1 s exactly
    mid = (2 * raw.motions[0, 3] + raw.motions[0, 4]) / 3  # t = 1/30 s = source frame 3.33
    np.testing.assert_allclose(ds.motions[0, 1], mid, atol=1e-4)


def test_set_bone_lengths_keeps_directions():
    rng = np.random.default_rng(1)
    frames = rng.normal(size=(4, 25, 3))
    for group in HDM05_25.coincident:
        frames[:, list(group)] = frames[:, [group[0]]]
    target = np.linspace(0.1, 0.5, HDM05_25.num_bones)
    out = datasets.set_bone_lengths(frames, HDM05_25, target)
    np.testing.assert_allclose(
        datasets.bone_lengths(out, HDM05_25), np.broadcast_to(target, (4, HDM05_25.num_bones))
    )
    b = HDM05_25.bone_array()
    d_old = frames[:, b[:, 1]] - frames[:, b[:, 0]]
    d_new = out[:, b[:, 1]] - out[:, b[:, 0]]
    cos = (d_old * d_new).sum(-1) / np.linalg.norm(d_old, axis=-1) / np.linalg.norm(d_new, axis=-1)
    np.testing.assert_allclose(cos, 1.0)
    np.testing.assert_array_equal(out[:, HDM05_25.root], frames[:, HDM05_25.root])
    with pytest.raises(DatasetError, match=f"{HDM05_25.num_bones} bones"):
        datasets.set_bone_lengths(frames, HDM05_25, [1.0, 2.0])


def test_flat_folder_classes_from_motion_names(tmp_path):
    write_amc_take(tmp_path, "aa", "kick", 1, frames=100)
    write_amc_take(tmp_path, "bb", "squat", 2, frames=100)
    ds = datasets.load(tmp_path, cache=False)
    assert ds.class_names == ["kick", "squat"] and ds.subjects == ["aa", "bb"]
    listed = datasets.load(tmp_path, class_names=["walk", "squat", "kick"], cache=False)
    assert listed.labels.tolist() == [2, 1]
    mapped = datasets.load(tmp_path, class_names={"kick": "K", "squat": "S"}, cache=False)
    assert mapped.class_names == ["K", "S"]
    with pytest.raises(DatasetError, match="not among the given class names"):
        datasets.load(tmp_path, class_names=["walk"], cache=False)


def test_layout_landmarks_survive_save_and_old_files_get_them(tmp_path):
    """The layout record keeps hips/shoulders/spine; a file written before they existed reads back as
    the registered layout (with its landmarks), so cached datasets can be faced and centred."""
    path = datasets.save(_toy(), tmp_path / "toy.npz")
    assert datasets.load(path).layout.hips == HDM05_25.hips
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    record = json.loads(str(arrays["layout"]))
    for k in ("hips", "shoulders", "spine"):
        del record[k]
    arrays["layout"] = np.array(json.dumps(record))
    old = tmp_path / "old.npz"
    np.savez(old, **arrays)
    assert datasets.load(old).layout is HDM05_25
