"""Calibration of the shipped HDM05 demo checkpoints, and the paper's AB attack on them (issue 11).

Usage::

    python benchmarks/calibration.py [--models mlp stgcn ...] [--before REV] [--no-attack]
                                     [--limit N] [--threads 1] [--json out.json]

Per shipped HDM05 model (``assets/hdm05-demo/*.pt``), on the held-out actor dg:

* **accuracy**;
* **ECE**, the expected calibration error: windows binned by top-1 probability (15 equal bins),
  the mean over bins of |accuracy − mean confidence| weighted by the bin's share of windows;
  **mean confidence** beside it (below accuracy: under-confident; above: over-confident);
* **ECE with T**: the ECE after a temperature fitted on the *other* half of dg (two-fold,
  windows alternating), the fitted temperatures printed: what storing a temperature would add;
* **saturated**: the share of correctly classified windows whose cross-entropy gradient with
  respect to the logits, ``‖softmax − onehot(y)‖``, is below the attack's ``saturation_tol``
  (1e-4) at the clean motion -- where the paper's cross-entropy AB has (almost) no push; and the
  same with the logits divided by the fitted temperature (geometric mean of the two folds);
* **AB success**: SMART AB with the paper's literal setting, spelled out field by field
  (CE, stop at first success, w 0.4, α 0.3, β (0.6, 0, 0.4, 0, 0), lr 0.005, 300 iterations), on
  every correctly classified window (``--limit`` caps their number), and the median iteration of
  success.

**After**: the checkpoints in the working tree on the held-out windows as a user gets them,
``engine.datasets.load('../shared/data/hdm05-amc/train')`` with its defaults (raw, neither turned
nor moved: the models normalise their input themselves). **Before**: the checkpoints of git
revision ``--before`` (default: the last one before the models carried their normalisation), on
that revision's shipped ``windows.npz`` held-out windows -- the pre-turned windows those models
were trained for (on the raw windows they were near chance, issue 11); a model that did not exist
then is reported as absent.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from engine import models  # noqa: E402

HDM05 = ROOT.parent / "shared" / "data" / "hdm05-amc" / "train"
ASSETS = ROOT / "assets" / "hdm05-demo"
VAL_ACTOR = "dg"
BEFORE = "80c17b7~1"  # the last revision whose HDM05 checkpoints had no input normalisation
BINS = 15


def paper_config():
    from engine.attack import AttackConfig

    return AttackConfig(strategy="ab", w=0.4, alpha=0.3, betas=(0.6, 0, 0.4, 0, 0), lr=0.005, iterations=300,
                        classification_loss="ce", stop_on_success=True)


@torch.no_grad()
def logits_of(model, x: np.ndarray, batch: int = 64) -> torch.Tensor:
    out = [model(torch.as_tensor(x[i:i + batch], dtype=torch.float32)) for i in range(0, len(x), batch)]
    return torch.cat(out).double()


def ece(prob: torch.Tensor, y: torch.Tensor, bins: int = BINS) -> float:
    conf, pred = prob.max(1)
    correct = (pred == y).double()
    edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += float(m.double().mean()) * abs(float(correct[m].mean()) - float(conf[m].mean()))
    return total


def fit_temperature(logits: torch.Tensor, y: torch.Tensor) -> float:
    """The temperature minimising the NLL of ``logits / T`` (a 1-d search on log T)."""
    best_t, best = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.05), np.log(20.0), 400)):
        nll = float(torch.nn.functional.cross_entropy(logits / t, y))
        if nll < best:
            best_t, best = float(t), nll
    return best_t


def two_fold_temperature(logits: torch.Tensor, y: torch.Tensor) -> tuple[float, tuple[float, float]]:
    idx = torch.arange(len(y))
    folds = [idx % 2 == 0, idx % 2 == 1]
    probs = torch.empty_like(logits)
    temps = []
    for k in range(2):
        fit, use = folds[1 - k], folds[k]
        t = fit_temperature(logits[fit], y[fit])
        temps.append(t)
        probs[use] = torch.softmax(logits[use] / t, 1)
    return ece(probs, y), (temps[0], temps[1])


def saturated_share(logits: torch.Tensor, y: torch.Tensor, tol: float) -> float:
    """Share of correctly classified windows with ‖softmax(float32 logits) − onehot(y)‖ < tol."""
    lf = logits.float()
    p = torch.softmax(lf, 1)
    g = p - torch.nn.functional.one_hot(y, p.shape[1]).float()
    ok = lf.argmax(1) == y
    if not ok.any():
        return float("nan")
    return float((g[ok].norm(dim=1) < tol).float().mean())


def measure(model, x: np.ndarray, y: np.ndarray, attack: bool, limit: int | None) -> dict:
    from engine.attack import attack as run_attack

    cfg = paper_config()
    yt = torch.as_tensor(y, dtype=torch.long)
    logits = logits_of(model, x)
    prob = torch.softmax(logits, 1)
    correct = (logits.argmax(1) == yt).numpy()
    ece_t, temps = two_fold_temperature(logits, yt)
    row = {"n": int(len(y)), "accuracy": float(correct.mean()), "ece": ece(prob, yt),
           "confidence": float(prob.max(1).values.mean()), "ece_temperature": ece_t,
           "temperatures": [round(t, 3) for t in temps],
           "saturated": saturated_share(logits, yt, cfg.saturation_tol),
           "saturated_temperature": saturated_share(logits / float(np.sqrt(temps[0] * temps[1])), yt,
                                                    cfg.saturation_tol)}
    if attack:
        idx = np.flatnonzero(correct)
        if limit:
            idx = idx[:limit]
        t0 = time.monotonic()
        res = run_attack(model, torch.as_tensor(x[idx], dtype=torch.float32), torch.as_tensor(y[idx]),
                         model.layout, cfg)
        it = res.flip_iteration[res.success].numpy()
        row.update({"attacked": int(len(idx)), "ab_success": float(res.success_rate),
                    "ab_median_iteration": float(np.median(it)) if len(it) else float("nan"),
                    "ab_saturated": int(res.saturated.sum()), "attack_seconds": time.monotonic() - t0})
    return row


def _git_file(rev: str, rel: str, dest: Path) -> bool:
    try:
        data = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{rel}"], capture_output=True,
                              check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return False
    dest.write_bytes(data)
    return True


def before_rows(names: list[str], rev: str, attack: bool, limit: int | None) -> dict[str, dict | str]:
    rows: dict[str, dict | str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        win = Path(tmp) / "windows.npz"
        if not _git_file(rev, "assets/hdm05-demo/windows.npz", win):
            return {n: f"no windows.npz at {rev}" for n in names}
        with np.load(win) as z:
            held = np.array([str(s) == VAL_ACTOR for s in z["subjects"]])
            x, y = z["motions"][held].astype(np.float32), z["labels"][held].astype(np.int64)
        for name in names:
            ck = Path(tmp) / f"{name}.pt"
            if not _git_file(rev, f"assets/hdm05-demo/{name}.pt", ck):
                rows[name] = f"absent at {rev}"
                continue
            try:
                model, _ = models.load_checkpoint(ck)
            except ValueError as exc:
                rows[name] = f"not loadable: {exc}"
                continue
            rows[name] = measure(model, x, y, attack, limit)
            print(f"  before {name}: {_fmt(rows[name])}", flush=True)
    return rows


def after_rows(names: list[str], attack: bool, limit: int | None) -> dict[str, dict | str]:
    from engine.datasets import load

    ds = load(HDM05)
    _, held = ds.split_by_subject([VAL_ACTOR])
    rows: dict[str, dict | str] = {}
    for name in names:
        path = ASSETS / f"{name}.pt"
        if not path.is_file():
            rows[name] = "not shipped"
            continue
        model, meta = models.load_checkpoint(path)
        labels = models.fit(model, held)[held.labels]
        rows[name] = measure(model, held.motions, labels, attack, limit)
        rows[name]["metadata_accuracy"] = meta.metrics.get("accuracy")
        print(f"  after  {name}: {_fmt(rows[name])}", flush=True)
    return rows


def _fmt(r: dict | str) -> str:
    if isinstance(r, str):
        return r
    s = (f"acc {r['accuracy']:6.1%}  ECE {r['ece']:.3f} (conf {r['confidence']:.2f}; with T "
         f"{r['ece_temperature']:.3f}, T {r['temperatures'][0]:.2f}/{r['temperatures'][1]:.2f})  "
         f"saturated {r['saturated']:5.1%} (with T {r['saturated_temperature']:5.1%})")
    if "ab_success" in r:
        s += (f"  AB {r['ab_success']:6.1%} of {r['attacked']} (median it. {r['ab_median_iteration']:.0f}, "
              f"{r['attack_seconds']:.0f} s)")
    return s


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=None, help="default: every shipped HDM05 checkpoint")
    ap.add_argument("--before", default=BEFORE, help="git revision of the 'before' checkpoints ('' to skip)")
    ap.add_argument("--no-attack", action="store_true", help="skip the AB attack")
    ap.add_argument("--no-after", action="store_true", help="measure the 'before' checkpoints only")
    ap.add_argument("--limit", type=int, default=None, help="attack at most N windows per model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if not HDM05.is_dir():
        print(f"{HDM05}: not found; the HDM05 takes are needed (../shared/data)")
        return 2
    names = args.models or sorted(p.stem for p in ASSETS.glob("*.pt"))
    attack = not args.no_attack
    before = before_rows(names, args.before, attack, args.limit) if args.before else {}
    after = {} if args.no_after else after_rows(names, attack, args.limit)
    print(f"\nheld-out actor {VAL_ACTOR}; ECE over {BINS} bins; saturated: ‖∂CE/∂logits‖ < 1e-4 at the clean "
          f"motion; AB: paper's setting (CE, stop at success, w .4, α .3, β (.6,0,.4,0,0), lr .005, 300 it.)")
    for name in names:
        if before:
            print(f"{name:6s} before: {_fmt(before.get(name, 'not measured'))}")
        if after:
            print(f"{name:6s} after:  {_fmt(after[name])}")
    if args.json:
        Path(args.json).write_text(json.dumps({"before": before, "after": after, "before_rev": args.before},
                                              indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
