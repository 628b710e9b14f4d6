"""Regenerate everything the embedded demos ship in ``assets/``.

    .venv/bin/python scripts/make_demo_assets.py                      # everything
    .venv/bin/python scripts/make_demo_assets.py --demo demo --models mlp stgcn
    .venv/bin/python scripts/make_demo_assets.py --demo hdm05-demo --windows-only

``demo``: the generated dataset is not shipped (``engine.demo.load_demo('demo')`` regenerates it
from its seed in about a second); the script trains one checkpoint per model on the training
subjects into ``assets/demo/<model>.pt`` and prints its accuracy on the held-out subjects
(``engine.demo.DEMO_VAL_SUBJECTS``), the best epoch's checkpoint being kept.

``hdm05-demo``: reads the raw HDM05 ASF/AMC takes in ``../shared/data/hdm05-amc/train`` (11 classes,
actors bd, bk, dg) and makes 60-frame windows at 30 fps (every 4th frame of the 120 Hz capture,
``hdm05_25`` layout, metres, each window turned to face +z at its first frame with its first root
position at x = z = 0). It trains on actors bd and bk (windows every 5 frames, ``--train-stride``)
and holds dg out (windows every 20 frames, as in the SMART preprocessing). The checkpoint of the
*last* epoch is kept (the held-out actor never picks an epoch); its metadata holds the accuracy on
all the held-out actor's windows (``accuracy``) and on the shipped sample's held-out windows
(``demo_accuracy``). A sample of the stride-20 windows (up to ``--per-take`` per take, float16)
goes to ``assets/hdm05-demo/windows.npz`` with HDM05's CC BY-SA 3.0 licence and attribution.

Training runs on the CPU unless ``--device cuda``; the widths are reduced so that each model trains in
minutes. The figures are printed at the end of each model.
"""

from __future__ import annotations

import argparse
import functools
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import models  # noqa: E402
from engine.demo import ASSETS, DEMO_PARAMS, DEMO_VAL_SUBJECTS, HDM05_FILE, HDM05_TITLE, load_demo  # noqa: E402
from engine.train import TrainConfig, evaluate, state_path, text_progress, train  # noqa: E402

SHARED_HDM05 = ROOT.parent / "shared" / "data" / "hdm05-amc" / "train"
BUILD = ROOT / "build" / "demo-assets"

# model -> (options, epochs, lr, batch size); widths reduced for CPU training
DEMO_MODELS: dict[str, tuple[dict, int, float, int]] = {
    "mlp": ({"hidden": (128, 64), "dropout": 0.3}, 30, 1e-3, 32),
    "hrnn": ({"hidden": (16, 32, 32, 64)}, 40, 3e-3, 32),
    "stgcn": ({"preprocess": False, "num_person": 1, "width": 16}, 20, 3e-3, 32),
    "agcn": ({"pad_to": None, "num_person": 1, "width": 16}, 20, 3e-3, 32),
    "ctrgcn": ({"preprocess": False, "num_person": 1, "width": 16}, 20, 3e-3, 32),
    "sgn": ({"width": 16}, 25, 3e-3, 32),
}
HDM05_MODELS: dict[str, tuple[dict, int, float, int]] = {
    "mlp": ({"hidden": (128, 64), "dropout": 0.5}, 40, 1e-3, 32),
    "hrnn": ({"hidden": (16, 32, 32, 64)}, 30, 3e-3, 32),
    "stgcn": ({"preprocess": False, "num_person": 1, "width": 16}, 20, 3e-3, 32),
    "agcn": ({"preprocess": False, "num_person": 1, "width": 16}, 25, 3e-3, 32),
}

# Label smoothing for the models that otherwise end up so confident (p_y == 1.0 in float32) that the
# paper's cross-entropy attack saturates on many motions (engine.attack reports it; 'margin' avoids
# it). Smoothed, the demo models behave like the paper's victims under the default settings.
LABEL_SMOOTHING: dict[str, float] = {"mlp": 0.1, "hrnn": 0.1}

HDM05_CLASSES = (
    "depositFloorR", "elbowToKnee1RepsLelbowStart", "grabHighR", "hopBothLegs1hops",
    "jogLeftCircle4StepsRstart", "kickLFront1Reps", "lieDownFloor", "rotateArmsBothBackward1Reps",
    "sneak2StepsLStart", "squat1Reps", "throwBasketball",
)
HDM05_VAL_ACTOR = "dg"
HDM05_LICENCE = """\
HDM05 motion capture data -- licence and attribution
=====================================================

The clips in windows.npz and the checkpoints in this folder (*.pt) are derived from the HDM05
motion capture database:

  M. Mueller, T. Roeder, M. Clausen, B. Eberhardt, B. Krueger, A. Weber,
  "Documentation Mocap Database HDM05", Technical Report CG-2007-2, Universitaet Bonn, 2007.
  http://resources.mpi-inf.mpg.de/HDM05/

HDM05 is licensed under the Creative Commons Attribution-ShareAlike 3.0 licence (CC BY-SA 3.0,
https://creativecommons.org/licenses/by-sa/3.0/). These derived files are shared under the same
licence. Changes made: forward kinematics of the ASF/AMC takes of actors bd, bk and dg (11 motion
classes), selection of 25 of the 31 joints (the SMART hdm05_25 layout), conversion to metres,
resampling from 120 to 30 fps, 60-frame windows turned to face +z, a sample of a few windows per
take stored as float16; the checkpoints are recognizers trained on such windows.
"""


def _say(*a) -> None:
    print(*a, flush=True)


def _finish_checkpoint(tmp: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tmp, dest)
    state_path(tmp).unlink(missing_ok=True)


def _check_model(name: str) -> bool:
    if name not in models.names():
        _say(f"!! model {name!r} is not registered (have {models.names()}); skipped")
        return False
    return True


# -- the generated demo -----------------------------------------------------------------------------
def make_demo(model_names: list[str], device: str, epochs_scale: float) -> dict[str, float]:
    ds = load_demo("demo")
    train_ds, val_ds = ds.split_by_subject(DEMO_VAL_SUBJECTS)
    figures = {}
    for name in model_names:
        if name not in DEMO_MODELS:
            _say(f"!! no demo settings for {name!r}; known: {sorted(DEMO_MODELS)}")
            continue
        if not _check_model(name):
            continue
        options, epochs, lr, bs = DEMO_MODELS[name]
        epochs = max(1, round(epochs * epochs_scale))
        _say(f"== demo / {name} {options}: {epochs} epochs on {len(train_ds)} clips, "
             f"held out {list(DEMO_VAL_SUBJECTS)} ({len(val_ds)} clips)")
        torch.manual_seed(0)
        model = models.create(name, ds.layout, ds.num_classes, **options)
        tmp = BUILD / "demo" / f"{name}.pt"
        state_path(tmp).unlink(missing_ok=True)
        t0 = time.monotonic()
        res = train(model, ds, device=device, val_subjects=list(DEMO_VAL_SUBJECTS), checkpoint=tmp,
                    callback=text_progress(sys.stdout, every_batch=False),
                    config=TrainConfig(epochs=epochs, lr=lr, batch_size=bs,
                                       label_smoothing=LABEL_SMOOTHING.get(name, 0.0)),
                    meta_extra={"demo": "demo", "generator": dict(DEMO_PARAMS)})
        loaded, meta = models.load_checkpoint(tmp)
        acc, _ = evaluate(loaded, val_ds.motions, val_ds.labels)
        dest = ASSETS / "demo" / f"{name}.pt"
        _finish_checkpoint(tmp, dest)
        figures[name] = acc
        _say(f"== demo / {name}: held-out accuracy {acc:.1%} (metadata {meta.metrics['accuracy']:.1%}, "
             f"epoch {meta.extra['epoch']}), {time.monotonic() - t0:.0f} s, "
             f"{dest.stat().st_size / 1e6:.2f} MB -> {dest.relative_to(ROOT)}  "
             f"[first loss {res['first_loss']:.3f}, last {res['final_loss']:.3f}]")
    return figures


# -- HDM05 ------------------------------------------------------------------------------------------
_TAKE = re.compile(r"^HDM_(?P<actor>[a-z]+)_(?P<motion>.+)_(?P<take>\d+)_120\.amc$")


@functools.lru_cache(maxsize=2)
def _hdm05_takes(root: Path) -> list[tuple[int, str, str, np.ndarray, np.ndarray]]:
    """``(class, actor, source, frames (F, 25, 3) metres at 30 fps, source frame index)`` per take."""
    from engine.datasets._dataset import resample
    from engine.datasets.asf import SMART_ZERO_BONES, amc_positions, parse_amc, parse_asf
    from engine.skeleton import HDM05_FROM_ASF31

    if not root.is_dir():
        raise SystemExit(f"{root}: HDM05 takes not found (see ../shared/data/README.md)")
    takes, skels = [], {}
    for k in range(1, len(HDM05_CLASSES) + 1):
        for amc in sorted((root / str(k)).glob("*.amc")):
            m = _TAKE.match(amc.name)
            if m is None:
                raise SystemExit(f"{amc}: unexpected file name")
            actor = m.group("actor")
            asf = amc.parent / f"HDM_{actor}.asf"
            if asf not in skels:
                skels[asf] = parse_asf(asf)
            skel = skels[asf]
            pos = amc_positions(skel, parse_amc(amc, skel), zero_bones=SMART_ZERO_BONES)
            pos = pos[:, list(HDM05_FROM_ASF31)] * (0.0254 / 0.45)
            pos, src_idx = resample(pos, 120.0, 30.0)
            takes.append((k - 1, actor, f"{k}/{amc.name}", pos, src_idx))
    return takes


def hdm05_windows(root: Path = SHARED_HDM05, window: int = 60, stride: int = 20):
    """All windows of the HDM05 takes under ``root`` as a MotionDataset (hdm05_25, metres, 30 fps)."""
    from engine.datasets._dataset import MotionDataset, face_and_centre, window_take
    from engine.skeleton import HDM05_25

    lay = HDM05_25
    root_j, lhip, rhip = lay.index("root"), lay.index("lfemur"), lay.index("rfemur")
    clips, labels, subjects, sources, firsts = [], [], [], [], []
    for label, actor, source, pos, src_idx in _hdm05_takes(root):
        wins, starts, _ = window_take(pos, window, stride)
        for w, s in zip(wins, starts, strict=True):
            w = face_and_centre(w, root_j, lhip, rhip, centre=False, face=True)
            w = w - np.array([w[0, root_j, 0], 0.0, w[0, root_j, 2]])
            clips.append(w.astype(np.float32))
            labels.append(label)
            subjects.append(actor)
            sources.append(source)
            firsts.append(int(src_idx[s]))
    return MotionDataset(np.stack(clips), labels, HDM05_CLASSES, lay, 30.0, sources=sources,
                         first_frames=firsts, subjects=subjects, name="hdm05-amc/train",
                         info={"window": window, "stride": stride})


def _sample_per_take(ds, per_take: int) -> np.ndarray:
    idx = []
    for src in dict.fromkeys(ds.sources):
        rows = [i for i, s in enumerate(ds.sources) if s == src]
        if len(rows) <= per_take:
            idx += rows
        else:
            pick = np.linspace(0, len(rows) - 1, per_take).round().astype(int)
            idx += [rows[p] for p in pick]
    return np.asarray(idx)


def write_hdm05_sample(ds, per_take: int) -> Path:
    folder = ASSETS / "hdm05-demo"
    folder.mkdir(parents=True, exist_ok=True)
    idx = _sample_per_take(ds, per_take)
    path = folder / HDM05_FILE
    arrays = dict(
        motions=ds.motions[idx].astype(np.float16), labels=ds.labels[idx].astype(np.int64),
        class_names=np.array(ds.class_names), subjects=np.array([ds.subjects[i] for i in idx]),
        sources=np.array([ds.sources[i] for i in idx]), first_frames=ds.first_frames[idx],
        fps=np.float64(ds.fps), layout=np.array(ds.layout.name), val_subjects=np.array([HDM05_VAL_ACTOR]),
        title=np.array(HDM05_TITLE),
    )
    if path.is_file():  # leave an identical file alone (stable in git, safe for parallel runs)
        with np.load(path) as old:
            same = set(old.files) == set(arrays) and all(np.array_equal(old[k], v) for k, v in arrays.items())
    else:
        same = False
    if not same:
        np.savez_compressed(path, **arrays)
    (folder / "LICENSE.txt").write_text(HDM05_LICENCE)
    _say(f"== hdm05-demo: {len(idx)} of {len(ds)} windows ({per_take} per take at most) -> "
         f"{path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.2f} MB)")
    return path


def make_hdm05(model_names: list[str], device: str, epochs_scale: float, per_take: int,
               windows_only: bool, train_stride: int = 5) -> dict[str, tuple[float, float]]:
    from engine.demo import _hdm05_arrays

    t0 = time.monotonic()
    ds = hdm05_windows()
    _say(f"== hdm05: {len(ds)} windows from {len(set(ds.sources))} takes in {time.monotonic() - t0:.0f} s; "
         f"per actor { {a: ds.subjects.count(a) for a in sorted(set(ds.subjects))} }")
    write_hdm05_sample(ds, per_take)
    _hdm05_arrays.cache_clear()
    if windows_only:
        return {}
    _, val_full = ds.split_by_subject([HDM05_VAL_ACTOR])
    dense = hdm05_windows(stride=train_stride)
    train_ds, _ = dense.split_by_subject([HDM05_VAL_ACTOR])
    _say(f"== hdm05: training on {len(train_ds)} windows (stride {train_stride}) of actors "
         f"{sorted(set(train_ds.subjects))}; held out: {len(val_full)} windows (stride 20) "
         f"of {HDM05_VAL_ACTOR}")
    demo_ds = load_demo("hdm05-demo")
    _, demo_val = demo_ds.split_by_subject([HDM05_VAL_ACTOR])
    figures = {}
    for name in model_names:
        if name not in HDM05_MODELS:
            _say(f"!! no hdm05 settings for {name!r}; known: {sorted(HDM05_MODELS)}")
            continue
        if not _check_model(name):
            continue
        options, epochs, lr, bs = HDM05_MODELS[name]
        epochs = max(1, round(epochs * epochs_scale))
        _say(f"== hdm05-demo / {name} {options}: {epochs} epochs, held-out actor {HDM05_VAL_ACTOR}")
        torch.manual_seed(0)
        model = models.create(name, ds.layout, ds.num_classes, **options)
        tmp = BUILD / "hdm05-demo" / f"{name}.pt"
        state_path(tmp).unlink(missing_ok=True)
        t1 = time.monotonic()
        res = train(model, train_ds, device=device, val_data=val_full, checkpoint=tmp, keep="last",
                    callback=text_progress(sys.stdout, every_batch=False),
                    config=TrainConfig(epochs=epochs, lr=lr, batch_size=bs,
                                       label_smoothing=LABEL_SMOOTHING.get(name, 0.0)),
                    meta_extra={"demo": "hdm05-demo", "licence": "CC BY-SA 3.0",
                                "attribution": "HDM05, Mueller et al., Tech. Rep. CG-2007-2, Univ. Bonn 2007",
                                "training_command": f"python scripts/make_demo_assets.py --demo hdm05-demo "
                                                    f"--models {name}"})
        loaded, meta = models.load_checkpoint(tmp)
        acc_full, _ = evaluate(loaded, val_full.motions, val_full.labels)
        acc_demo, _ = evaluate(loaded, demo_val.motions, demo_val.labels)
        metrics = dict(meta.metrics, accuracy=acc_full, demo_accuracy=acc_demo,
                       demo_n_val=int(len(demo_val)))
        models.save_checkpoint(loaded, tmp, meta.class_names, fps=meta.fps, metrics=metrics, extra=meta.extra)
        dest = ASSETS / "hdm05-demo" / f"{name}.pt"
        _finish_checkpoint(tmp, dest)
        figures[name] = (acc_full, acc_demo)
        _say(f"== hdm05-demo / {name}: held-out actor {HDM05_VAL_ACTOR}: {acc_full:.1%} on all "
             f"{len(val_full)} windows, {acc_demo:.1%} on the {len(demo_val)} shipped ones; "
             f"{time.monotonic() - t1:.0f} s, {dest.stat().st_size / 1e6:.2f} MB -> {dest.relative_to(ROOT)}"
             f"  [first loss {res['first_loss']:.3f}, last {res['final_loss']:.3f}]")
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--demo", choices=["demo", "hdm05-demo", "all"], default="all")
    ap.add_argument("--models", nargs="+", default=None, help="default: every model with settings here")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--epochs-scale", type=float, default=1.0, help="multiply every model's epoch count")
    ap.add_argument("--per-take", type=int, default=3, help="HDM05 windows shipped per take")
    ap.add_argument("--windows-only", action="store_true", help="HDM05: write the window sample only")
    ap.add_argument("--train-stride", type=int, default=5, help="HDM05: stride of the training windows")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.demo in ("demo", "all"):
        figs = make_demo(args.models or list(DEMO_MODELS), args.device, args.epochs_scale)
        for k, v in figs.items():
            _say(f"demo        {k:8s} held-out subjects {v:.1%}")
    if args.demo in ("hdm05-demo", "all"):
        figs = make_hdm05(args.models or list(HDM05_MODELS), args.device, args.epochs_scale, args.per_take,
                          args.windows_only, args.train_stride)
        for k, (full, demo) in figs.items():
            _say(f"hdm05-demo  {k:8s} held-out actor {HDM05_VAL_ACTOR}: {full:.1%} "
                 f"(shipped sample {demo:.1%})")
    total = sum(p.stat().st_size for p in ASSETS.rglob("*") if p.is_file())
    _say(f"assets/: {total / 1e6:.2f} MB in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
