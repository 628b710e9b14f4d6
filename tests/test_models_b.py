"""MS-G3D, SGN, AS-GCN and DGNN: shapes, gradients, checkpoints, official names and preprocessing."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch
from _model_helpers import (
    BONES_1BASED,
    LAYOUTS,
    REF,
    _one_thread,  # noqa: F401  (the module's autouse fixture)
    forward_backward_reaches_input,
    np_null_frames,
    wrong_shapes_are_refused,
)

from engine import models
from engine.errors import CheckpointError
from engine.models.asgcn import ASGCN, combine_official
from engine.models.dgnn import pre_normalize
from engine.models.sgn import compact_and_translate, sample_segments
from engine.skeleton import layout

NAMES = ["asgcn", "dgnn", "msg3d", "sgn"]
SMALL = {
    "msg3d": {"width": 12, "num_gcn_scales": 4, "num_g3d_scales": 3, "pad_to": 24},
    "sgn": {"width": 8},
    "asgcn": {"width": 8, "aim_hidden": 16, "pad_to": 40},
    "dgnn": {"channels": (8, 8, 16, 16), "pad_to": 24},
}


def _take(t: int = 20, n: int = 2, seed: int = 0) -> torch.Tensor:
    """Random bodies about 3 m in front of the camera, in metres."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 25, 3, generator=g) * 0.3 + torch.randn(n, t, 25, 3, generator=g) * 0.02
    x[..., 2] += 3.0
    return x


# -- shapes and gradients ----------------------------------------------------------------------------
@pytest.mark.parametrize("lay", LAYOUTS)
@pytest.mark.parametrize("name", NAMES)
def test_forward_backward_reaches_input(name, lay):
    torch.manual_seed(0)
    model = models.create(name, lay, 5, **SMALL[name])
    x = _take(17).requires_grad_(True)
    forward_backward_reaches_input(model, x)
    x.grad = None
    y = model(x)
    assert y.shape == (2, 5)
    y[:, 0].sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@pytest.mark.parametrize("name", NAMES)
def test_preprocess_off_for_clean_data(name):
    torch.manual_seed(0)
    model = models.create(name, "hdm05_25", 4, preprocess=False, **SMALL[name]).eval()
    x = _take(13, n=3, seed=1)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (3, 4) and torch.isfinite(y).all()


@pytest.mark.parametrize("name", NAMES)
def test_wrong_input_is_refused(name):
    model = models.create(name, "ntu25", 3, **SMALL[name])
    wrong_shapes_are_refused(model)


@pytest.mark.parametrize("name,bad", [
    ("msg3d", {"width": 10}), ("msg3d", {"stream": "motion"}), ("msg3d", {"pad_to": 0}),
    ("sgn", {"width": 0}), ("sgn", {"sampling": "middle"}), ("asgcn", {"aim_sampling": "noisy"}),
    ("asgcn", {"pad_to": 10}), ("asgcn", {"num_person": 0}), ("dgnn", {"stream": "bone"}),
    ("dgnn", {"channels": ()}),
])
def test_bad_options_raise_value_error(name, bad):
    with pytest.raises(ValueError):
        models.create(name, "ntu25", 3, **{**SMALL[name], **bad})


# -- SGN: any batch size, deterministic sampling ------------------------------------------------------
def test_sgn_any_batch_size_and_batch_independent():
    torch.manual_seed(0)
    model = models.create("sgn", "ntu25", 6, width=8).eval()
    x = _take(45, n=7, seed=2)
    with torch.no_grad():
        full = model(x)
        for n in (1, 3, 7):
            y = model(x[:n])
            assert y.shape == (n, 6)
            torch.testing.assert_close(y, full[:n], rtol=1e-4, atol=1e-5)
        assert torch.equal(model(x), model(x))  # eval is deterministic
    model.train()
    for n in (1, 3, 7):
        assert model(x[:n]).shape == (n, 6)


def _np_sgn_rows(take: np.ndarray, r: int, seg: int = 20) -> np.ndarray:
    """README steps 3, 5, 6 for one actor: translation, empty-row removal, padding, sampling."""
    flat = take.reshape(len(take), -1)
    valid = np.any(flat != 0, axis=1)
    origin = take[np.argmax(valid), 1].copy()
    moved = take - origin
    moved[~valid] = 0
    rows = moved[valid]
    if len(rows) < seg:
        rows = np.concatenate([rows, np.zeros((seg - len(rows),) + rows.shape[1:])], 0)
    d = len(rows) // seg
    return rows[np.arange(seg) * d + r]


def test_sgn_preprocessing_matches_numpy_reimplementation():
    x = _take(73, n=3, seed=3)
    x[1, 50:] = 0  # shorter take: L = 50 (d = 2)
    x[2, :4] = 0  # empty leading frames and a gap: L = 73 - 4 - 10 = 59 (d = 2)
    x[2, 30:40] = 0
    x[2, 5, 3] = 0  # one missing joint stays in the frame
    lengths = [73, 50, 59]
    clip, length = compact_and_translate(x, origin_joint=1)
    assert length.tolist() == lengths
    for r in (0, 1):
        rows = sample_segments(clip, length, 20, torch.full((3, 20), r)).numpy()
        for i in range(3):
            ref = _np_sgn_rows(x[i].numpy().astype(np.float64), r)
            np.testing.assert_allclose(rows[i], ref, atol=1e-5)
    # a short take is zero-padded to 20 rows
    short = _take(12, n=1, seed=4)
    clip, length = compact_and_translate(short, origin_joint=1)
    rows = sample_segments(clip, length, 20, torch.zeros(1, 20, dtype=torch.int64)).numpy()
    np.testing.assert_allclose(rows[0], _np_sgn_rows(short[0].numpy().astype(np.float64), 0), atol=1e-5)


def test_sgn_eval_modes_are_documented_means():
    torch.manual_seed(0)
    model = models.create("sgn", "ntu25", 5, width=8).eval()
    x = _take(73, n=2, seed=5)
    x[1, 45:] = 0  # L = 45 -> d = 2; sample 0 has d = 3
    with torch.no_grad():
        y = model(x)
        for i, d in enumerate((3, 2)):
            rows = [torch.from_numpy(_np_sgn_rows(x[i].numpy().astype(np.float64), r)).float()
                    for r in range(d)]
            ref = model.network(torch.stack(rows)).mean(0)
            torch.testing.assert_close(y[i], ref, rtol=1e-4, atol=1e-5)
        model.sampling = "centre"
        rows = torch.from_numpy(_np_sgn_rows(x[0].numpy().astype(np.float64), 1)).float()[None]
        torch.testing.assert_close(model(x)[0], model.network(rows)[0], rtol=1e-4, atol=1e-5)


# -- AS-GCN: any clip length, deterministic in eval ---------------------------------------------------
@pytest.mark.parametrize("preprocess", [True, False])
@pytest.mark.parametrize("t", [20, 73])
def test_asgcn_any_length_and_deterministic_in_eval(t, preprocess):
    torch.manual_seed(0)
    model = models.create("asgcn", "ntu25", 5, width=8, aim_hidden=16, preprocess=preprocess).eval()
    x = _take(t, seed=6)
    with torch.no_grad():
        a, b = model(x), model(x)
    assert a.shape == (2, 5) and torch.equal(a, b)
    model.train()
    assert model(x).shape == (2, 5)


def test_asgcn_eval_edges_are_the_most_likely_types():
    torch.manual_seed(0)
    model = models.create("asgcn", "ntu25", 5, **SMALL["asgcn"]).eval()
    _, sub = model.inputs(_take(30, seed=7))
    feats = torch.cat([sub[:, None], torch.zeros_like(sub[:, None])], 1)
    feats = feats.permute(0, 1, 3, 2, 4).reshape(4, 25, -1)
    scores = model.aim(feats)
    a_act = model.actional(torch.stack([sub, torch.zeros_like(sub)], 1))
    best = scores.argmax(-1)  # (B, 600)
    off = ~torch.eye(25, dtype=torch.bool)
    for k in (1, 2):
        m = torch.zeros(4, 25, 25)
        m[:, off] = (best == k).float()
        m = m + torch.eye(25)
        ref = m / m.sum(1, keepdim=True) * 0.1
        torch.testing.assert_close(a_act[:, k - 1], ref, rtol=1e-5, atol=1e-8)


def test_asgcn_official_files_load_together():
    torch.manual_seed(0)
    small = dict(SMALL["asgcn"])
    src = models.create("asgcn", "ntu25", 5, **small).eval()
    for p in src.parameters():
        p.data.normal_(0, 0.1)
    sd = src.state_dict()
    model1 = {f"module.{k}": v for k, v in sd.items() if not k.startswith("aim.")}
    model2 = {k[4:]: v for k, v in sd.items() if k.startswith("aim.")}
    assert set(combine_official(model1, model2)) == set(sd)
    dst = models.create("asgcn", "ntu25", 5, **small).eval()
    dst.load_official(model1, model2)
    x = _take(25, seed=8)
    with torch.no_grad():
        torch.testing.assert_close(dst(x), src(x))
    model2.pop("encoder.fc_out.bias")
    with pytest.raises(CheckpointError, match="encoder.fc_out.bias"):
        dst.load_official(model1, model2)


# -- checkpoints ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_round_trip_and_refusal(name, tmp_path):
    torch.manual_seed(0)
    model = models.create(name, "hdm05_25", 4, **SMALL[name])
    x = _take(15, seed=9)
    model.train()
    model(x)  # move the BatchNorm statistics away from their defaults
    model.eval()
    path = tmp_path / f"{name}.pt"
    models.save_checkpoint(model, path, ["a", "b", "c", "d"])
    loaded, meta = models.load_checkpoint(path)
    assert meta.model == name and meta.layout == "hdm05_25" and not loaded.training
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))
    payload = torch.load(path, weights_only=True)
    payload["meta"]["class_names"] = ["a", "b", "c"]  # a checkpoint for another class count
    torch.save(payload, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError):
        models.load_checkpoint(tmp_path / "bad.pt")


# -- official names and shapes -----------------------------------------------------------------------
def _reference(name: str) -> dict:
    path = REF / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"reference state dicts not available: {path} is absent")
    return json.loads(path.read_text())


def _entries(sd: dict, prefix: str = "") -> list:
    return [[k[len(prefix):], list(v.shape)] for k, v in sd.items() if k.startswith(prefix)]


@pytest.mark.parametrize("name", ["dgnn", "msg3d", "sgn"])
def test_state_dict_equals_official(name):
    ref = _reference(name)
    torch.manual_seed(0)
    model = models.create(name, "ntu25", 60)
    assert _entries(model.state_dict()) == [[k, s] for k, s, _ in ref["state_dict"]]
    assert sum(p.numel() for p in model.parameters()) == ref["num_parameters"]


def test_state_dict_equals_official_asgcn():
    ref = _reference("asgcn")
    model = models.create("asgcn", "ntu25", 60)
    sd = model.state_dict()
    ours = [[k, s] for k, s in _entries(sd) if not k.startswith("aim.")]
    assert ours == [[k, s] for k, s, _ in ref["state_dict"]]
    assert _entries(sd, "aim.") == [[k, s] for k, s, _ in ref["aim"]["state_dict"]]
    n1 = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("aim."))
    assert n1 == ref["num_parameters"]
    assert sum(p.numel() for p in model.aim.parameters()) == ref["aim"]["num_parameters"]
    assert [int((a != 0).sum()) for a in sd["A"]] == ref["graph"]["partition_nonzeros"]


def test_non_saved_graph_tensors_match_official():
    ref = _reference("msg3d")["nonpersistent_tensors_used_in_forward"]
    model = models.create("msg3d", "ntu25", 60)
    bufs = dict(model.named_buffers())
    for key, facts in ref.items():
        t = bufs[key]
        assert list(t.shape) == facts["shape"] and int((t != 0).sum()) == facts["nnz"]
        assert abs(float(t.double().sum()) - facts["sum"]) < 1e-3
        assert key not in model.state_dict()
    sgn_ref = _reference("sgn")["nonpersistent_tensors_used_in_forward"]
    sgn = models.create("sgn", "ntu25", 60)
    for key in ("spa", "tem"):
        full = getattr(sgn, key).expand(160, -1, -1, -1).contiguous().numpy().astype(np.float32)
        assert hashlib.sha256(full.tobytes()).hexdigest() == sgn_ref[key]["sha256_float32_c_order"]
        assert key not in sgn.state_dict()


def test_dgnn_graph_matches_official():
    ref = _reference("dgnn")["graph"]
    model = models.create("dgnn", "ntu25", 60, channels=(8,))
    src, tgt = model.l1.dgn.source_M.detach().numpy(), model.l1.dgn.target_M.detach().numpy()
    edges = np.asarray(ref["directed_edges"])
    deg = np.asarray(ref["degree"], dtype=np.float64)
    exp_src = np.full((25, 25), 1e-6)
    exp_tgt = np.full((25, 25), 1e-6)
    for e, (s, t) in enumerate(edges):
        exp_src[s, e] += 1 / deg[s]
        exp_tgt[t, e] += 1 / deg[t]
    np.testing.assert_allclose(src, exp_src, rtol=1e-6)
    np.testing.assert_allclose(tgt, exp_tgt, rtol=1e-6)
    partner = dict((int(a), int(b)) for a, b in ref["bone_pairs_for_bone_data"])
    assert model.bone_partner.tolist() == [partner[v] for v in range(25)]


# -- official preprocessing, against a numpy reimplementation of the README -------------------------
def _np_rotation(axis: np.ndarray, theta: float) -> np.ndarray:
    """Rotation by ``theta`` about ``axis`` (Euler-Rodrigues); identity for tiny axis or angle."""
    if np.abs(axis).sum() < 1e-6 or abs(theta) < 1e-6:
        return np.eye(3)
    k = axis / np.linalg.norm(axis)
    a = np.cos(theta / 2)
    b, c, d = k * np.sin(theta / 2)
    return np.array([
        [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
        [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
        [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - b * b - c * c],
    ])


def _np_angle(v: np.ndarray, w: np.ndarray) -> float:
    if np.abs(v).sum() < 1e-6 or np.abs(w).sum() < 1e-6:
        return 0.0
    return float(np.arccos(np.clip(np.dot(v / np.linalg.norm(v), w / np.linalg.norm(w)), -1.0, 1.0)))


def _np_pre_normalization(take: np.ndarray, null_frames: str = "first") -> np.ndarray:
    """README steps 2-6 (2s-AGCN / MS-G3D / DGNN), or AS-GCN's order (null frames last)."""
    s = np.zeros((2, 300, 25, 3))
    s[0, : len(take)] = take
    if null_frames == "first":
        np_null_frames(s)
    centre = s[0, :, 1:2].copy()
    for p in range(2):
        if s[p].sum() == 0:
            continue
        mask = (s[p].sum(-1, keepdims=True) != 0)
        s[p] = (s[p] - centre) * mask
    for (lo, hi), axis in (((0, 1), np.array([0.0, 0.0, 1.0])), ((4, 8), np.array([1.0, 0.0, 0.0]))):
        v = s[0, 0, hi] - s[0, 0, lo]
        rot = _np_rotation(np.cross(v, axis), _np_angle(v, axis))
        nonzero = s.sum(-1) != 0
        s[nonzero] = s[nonzero] @ rot.T
    if null_frames == "last":
        np_null_frames(s)
    assert np.all(s[1] == 0)
    return s[0]


def _takes_with_gaps() -> torch.Tensor:
    x = _take(57, n=3, seed=10)
    x[0, 30:33] = 0  # a gap inside the take stays (and is repeated with the rest)
    x[1, :3] = 0  # leading empty frames and a gap: the non-empty frames move to the front
    x[1, 20:25] = 0
    x[2, 40:] = 0  # a shorter take inside the clip, and one missing joint
    x[2, 7, 11] = 0
    return x


@pytest.mark.parametrize("null_frames", ["first", "last"])
def test_pre_normalization_matches_numpy_reimplementation(null_frames):
    x = _takes_with_gaps()
    out = pre_normalize(x, layout("ntu25"), 300, null_frames=null_frames).numpy()
    assert out.shape == (3, 300, 25, 3)
    for i in range(3):
        ref = _np_pre_normalization(x[i].numpy().astype(np.float64), null_frames)
        np.testing.assert_allclose(out[i], ref, atol=2e-5)
    # the last rotation puts frame 0's shoulder line on +x (the spine leaves +z again, as officially)
    shoulders = out[0, 0, 8] - out[0, 0, 4]
    np.testing.assert_allclose(shoulders[1:], 0, atol=1e-5)
    assert shoulders[0] > 0


def test_family_inputs_match_numpy_official_pipeline():
    x = _takes_with_gaps()
    joints = np.stack([_np_pre_normalization(x[i].numpy().astype(np.float64)) for i in range(3)])
    bones = joints.copy()
    for v1, v2 in BONES_1BASED:
        bones[:, :, v1 - 1] = joints[:, :, v1 - 1] - joints[:, :, v2 - 1]
    dgnn = models.create("dgnn", "ntu25", 5, channels=(8,))
    fv, fe = dgnn.inputs(x)
    np.testing.assert_allclose(fv.numpy(), joints, atol=2e-5)
    np.testing.assert_allclose(fe.numpy(), bones, atol=4e-5)
    msg3d = models.create("msg3d", "ntu25", 5, **{**SMALL["msg3d"], "pad_to": 300})
    np.testing.assert_allclose(msg3d.inputs(x).numpy(), joints, atol=2e-5)
    msg3d_bone = models.create("msg3d", "ntu25", 5, **{**SMALL["msg3d"], "pad_to": 300, "stream": "bone"})
    np.testing.assert_allclose(msg3d_bone.inputs(x).numpy(), bones, atol=4e-5)


def test_asgcn_inputs_match_numpy_official_pipeline():
    x = _take(120, n=2, seed=11)
    x[1, 90:] = 0  # length 90
    model = ASGCN(layout("ntu25"), 5, width=8, aim_hidden=16).eval()
    cls, sub = model.inputs(x)
    assert cls.shape == (2, 290, 25, 3) and sub.shape == (2, 50, 25, 3)
    for i, length in enumerate((120, 90)):
        ref = _np_pre_normalization(x[i].numpy().astype(np.float64), "last")[:290]
        np.testing.assert_allclose(cls[i].numpy(), ref, atol=2e-5)
        span = int(np.ceil((length - 10) / 50))
        r = (span - 1) // 2
        idx = [int(np.floor(j * ((length - 10) / 50))) + r for j in range(50)]
        np.testing.assert_allclose(sub[i].numpy(), ref[idx], atol=2e-5)
    short = _take(33, n=1, seed=12)  # length <= 60: the first 50 frames
    cls, sub = model.inputs(short)
    np.testing.assert_allclose(sub[0].numpy(), cls[0, :50].numpy())


def test_family_preprocessing_agrees_with_agcn_module():
    agcn = pytest.importorskip("engine.models.agcn")
    if not hasattr(agcn, "official_agcn_input"):
        pytest.skip("engine.models.agcn has no official_agcn_input")
    x = _takes_with_gaps()
    theirs = agcn.official_agcn_input(x, layout("ntu25"))[..., 0].permute(0, 2, 3, 1)
    ours = pre_normalize(x, layout("ntu25"), 300)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("name", ["dgnn", "msg3d", "sgn"])
def test_official_format_file_loads_through_load_checkpoint(name, tmp_path):
    """A raw state dict in the official repository's format (``module.`` keys; SGN's dict with
    ``state_dict``) loads strictly through :func:`engine.models.load_checkpoint` and computes the same."""
    torch.manual_seed(0)
    src = models.create(name, "ntu25", 7, **SMALL[name])
    src.train()
    src(_take(15, seed=13))
    src.eval()
    sd = src.state_dict()
    if name == "sgn":
        payload = {"epoch": 1, "state_dict": sd, "best": 0.0, "monitor": "val_acc"}
    else:
        payload = {f"module.{k}": v for k, v in sd.items()}
    torch.save(payload, tmp_path / "official.pth")
    net, meta = models.load_checkpoint(tmp_path / "official.pth", **SMALL[name])
    assert meta.model == name and meta.num_classes == 7
    x = _take(21, seed=14)
    with torch.no_grad():
        torch.testing.assert_close(net(x), src(x))


@pytest.mark.parametrize("name", NAMES)
def test_demo_variant_one_body_no_padding(name):
    """The demo configuration: one body, no padding to 300 frames, normalisation kept."""
    torch.manual_seed(0)
    opts = {**SMALL[name], "num_person": 1, "pad_to": None}
    if name == "sgn":
        opts = dict(SMALL[name])
    model = models.create(name, "ntu25", 3, **opts)
    x = _take(30, seed=15).requires_grad_(True)
    y = model(x)
    assert y.shape == (2, 3)
    y.sum().backward()
    assert x.grad.abs().sum() > 0


def test_forward_official_matches_forward():
    torch.manual_seed(0)
    x = _take(33, seed=16)
    msg3d = models.create("msg3d", "ntu25", 4, **SMALL["msg3d"]).eval()
    x5 = torch.stack([msg3d.inputs(x), torch.zeros(2, 33, 25, 3)], 1).permute(0, 4, 2, 3, 1)
    dgnn = models.create("dgnn", "ntu25", 4, **SMALL["dgnn"]).eval()
    fv, fe = dgnn.inputs(x)
    fv5 = torch.stack([fv, torch.zeros_like(fv)], 1).permute(0, 4, 2, 3, 1)
    fe5 = torch.stack([fe, torch.zeros_like(fe)], 1).permute(0, 4, 2, 3, 1)
    asgcn = models.create("asgcn", "ntu25", 4, **SMALL["asgcn"]).eval()
    xc, sub = asgcn.inputs(x)
    xc5 = torch.stack([xc, torch.zeros_like(xc)], 1).permute(0, 4, 2, 3, 1)
    sub5 = torch.stack([sub, torch.zeros_like(sub)], 1).permute(0, 4, 2, 3, 1)
    sgn = models.create("sgn", "ntu25", 4, sampling="centre", **SMALL["sgn"]).eval()
    clip, length = sgn.prepare(x)
    off, _ = sgn.offsets(length)
    rows = sample_segments(clip, length, 20, off[:, 0]).reshape(2, 20, 75)
    with torch.no_grad():
        torch.testing.assert_close(msg3d.forward_official(x5), msg3d(x))
        torch.testing.assert_close(dgnn.forward_official(fv5, fe5), dgnn(x))
        torch.testing.assert_close(asgcn.forward_official(xc5, sub5), asgcn(x))
        torch.testing.assert_close(sgn.forward_official(rows), sgn(x))


def test_asgcn_gradient_reaches_input_through_the_aim():
    """In eval mode the edge choice is an argmax, but its straight-through gradient still flows."""
    torch.manual_seed(0)
    model = models.create("asgcn", "ntu25", 4, **SMALL["asgcn"]).eval()
    sub = _take(50, seed=17).requires_grad_(True)
    a_act = model.actional(torch.stack([sub, torch.zeros_like(sub)], 1))
    (grad,) = torch.autograd.grad((a_act * torch.randn_like(a_act)).sum(), sub)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
