"""``smart-train``: train any registered recognizer on a demo or a dataset file, from the shell.

    smart-train --model stgcn --dataset demo --epochs 20 --out runs/stgcn-demo.pt --width 16 \\
                --option preprocess=False --option num_person=1
    smart-train --model agcn --dataset ../shared/data/hdm05-amc/train --val-subjects dg --out agcn.pt \\
                --load-option face=True --option pad_to=None --option num_person=1 --width 16
    smart-train --model stgcn --dataset demo --epochs 40 --out runs/stgcn-demo.pt --resume

``--dataset`` is ``demo`` (generated everyday actions), ``hdm05-demo`` (the shipped HDM05 sample) or
a path that :func:`engine.datasets.load` reads. ``--model`` is a registered model name or a checkpoint
file (its model and options are rebuilt and its weights are the starting point). The split holds
out whole subjects (``--val-subjects``; default: the demo's held-out subjects, else the last fifth
of the subjects; ``none`` trains on everything). The best checkpoint goes to ``--out``, its training
state to ``<out>.state``; ``--resume`` continues from there up to ``--epochs`` in all. No Qt here.
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
    from engine.train import TrainConfig, text_progress, train

    try:
        ds = _load_dataset(args.dataset, dict(args.load_option))
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
            model = models.create(name, ds.layout, ds.num_classes, **options)
        if args.val_subjects is None:
            val = demo_val_subjects(args.dataset) if args.dataset in ("demo", "hdm05-demo") else None
        elif [v.lower() for v in args.val_subjects] == ["none"]:
            val = []
        else:
            val = [s for v in args.val_subjects for s in v.split(",") if s]
        cfg = TrainConfig(epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                          augment=not args.no_augment, seed=args.seed)
        torch.manual_seed(args.seed)
        print(f"smart-train: {name} {dict(getattr(model, 'options', {}))} on {ds!r}; "
              f"{sum(p.numel() for p in model.parameters()):,} parameters; device {args.device}", flush=True)
        res = train(model, ds, device=args.device, val_subjects=val, checkpoint=out, resume=args.resume,
                    config=cfg, callback=text_progress(sys.stderr, every_batch=not args.quiet),
                    meta_extra={"dataset_spec": args.dataset})
    except (WorkbenchError, ValueError, FileNotFoundError, RuntimeError, TypeError) as exc:
        print(f"smart-train: error: {exc}", file=sys.stderr)
        return 2
    acc = res["accuracy"]
    print(f"smart-train: best accuracy {acc:.1%} at epoch {res['best_epoch']} on {res['n_val']} clips "
          f"({res['split']}); {res['epochs_run']} epochs in {res['seconds']:.0f} s -> {out}"
          if acc is not None else f"smart-train: no epoch run (already at epoch {res['start_epoch']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
