"""ST-GCN, 2s-AGCN, CTR-GCN and HRNN: shapes, gradients, official names and preprocessing."""

from __future__ import annotations

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

from engine import models, skeleton

SMALL = {
    "stgcn": {"width": 8, "pad_to": 24},
    "agcn": {"width": 8, "pad_to": 24},
    "ctrgcn": {"width": 8, "window": 12},
    "hrnn": {"hidden": (4, 4, 4, 4)},
}


def _take(t: int = 20, n: int = 2, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, t, 25, 3, generator=g) * 0.3
    x[..., 2] += 3.0  # a body about 3 m in front of the camera
    return x


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(SMALL))
def test_forward_backward_reaches_input(name, layout):
    torch.manual_seed(0)
    model = models.create(name, layout, 5, **SMALL[name])
    x = _take(16).requires_grad_(True)
    forward_backward_reaches_input(model, x)
    with torch.no_grad():
        assert model(x[:1]).shape == (1, 5)


def test_agcn_ensemble_is_joint_plus_alpha_bone():
    torch.manual_seed(0)
    ens = models.create("agcn", "ntu25", 4, stream="ensemble", alpha=0.7, **SMALL["agcn"]).eval()
    assert ens.state_dict().keys() >= {"joint.fc.weight", "bone.fc.weight"}
    joint = models.create("agcn", "ntu25", 4, stream="joint", **SMALL["agcn"]).eval()
    bone = models.create("agcn", "ntu25", 4, stream="bone", **SMALL["agcn"]).eval()
    joint.load_state_dict(ens.joint.state_dict())
    bone.load_state_dict(ens.bone.state_dict())
    x = _take(12)
    with torch.no_grad():
        torch.testing.assert_close(ens(x), joint(x) + 0.7 * bone(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_bad_input_and_options_raise(name):
    model = models.create(name, "ntu25", 3, **SMALL[name])
    wrong_shapes_are_refused(model)
    bad = {"hidden": (4, 4)} if name == "hrnn" else {"width": 0}
    with pytest.raises(ValueError):
        models.create(name, "ntu25", 3, **bad)


# -- official names and shapes ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["stgcn", "agcn", "ctrgcn"])
def test_state_dict_equals_reference(name):
    path = REF / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"reference file {path} is absent")
    ref = json.loads(path.read_text())
    model = models.create(name, "ntu25", 60)
    ours = [(k, list(v.shape), str(v.dtype).replace("torch.", "")) for k, v in model.state_dict().items()]
    theirs = [(k, list(s), d) for k, s, d in ref["state_dict"]]
    assert [k for k, *_ in ours] == [k for k, *_ in theirs]  # names, in order
    assert ours == theirs  # shapes and dtypes
    assert sum(p.numel() for p in model.parameters()) == ref["num_parameters"]


# -- preprocessing against numpy re-implementations of the README steps -----------------------------------

def _np_rotation(axis, theta):
    """Euler--Rodrigues matrix of the official ``rotation_matrix`` (identity for a tiny axis/angle)."""
    axis = np.asarray(axis, dtype=np.float64)
    if np.abs(axis).sum() < 1e-6 or abs(theta) < 1e-6:
        return np.eye(3)
    axis = axis / np.sqrt(axis @ axis)
    a = np.cos(theta / 2.0)
    b, c, d = -axis * np.sin(theta / 2.0)
    aa, bb, cc, dd = a * a, b * b, c * c, d * d
    bc, ad, ac, ab, bd, cd = b * c, a * d, a * c, a * b, b * d, c * d
    return np.array([[aa + bb - cc - dd, 2 * (bc + ad), 2 * (bd - ac)],
                     [2 * (bc - ad), aa + cc - bb - dd, 2 * (cd + ab)],
                     [2 * (bd + ac), 2 * (cd - ab), aa + dd - bb - cc]])


def _np_angle(v1, v2):
    u1 = v1 / np.linalg.norm(v1)
    u2 = v2 / np.linalg.norm(v2)
    return np.arccos(np.clip(u1 @ u2, -1.0, 1.0))


def _np_agcn(take: np.ndarray, pad_to: int = 300) -> np.ndarray:
    """2s-AGCN's pre_normalization (README steps 2-6) on one body, returns (3, T, V, 2)."""
    t = take.shape[0]
    s = np.zeros((2, max(pad_to, t), 25, 3), dtype=np.float32)  # M, T, V, C
    s[0, :t] = take
    np_null_frames(s)
    center = s[0][:, 1:2, :].copy()
    for p in range(2):
        if s[p].sum() == 0:
            continue
        mask = (s[p].sum(-1) != 0).reshape(len(s[p]), 25, 1)
        s[p] = (s[p] - center) * mask
    for (i0, i1), target in (((0, 1), [0, 0, 1]), ((4, 8), [1, 0, 0])):
        vec = s[0, 0, i1] - s[0, 0, i0]
        rot = _np_rotation(np.cross(vec, target), _np_angle(vec, np.asarray(target, float)))
        for p in range(2):
            if s[p].sum() == 0:
                continue
            for f in range(len(s[p])):
                if s[p, f].sum() == 0:
                    continue
                s[p, f] = (rot @ s[p, f].T.astype(np.float64)).T
    return s.transpose(3, 1, 2, 0)


def _np_bones(x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    for v1, v2 in BONES_1BASED:
        out[:, :, v1 - 1] = x[:, :, v1 - 1] - x[:, :, v2 - 1]
    return out


def _messy_takes() -> torch.Tensor:
    x = _take(40, n=3, seed=1)
    x[0, :3] = 0  # empty first frames: compaction
    x[0, 20] = 0  # and a gap inside
    x[1, 25] = 0  # a gap without empty first frame: stays empty
    x[:2, 34:] = 0  # trailing empty frames: cyclic fill
    return x


def test_agcn_preprocessing_matches_official_steps():
    model = models.create("agcn", "ntu25", 3, stream="joint", width=8)
    x = _messy_takes()
    ours = model.prepare(x).detach().numpy()
    assert ours.shape == (3, 3, 300, 25, 2)
    for i in range(len(x)):
        ref = _np_agcn(x[i].numpy())
        np.testing.assert_allclose(ours[i], ref, atol=2e-5, rtol=1e-4)
    # after the first rotation the spine of body 0, frame 0 points along +z (before the second)
    bone = models.create("agcn", "ntu25", 3, stream="bone", width=8)
    np.testing.assert_allclose(bone.prepare(x).detach().numpy()[0], _np_bones(_np_agcn(x[0].numpy())),
                               atol=2e-5, rtol=1e-4)


def test_rotation_maps_vector_onto_axis():
    from engine.models.agcn import rotation_onto

    v = torch.tensor([[0.3, -0.2, 0.9], [1.0, 2.0, -3.0], [0.0, 0.0, 2.0]])
    r = rotation_onto(v, (0.0, 0.0, 1.0))
    out = (r @ v.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(out[:, :2], torch.zeros(3, 2), atol=1e-6, rtol=0)
    torch.testing.assert_close(torch.linalg.det(r), torch.ones(3))
    for i in range(2):
        vi = v[i].numpy().astype(float)
        axis, theta = np.cross(vi, [0, 0, 1]), _np_angle(vi, np.r_[0, 0, 1.0])
        np.testing.assert_allclose(r[i].numpy(), _np_rotation(axis, theta), atol=1e-6)


def test_stgcn_preprocessing_is_zero_padding_and_packing():
    model = models.create("stgcn", "ntu25", 3, width=8)
    x = _messy_takes()
    ours = model.prepare(x).detach().numpy()
    ref = np.zeros((3, 3, 300, 25, 2), dtype=np.float32)
    ref[:, :, :40, :, 0] = x.numpy().transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(ours, ref)
    assert models.create("stgcn", "ntu25", 3, width=8, preprocess=False).prepare(x).shape[2] == 40


def _np_ctrgcn(take: np.ndarray, window: int = 64, p: float = 0.95) -> np.ndarray:
    keep = np.flatnonzero((take != 0).reshape(len(take), -1).any(-1))
    clip = take[keep].astype(np.float32)
    clip = clip - clip[0, 1].copy()
    data = np.zeros((3, 300, 25, 2), dtype=np.float32)
    data[:, : len(clip), :, 0] = clip.transpose(2, 0, 1)
    valid = int(np.sum(data.sum(0).sum(-1).sum(-1) != 0))
    bias = int((1 - p) * valid / 2)
    d = data[:, bias:valid - bias]
    n = d.shape[1]
    out = np.zeros((3, window, 25, 2), dtype=np.float64)
    for i in range(window):
        src = max((i + 0.5) * n / window - 0.5, 0.0)
        i0 = int(np.floor(src))
        i1 = min(i0 + 1, n - 1)
        w = src - i0
        out[:, i] = d[:, i0] * (1 - w) + d[:, i1] * w
    return out


def test_ctrgcn_preprocessing_matches_official_steps():
    model = models.create("ctrgcn", "ntu25", 3, width=8)
    x = _messy_takes()
    ours = model.prepare(x).detach().numpy()
    assert ours.shape == (3, 3, 64, 25, 2)
    for i in range(len(x)):
        np.testing.assert_allclose(ours[i], _np_ctrgcn(x[i].numpy()), atol=2e-5, rtol=1e-4)
    bone = models.create("ctrgcn", "ntu25", 3, width=8, stream="bone")
    np.testing.assert_allclose(bone.prepare(x).detach().numpy()[2], _np_bones(_np_ctrgcn(x[2].numpy())),
                               atol=2e-5, rtol=1e-4)


def test_ctrgcn_preprocessing_is_differentiable_in_the_coordinates():
    """The batched crop-and-resample (index tensors, no host reads) carries gradients like the official
    per-take steps: through the centring, the gathered frames and the linear weights."""
    from engine.models.ctrgcn import official_ctrgcn_input

    lay = skeleton.layout("ntu25")
    x = (torch.randn(2, 11, 25, 3, dtype=torch.float64) * 0.3).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda m: official_ctrgcn_input(m, lay, 1, window=7), (x,))


def test_preprocess_false_only_packs():
    x = _take(10)
    for name in ("agcn", "ctrgcn"):
        m = models.create(name, "ntu25", 3, width=8, preprocess=False)
        out = m.prepare(x)
        assert out.shape == (2, 3, 10, 25, 2)
        torch.testing.assert_close(out[..., 0], x.permute(0, 3, 1, 2))
        assert (out[..., 1] == 0).all()


def test_hrnn_uses_the_five_parts_and_sum_pooling():
    torch.manual_seed(0)
    m = models.create("hrnn", "ntu25", 4, hidden=(4, 4, 4, 4)).eval()
    assert set(m.bl1) == {"trunk", "left_arm", "right_arm", "left_leg", "right_leg"}
    assert m.bl1["left_arm"].input_size == 3 * 6 and m.bl2["left_leg"].input_size == 4 * 4
    x = _take(8)
    with torch.no_grad():
        y = m(x)
        torch.testing.assert_close(m(x + torch.tensor([1.0, -2.0, 0.5])), y, atol=1e-5, rtol=1e-5)
        m.pool = "mean"
        torch.testing.assert_close(m(x) * 8, y, atol=1e-4, rtol=1e-4)


# -- graph-product orientation (a checkpoint's PA loads either way; only one way computes the same) ------

def test_agcn_aggregates_over_columns_with_attention_scaled_by_T():
    from engine.models.agcn import UnitGCN

    torch.manual_seed(0)
    a = np.stack([np.eye(25), np.triu(np.ones((25, 25)), 1), np.zeros((25, 25))]).astype(np.float32)
    g = UnitGCN(3, 8, a).eval()
    with torch.no_grad():
        for conv in (*g.conv_a, *g.conv_b):
            conv.weight.zero_()
            conv.bias.zero_()
        g.PA.copy_(torch.randn(3, 25, 25))
        x = torch.randn(2, 3, 5, 25)
        y = g(x)
        # zero embeddings: the attention is softmax of zeros over dim -2 = 1/V everywhere
        m = torch.from_numpy(a) + g.PA + 1.0 / 25
        z = sum(g.conv_d[i](torch.einsum("nctv,vw->nctw", x, m[i])) for i in range(3))
        ref = torch.relu(g.bn(z) + g.down(x))
    torch.testing.assert_close(y, ref, rtol=1e-5, atol=1e-5)


def test_agcn_attention_is_divided_by_inter_channels_times_T():
    from engine.models.agcn import UnitGCN

    torch.manual_seed(0)
    g = UnitGCN(4, 8, np.zeros((1, 25, 25), dtype=np.float32)).eval()
    x = torch.randn(1, 4, 6, 25)
    with torch.no_grad():
        a1 = g.conv_a[0](x).permute(0, 3, 1, 2).reshape(1, 25, -1)
        a2 = g.conv_b[0](x).reshape(1, -1, 25)
        att = torch.softmax(a1 @ a2 / (g.inter_c * 6), dim=-2)
        z = g.conv_d[0]((x.reshape(1, 24, 25) @ (att + g.PA[0])).view(1, 4, 6, 25))
        torch.testing.assert_close(g(x), torch.relu(g.bn(z) + g.down(x)), rtol=1e-5, atol=1e-5)


def test_ctrgcn_aggregates_over_rows():
    from engine.models.ctrgcn import CTRGC

    torch.manual_seed(0)
    c = CTRGC(16, 8).eval()
    with torch.no_grad():
        c.conv4.weight.zero_()
        c.conv4.bias.zero_()
        a = torch.randn(25, 25)
        x = torch.randn(2, 16, 5, 25)
        ref = torch.einsum("uv,nctv->nctu", a, c.conv3(x))
        torch.testing.assert_close(c(x, a, torch.ones(1)), ref, rtol=1e-5, atol=1e-5)


def test_stgcn_graph_product_orientation():
    from engine.models.stgcn import ConvTemporalGraphical

    torch.manual_seed(0)
    g = ConvTemporalGraphical(3, 4, 2)
    a = torch.randn(2, 25, 25)
    x = torch.randn(1, 3, 5, 25)
    with torch.no_grad():
        h = g.conv(x).view(1, 2, 4, 5, 25)
        ref = sum(h[:, k] @ a[k] for k in range(2))  # out[w] = sum_v x[v] A[v, w]
        torch.testing.assert_close(g(x, a), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["stgcn", "agcn", "ctrgcn"])
def test_data_bn_channel_order(name):
    """ST-GCN: BatchNorm1d(V*3) per body at v*3 + c; 2s-AGCN, CTR-GCN: BatchNorm1d(M*V*3) at m*75+v*3+c."""
    model = models.create(name, "ntu25", 3, width=8, preprocess=False).eval()
    seen = {}
    model.data_bn.register_forward_hook(lambda mod, inp, out: seen.setdefault("x", inp[0].detach()))
    x = _take(6)
    x5 = model.prepare(x)
    with torch.no_grad():
        model(x)
    bn_in = seen["x"]
    n, c, t, v, m = x5.shape
    for (i, cc, vv, mm) in [(0, 0, 0, 0), (1, 2, 7, 0), (0, 1, 24, 1), (1, 0, 20, 1)]:
        if name == "stgcn":
            got = bn_in[i * m + mm, vv * 3 + cc]
        else:
            got = bn_in[i, mm * v * 3 + vv * 3 + cc]
        torch.testing.assert_close(got, x5[i, cc, :, vv, mm])
