"""Checkpoints: our format round trip, official state dicts (key map, prefixes), TorchScript, refusals."""

from __future__ import annotations

import warnings

import pytest
import torch
from _model_helpers import _one_thread  # noqa: F401  (the module's autouse fixture)
from torch import nn

from engine import models
from engine.errors import CheckpointError
from engine.models.checkpoint import ScriptedRecognizer

SMALL = {
    "stgcn": {"width": 8, "pad_to": 16},
    "agcn": {"width": 8, "pad_to": 16},
    "ctrgcn": {"width": 8, "window": 8},
    "hrnn": {"hidden": (4, 4, 4, 4)},
}
OTHER = {"stgcn": "agcn", "agcn": "ctrgcn", "ctrgcn": "stgcn", "hrnn": "stgcn"}


def _x(t: int = 12, n: int = 2) -> torch.Tensor:
    g = torch.Generator().manual_seed(3)
    x = torch.randn(n, t, 25, 3, generator=g) * 0.3
    x[..., 2] += 3.0
    return x


def _trained(name: str, classes: int = 4, layout: str = "ntu25", **extra) -> nn.Module:
    """A small model with non-trivial batch-norm statistics."""
    torch.manual_seed(1)
    m = models.create(name, layout, classes, **{**SMALL[name], **extra})
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.01)
        m.train()
        m(_x(10, 3))
    return m.eval()


@pytest.mark.parametrize("layout", ["ntu25", "hdm05_25"])
@pytest.mark.parametrize("name", sorted(SMALL))
def test_round_trip_gives_identical_logits(tmp_path, name, layout):
    m = _trained(name, layout=layout)
    path = tmp_path / f"{name}.pt"
    models.save_checkpoint(m, path, [f"c{i}" for i in range(4)], metrics={"acc": 0.5})
    loaded, meta = models.load_checkpoint(path)
    assert meta.model == name and meta.layout == layout and meta.num_classes == 4
    assert not loaded.training
    x = _x()
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), m(x), rtol=0, atol=0)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_wrong_checkpoint_is_refused(tmp_path, name):
    m = _trained(name)
    path = tmp_path / "ours.pt"
    models.save_checkpoint(m, path, ["a", "b", "c", "d"])
    with pytest.raises(CheckpointError, match="not"):
        models.load_checkpoint(path, model=OTHER[name])
    with pytest.raises(CheckpointError, match="classes"):
        models.load_checkpoint(path, num_classes=7)
    # the same weights as a raw state dict: another model, another class count
    raw = tmp_path / "raw.pt"
    torch.save(m.state_dict(), raw)
    with pytest.raises(CheckpointError, match="missing") as info:
        models.load_checkpoint(raw, model=OTHER[name], num_classes=4, **SMALL[OTHER[name]])
    assert "unexpected" in str(info.value)
    with pytest.raises(CheckpointError, match="mis-shaped"):
        models.load_checkpoint(raw, model=name, num_classes=7, **SMALL[name])


@pytest.mark.parametrize("name", ["stgcn", "agcn", "ctrgcn"])
def test_raw_official_state_dict_with_module_prefix_is_identified(tmp_path, name):
    m = _trained(name, classes=6)
    path = tmp_path / "official.pt"
    torch.save({f"module.{k}": v for k, v in m.state_dict().items()}, path)
    loaded, meta = models.load_checkpoint(path, **SMALL[name])  # model and class count from the keys
    assert meta.model == name and meta.num_classes == 6 and meta.extra["stripped_prefix"]
    assert meta.class_names[0] == "A001"
    x = _x()
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), m(x), rtol=0, atol=0)


def test_sgn_style_wrapped_dict_and_unknown_dict(tmp_path):
    m = _trained("ctrgcn")
    path = tmp_path / "wrapped.pt"
    torch.save({"epoch": 3, "best": 0.9, "state_dict": m.state_dict()}, path)
    loaded, _ = models.load_checkpoint(path, **SMALL["ctrgcn"])
    torch.testing.assert_close(loaded.state_dict()["fc.weight"], m.state_dict()["fc.weight"])
    unknown = tmp_path / "unknown.pt"
    torch.save({"w": torch.zeros(3)}, unknown)
    with pytest.raises(CheckpointError, match="model="):
        models.load_checkpoint(unknown)


def test_agcn_release_files_key_map(tmp_path):
    """The v0.0 bone files: l1a.* for l1.*, gcn1.conv_res.* for gcn1.down.*, no num_batches_tracked."""
    m = _trained("agcn", stream="bone")
    state = {}
    for k, v in m.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        k = k.replace(".gcn1.down.", ".gcn1.conv_res.")
        if k.startswith("l1."):
            k = "l1a." + k[3:]
        state[k] = v
    path = tmp_path / "ntu_cs_agcn_bone-49-31300.pt"
    torch.save(state, path)
    loaded, meta = models.load_checkpoint(path, stream="bone", **SMALL["agcn"])
    assert meta.model == "agcn"
    mapped = meta.extra["key_map"]
    assert "l1a.gcn1.conv_res.0.weight -> l1.gcn1.down.0.weight" in mapped
    assert "l5.gcn1.conv_res.1.running_var -> l5.gcn1.down.1.running_var" in mapped
    assert meta.extra["added_num_batches_tracked"] == sum(
        k.endswith("num_batches_tracked") for k in m.state_dict())
    x = _x()
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), m(x), rtol=0, atol=0)


def test_agcn_ensemble_from_two_files(tmp_path):
    joint = _trained("agcn", stream="joint")
    bone = _trained("agcn", stream="bone")
    with torch.no_grad():
        for p in bone.parameters():
            p.mul_(1.1)
    torch.save(joint.state_dict(), tmp_path / "joint.pt")
    torch.save({k.replace("l1.", "l1a.", 1) if k.startswith("l1.") else k: v
                for k, v in bone.state_dict().items()}, tmp_path / "bone.pt")
    ens, meta = models.load_checkpoint([tmp_path / "joint.pt", tmp_path / "bone.pt"], model="agcn",
                                       stream="ensemble", alpha=0.5, **SMALL["agcn"])
    assert meta.extra["parts"] == ["joint", "bone"] and any("bone.l1a." in s for s in meta.extra["key_map"])
    x = _x()
    with torch.no_grad():
        torch.testing.assert_close(ens(x), joint(x) + 0.5 * bone(x), rtol=1e-5, atol=1e-5)
    with pytest.raises(CheckpointError, match="2 files"):
        models.load_checkpoint([tmp_path / "joint.pt", tmp_path / "bone.pt"], model="agcn", **SMALL["agcn"])


def test_stgcn_file_without_A_gets_the_graph(tmp_path):
    m = _trained("stgcn")
    state = {k: v for k, v in m.state_dict().items() if k != "A"}
    torch.save(state, tmp_path / "st_gcn.ntu-xsub.pt")
    loaded, meta = models.load_checkpoint(tmp_path / "st_gcn.ntu-xsub.pt", **SMALL["stgcn"])
    assert meta.extra["filled_from_model"] == ["A"]
    torch.testing.assert_close(loaded.A, m.A)


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(75, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x.mean(1).flatten(1))


def test_torchscript_loads_as_opaque_model(tmp_path):
    torch.manual_seed(0)
    tiny = _Tiny().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(tiny), str(tmp_path / "tiny.pt"))
    model, meta = models.load_checkpoint(tmp_path / "tiny.pt")
    assert isinstance(model, ScriptedRecognizer) and meta.model == "torchscript" and meta.num_classes == 5
    x = _x().requires_grad_(True)
    y = model(x)
    torch.testing.assert_close(y, tiny(x))
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    with pytest.raises(CheckpointError):
        models.save_checkpoint(model, tmp_path / "again.pt", [str(i) for i in range(5)])


def test_unreadable_and_missing_files(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.pt"):
        models.load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="no such"):
        models.load_checkpoint(tmp_path / "absent.pt")


def test_root_part_and_submodule_part_from_two_files(tmp_path):
    """AS-GCN style: CHECKPOINT_PARTS = ("", "aim"), classifier file at the root, AIM file under aim."""
    if "asgcn" not in models.names():
        pytest.skip("asgcn is not registered")
    small = {"width": 8, "aim_hidden": 16, "pad_to": 40}
    torch.manual_seed(0)
    try:
        src = models.create("asgcn", "ntu25", 4, **small).eval()
    except (TypeError, ValueError) as exc:
        pytest.skip(f"asgcn small options changed: {exc}")
    parts = type(src).CHECKPOINT_PARTS
    if parts != ("", "aim"):
        pytest.skip(f"asgcn parts are {parts}")
    sd = src.state_dict()
    torch.save({k: v for k, v in sd.items() if not k.startswith("aim.")}, tmp_path / "epoch99_model1.pt")
    torch.save({k[4:]: v for k, v in sd.items() if k.startswith("aim.")}, tmp_path / "epoch99_model2.pt")
    net, meta = models.load_checkpoint([tmp_path / "epoch99_model1.pt", tmp_path / "epoch99_model2.pt"],
                                       **small)
    assert meta.model == "asgcn" and meta.num_classes == 4 and meta.extra["parts"] == ["", "aim"]
    for k, v in sd.items():
        torch.testing.assert_close(net.state_dict()[k], v, rtol=0, atol=0)
    with pytest.raises(CheckpointError):  # the files swapped
        models.load_checkpoint([tmp_path / "epoch99_model2.pt", tmp_path / "epoch99_model1.pt"],
                               model="asgcn", num_classes=4, **small)
