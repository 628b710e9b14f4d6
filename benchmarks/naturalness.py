"""How natural are SMART's adversarial motions: the natural preset against the paper's protocol.

    .venv/bin/python benchmarks/naturalness.py [--models mlp stgcn ...] [--limit 32] [--strategy ab]
        [--set smoothing=0 --set adam_beta2=0.999]   # an ablation of the natural preset

For each shipped HDM05 demo model (real motion capture, the windows of actor dg whom no model saw,
those the model classifies correctly) and each preset (``AttackConfig()`` = natural,
``AttackConfig.paper()``), one batched attack, and one printed Markdown table: success, mean
iterations, time per attacked motion, mean displacement, the perturbation's own mean joint
acceleration against the clean motions' (their ratio: the mean over the successful motions of each
divided, and the median of the per-motion ratios), the relative bone-length deviation, the largest
gap between joints that coincide by construction, and the share of the perturbation's power above
5 Hz. Metrics are over the successful motions (``engine.metrics``). CPU (``--device cuda``: the GPU),
one torch thread unless ``--threads``; times are wall-clock on a possibly shared machine: compare
within one run.
"""

from __future__ import annotations

import argparse
import ast
import time

import numpy as np
import torch

from engine import demo, metrics, models
from engine.attack import PRESETS, attack


def _victims(names: list[str] | None) -> list[str]:
    shipped = demo.demo_models("hdm05-demo")
    return [n for n in (names or shipped) if n in shipped]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=None, help="default: every shipped HDM05 model")
    ap.add_argument("--presets", nargs="+", default=["natural", "paper"], choices=sorted(PRESETS))
    ap.add_argument("--limit", type=int, default=32, help="correctly classified windows per model")
    ap.add_argument("--strategy", default="ab", choices=["ab", "abn", "sa"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (the attack's device)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="change one field of the natural preset (an ablation), e.g. smoothing=0")
    args = ap.parse_args()
    changes = {}
    for item in args.set:
        key, _, value = item.partition("=")
        changes[key.strip()] = ast.literal_eval(value.strip())
    torch.set_num_threads(args.threads)
    _, val = demo.demo_split("hdm05-demo")
    x_all = torch.from_numpy(val.motions.astype(np.float32))
    y_all = torch.from_numpy(val.labels.astype(np.int64))
    print(f"HDM05 demo, held-out actor(s) {sorted(set(val.subjects))}, {len(val)} windows; "
          f"torch {torch.__version__}, {args.threads} thread(s), device {args.device}, "
          f"strategy {args.strategy}\n")
    print("| model | preset | n | success | iterations | s / motion | displacement mm | "
          "pert. acc. m/s² | clean acc. m/s² | acc. ratio (means / median) | bone dev. % | "
          "coincident gap mm | > 5 Hz % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in _victims(args.models):
        model, meta = models.load_checkpoint(demo.demo_checkpoint("hdm05-demo", name))
        model.eval()
        with torch.no_grad():
            ok = model(x_all).argmax(1) == y_all
        x, y = x_all[ok][: args.limit], y_all[ok][: args.limit]
        g = torch.Generator().manual_seed(0)
        targets = (y + torch.randint(1, meta.num_classes, y.shape, generator=g)) % meta.num_classes
        times = {}
        for preset in args.presets:
            cfg = PRESETS[preset]().replace(strategy=args.strategy, device=args.device)
            label = preset
            if preset == "natural" and changes:
                cfg = cfg.replace(**changes)
                label = "natural, " + ", ".join(f"{k}={v}" for k, v in changes.items())
            if args.device.startswith("cuda"):
                attack(model, x[:2], y[:2], config=cfg.replace(iterations=3))  # CUDA's start-up, untimed
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            res = attack(model, x, y, config=cfg, targets=targets if args.strategy == "sa" else None)
            times[preset] = (time.perf_counter() - t0) / len(x)
            m = metrics.sample_metrics(res.original, res.adversarial, val.layout)
            s = res.success.numpy()
            d = metrics.summarize(m, mask=s)
            ratio_med = float(np.nanmedian(m["acceleration_ratio"][s])) if s.any() else float("nan")
            ratio_means = d["perturbation_acceleration"] / d["clean_acceleration"]
            print(f"| {name} | {label} | {len(x)} | {s.mean() * 100:.0f} % | "
                  f"{res.iterations.float().mean():.0f} | {times[preset]:.2f} | "
                  f"{d['displacement_mean'] * 1000:.0f} | {d['perturbation_acceleration']:.2f} | "
                  f"{d['clean_acceleration']:.2f} | {ratio_means:.2f} / {ratio_med:.2f} | "
                  f"{d['bone_rel_mean'] * 100:.1f} | {m['coincident_gap'][s].max(initial=0) * 1000:.1f} | "
                  f"{d['hf_share'] * 100:.0f} |", flush=True)
        if "natural" in times and "paper" in times:
            ratio = times["natural"] / times["paper"]
            print(f"|  | time natural ÷ paper | | | | ×{ratio:.1f} | | | | | | | |", flush=True)


if __name__ == "__main__":
    main()
