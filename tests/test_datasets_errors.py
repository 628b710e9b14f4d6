"""engine.datasets on bad input: every failure is a DatasetError naming the file, the line or frame and
what was expected; hypothesis throws malformed text at every parser."""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path

import numpy as np
import pytest
from data_factories import (
    BONES,
    MHAD_JOINTS,
    amc_text,
    amc_values,
    asf_text,
    bvh_text,
    dfs_order,
    mhad_motion,
    ntu_body_frames,
    ntu_text,
    write_amc_take,
    write_mhad,
    write_ntu,
    write_stgcn,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import datasets
from engine.datasets._text import decode
from engine.datasets.asf import amc_positions, parse_amc, parse_asf
from engine.datasets.bvh import bvh_positions, parse_bvh
from engine.datasets.ntu import parse_ntu_skeleton
from engine.errors import DatasetError

NTU_NAME = "S001C001P001R001A001"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SMART_WORKBENCH_CACHE", str(tmp_path / "cache"))


def _lines(text: str) -> list[str]:
    return text.splitlines()


# -- ASF / AMC ------------------------------------------------------------------------------------------
def test_missing_asf(tmp_path):
    amc = write_amc_take(tmp_path, "xx", "walk", 1, frames=20)
    (tmp_path / "HDM_xx.asf").unlink()
    with pytest.raises(
        DatasetError, match=r"HDM_xx_walk_001_120\.amc: no ASF skeleton beside it; expected HDM_xx\.asf"
    ):
        datasets.load(amc)


def test_truncated_amc_names_line(tmp_path):
    amc = write_amc_take(tmp_path, "xx", "walk", 1, frames=20)
    lines = _lines(amc.read_text())
    amc.write_text("\n".join(lines[:-5]) + "\n")
    with pytest.raises(DatasetError, match=r"\.amc, line \d+: frame starting here lacks bones"):
        datasets.load(amc, cache=False)


def test_amc_cut_mid_line(tmp_path):
    amc = write_amc_take(tmp_path, "xx", "walk", 1, frames=20)
    text = amc.read_text()
    amc.write_text(text[: len(text) - 12])
    with pytest.raises(DatasetError, match=r"line \d+: bone 'rthumb' in frame 20 has 1 values; expected 2"):
        datasets.load(amc, cache=False)


def test_amc_nan_row(tmp_path):
    amc = write_amc_take(tmp_path, "xx", "walk", 1, frames=20)
    lines = _lines(amc.read_text())
    k = next(i for i, ln in enumerate(lines) if ln.startswith("lfemur"))
    k = next(i for i, ln in enumerate(lines) if ln.startswith("lfemur") and i > k)  # frame 2
    lines[k] = "lfemur nan nan nan"
    amc.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        DatasetError, match=rf"line {k + 1}: lfemur in frame 2 is 'nan'; expected a finite number"
    ):
        datasets.load(amc, cache=False)


def test_amc_non_utf8_outside_comment(tmp_path):
    amc = write_amc_take(tmp_path, "xx", "walk", 1, frames=5)
    data = amc.read_bytes().replace(b"lfemur", b"lf\xfcmur", 1)
    amc.write_bytes(data)
    with pytest.raises(DatasetError, match=r"line \d+: byte 0xfc .* is not UTF-8"):
        datasets.load(amc, cache=False)


def test_amc_latin1_comment_is_tolerated(tmp_path):
    amc = write_amc_take(tmp_path, "xx", "walk", 1, frames=5)
    amc.write_bytes(b"#!OML:ASF X:\\f\xfcr Bonn\n" + amc.read_bytes())
    assert len(datasets.load(amc, cache=False)) == 1


def test_amc_unknown_bone_and_wrong_count(tmp_path):
    amc = write_amc_take(tmp_path, "xx", "walk", 1, frames=5)
    text = amc.read_text()
    amc.write_text(text.replace("ltibia", "lknee", 1))
    with pytest.raises(DatasetError, match=r"line \d+: unknown bone 'lknee' in frame 1"):
        datasets.load(amc, cache=False)
    amc.write_text(text.replace("\nlfoot ", "\nlfoot 1.0 ", 1))
    with pytest.raises(DatasetError, match=r"bone 'lfoot' in frame 1 has 3 values; expected 2 \(rx rz\)"):
        datasets.load(amc, cache=False)


def test_asf_missing_bones_for_hdm05(tmp_path):
    bones = [b for b in BONES if b[0] not in ("lthumb", "rthumb")]
    (tmp_path / "HDM_xx.asf").write_text(asf_text(bones))
    (tmp_path / "HDM_xx_walk_001_120.amc").write_text(amc_text(amc_values(bones, 10)))
    with pytest.raises(DatasetError, match=r"HDM_xx\.asf: ASF skeleton lacks bones \['lthumb', 'rthumb'\]"):
        datasets.load(tmp_path / "HDM_xx_walk_001_120.amc")


def test_asf_broken(tmp_path):
    text = asf_text()
    with pytest.raises(DatasetError, match="no ':hierarchy' section"):
        parse_asf(tmp_path / "a.asf", text.split(":hierarchy")[0])
    with pytest.raises(DatasetError, match=r"a\.asf, line \d+: direction needs 3 numbers, got 2"):
        parse_asf(tmp_path / "a.asf", text.replace("direction 0.6 -0.8 0.25", "direction 0.6 -0.8", 1))


def test_empty_folder(tmp_path):
    with pytest.raises(DatasetError, match="no dataset files"):
        datasets.load(tmp_path)
    with pytest.raises(DatasetError, match=r"no \.amc files"):
        datasets.load_amc_folder(tmp_path)


def test_skip_bad_takes(tmp_path):
    for k in range(3):
        write_amc_take(tmp_path / "1", "aa", "kick", k + 1, frames=100, seed=k)
    bad = write_amc_take(tmp_path / "1", "aa", "kick", 9, frames=100)
    bad.write_text(bad.read_text()[:-200])
    with pytest.raises(DatasetError, match="kick_009"):
        datasets.load(tmp_path)
    ds = datasets.load(tmp_path, skip_bad=True)
    assert len(set(ds.sources)) == 3
    assert len(ds.info["skipped"]) == 1 and "kick_009" in ds.info["skipped"][0]


# -- BVH ------------------------------------------------------------------------------------------------
def _mhad_text(frames=20):
    joints = dfs_order(MHAD_JOINTS)
    return bvh_text(joints, mhad_motion(frames, joints=joints), 1 / 480)


def test_bvh_truncated(tmp_path):
    p = tmp_path / "t.bvh"
    lines = _lines(_mhad_text())
    p.write_text("\n".join(lines[:-3]) + "\n")
    with pytest.raises(DatasetError, match=r"t\.bvh: 'Frames: 20' but only 17 frame lines follow"):
        datasets.load_bvh(p)
    p.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:50] + "\n")
    with pytest.raises(
        DatasetError, match=rf"t\.bvh, line {len(lines)}: frame 19 has \d+ values; expected 66"
    ):
        datasets.load_bvh(p)
    p.write_text("\n".join(lines[:30]))
    with pytest.raises(DatasetError, match=r"hierarchy not closed"):
        datasets.load_bvh(p)


def test_bvh_nan_row(tmp_path):
    p = tmp_path / "t.bvh"
    lines = _lines(_mhad_text())
    lines[-4] = " ".join(["nan"] + lines[-4].split()[1:])
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=rf"line {len(lines) - 3}: a channel value of frame 16 is 'nan'"):
        datasets.load_bvh(p)


def test_bvh_unknown_joint_names(tmp_path):
    p = tmp_path / "t.bvh"
    p.write_text(_mhad_text().replace("LeftForeArm", "Foo"))
    with pytest.raises(DatasetError, match=r"do not name the hdm05_25 joints \['lradius'\]"):
        datasets.load_bvh(p)


def test_mhad_skip_bad(tmp_path):
    write_mhad(tmp_path, 1, 1, 1, frames=100)
    (tmp_path / "skl_s02_a01_r01.bvh").write_text("HIERARCHY\nROOT Hips\n{\n")
    with pytest.raises(DatasetError, match="skl_s02_a01_r01"):
        datasets.load(tmp_path)
    ds = datasets.load(tmp_path, skip_bad=True)
    assert ds.subjects == ["s01"] and len(ds.info["skipped"]) == 1


# -- NTU ------------------------------------------------------------------------------------------------
def test_ntu_wrong_joint_count(tmp_path):
    p = tmp_path / f"{NTU_NAME}.skeleton"
    arr = ntu_body_frames(3, 0, 0.1)
    p.write_text(ntu_text(3, [("1", {f: arr[f] for f in range(3)})], joints=24))
    with pytest.raises(DatasetError, match=r"line 4: body 0 of frame 0 has 24 joints; expected 25"):
        datasets.load(p)


def test_ntu_truncated_and_nan(tmp_path):
    p = write_ntu(tmp_path, NTU_NAME, n_frames=5)
    lines = _lines(p.read_text())
    p.write_text("\n".join(lines[:-10]))
    with pytest.raises(DatasetError, match=r"frame 4 has 1 bodies but only \d+ lines are left"):
        datasets.load(p, cache=False)
    lines[10] = "nan " + " ".join(lines[10].split()[1:])
    p.write_text("\n".join(lines))
    with pytest.raises(DatasetError, match=r"line 11: joint 6 of frame 0 is 'nan'"):
        datasets.load(p, cache=False)


def test_ntu_name_without_label(tmp_path):
    p = write_ntu(tmp_path, "whatever", n_frames=5)
    with pytest.raises(DatasetError, match="no SxxxCxxxPxxxRxxxAxxx"):
        datasets.load(p)


def test_ntu_npy_label_mismatch(tmp_path):
    npy, _ = write_stgcn(tmp_path, "val", [NTU_NAME, NTU_NAME], [0, 1])
    with open(tmp_path / "val_label.pkl", "wb") as fh:
        pickle.dump(([NTU_NAME], [0]), fh)
    with pytest.raises(DatasetError, match=r"val_label\.pkl: 1 labels for the 2 samples"):
        datasets.load(npy)
    (tmp_path / "val_label.pkl").unlink()
    with pytest.raises(DatasetError, match="label file not found"):
        datasets.load(npy)


def test_ntu_label_pickle_runs_no_code(tmp_path):
    npy, _ = write_stgcn(tmp_path, "val", [NTU_NAME], [0])

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with open(tmp_path / "val_label.pkl", "wb") as fh:
        pickle.dump(([NTU_NAME], [Evil()]), fh)
    with pytest.raises(DatasetError, match="refusing to load builtins.print"):
        datasets.load(npy)


def test_smart_npz_errors(tmp_path):
    p = tmp_path / "x.npz"
    np.savez(p, clips=np.zeros((2, 60, 74), np.float32), classes=np.zeros(2, np.int32))
    with pytest.raises(DatasetError, match=r"'clips' has shape \(2, 60, 74\); expected \(N, T, 75\)"):
        datasets.load(p)
    np.savez(p, clips=np.zeros((2, 60, 75), np.float32), classes=np.zeros(2, np.int32))
    with pytest.raises(DatasetError, match=r"preprocess_core\.npz: file not found"):
        datasets.load(p)
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(DatasetError, match="not a readable npz"):
        datasets.load(tmp_path / "bad.npz")


# -- hypothesis: malformed text at every parser ------------------------------------------------------------
_FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
_TOKENS = st.sampled_from(
    [
        "\n",
        " ",
        "{",
        "}",
        "1",
        "0",
        "-3.5",
        "nan",
        "inf",
        "1e308",
        "99999999999",
        "#",
        ":",
        "begin",
        "end",
        "ROOT",
        "JOINT",
        "End",
        "Site",
        "OFFSET",
        "CHANNELS",
        "6",
        "3",
        "Xrotation",
        "Frames:",
        "Frame",
        "Time:",
        "MOTION",
        "HIERARCHY",
        "root",
        "lfemur",
        "25",
        "\t",
        "é",
        "\x00",
        "2",
    ]
)
_JUNK = st.lists(_TOKENS, max_size=60).map("".join) | st.text(max_size=200)


@st.composite
def _mutated(draw, valid: str):
    """A valid file with one of: truncation, a line replaced, a line duplicated, junk inserted."""
    lines = valid.splitlines()
    kind = draw(st.sampled_from(["truncate", "replace", "duplicate", "insert", "delete"]))
    i = draw(st.integers(0, len(lines) - 1))
    if kind == "truncate":
        return valid[: draw(st.integers(0, len(valid)))]
    if kind == "replace":
        lines[i] = draw(_JUNK)
    elif kind == "duplicate":
        lines.insert(i, lines[i])
    elif kind == "insert":
        lines.insert(i, draw(_JUNK))
    else:
        del lines[i]
    return "\n".join(lines)


_ASF = asf_text()
_SKEL = parse_asf("fuzz.asf", _ASF)
_AMC = amc_text(amc_values(BONES, 4))
_BVH = _mhad_text(4)
_NTU = ntu_text(3, [("1", {f: a for f, a in enumerate(ntu_body_frames(3, 0, 0.1))})])


def _only_dataset_errors(fn, text):
    try:
        fn(text)
    except DatasetError:
        pass


@_FUZZ
@given(st.one_of(_JUNK, _mutated(_ASF)))
def test_fuzz_asf(text):
    _only_dataset_errors(lambda t: parse_asf("fuzz.asf", t), text)


@_FUZZ
@given(st.one_of(_JUNK, _mutated(_AMC)))
def test_fuzz_amc(text):
    def run(t):
        motion = parse_amc("fuzz.amc", _SKEL, t)
        with np.errstate(all="ignore"):
            amc_positions(_SKEL, motion)

    _only_dataset_errors(run, text)


@_FUZZ
@given(st.one_of(_JUNK, _mutated(_BVH)))
def test_fuzz_bvh(text):
    def run(t):
        bvh = parse_bvh("fuzz.bvh", t)
        with np.errstate(all="ignore"):
            bvh_positions(bvh)

    _only_dataset_errors(run, text)


@_FUZZ
@given(st.one_of(_JUNK, _mutated(_NTU)))
def test_fuzz_ntu(text):
    _only_dataset_errors(lambda t: parse_ntu_skeleton("fuzz.skeleton", t), text)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_decode_bytes(data):
    _only_dataset_errors(lambda d: decode(d, "fuzz.txt"), data)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["amc", "bvh", "skeleton"]), st.data())
def test_fuzz_whole_loaders(kind, data):
    """Through ``datasets.load`` (file reading, FK, windows): only DatasetError."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        if kind == "amc":
            (d / "HDM_xx.asf").write_text(_ASF)
            p = d / "HDM_xx_walk_001_120.amc"
            text = data.draw(_mutated(_AMC))
        elif kind == "bvh":
            p = d / "skl_s01_a01_r01.bvh"
            text = data.draw(_mutated(_BVH))
        else:
            p = d / f"{NTU_NAME}.skeleton"
            text = data.draw(_mutated(_NTU))
        p.write_text(text, encoding="utf-8", errors="surrogateescape")
        _only_dataset_errors(lambda _: datasets.load(p, cache=False), None)
