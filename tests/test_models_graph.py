"""Graph utilities: the official NTU graphs exactly, and sound graphs for hdm05_25."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from engine.models import graph
from engine.skeleton import layout

REF = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "state_dicts"
LAYOUTS = ["ntu25", "hdm05_25"]


def _ref(name: str) -> dict:
    path = REF / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"reference file {path} is absent")
    return json.loads(path.read_text())


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.float32).tobytes()).hexdigest()


def test_ntu_inward_pairs_match_reference():
    ref = _ref("agcn")["graph"]["parents_or_edges"]
    assert graph.inward_edges("ntu25").tolist() == ref
    assert graph.center("ntu25") == _ref("stgcn")["graph"]["center"]


def test_stgcn_partition_equals_official_buffer():
    stats = _ref("stgcn")["graph"]["A_buffer_stats"]
    a = graph.stgcn_spatial("ntu25")
    assert a.dtype == np.float32 and list(a.shape) == stats["shape"]
    assert int((a != 0).sum()) == stats["nnz"]
    assert _sha(a) == stats["sha256_float32_c_order"]


def test_spatial_labelling_equals_official_A():
    for name in ("agcn", "ctrgcn"):
        stats = _ref(name)["graph"]["A_stats"]
        a = graph.spatial_labelling("ntu25")
        assert a.dtype == np.float32 and list(a.shape) == stats["shape"]
        assert _sha(a) == stats["sha256_float32_c_order"]


@pytest.mark.parametrize("name", LAYOUTS)
def test_graphs_are_sound_on_every_layout(name):
    lay = layout(name)
    v = lay.num_joints
    e = graph.inward_edges(name)
    assert e.shape == (v - 1, 2)
    a = graph.adjacency(name)
    assert a.dtype == np.float32 and np.array_equal(a, a.T) and a.sum() == 2 * (v - 1)
    assert np.isfinite(graph.hop_distance(name)).all()  # connected
    # every inward pair points one hop nearer the centre
    d = graph.hop_distance(name)[:, graph.center(name)]
    assert all(d[i] == d[j] + 1 for i, j in e)
    s = graph.stgcn_spatial(name)
    assert s.shape == (3, v, v) and np.allclose(s.sum(0).sum(0), 1.0)  # columns sum to 1
    lab = graph.spatial_labelling(name)
    assert lab.shape == (3, v, v) and np.array_equal(lab[0], np.eye(v))
    bp = graph.bone_pairs(name)
    assert bp.shape == (v, 2) and bp[graph.center(name), 1] == graph.center(name)
    lm = graph.landmarks(name)
    assert set(lm) >= {"spine_base", "spine_mid", "left_shoulder", "right_shoulder"}


def test_hdm05_keeps_zero_length_links_and_centre():
    e = {tuple(p) for p in graph.inward_edges("hdm05_25").tolist()}
    assert (0, 10) in e and (5, 10) in e and (12, 13) in e
    assert graph.center("hdm05_25") == 13


@pytest.mark.parametrize("name", LAYOUTS)
def test_multiscale_helpers(name):
    v = layout(name).num_joints
    a = graph.adjacency(name)
    assert np.array_equal(graph.k_adjacency(a, 0), np.eye(v))
    assert np.array_equal(graph.k_adjacency(a, 1), a)
    k2 = graph.k_adjacency(a, 2, with_self=True)
    assert np.all(np.diag(k2) == 1) and not np.any((k2 > 0) & (a > 0))
    p = graph.ms_gcn_powers(name, 13)
    assert p.shape == (13 * v, v) and p.dtype == np.float32
    s = graph.ms_g3d_scales(name, 6, 3)
    assert s.shape == (6 * 3 * v, 3 * v) and s.dtype == np.float32
    # symmetric normalisation of A + I: largest eigenvalue 1
    n = graph.normalize_symmetric(graph.adjacency(name, self_loops=True))
    assert np.isclose(np.linalg.eigvalsh(n.astype(np.float64)).max(), 1.0, atol=1e-5)
