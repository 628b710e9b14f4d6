"""Attack overhead: the time of one SMART iteration divided by the time of one forward + backward to
the input of the same model on the same batch (weights frozen). Targets (issue 15): <= 2.5 on the
demo MLP at batch 1, <= 1.1 on ST-GCN. Also motions attacked per second against batch size.

    .venv/bin/python benchmarks/attack_overhead.py [--device cpu|cuda] [--models mlp stgcn]

The per-iteration time is read between the attack loop's own iterations (after a few warm-up
ones), so set-up (the clean forward, allocation) is left out; forward+backward and iteration are
timed in alternating rounds and the ratio is the median of the rounds' ratios (on a shared machine
a neighbour slows both halves of a round alike). Uses the shipped demo checkpoints when present,
otherwise freshly built models of the same kind (the timing does not depend on the weights).
On a GPU the iterations replay one captured CUDA graph each (the default there); the last two
columns time the same iterations launched eagerly, kernel by kernel. The Adam column, one Adam step
on a tensor of the batch's size, is a floor no eager iteration can go below: on a model cheaper than
a few of those (the demo MLP) the ratio is bound to exceed 1.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from engine import models
from engine.attack import AttackConfig, SmartAttack
from engine.attack.adam import Adam


def _model(name: str, device: str):
    try:
        from engine.demo import demo_checkpoint

        model, _ = models.load_checkpoint(demo_checkpoint("demo", name))
    except Exception:  # noqa: BLE001 - no shipped checkpoint: a fresh model times the same
        opts = {"frames": 60} if name == "mlp" else {}
        model = models.create(name, "ntu25", 12, **opts)
    return model.to(device).eval()


_CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
_clock = time.perf_counter


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def forward_backward_time(model, x: torch.Tensor, reps: int, device: str) -> float:
    for p in model.parameters():
        p.requires_grad_(False)
    xi = x.clone().requires_grad_(True)
    for _ in range(2):
        model(xi).sum().backward()
    _sync(device)
    t0 = _clock()
    for _ in range(reps):
        xi.grad = None
        model(xi).logsumexp(1).sum().backward()
    _sync(device)
    return (_clock() - t0) / reps


def adam_step_time(x: torch.Tensor, reps: int, device: str) -> float:
    """One step of the attack's Adam on a tensor the size of the batch: a floor for any iteration."""
    p, g = x.clone(), torch.randn_like(x)
    adam = Adam(p)
    adam.step(p, g, 0.005)
    _sync(device)
    t0 = _clock()
    for _ in range(reps):
        adam.step(p, g, 0.005)
    _sync(device)
    return (_clock() - t0) / reps


def iteration_time(model, x, y, iters: int, device: str, warmup: int = 5, graphs: bool = True) -> float:
    """Seconds per SMART iteration (the natural preset, every motion runs the budget), timed between
    the loop's iterations: ``SmartAttack._iterate`` yields once per iteration. On a GPU the iterations
    replay a CUDA graph (captured during the warm-up) unless ``graphs`` is False."""
    cfg = AttackConfig(iterations=iters + warmup + 1, stop_on_success=False, device=device)
    atk = SmartAttack(model, cfg)
    atk.use_cuda_graphs = graphs
    loop = atk._iterate(x, y, None, with_motion=False, report=False)
    for _ in range(warmup):
        next(loop)
    _sync(device)
    t0 = _clock()
    for _ in range(iters):
        next(loop)
    _sync(device)
    took = _clock() - t0
    loop.close()
    return took / iters


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--models", nargs="+", default=["mlp", "stgcn"])
    ap.add_argument("--batches", nargs="+", type=int, default=[1, 8, 32])
    ap.add_argument("--iters", type=int, default=50, help="iterations (and forward+backward) per round")
    ap.add_argument("--rounds", type=int, default=9, help="alternating rounds; medians are printed")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: the least noisy)")
    ap.add_argument("--clock", choices=sorted(_CLOCKS), default="wall",
                    help="wall time, or the process's CPU time (CPU only: robust to other jobs on a shared "
                         "machine, as long as the process has one thread)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    global _clock
    _clock = _CLOCKS[args.clock]
    print(f"device {args.device}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"clock {args.clock}")
    cuda = args.device.startswith("cuda")
    print(f"{'model':8} {'batch':>5} {'fwd+bwd ms':>11} {'iter ms':>9} {'ratio':>6} {'motions/s':>10} "
          f"{'Adam step ms':>13}" + (f" {'eager iter ms':>14} {'eager ratio':>12}" if cuda else ""))
    for name in args.models:
        model = _model(name, args.device)
        for b in args.batches:
            g = torch.Generator().manual_seed(0)
            x = (torch.randn(b, 60, 25, 3, generator=g) * 0.2).to(args.device)
            with torch.no_grad():
                y = model(x).argmax(1)
            k = args.iters
            iteration_time(model, x, y, 2, args.device)  # warm-up
            fbs, its, eagers = [], [], []
            for _ in range(args.rounds):  # alternating: a slow spell of the machine hits both alike
                fbs.append(forward_backward_time(model, x, reps=k, device=args.device))
                its.append(iteration_time(model, x, y, k, args.device))
                if cuda:  # the same iterations launched one kernel at a time from Python
                    eagers.append(iteration_time(model, x, y, k, args.device, graphs=False))
            fb, it = statistics.median(fbs), statistics.median(its)
            ratio = statistics.median(i / f for i, f in zip(its, fbs, strict=True))
            extra = ""
            if cuda:
                eager_ratio = statistics.median(i / f for i, f in zip(eagers, fbs, strict=True))
                extra = f" {statistics.median(eagers) * 1e3:14.2f} {eager_ratio:12.2f}"
            adam = min(adam_step_time(x, reps=k, device=args.device) for _ in range(3))
            # motions per second when every motion runs the paper's full 300-iteration budget
            mps = b / (it * 300)
            print(f"{name:8} {b:5d} {fb * 1e3:11.2f} {it * 1e3:9.2f} {ratio:6.2f} {mps:10.2f} "
                  f"{adam * 1e3:13.2f}" + extra)


if __name__ == "__main__":
    main()
