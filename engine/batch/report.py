"""The run's report: ``report.md`` with the paper's tables (Table 1 success rates, perceptual metrics,
Table 3 transfer, Table 4-style comparison) and PNG figures (Figure 3 correlation heat maps,
success and transfer matrices) in ``figures/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .files import atomic_write, write_text
from .png import encode_png, heatmap, hstack

__all__ = ["write_report"]


def _pct(v: Any) -> str:
    return "–" if v is None else f"{100 * v:.2f}"


def _num(v: Any, scale: float = 1.0, digits: int = 2) -> str:
    return "–" if v is None else f"{v * scale:.{digits}f}"


def _png(out: Path, name: str, image: np.ndarray) -> str:
    atomic_write(out / name, lambda f: f.write(encode_png(image)))
    return name


def write_report(out: Path, results: dict[str, Any], corr: dict[tuple[str, str], dict[str, np.ndarray]]
                 ) -> list[str]:
    """Write ``report.md`` and the figures; returns the figure files (relative to ``out``)."""
    files: list[str] = []
    strategies = results["strategies"]
    wb = results["white_box"]
    models = list(wb)
    ds = results["dataset"]
    cfg = results["config"]
    lines = [
        "# SMART robustness report", "",
        f"Dataset **{ds['name']}** ({ds['split']}; {ds['selected']} motions, layout `{ds['layout']}`, "
        f"{ds['frames']} frames at {ds['fps']:g} fps, {len(ds['classes'])} classes). "
        f"Seed {results['seed']}; {cfg['iterations']} iterations, lr {cfg['lr']}, w {cfg['w']}, "
        f"α {cfg['alpha']}, β {tuple(cfg['betas'])}, perceptual loss `{cfg['perceptual']}`, "
        f"classification loss `{cfg['classification_loss']}`. Versions: "
        + ", ".join(f"{k} {v}" for k, v in results["versions"].items() if k != "platform") + ".", "",
        "Protocol (paper §4): each model is evaluated first and only the motions it classifies correctly are "
        "attacked. Success rates are percentages of the attacked motions.", "",
        "## Clean accuracy", "", "| model | accuracy % | correct / motions |", "|---|---|---|",
    ]
    for k, c in results["clean"].items():
        lines.append(f"| {k} | {_pct(c['accuracy'])} | {c['correct']} / {c['count']} |")
    # Table 1
    lines += ["", "## Success rate (Table 1)", "",
              "| model | " + " | ".join(s.upper() for s in strategies) + " |",
              "|---|" + "---|" * len(strategies)]
    table = np.full((len(models), len(strategies)), np.nan)
    for i, m in enumerate(models):
        cells = []
        for j, s in enumerate(strategies):
            e = wb[m].get(s, {})
            if e.get("success_rate") is not None:
                table[i, j] = e["success_rate"]
            cells.append(f"{_pct(e.get('success_rate'))} (n={e.get('attacked', 0)})")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    if len(models) > 1:
        means = [np.nanmean(table[:, j]) if np.isfinite(table[:, j]).any() else None
                 for j in range(len(strategies))]
        lines.append("| mean | " + " | ".join(_pct(v) for v in means) + " |")
    files.append(_png(out, "figures/success.png",
                      heatmap(table, 0, 1, cell=44, diverging=False, values=True, title="SUCCESS %",
                              row_labels=models, col_labels=[s.upper() for s in strategies])))
    lines += ["", "![success rates](figures/success.png)", ""]
    # perceptual metrics
    lines += ["## Perceptual metrics of the successful attacks", "",
              "Means over the successful adversarial motions: joint displacement (mean / max, mm), "
              "bone-length deviation (mean, % of the length), velocity / acceleration deviation (m/s, "
              "m/s²), and the iteration at which the attack succeeded.", "",
              "| model | strategy | displacement mm | max displacement mm | bone dev % | velocity dev | "
              "acceleration dev | iterations |", "|---|---|---|---|---|---|---|---|"]
    for m in models:
        for s in strategies:
            e = wb[m].get(s, {})
            mt = e.get("metrics") or {}
            lines.append(f"| {m} | {s.upper()} | {_num(mt.get('displacement_mean'), 1000)} | "
                         f"{_num(mt.get('displacement_max'), 1000)} | {_num(mt.get('bone_rel_mean'), 100)} | "
                         f"{_num(mt.get('velocity_dev'), 1, 3)} | {_num(mt.get('acceleration_dev'), 1, 3)} | "
                         f"{_num(e.get('mean_iterations'), 1, 1)} |")
    # transfer
    tr = results["transfer"]
    if tr:
        rows = list(tr)
        cols = list(dict.fromkeys(c for r in tr.values() for c in r))
        lines += ["", "## Black-box transfer (Tables 2–3)", "",
                  "Rows: surrogate attacked white-box; columns: target. A cell is the target's success "
                  "rate on the adversarial motions that fooled the surrogate and that the target "
                  "classifies correctly when clean, then (in brackets) the target's clean accuracy on "
                  "the motions that fooled the surrogate, and their count. n/a: surrogate = target.", ""]
        for s in strategies:
            lines += [f"**{s.upper()}**", "", "| surrogate \\ target | " + " | ".join(cols) + " |",
                      "|---|" + "---|" * len(cols)]
            mat = np.full((len(rows), len(cols)), np.nan)
            for i, r in enumerate(rows):
                cells = []
                for j, c in enumerate(cols):
                    v = tr[r].get(c)
                    if v is None:
                        cells.append("")
                    elif v == "n/a":
                        cells.append("n/a")
                    else:
                        e = v["strategies"][s]
                        if e["success_rate"] is not None:
                            mat[i, j] = e["success_rate"]
                        cells.append(f"{_pct(e['success_rate'])} ({_pct(e['clean_accuracy'])}, "
                                     f"n={e['count']})")
                lines.append(f"| {r} | " + " | ".join(cells) + " |")
            name = f"figures/transfer_{s}.png"
            files.append(_png(out, name, heatmap(mat, 0, 1, cell=44, diverging=False, values=True,
                                                 title=f"TRANSFER {s.upper()}", row_labels=rows,
                                                 col_labels=cols)))
            lines += ["", f"![transfer {s}]({name})", ""]
    # comparison
    cmp_ = results.get("compare") or {}
    if cmp_:
        lines += ["## SMART against l2 / l2_acc / l2_bone and the IAA-style baseline (§4.5, §4.7, Table 4)",
                  "", "Same motions and budget; IAA's ε was bisected on a calibration subset until its "
                  "success rate matched SMART's. Metrics as above, over each method's successful "
                  "attacks.", "",
                  "| model | method | success % | displacement mm | bone dev % | velocity dev | "
                  "acceleration dev |", "|---|---|---|---|---|---|---|"]
        for m, c in cmp_.items():
            for v, e in c["variants"].items():
                mt = e.get("metrics") or {}
                label = v if v != "iaa" else f"iaa (ε = {_num(e.get('epsilon'), 1000, 1)} mm)"
                lines.append(f"| {m} | {label} | {_pct(e.get('success_rate'))} | "
                             f"{_num(mt.get('displacement_mean'), 1000)} | "
                             f"{_num(mt.get('bone_rel_mean'), 100)} | {_num(mt.get('velocity_dev'), 1, 3)} | "
                             f"{_num(mt.get('acceleration_dev'), 1, 3)} |")
        lines.append("")
    # Figure 3
    lines += ["## Vulnerability analysis (§4.6, Figure 3)", "",
              "Pearson correlations across the successful adversarial motions between the mean "
              "displacement of joint i (rows) and, for joint j (columns): its mean displacement (left), the "
              "original motion's mean speed (middle) and mean acceleration (right); joints numbered from 0 "
              "in the layout's order. Blue −1, grey 0, red +1.", ""]
    for (m, s), mats in corr.items():
        joints = [str(i) for i in range(mats["speed"].shape[0])]
        panels = [heatmap(mats[k], -1, 1, cell=12, title=t, row_labels=joints, col_labels=joints)
                  for k, t in (("displacement", "DISP-DISP"), ("speed", "DISP-SPEED"),
                               ("acceleration", "DISP-ACC"))]
        name = f"figures/correlations_{m}_{s}.png"
        files.append(_png(out, name, hstack(panels)))
        e = results["correlations"][m][s]
        lines += [f"**{m}, {s.upper()}** ({e['motions']} motions): mean diagonal of displacement–speed "
                  f"{e['speed_diagonal_mean']:.3f} (off-diagonal {e['speed_offdiagonal_mean']:.3f}), of "
                  f"displacement–acceleration {e['acceleration_diagonal_mean']:.3f} (off-diagonal "
                  f"{e['acceleration_offdiagonal_mean']:.3f}).", "", f"![correlations {m} {s}]({name})", ""]
    if not corr:
        lines += ["(fewer than two successful attacks per model: no correlations)", ""]
    if results.get("warnings"):
        lines += ["## Warnings", ""] + [f"- {w}" for w in results["warnings"]] + [""]
    write_text(out / "report.md", "\n".join(lines) + "\n")
    return files
