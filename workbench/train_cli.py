"""``smart-train``: train any registered recognizer on a demo or a dataset file, from the shell.

    smart-train --model stgcn --dataset demo --epochs 20 --out runs/stgcn-demo.pt --width 16 \\
                --option preprocess=False --option num_person=1
    smart-train --model agcn --dataset ../shared/data/hdm05-amc/train --val-subjects dg --out agcn.pt \\
                --load-option face=True --option pad_to=None --option num_person=1 --width 16
    smart-train --model stgcn --dataset demo --epochs 40 --out runs/stgcn-demo.pt --resume
    smart-train --model stgcn --dataset ../shared/data/hdm05-amc/train --load-option stride=5 \
                --val-subjects dg --val-load-option stride=20 --keep last --label-smoothing 0.1 --out stgcn.pt

``--dataset`` is ``demo`` (generated everyday actions), ``hdm05-demo`` (the shipped HDM05 sample) or
a path that :func:`engine.datasets.load` reads. ``--model`` is a registered model name or a checkpoint
file (its model and options are rebuilt and its weights are the starting point). The split holds
out whole subjects (``--val-subjects``; default: the demo's held-out subjects, else the last fifth
of the subjects; ``none`` trains on everything); ``--val-load-option`` reloads the held-out subjects
with other load options (e.g. train on windows every 5 frames, judge on the loader's default 20).
The best checkpoint (``--keep last``: the last epoch's) goes to ``--out``, its training state to
``<out>.state``; ``--resume`` continues from there up to ``--epochs`` in all. No Qt here.

New models get the input normalisation of :mod:`engine.models.normalize` (face ``+z``, first root at
``x = z = 0``; ``--no-normalize`` to leave it out). The checkpoint's metadata records how it was
made: ``extra["data"]`` (dataset, load options, window, stride, validation load options),
``extra["split"]`` / ``val_subjects``, ``extra["train"]`` (epochs, lr, batch size, label smoothing,
augmentation, seed, keep) and ``extra["command"]`` (the equivalent ``smart-train`` command line).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

__all__ = ["main"]


def _parse_option(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        val = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        val = value
    if isinstance(val, list):
        val = tuple(val)
    return key.strip(), val


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="smart-train", description=(__doc__ or "").split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="registered model name (see --list) or a checkpoint file")
    ap.add_argument("--dataset", required=True, help="demo | hdm05-demo | PATH (engine.datasets.load)")
    ap.add_argument("--out", required=True, help="checkpoint to write (the best epoch's)")
    ap.add_argument("--epochs", type=int, default=30, help="total epochs (default 30)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--width", type=int, default=None, help="base width, for models that take width=")
    ap.add_argument("--option", action="append", type=_parse_option, default=[], metavar="KEY=VALUE",
                    help="model option (Python literal), repeatable, e.g. preprocess=False hidden=(128,64)")
    ap.add_argument("--load-option", action="append", type=_parse_option, default=[], metavar="KEY=VALUE",
                    help="option for engine.datasets.load, repeatable, e.g. stride=5 face=True")
    ap.add_argument("--val-subjects", nargs="+", default=None,
                    help="subjects held out for validation ('none': no held-out set)")
    ap.add_argument("--resume", action="store_true", help="continue from <out>.state (or <out>)")
    ap.add_argument("--val-load-option", action="append", type=_parse_option, default=[], metavar="KEY=VALUE",
                    help="load option overriding --load-option for the held-out subjects, e.g. stride=20")
    ap.add_argument("--label-smoothing", type=float, default=0.0, help="cross-entropy label smoothing")
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--keep", choices=["best", "last"], default="best",
                    help="checkpoint of the best epoch on the held-out data, or of the last epoch")
    ap.add_argument("--no-normalize", action="store_true",
                    help="no input normalisation (facing, centring) in the new model")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    ap.add_argument("--no-augment", action="store_true", help="no random rotation about y / scaling")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quiet", action="store_true", help="one line per epoch instead of a live bar")
    ap.add_argument("--list", action="store_true", help="list models and demos and exit")
    return ap


def _load_dataset(spec: str, load_options: dict):
    from engine.demo import demo_names, load_demo

    if spec in demo_names():
        if load_options:
            raise ValueError(f"--load-option does not apply to the {spec!r} demo")
        return load_demo(spec)
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"{spec}: no such demo or file; demos: {demo_names()}")
    try:
        from engine.datasets import load
    except ImportError as exc:
        raise RuntimeError(f"reading datasets needs engine.datasets.load ({exc})") from None
    return load(path, **load_options)


def command_line(argv: list[str]) -> str:
    """The ``smart-train`` command line for ``argv``, quoted for a POSIX shell."""
    import shlex

    return "smart-train " + " ".join(shlex.quote(a) for a in argv)


def _val_split(ds, spec: str, load_options: dict, val_options: dict, val: list[str] | None):
    """(training data, held-out data or None): the held-out subjects reloaded with ``val_options``."""
    if not val_options:
        return ds, None
    if not val:
        raise ValueError("--val-load-option needs --val-subjects (which subjects to reload)")
    train_ds, _ = ds.split_by_subject(val)
    _, val_ds = _load_dataset(spec, {**load_options, **val_options}).split_by_subject(val)
    return train_ds, val_ds


def main(argv: list[str] | None = None) -> int:
    # a bare --list needs no other argument
    raw = list(sys.argv[1:] if argv is None else argv)
    if "--list" in raw:
        from engine import models
        from engine.demo import demo_models, demo_names

        print("models:", ", ".join(models.names()))
        for d in demo_names():
            print(f"demo {d}: shipped checkpoints {demo_models(d)}")
        return 0
    args = _parser().parse_args(raw)

    import torch

    from engine import models
    from engine.demo import demo_val_subjects
    from engine.errors import WorkbenchError
    from engine.train import TrainConfig, train

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        load_options, val_options = dict(args.load_option), dict(args.val_load_option)
        ds = _load_dataset(args.dataset, load_options)
        options = dict(args.option)
        if args.width is not None:
            options["width"] = args.width
        out = Path(args.out)
        if Path(args.model).suffix == ".pt" and Path(args.model).is_file():
            model, meta = models.load_checkpoint(args.model)
            if options:
                raise WorkbenchError("--width/--option cannot change a model rebuilt from a checkpoint")
            if meta.layout != ds.layout.name or meta.num_classes != ds.num_classes:
                raise WorkbenchError(
                    f"{args.model}: a {meta.layout} model with {meta.num_classes} classes cannot train on "
                    f"{ds.layout.name} data with {ds.num_classes} classes"
                )
            name = meta.model
        elif args.resume and out.is_file():
            loaded, meta = models.load_checkpoint(out)
            if meta.model != args.model:
                raise WorkbenchError(f"{out} holds a {meta.model!r} model, not {args.model!r}")
            model, name = models.create(meta.model, meta.layout, meta.num_classes, **meta.options), meta.model
        else:
            name = args.model
            if name == "mlp":
                options.setdefault("frames", ds.num_frames)
            if not args.no_normalize:
                options.setdefault("normalize", True)
            model = models.create(name, ds.layout, ds.num_classes, **options)
        if args.val_subjects is None:
            val = demo_val_subjects(args.dataset) if args.dataset in ("demo", "hdm05-demo") else None
        elif [v.lower() for v in args.val_subjects] == ["none"]:
            val = []
        else:
            val = [s for v in args.val_subjects for s in v.split(",") if s]
        cfg = TrainConfig(epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                          augment=not args.no_augment, seed=args.seed, label_smoothing=args.label_smoothing,
                          weight_decay=args.weight_decay)
        train_ds, val_ds = _val_split(ds, args.dataset, load_options, val_options, val)
        torch.manual_seed(args.seed)
        print(f"smart-train: {name} {dict(getattr(model, 'options', {}))} on {ds!r}; "
              f"{sum(p.numel() for p in model.parameters()):,} parameters; device {args.device}", flush=True)
        info = getattr(ds, "info", {}) or {}
        data = {"dataset": args.dataset, "load_options": load_options, "val_load_options": val_options,
                "window": info.get("window", ds.num_frames), "stride": info.get("stride"),
                "format": info.get("format")}
        if val_ds is not None:
            data["val_stride"] = (getattr(val_ds, "info", {}) or {}).get("stride")
        extra = {"dataset_spec": args.dataset, "data": data, "keep": args.keep,
                 "command": command_line(raw)}
        res = train(model, train_ds, device=args.device, val_subjects=val if val_ds is None else None,
                    val_data=val_ds, checkpoint=out, resume=args.resume, config=cfg, keep=args.keep,
                    progress="epochs" if args.quiet else True, meta_extra=extra)
    except (WorkbenchError, ValueError, FileNotFoundError, RuntimeError, TypeError) as exc:
        print(f"smart-train: error: {exc}", file=sys.stderr)
        return 2
    acc = res["accuracy"]
    if acc is None:
        print(f"smart-train: no epoch run (already at epoch {res['start_epoch']})")
    elif args.keep == "last":
        last = res["history"][-1]
        print(f"smart-train: last epoch ({last['epoch']}) accuracy {last['val_accuracy']:.1%} on "
              f"{res['n_val']} clips ({res['split']}; best {acc:.1%} at epoch {res['best_epoch']}); "
              f"{res['epochs_run']} epochs in {res['seconds']:.0f} s -> {out}")
    else:
        print(f"smart-train: best accuracy {acc:.1%} at epoch {res['best_epoch']} on {res['n_val']} clips "
              f"({res['split']}); {res['epochs_run']} epochs in {res['seconds']:.0f} s -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
