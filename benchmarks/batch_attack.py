"""Motions attacked per second at batch sizes 1, 8, 32, 128 on the demo, for the shipped mlp and stgcn
demo checkpoints, with the peak memory of each setting.

    .venv/bin/python benchmarks/batch_attack.py                  # CPU, torch's default threads
    .venv/bin/python benchmarks/batch_attack.py --threads 2 --iterations 20
    .venv/bin/python benchmarks/batch_attack.py --device cuda --models mlp stgcn agcn

Each setting attacks ``max(batch, --motions)`` motions of the demo's held-out split (repeated if
needed) in batches of that size through :func:`engine.attack.attack` -- the call
:func:`engine.batch.run_batch` makes per batch -- with a fixed budget of ``--iterations`` Adam steps
(``stop_on_success=False``, so every setting does the same work per motion). Throughput is motions
per second of wall time after one warm-up batch. Peak memory: on CPU the process's peak resident set
(VmHWM, reset before each setting through /proc/self/clear_refs), on CUDA
``torch.cuda.max_memory_allocated``. The last columns give the throughput relative to batch 1; the
issue asks for >= 8x at 32 on CPU.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from engine.attack import AttackConfig, attack  # noqa: E402
from engine.demo import demo_split, resolve_checkpoint  # noqa: E402
from engine.models import load_checkpoint  # noqa: E402


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(net, motions: np.ndarray, labels: np.ndarray, batch: int, n: int, cfg: AttackConfig,
            device: torch.device) -> tuple[float, float]:
    """(motions per second, peak memory MB) attacking ``n`` motions ``batch`` at a time."""
    reps = int(np.ceil((n + batch) / len(motions)))
    x = np.concatenate([motions] * reps)[: n + batch]
    y = np.concatenate([labels] * reps)[: n + batch]
    attack(net, x[:batch], y[:batch], net.layout, cfg)  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(device)
    else:
        _reset_peak_rss()
    t0 = time.perf_counter()
    for s in range(batch, n + batch, batch):
        attack(net, x[s:s + batch], y[s:s + batch], net.layout, cfg)
    if device.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    peak = (torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else _peak_rss_mb())
    return n / dt, peak


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["mlp", "stgcn"])
    ap.add_argument("--batches", nargs="+", type=int, default=[1, 8, 32, 128])
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--motions", type=int, default=16,
                    help="motions attacked per setting (at least one batch)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    _, val = demo_split("demo")
    t, v = val.motions.shape[1:3]
    print(f"demo held-out split: {len(val)} motions of {t} frames x {v} joints; {args.iterations} "
          f"iterations per motion; device {device}; torch threads "
          f"{torch.get_num_threads()}; torch {torch.__version__}")
    head = ("model", "batch", "motions", "motions/s", "peak MB", "vs batch 1")
    print(f"{head[0]:8s} {head[1]:>5s} {head[2]:>7s} {head[3]:>10s} {head[4]:>9s} {head[5]:>10s}")
    ratios = {}
    for name in args.models:
        net, _ = load_checkpoint(resolve_checkpoint(name, "demo"))
        net = net.to(device).eval()
        cfg = AttackConfig(iterations=args.iterations, stop_on_success=False, device=str(device))
        base = None
        for b in args.batches:
            n = max(b, args.motions)
            rate, peak = measure(net, val.motions, val.labels, b, n, cfg, device)
            base = base or (rate if b == 1 else None)
            rel = f"{rate / base:9.1f}x" if base else "        -"
            ratios[(name, b)] = rate / base if base else float("nan")
            print(f"{name:8s} {b:5d} {n:7d} {rate:10.2f} {peak:9.0f} {rel}", flush=True)
    for name in args.models:
        r = ratios.get((name, 32))
        if r is not None and np.isfinite(r):
            verdict = "meets" if r >= 8 else "does NOT meet"
            print(f"{name}: batch 32 = {r:.1f}x the throughput of batch 1 ({verdict} the >= 8x goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
