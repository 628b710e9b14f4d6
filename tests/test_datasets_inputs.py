"""engine.datasets refuses inputs a run must not be fooled by (issue 14): a motion holding NaN or inf in
any format, named by file, motion and take before anything else happens; an npz/npy that is not one,
reported in our words (never numpy's advice to allow pickles) with the library's exception kept as
``__cause__``."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from data_factories import write_amc_take, write_ntu, write_stgcn

from engine import datasets
from engine.datasets import MotionDataset, NonFiniteMotionError
from engine.errors import DatasetError

NTU_NAME = "S001C001P001R001A001"
LIBRARY_WORDS = ("allow_pickle", "pickle.load", "trust", "BadZipFile", "CRC", "No data left")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SMART_WORKBENCH_CACHE", str(tmp_path / "cache"))


def _workbench_file(tmp_path, bad: dict[int, float]):
    rng = np.random.default_rng(0)
    motions = rng.normal(size=(5, 8, 25, 3)).astype(np.float32)
    ds = MotionDataset(
        motions,
        [0, 1, 0, 1, 0],
        ["a", "b"],
        "hdm05_25",
        30,
        sources=[f"take{i}.amc" for i in range(5)],
        first_frames=[0, 20, 40, 0, 20],
        subjects=["bd", "bd", "mm", None, "tr"],
        name="five",
    )
    path = datasets.save(ds, tmp_path / "five.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    for i, value in bad.items():
        arrays["motions"][i, 3, 7, 1] = value
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_workbench_npz_non_finite_motion_named(tmp_path, value):
    path = _workbench_file(tmp_path, {3: value, 4: value})
    assert datasets.detect_format(path) == "workbench_npz"  # detection still works
    with pytest.raises(NonFiniteMotionError) as info:
        datasets.load(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: motion 3 (take take3.amc, from its frame 0)")
    assert "frame 3, joint 7 (rtibia)" in msg and "2 of 5 motions are (3, 4)" in msg
    assert "Repair or drop" in msg
    assert isinstance(info.value, DatasetError)


def test_smart_npz_non_finite_clip_named(tmp_path):
    clips = np.zeros((4, 60, 75), np.float32)
    clips[2, 5, 4] = np.nan
    np.savez(tmp_path / "smart.npz", clips=clips, classes=np.zeros(4, np.int64))
    np.savez(tmp_path / "preprocess_core.npz", Xmean=np.zeros((1, 75, 1)), Xstd=np.ones((1, 75, 1)))
    (tmp_path / "hdm05_classes.txt").write_text("one\n")
    with pytest.raises(NonFiniteMotionError, match=r"smart\.npz: motion 2 is not finite .* frame 5, joint 1"):
        datasets.load(tmp_path / "smart.npz")
    clips = clips.astype(np.float64)
    clips[2, 5, 4] = 1e40  # finite in float64, inf once in float32 metres
    np.savez(tmp_path / "smart.npz", clips=clips, classes=np.zeros(4, np.int64))
    with pytest.raises(NonFiniteMotionError, match=r"motion 2 is not finite"):
        datasets.load(tmp_path / "smart.npz")
    clips[2, 5, 4] = 0
    np.savez(tmp_path / "smart.npz", clips=clips, classes=np.zeros(4, np.int64))
    np.savez(tmp_path / "preprocess_core.npz", Xmean=np.zeros((1, 75, 1)), Xstd=np.full((1, 75, 1), np.inf))
    with pytest.raises(DatasetError, match=r"preprocess_core\.npz: Xmean/Xstd hold NaN or inf"):
        datasets.load(tmp_path / "smart.npz")


def test_text_formats_refuse_non_finite_values(tmp_path):
    amc = write_amc_take(tmp_path, "xx", "walk", 1, frames=20)
    lines = amc.read_text().splitlines()
    k = next(i for i, ln in enumerate(lines) if ln.startswith("lfemur"))
    lines[k] = "lfemur 1 inf 2"
    amc.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"walk_001_120\.amc, line \d+: .*expected a finite number"):
        datasets.load(amc, cache=False)
    ntu = write_ntu(tmp_path, NTU_NAME, n_frames=5)
    lines = ntu.read_text().splitlines()
    lines[10] = "-inf " + " ".join(lines[10].split()[1:])
    ntu.write_text("\n".join(lines))
    with pytest.raises(DatasetError, match=r"line 11: joint 6 of frame 0 is '-inf'"):
        datasets.load(ntu, cache=False)


def test_ntu_npy_non_finite_sample_named(tmp_path):
    npy, _ = write_stgcn(tmp_path, "val", [NTU_NAME, "S001C001P002R001A002"], [0, 1])
    data = np.load(npy)
    data[1, 0, 3, 2, 0] = np.nan
    np.save(npy, data)
    with pytest.raises(NonFiniteMotionError, match=r"npy: sample 1 \(S001C001P002R001A002\) holds non-fin"):
        datasets.load(npy)


def test_container_refuses_non_finite_motion():
    motions = np.zeros((3, 4, 25, 3))
    motions[1, 2, 0, 0] = np.nan
    sources = ["a.bvh", "b.bvh", "c.bvh"]
    with pytest.raises(NonFiniteMotionError, match=r"dataset 'toy': motion 1 \(take b\.bvh, from its fra"):
        MotionDataset(motions, [0] * 3, ["x"], "hdm05_25", 30, sources=sources, name="toy")


# -- files that are not arrays ---------------------------------------------------------------------------
def _random_bytes(p):
    p.write_bytes(np.random.default_rng(1).bytes(4096))


def _empty(p):
    p.write_bytes(b"")


def _truncated(p):
    np.savez(p, motions=np.zeros((50, 60, 25, 3), np.float32), format=np.array("smart-workbench-dataset"))
    p.write_bytes(p.read_bytes()[:5000])


def _zip_corrupt(p):
    np.savez_compressed(p, clips=np.random.default_rng(0).normal(size=(40, 60, 75)), classes=np.zeros(40))
    data = bytearray(p.read_bytes())
    data[300:400] = np.random.default_rng(2).bytes(100)
    p.write_bytes(bytes(data))


def _object_array(p):
    np.savez(p, clips=np.array([{"x": 1}], dtype=object), classes=np.zeros(1))


def _zip_of_text(p):
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("clips.npy", "not an array")
        z.writestr("classes.npy", "nor this")


@pytest.mark.parametrize(
    "make, problem, index_broken",
    [
        (_random_bytes, "do not start as a .npz file does", True),
        (_empty, "the file is empty", True),
        (_truncated, "damaged or truncated", True),
        (_zip_corrupt, "damaged or truncated", False),
        (_object_array, "Python objects (pickled data), never loaded", False),
        (_zip_of_text, "is not a numpy array", False),
    ],
)
def test_bad_npz_in_our_words(tmp_path, make, problem, index_broken):
    p = tmp_path / "data.npz"
    make(p)
    calls = [datasets.load, datasets.load_smart_npz, datasets.load_workbench_npz]
    if index_broken:  # detection reads only the index of arrays
        calls.append(datasets.detect_format)
    for call in calls:
        with pytest.raises(DatasetError) as info:
            call(p)
        msg = str(info.value)
        assert msg.startswith(f"{p}: not a readable npz file: ") and problem in msg, msg
        assert "Copy or export the file again" in msg
        assert not any(w in msg for w in LIBRARY_WORDS), msg
        if problem != "is not a numpy array":  # no library exception there: numpy gave bytes back
            assert info.value.__cause__ is not None  # the library's exception, for a "details" view


def test_bad_npy_in_our_words(tmp_path):
    npy, _ = write_stgcn(tmp_path, "val", [NTU_NAME], [0])
    _random_bytes(npy)
    with pytest.raises(DatasetError) as info:
        datasets.load(npy)
    msg = str(info.value)
    assert msg.startswith(f"{npy}: not a readable npy file: its 4096 bytes do not start as a .npy file does")
    assert not any(w in msg for w in LIBRARY_WORDS) and isinstance(info.value.__cause__, ValueError)
    npy.write_bytes(npy.read_bytes()[:0])
    with pytest.raises(DatasetError, match="the file is empty"):
        datasets.load(npy)
