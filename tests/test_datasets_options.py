"""engine.datasets loaders share one options object (issue 15): its fields are each loader's keyword
options, the cache key and ``info['options']``; it is checked when built (numpy numbers accepted,
bools and strings refused); one take-reading loop skips bad files in every format; facing uses the
layout's hips."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest
from data_factories import write_amc_take, write_mhad, write_ntu

from engine import datasets
from engine.datasets import AmcFolderOptions, AmcOptions, BvhOptions, ClipOptions, MocapOptions, NtuOptions
from engine.errors import DatasetError
from engine.skeleton import HDM05_25, NTU25

LOADERS = [
    datasets.load_amc,
    datasets.load_amc_folder,
    datasets.load_bvh,
    datasets.load_bvh_folder,
    datasets.load_mhad,
    datasets.load_ntu_skeleton,
    datasets.load_ntu_npy,
]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SMART_WORKBENCH_CACHE", str(tmp_path / "cache"))


def test_options_are_frozen_and_shared():
    opts = AmcOptions(window=np.int64(30), stride=np.int32(5), fps=np.float32(15), bone_lengths=np.ones(3))
    assert opts.window == 30 and type(opts.window) is int and type(opts.fps) is float
    assert opts.bone_lengths == (1.0, 1.0, 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.window = 10
    for cls in (AmcOptions, AmcFolderOptions, BvhOptions, NtuOptions, MocapOptions):
        assert issubclass(cls, ClipOptions)
        assert {"window", "stride", "fps", "centre", "face", "bone_lengths", "skip_bad"} <= set(cls.names())
    assert NtuOptions().window is None and ClipOptions().window == 60


@pytest.mark.parametrize(
    "bad, what",
    [
        ({"window": True}, "window must be a positive whole number or None"),
        ({"window": "60"}, "window must be"),
        ({"window": 0}, "window must be"),
        ({"stride": None}, "stride must be a positive whole number, got None"),
        ({"stride": 2.5}, "stride must be"),
        ({"fps": 0}, "fps must be a positive number or None"),
        ({"fps": float("nan")}, "fps must be"),
        ({"centre": "false"}, "centre must be True or False, got 'false'"),
        ({"face": 1}, "face must be True or False"),
        ({"skip_bad": None}, "skip_bad must be True or False"),
        ({"bone_lengths": [0.1, float("nan")]}, "bone_lengths must be finite and >= 0"),
        ({"bone_lengths": ["a"]}, "bone_lengths must be finite"),
        ({"metres_per_unit": -1}, "metres_per_unit must be a positive number"),
        ({"source_fps": True}, "source_fps must be"),
        ({"smart_skeleton": "yes"}, "smart_skeleton must be True or False"),
    ],
)
def test_options_checked_when_built(tmp_path, bad, what):
    amc = write_amc_take(tmp_path, "xx", "walk", 1, frames=20)
    with pytest.raises(DatasetError, match=what):
        datasets.load(amc, **bad)
    with pytest.raises(DatasetError, match=what):
        AmcOptions(**bad)


@pytest.mark.parametrize("loader", LOADERS, ids=lambda f: f.__name__)
def test_loader_options_are_the_fields(loader):
    """Each loader's keyword options are its options object's fields plus cache/cache_dir; an unknown
    one is refused naming those it takes."""
    names = loader.options.names()
    assert datasets.options_of(loader) == [*names, "cache", "cache_dir"]
    params = inspect.signature(loader).parameters
    assert list(params)[:1] == ["path"] and params["options"].kind is inspect.Parameter.VAR_KEYWORD
    with pytest.raises(DatasetError, match=rf"{loader.__name__} takes no option\(s\) \['windw'\]; it takes"):
        loader("whatever", windw=3)


def test_options_are_the_cache_key_and_the_info(tmp_path):
    amc = write_amc_take(tmp_path / "d", "xx", "walk", 1, frames=600)
    cache = tmp_path / "c"
    ds = datasets.load(amc, cache_dir=cache, stride=np.int64(10), face=True)
    assert ds.info["options"] == AmcOptions(stride=10, face=True).record()
    assert ds.info["options"]["stride"] == 10 and ds.info["options"]["smart_skeleton"] is True
    again = datasets.load(amc, cache_dir=cache, face=True, stride=10)  # same options, other order/types
    assert "cache" in again.info and again.info["options"] == ds.info["options"]
    lengths = [0.1] * HDM05_25.num_bones
    for other in ({"skip_bad": True}, {"smart_skeleton": False}, {"bone_lengths": lengths}):
        assert "cache" not in datasets.load(amc, cache_dir=cache, face=True, stride=10, **other).info
    assert len(list(cache.glob("*.npz"))) == 4


def test_ntu_faces_by_layout_hips(tmp_path):
    p = write_ntu(tmp_path, "S001C001P001R001A001", n_frames=20)
    ds = datasets.load(p, face=True, centre=True, cache=False)
    left, right = NTU25.hips
    hip = ds.motions[0, 0, left] - ds.motions[0, 0, right]
    assert hip[0] > 0 and abs(hip[2]) < 1e-5
    np.testing.assert_allclose(ds.motions[:, :, NTU25.root], 0.0, atol=1e-6)


def test_ntu_resampled_when_asked(tmp_path):
    p = write_ntu(tmp_path, "S001C001P001R001A001", n_frames=40)
    ds = datasets.load(p, fps=15, cache=False)
    assert ds.fps == 15 and ds.motions.shape[1] == 20


@pytest.mark.parametrize("kind", ["amc_folder", "bvh_folder", "mhad", "ntu_skeleton"])
def test_one_skipping_loop_for_every_format(tmp_path, kind):
    if kind == "amc_folder":
        write_amc_take(tmp_path / "1", "aa", "kick", 1, frames=100)
        bad = tmp_path / "1" / "HDM_aa_kick_002_120.amc"
        bad.write_text("1\nroot 1 2\n")
    elif kind == "ntu_skeleton":
        write_ntu(tmp_path, "S001C001P001R001A001", n_frames=10)
        bad = tmp_path / "S001C001P002R001A001.skeleton"
        bad.write_text("3\n1\n")
    else:
        good = write_mhad(tmp_path / "1", 1, 1, 1, frames=100)
        bad = good.parent / ("skl_s02_a01_r01.bvh" if kind == "mhad" else "broken.bvh")
        bad.write_text("HIERARCHY\nROOT Hips\n{\n")
    with pytest.raises(DatasetError, match=bad.name.replace(".", r"\.")):
        datasets.load(tmp_path, format=kind)
    ds = datasets.load(tmp_path, format=kind, skip_bad=True)
    assert ds.info["format"] == kind and len(ds.info["skipped"]) == 1
    assert bad.name in ds.info["skipped"][0] and ds.info["takes"] == 1
    bad_only = tmp_path / "only"
    bad_only.mkdir()
    if kind == "amc_folder":
        (bad_only / "1").mkdir()
        bad.rename(bad_only / "1" / bad.name)
    else:
        bad.rename(bad_only / bad.name)
    with pytest.raises(DatasetError, match=r"none of its 1 takes could be read; first error: .*"):
        datasets.load(bad_only, format=kind, skip_bad=True)


def test_class_names_must_be_a_list_or_mapping(tmp_path):
    write_amc_take(tmp_path / "1", "aa", "kick", 1, frames=100)
    with pytest.raises(DatasetError, match="class_names must be a list of names or a mapping, got 'kick'"):
        datasets.load(tmp_path, class_names="kick")
    assert datasets.load(tmp_path, class_names={"1": "kicking"}).class_names == ["kicking"]
