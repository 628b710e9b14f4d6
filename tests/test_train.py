"""engine.train and the smart-train command on tiny data. No Qt."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from engine import models
from engine.demo.generator import generate_arrays
from engine.errors import CheckpointError, WorkbenchError
from engine.train import (
    TrainConfig,
    TrainProgress,
    default_val_subjects,
    evaluate,
    state_path,
    train,
)

CLASSES = ["walk", "jump", "wave one hand", "clap"]


@pytest.fixture(scope="module")
def tiny():
    """4 classes x 12 clips of 20 frames, 4 subjects."""
    return generate_arrays(n_per_class=12, seed=3, frames=20, n_subjects=4, classes=CLASSES)


def _mlp(frames: int = 20, **kw):
    torch.manual_seed(0)
    return models.create("mlp", "ntu25", len(CLASSES), frames=frames, hidden=(32,), dropout=0.0, **kw)


def test_short_training_lowers_the_loss_and_writes_a_loadable_checkpoint(tiny, tmp_path):
    ckpt = tmp_path / "mlp.pt"
    model = _mlp()
    res = train(model, tiny, epochs=8, lr=3e-3, batch_size=8, checkpoint=ckpt)
    assert res["final_loss"] < 0.7 * res["first_loss"]
    assert res["val_subjects"] == ["s03"] and res["n_val"] == 12 and res["n_train"] == 36
    assert len(res["history"]) == 8 and 1 <= res["best_epoch"] <= 8
    loaded, meta = models.load_checkpoint(ckpt)
    assert meta.model == "mlp" and meta.layout == "ntu25" and meta.class_names == CLASSES
    assert meta.options == {"frames": 20, "hidden": (32,), "dropout": 0.0}
    assert loaded.class_names == CLASSES and loaded.fps == 30.0
    assert model.class_names == CLASSES and model.fps == 30.0  # the trained model carries them too
    assert meta.fps == 30.0
    assert meta.metrics["accuracy"] == pytest.approx(res["accuracy"])
    assert meta.extra["epoch"] == res["best_epoch"] and meta.extra["val_subjects"] == ["s03"]
    motions, labels, _, subjects = tiny
    held = np.array(subjects) == "s03"
    acc, _ = evaluate(loaded, motions[held], labels[held])
    assert acc == pytest.approx(meta.metrics["accuracy"])
    # the MLP's normalisation came from the training data
    assert not torch.allclose(loaded.mean, torch.zeros_like(loaded.mean))
    assert state_path(ckpt).is_file()


def test_resume_continues_from_the_saved_epoch(tiny, tmp_path):
    ckpt = tmp_path / "mlp.pt"
    first = train(_mlp(), tiny, epochs=3, lr=3e-3, batch_size=8, checkpoint=ckpt)
    assert first["start_epoch"] == 0 and [h["epoch"] for h in first["history"]] == [1, 2, 3]
    more = train(_mlp(), tiny, epochs=5, lr=3e-3, batch_size=8, checkpoint=ckpt, resume=True)
    assert more["start_epoch"] == 3 and more["epochs_run"] == 2
    assert [h["epoch"] for h in more["history"]] == [1, 2, 3, 4, 5]
    assert more["history"][:3] == first["history"]
    # without the state file, resume starts from the checkpoint's own epoch
    state_path(ckpt).unlink()
    _, meta = models.load_checkpoint(ckpt)
    again = train(_mlp(), tiny, epochs=6, lr=3e-3, batch_size=8, checkpoint=ckpt, resume=True)
    assert again["start_epoch"] == meta.extra["epoch"]
    assert again["history"][-1]["epoch"] == 6


def test_resume_refuses_a_state_of_another_model(tiny, tmp_path):
    ckpt = tmp_path / "mlp.pt"
    train(_mlp(), tiny, epochs=1, batch_size=8, checkpoint=ckpt)
    other = models.create("mlp", "ntu25", len(CLASSES), frames=20, hidden=(16,))
    with pytest.raises(CheckpointError):
        train(other, tiny, epochs=2, batch_size=8, checkpoint=ckpt, resume=True)
    with pytest.raises(WorkbenchError, match="needs a checkpoint"):
        train(_mlp(), tiny, epochs=2, resume=True)


def test_splits(tiny):
    motions, labels, names, subjects = tiny
    assert default_val_subjects(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]) == ["i", "j"]
    assert default_val_subjects(["x"]) == []
    res = train(_mlp(), tiny, epochs=1, batch_size=16, val_subjects=["s00", "s01"])
    assert res["n_val"] == 24 and res["val_subjects"] == ["s00", "s01"]
    with pytest.raises(WorkbenchError, match="unknown validation subjects"):
        train(_mlp(), tiny, epochs=1, val_subjects=["nobody"])
    # no subjects: a stratified random split
    res = train(_mlp(), (motions, labels, names), epochs=1, batch_size=16)
    assert res["val_subjects"] is None and res["n_val"] == round(0.2 * 12) * 4
    # a separate validation set
    held = np.array(subjects) == "s02"
    res = train(_mlp(), (motions[~held], labels[~held], names), epochs=1, batch_size=16,
                val_data=(motions[held], labels[held]))
    assert res["n_val"] == int(held.sum()) and res["n_train"] == int((~held).sum())


def test_keep_last_writes_every_epoch(tiny, tmp_path):
    ckpt = tmp_path / "last.pt"
    res = train(_mlp(), tiny, epochs=3, batch_size=8, checkpoint=ckpt, keep="last")
    _, meta = models.load_checkpoint(ckpt)
    assert meta.extra["epoch"] == 3
    assert meta.metrics["accuracy"] == pytest.approx(res["history"][-1]["val_accuracy"])


def test_progress_callback_eta_and_stop(tiny):
    seen: list[TrainProgress] = []

    def cb(p: TrainProgress):
        seen.append(p)
        return not (p.phase == "epoch" and p.epoch == 2)

    res = train(_mlp(), tiny, epochs=5, batch_size=12, callback=cb)
    assert res["stopped"] and len(res["history"]) == 2
    batches = [p for p in seen if p.phase == "batch"]
    epochs = [p for p in seen if p.phase == "epoch"]
    assert len(batches) == 2 * 3 and [p.epoch for p in epochs] == [1, 2]
    assert all(p.eta_s >= 0 and np.isfinite(p.loss) for p in seen)
    assert epochs[0].val_accuracy is not None and 0 <= epochs[0].val_accuracy <= 1
    out = io.StringIO()
    train(_mlp(), tiny, epochs=2, batch_size=12, progress=out)  # a tqdm bar on that stream
    text = out.getvalue()
    assert "train mlp" in text and "6/6" in text and "epoch   2/2" in text and "val" in text


def test_bad_settings_are_refused(tiny):
    with pytest.raises(ValueError, match="lr must be > 0"):
        TrainConfig(lr=0)
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="keep"):
        train(_mlp(), tiny, epochs=1, keep="worst")
    motions, labels, names, _ = tiny
    with pytest.raises(WorkbenchError, match="class names"):
        train(_mlp(), (motions, labels, names[:2]), epochs=1)
    with pytest.raises(TypeError):
        train(_mlp(), "not data", epochs=1)


def test_augmentation_keeps_shapes_and_bone_ratios():
    from engine.skeleton import NTU25
    from engine.train import _augment

    x = torch.as_tensor(generate_arrays(n_per_class=1, seed=0, frames=10, classes=["walk", "clap"])[0])
    y = _augment(x, 0, TrainConfig(rotate_deg=90, scale=0.2), torch.Generator().manual_seed(1))
    b = NTU25.bone_array()
    lx = (x[:, :, b[:, 1]] - x[:, :, b[:, 0]]).norm(dim=-1)
    ly = (y[:, :, b[:, 1]] - y[:, :, b[:, 0]]).norm(dim=-1)
    ratio = ly / lx
    assert y.shape == x.shape
    assert torch.allclose(ratio, ratio[:, :1, :1].expand_as(ratio), atol=1e-4)
    assert torch.allclose(x[..., 1] / x[..., 1].amax((1, 2), keepdim=True),
                          y[..., 1] / y[..., 1].amax((1, 2), keepdim=True), atol=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_training(tiny):
    res = train(_mlp(), tiny, epochs=1, batch_size=16, device="cuda")
    assert res["accuracy"] is not None


def test_cuda_refused_without_a_device(tiny):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(WorkbenchError, match="CUDA is not available"):
        train(_mlp(), tiny, epochs=1, device="cuda")


def test_cli_trains_resumes_and_lists(tmp_path, capsys):
    from workbench.train_cli import main

    out = tmp_path / "cli.pt"
    args = ["--model", "mlp", "--dataset", "demo", "--out", str(out), "--option", "hidden=(16,)",
            "--batch-size", "64", "--quiet"]
    assert main(args + ["--epochs", "1", "--label-smoothing", "0.1", "--keep", "last"]) == 0
    _, meta = models.load_checkpoint(out)
    assert meta.extra["val_subjects"] == ["s08", "s09"] and meta.options["hidden"] == (16,)
    # how it was made is in the metadata: data, window, split, settings, the command itself
    assert meta.options["normalize"] == {"face": True, "centre": True, "scale": 1.0, "jitter_deg": 0.0}
    assert meta.extra["data"]["dataset"] == "demo" and meta.extra["data"]["window"] == 60
    assert meta.extra["data"]["load_options"] == {} and meta.extra["keep"] == "last"
    assert meta.extra["train"]["label_smoothing"] == 0.1 and meta.extra["train"]["epochs"] == 1
    assert meta.extra["command"].startswith("smart-train --model mlp --dataset demo")
    assert main(args + ["--epochs", "2", "--resume"]) == 0
    text = capsys.readouterr()
    assert "best accuracy" in text.out and "epoch   2/2" in text.err
    assert main(["--list"]) == 0
    assert "mlp" in capsys.readouterr().out
    assert main(["--model", "nope", "--dataset", "demo", "--out", str(out)]) == 2
    assert "unknown model" in capsys.readouterr().err
    assert main(["--model", "mlp", "--dataset", str(tmp_path / "missing"), "--out", str(out)]) == 2
