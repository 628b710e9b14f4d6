"""Forward+backward time of every registered recognizer, and its size beside the published model's.

Usage::

    python benchmarks/models.py [--frames 100] [--batch 1 32] [--repeats 3] [--device cpu]
                                [--models stgcn agcn ...] [--threads N]

For each model in ``engine.models.names()`` (or ``--models``) it builds the default (published)
size for ``ntu25`` with 60 classes, feeds random takes ``(N, frames, 25, 3)`` in metres (a model
with a fixed clip length, like ``mlp``, gets its own length), and times ``forward`` + ``backward``
of the summed logits with respect to the input -- what an attack step costs -- in eval mode,
best of ``--repeats`` after ``--warmup`` untimed runs (default 1). The parameter count is printed
beside the published model's from ``../shared/reference/state_dicts/<name>.json`` when that file exists (for
AS-GCN the classifier's and the A-link module's together; for 2s-AGCN one stream).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from engine import models  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "reference" / "state_dicts"


def published_params(name: str) -> int | None:
    path = REFERENCE / f"{name}.json"
    if not path.is_file():
        return None
    try:
        ref = json.loads(path.read_text())
        total = int(ref["num_parameters"])
        if isinstance(ref.get("aim"), dict):  # AS-GCN: classifier file + A-link module file
            total += int(ref["aim"]["num_parameters"])
        return total
    except (KeyError, ValueError, TypeError):
        return None


def time_step(model: torch.nn.Module, x: torch.Tensor, repeats: int, warmup: int = 1) -> float:
    """Best wall time (s) of forward + backward to the input, after ``warmup`` untimed runs."""
    best = float("inf")
    for i in range(repeats + warmup):
        xi = x.clone().requires_grad_(True)
        if x.device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        model(xi).sum().backward()
        if x.device.type == "cuda":
            torch.cuda.synchronize()
        if i >= warmup:
            best = min(best, time.perf_counter() - t0)
        model.zero_grad(set_to_none=True)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100, help="frames per input take (default 100)")
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 32])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--models", nargs="+", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--in-process", action="store_true",
                    help="time every model in this process (default: one child process per model and "
                         "batch, so that a model killed for memory does not end the run)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    names = args.models or models.names()
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, "
          f"take ({'N'}, {args.frames}, 25, 3)")
    head = f"{'model':8s} {'params':>11s} {'published':>11s}" + "".join(
        f" {'fwd+bwd N=' + str(b):>14s}" for b in args.batch)
    print(head)
    print("-" * len(head))
    for name in names:
        torch.manual_seed(0)
        try:
            model = models.create(name, "ntu25", 60).to(device).eval()
        except Exception as exc:  # noqa: BLE001 - report and go on with the others
            print(f"{name:8s} cannot be built with defaults: {type(exc).__name__}: {exc}")
            continue
        for p in model.parameters():
            p.requires_grad_(False)
        n_params = sum(p.numel() for p in model.parameters())
        pub = published_params(name)
        frames = int(getattr(model, "frames", args.frames))
        row = f"{name:8s} {n_params:11,d} {'-' if pub is None else format(pub, ','):>11s}"
        for b in args.batch:
            if not args.in_process:
                row += " " + _child(name, b, args)
                continue
            x = torch.randn(b, frames, 25, 3, device=device) * 0.3
            x[..., 2] += 3.0
            try:
                row += f" {time_step(model, x, args.repeats, args.warmup) * 1e3:11.1f} ms"
            except Exception as exc:  # noqa: BLE001
                row += f" {'error: ' + type(exc).__name__:>14s}"
        print(row, flush=True)
    return 0


def _child(name: str, batch: int, args: argparse.Namespace) -> str:
    """Time one model at one batch size in a child process; its cell of the table."""
    cmd = [sys.executable, __file__, "--in-process", "--models", name, "--batch", str(batch),
           "--frames", str(args.frames), "--repeats", str(args.repeats), "--warmup", str(args.warmup),
           "--device", args.device] + (["--threads", str(args.threads)] if args.threads else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(f"{name} ")]
    if proc.returncode == 0 and lines and lines[-1].endswith(" ms"):
        return f"{float(lines[-1].split()[-2]):11.1f} ms"
    if proc.returncode < 0 or proc.returncode == 137:
        return f"{'killed (OOM?)':>14s}"
    return f"{'error':>14s}"


if __name__ == "__main__":
    raise SystemExit(main())
