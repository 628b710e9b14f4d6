"""Skeleton layouts: the registry, the trees, the bones, and the hdm05_25 facts on real data."""

from __future__ import annotations

import numpy as np
import pytest

from engine import skeleton
from engine.errors import LayoutMismatchError
from engine.skeleton import Layout


def test_registry_lists_and_resolves_layouts():
    assert skeleton.names() == ["hdm05_25", "ntu25"]
    ntu = skeleton.layout("ntu25")
    assert skeleton.resolve("ntu25") is ntu and skeleton.resolve(ntu) is ntu
    with pytest.raises(ValueError, match="unknown skeleton layout 'nope'"):
        skeleton.layout("nope")
    with pytest.raises(ValueError, match="already registered"):
        skeleton.register(Layout("ntu25", ("a", "b"), (-1, 0)))
    with pytest.raises(TypeError):
        skeleton.resolve(3)


def test_ntu25_is_kinect_v2():
    ntu = skeleton.layout("ntu25")
    assert ntu.num_joints == 25 and ntu.root == 0 and ntu.fps == 30
    kinect = (-1, 0, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18, 1, 7, 7, 11, 11)
    assert ntu.parents == kinect
    assert ntu.joint_names[0] == "SpineBase" and ntu.joint_names[20] == "SpineShoulder"
    assert ntu.joint_names[24] == "ThumbRight"
    assert ntu.num_bones == 24
    b = ntu.bone_array()
    assert b.shape == (24, 2) and b.dtype == np.int64
    assert all(ntu.parents[c] == p for p, c in b)
    # the five parts cover every joint once
    covered = sorted(j for _, joints in ntu.parts for j in joints)
    assert covered == list(range(25))


def test_hdm05_25_skips_bones_between_coinciding_joints():
    hdm = skeleton.layout("hdm05_25")
    assert hdm.root == 10
    assert hdm.joint_names[10] == "root" and hdm.joint_names[24] == "rthumb"
    assert hdm.num_bones == 21
    for group in hdm.coincident:
        for p, c in hdm.bones:
            assert not (p in group and c in group)
    covered = sorted(j for _, joints in hdm.parts for j in joints)
    assert covered == list(range(25))


def test_check_motion_shape():
    ntu = skeleton.layout("ntu25")
    ntu.check_motion_shape((2, 10, 25, 3))
    with pytest.raises(LayoutMismatchError, match="31 joints but layout 'ntu25' has 25"):
        ntu.check_motion_shape((2, 10, 31, 3))
    with pytest.raises(LayoutMismatchError, match="expected shape"):
        ntu.check_motion_shape((2, 10, 25, 2))


@pytest.mark.parametrize(
    "parents, message",
    [((-1, 0, 5), "invalid parent"), ((0, 1, 0), "one root"), ((-1, 2, 1), "cycle"),
     ((-1, 0), "parents for")],
)
def test_bad_layouts_are_refused(parents, message):
    with pytest.raises(ValueError, match=message):
        Layout("bad", ("a", "b", "c"), parents)


def test_hdm05_facts_hold_on_the_real_clips(shared_data):
    """The coinciding joints coincide and every kept bone has a constant, non-zero length."""
    d = shared_data / "hdm05-smart"
    clips = np.load(d / "adClassTrain.npz")["clips"]
    core = np.load(d / "preprocess_core.npz")
    x = clips * core["Xstd"].reshape(1, 1, 75) + core["Xmean"].reshape(1, 1, 75)
    x = (x * 0.0254 / 0.45).reshape(-1, 60, 25, 3)
    hdm = skeleton.layout("hdm05_25")
    for group in hdm.coincident:
        for j in group[1:]:
            assert np.abs(x[:, :, j] - x[:, :, group[0]]).max() < 1e-3, group
    b = hdm.bone_array()
    lengths = np.linalg.norm(x[:, :, b[:, 1]] - x[:, :, b[:, 0]], axis=-1)
    assert lengths.min() > 0.01
    assert (lengths.max(axis=(0, 1)) - lengths.min(axis=(0, 1))).max() < 2e-3  # one reference skeleton
    assert np.abs(x[:, :, hdm.root]).max() < 1e-3  # hip-centred
