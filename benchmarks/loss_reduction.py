"""How the reduction of the perceptual loss changes SMART (the measurement behind the choice in
engine/attack/losses.py). Needs the real HDM05 clips in ../shared/data/hdm05-smart.

    .venv/bin/python benchmarks/loss_reduction.py [--label-smoothing 0.1 0.0]

For three reductions of l_dyn and l_bl — Eq. 4's (mean over frames of a per-frame squared norm:
the engine's), means over frames *and* joints/bones, and sums over everything — it prints the
success rates of AB, ABN-3 and SA (stop on success, 300 iterations) on the clips a small MLP
classifies correctly, the number of motions whose cross entropy saturated, and, keeping on
optimising for 150 iterations after success, SMART's and plain l2's acceleration deviation and
mean displacement. The reductions differ by a constant factor per term, which is how they are
applied here (the engine's terms scaled by 1/V, 1/E or T).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

import engine.attack.smart as smart_module
from engine import metrics, skeleton
from engine.attack import AttackConfig, attack
from engine.attack import losses as L

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
LAY = skeleton.layout("hdm05_25")
sys.path.insert(0, str(ROOT / "tests"))
from test_attack_real import hdm05_clips, train_mlp  # noqa: E402  (one victim recipe for test and benchmark)


def scaled(fn, factor):
    def wrapped(*args, **kwargs):
        out = fn(*args, **kwargs)
        return tuple(v * factor for v in out) if isinstance(out, tuple) else out * factor

    return wrapped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--label-smoothing", nargs="+", type=float, default=[0.1, 0.0])
    args = ap.parse_args()
    if not (DATA / "hdm05-smart").is_dir():
        raise SystemExit(f"needs the real HDM05 clips: {DATA} is absent")
    x, y = hdm05_clips(DATA)
    t_frames, v = x.shape[1], LAY.num_joints
    reductions = {  # factor applied to the engine's (Eq. 4) dynamics and bone terms
        "eq4: mean frames, sum joints (engine)": (1.0, 1.0),
        "means over frames and joints": (1.0 / v, 1.0 / LAY.num_bones),
        "sums over frames and joints": (float(t_frames), float(t_frames)),
    }
    dyn0, bl0 = L.dynamics_losses, L.bone_length_loss
    for ls in args.label_smoothing:
        m = train_mlp(x, y, LAY, label_smoothing=ls)
        with torch.no_grad():
            ok = m(x).argmax(1) == y
        xc, yc = x[ok], y[ok]
        c = int(y.max()) + 1
        targets = (yc + torch.randint(1, c, yc.shape, generator=torch.Generator().manual_seed(0))) % c
        print(f"label smoothing {ls}: {int(ok.sum())}/{len(x)} clips correctly classified")
        try:
            for name, (fd, fb) in reductions.items():
                smart_module.L.dynamics_losses = scaled(dyn0, fd)
                smart_module.L.bone_length_loss = scaled(bl0, fb)
                rates = {}
                paper = AttackConfig.paper  # the measurement is of the paper's protocol
                runs = (("AB", paper(), None), ("AB3", paper(strategy="abn"), None),
                        ("SA", paper(strategy="sa"), targets))
                for key, cfg, tt in runs:
                    res = attack(m, xc, yc, LAY, cfg, targets=tt)
                    rates[key] = f"{res.success_rate:.1%} (saturated {int(res.saturated.sum())})"
                keep = paper(stop_on_success=False, iterations=150)
                rs = attack(m, xc[:40], yc[:40], LAY, keep)
                rl = attack(m, xc[:40], yc[:40], LAY, keep.replace(perceptual="l2"))
                x40 = xc[:40]
                acc = lambda r, x40=x40: metrics.derivative_deviation(x40, r.adversarial, 2, LAY.fps).mean()
                disp = lambda r, x40=x40: metrics.joint_displacement(x40, r.adversarial).mean()
                print(f"  {name:40} {rates}")
                print(f"  {'':40} keep optimising: smart acc-dev {acc(rs):.1f} m/s² disp {disp(rs):.3f} m; "
                      f"l2 acc-dev {acc(rl):.1f} m/s² disp {disp(rl):.3f} m")
        finally:
            smart_module.L.dynamics_losses, smart_module.L.bone_length_loss = dyn0, bl0


if __name__ == "__main__":
    main()
