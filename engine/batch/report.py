"""The run's report: ``report.md`` with the paper's tables (Table 1 success rates with 95 % Wilson
intervals, perceptual metrics as median [IQR] next to the clean motions' own scale, per-class success
and the after-attack confusion, Table 3 transfer, the paired comparison of Table 4 / Figure 2, the
Figure 3 correlation maps) and the paper's own figures beside ours; figures drawn with matplotlib
(Agg canvas, no pyplot state) as PNG for the Markdown and PDF/SVG for a paper, in ``figures/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import metrics as M
from .files import atomic_write, write_text

__all__ = ["FIGURE_FORMATS", "write_report", "write_seeds_report"]

FIGURE_FORMATS = ("png", "pdf", "svg")
#: the metrics the report's tables show (all are in results.json and samples.csv)
REPORT_METRICS = (
    "displacement_mean",
    "bone_rel_mean",
    "velocity_dev",
    "perturbation_acceleration",
    "acceleration_ratio",
    "jerk_dev",
    "coincident_gap",
    "hf_share",
)


def _pct(v: Any, digits: int = 1) -> str:
    return "–" if v is None else f"{100 * v:.{digits}f}"


def _rate_cell(e: dict[str, Any], key: str = "success_rate", n_key: str = "attacked") -> str:
    v = e.get(key)
    if v is None:
        return f"– (n={e.get(n_key, 0)})"
    lo, hi = (e.get("ci95") or [None, None])[:2]
    ci = f" [{_pct(lo)}–{_pct(hi)}]" if lo is not None else ""
    return f"{_pct(v)}{ci} (n={e.get(n_key, 0)})"


def _metric_cell(spread: dict[str, Any] | None, key: str) -> str:
    s = (spread or {}).get(key)
    if not s or s.get("n", 0) == 0 or s.get("median") is None:
        return "–"
    m = M.metric(key)
    return f"{s['median'] * m.scale:.3g} [{s['q1'] * m.scale:.3g}–{s['q3'] * m.scale:.3g}]"


def _head(key: str) -> str:
    m = M.metric(key)
    return f"{m.label} ({m.unit})"


# -- figures ------------------------------------------------------------------------------------------


def _figure(width: float, height: float, **margins: float):
    """A figure on its own Agg canvas (no pyplot, no global backend); margins in inches."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    m = {"left": 1.2, "right": 1.0, "bottom": 1.0, "top": 0.5, **margins}
    fig.subplots_adjust(left=m["left"] / width, right=1 - m["right"] / width, bottom=m["bottom"] / height,
                        top=1 - m["top"] / height, wspace=0.35, hspace=0.25)
    return fig


def _save(out: Path, stem: str, fig, formats: tuple[str, ...] | None = None) -> list[str]:
    names = []
    for fmt in formats or FIGURE_FORMATS:
        name = f"figures/{stem}.{fmt}"
        atomic_write(
            out / name,
            lambda f, fmt=fmt: fig.savefig(
                f,
                format=fmt,
                dpi=110 if fmt == "png" else None,
                metadata={"Software": None}
                if fmt == "png"
                else ({"Date": None} if fmt == "svg" else {"CreationDate": None}),
            ),
        )
        names.append(name)
    return names


def _heatmap(
    ax,
    mat: np.ndarray,
    rows: list[str],
    cols: list[str],
    vmin: float,
    vmax: float,
    cmap: str,
    values: bool,
    title: str,
    fmt: str = "{:.0f}",
    scale: float = 1.0,
    skip_zero: bool = False,
) -> Any:
    im = ax.imshow(np.ma.masked_invalid(mat), vmin=vmin, vmax=vmax, cmap=cmap, aspect="auto")
    ax.set_xticks(
        range(len(cols)),
        cols,
        rotation=90 if max((len(c) for c in cols), default=0) > 4 else 0,
        fontsize=7 if len(cols) > 12 else 9,
    )
    ax.set_yticks(range(len(rows)), rows, fontsize=7 if len(rows) > 12 else 9)
    ax.set_title(title, fontsize=10)
    if values:
        for i in range(mat.shape[0]):
            for j in range(mat.shape[1]):
                if np.isfinite(mat[i, j]) and not (skip_zero and mat[i, j] == 0):
                    r, g, b, _ = im.cmap(im.norm(mat[i, j]))
                    dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
                    ax.text(j, i, fmt.format(mat[i, j] * scale), ha="center", va="center", fontsize=8,
                            color="white" if dark else "black")
    return im


def _matrix_figure(
    out: Path,
    stem: str,
    mat: np.ndarray,
    rows: list[str],
    cols: list[str],
    title: str,
    xlabel: str,
    ylabel: str,
) -> list[str]:
    fig = _figure(3.4 + 0.7 * len(cols), 1.8 + 0.45 * len(rows), bottom=1.2)
    ax = fig.add_subplot()
    im = _heatmap(ax, mat, rows, cols, 0, 1, "viridis", True, title, scale=100)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.colorbar(im, ax=ax, label="success %", format=lambda v, _: f"{100 * v:.0f}")
    return _save(out, stem, fig)


def _correlation_figure(
    out: Path, stem: str, mats: dict[str, np.ndarray], joints: list[str], title: str
) -> list[str]:
    fig = _figure(19, 6.6, left=1.1, right=1.3, bottom=1.2, top=0.7)
    axes = fig.subplots(1, 3)
    im = None
    for ax, (k, t) in zip(
        axes,
        (
            ("displacement", "displacement – displacement"),
            ("speed", "displacement – speed"),
            ("acceleration", "displacement – acceleration"),
        ),
        strict=True,
    ):
        im = _heatmap(ax, mats[k], joints, joints, -1, 1, "RdBu_r", False, t)
        ax.set_xlabel("joint j" + (" (original motion)" if k != "displacement" else ""))
        ax.set_ylabel("joint i (displacement)")
    fig.colorbar(im, ax=list(axes), shrink=0.8, label="Pearson r", pad=0.01)
    fig.suptitle(title)
    return _save(out, stem, fig)


def _figure2(
    out: Path, stem: str, per_joint: dict[str, dict[str, Any]], joints: list[str], title: str
) -> list[str]:
    fig = _figure(12, 6, bottom=1.3, right=0.3)
    top, bottom = fig.subplots(2, 1, sharex=True)
    x = np.arange(len(joints))
    methods = list(per_joint)
    w = 0.8 / max(len(methods), 1)
    for i, m in enumerate(methods):
        top.bar(x + (i - (len(methods) - 1) / 2) * w, 1000 * np.asarray(per_joint[m]["mean"]), w, label=m)
        bottom.bar(x + (i - (len(methods) - 1) / 2) * w, 1000 * np.asarray(per_joint[m]["std"]), w, label=m)
    top.set_ylabel("mean deviation (mm)")
    bottom.set_ylabel("std of deviation (mm)")
    bottom.set_xticks(x, joints, rotation=90, fontsize=8)
    top.legend(fontsize=8, ncol=len(methods), loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False)
    top.set_title(title, loc="left", fontsize=10)
    return _save(out, stem, fig)


def _confusion_figure(out: Path, stem: str, conf: np.ndarray, classes: list[str], title: str) -> list[str]:
    n = len(classes)
    fig = _figure(4.5 + 0.3 * n, 3.5 + 0.3 * n, left=2.2, bottom=2.2, right=1.3)
    ax = fig.add_subplot()
    rows = conf.sum(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(rows > 0, conf / np.maximum(rows, 1), np.nan)
    im = _heatmap(ax, frac, classes, classes, 0, 1, "magma_r", n <= 15, title, scale=100, skip_zero=True)
    ax.set_xlabel("label after the attack")
    ax.set_ylabel("clean label")
    fig.colorbar(im, ax=ax, label="share of the class's attacked motions")
    return _save(out, stem, fig, ("png",))  # one per model and strategy: PNG only


# -- the report ---------------------------------------------------------------------------------------


def write_report(
    out: Path, results: dict[str, Any], corr: dict[tuple[str, str], dict[str, np.ndarray]]
) -> list[str]:
    """Write ``report.md`` and the figures; returns the figure files (relative to ``out``)."""
    files: list[str] = []
    strategies = results["strategies"]
    wb = results["white_box"]
    models = list(wb)
    ds = results["dataset"]
    cfg = results["config"]
    atk = results.get("attack", {})
    paper = results.get("paper") or {}
    joints = list(ds.get("joint_names") or [])
    settings = ", ".join(
        f"{k} {atk[k]}"
        for k in (
            "iterations",
            "lr",
            "w",
            "alpha",
            "betas",
            "perceptual",
            "classification_loss",
            "confidence",
            "stop_on_success",
        )
        if k in atk
    )
    lines = [
        "# SMART robustness report",
        "",
        f"Dataset **{ds['name']}** ({ds['split']}; {ds['selected']} motions, layout `{ds['layout']}`, "
        f"{ds['frames']} frames at {ds['fps']:g} fps, {len(ds['classes'])} classes). "
        f"Seed {results['seed']}; preset `{cfg.get('preset') or 'default (natural)'}`: {settings}. Versions: "
        + ", ".join(f"{k} {v}" for k, v in results["versions"].items() if k != "platform")
        + ".",
        "",
        "Protocol (paper §4): each model is evaluated first and only the motions it classifies correctly are "
        "attacked. Rates are percentages with their 95 % Wilson interval in brackets and n, the number of "
        "motions they are a share of. Metrics are medians with the interquartile range [q1–q3] over the "
        "successful attacks (means, standard deviations and counts are in results.json).",
        "",
        "## Clean accuracy",
        "",
        "| model | accuracy % [95 % CI] (n) |",
        "|---|---|",
    ]
    for k, c in results["clean"].items():
        lines.append(f"| {k} | {_rate_cell(c, 'accuracy', 'count')} |")
    # Table 1
    pw = paper.get("white_box") or {}
    col = paper.get("dataset_column")
    lines += ["", "## Success rate (Table 1)", ""]
    head = "| model | " + " | ".join(s.upper() + (f" | paper {col}" if pw else "") for s in strategies) + " |"
    lines += [head, "|---|" + "---|" * (len(strategies) * (2 if pw else 1))]
    table = np.full((len(models), len(strategies)), np.nan)
    for i, m in enumerate(models):
        cells = []
        for j, s in enumerate(strategies):
            e = wb[m].get(s, {})
            if e.get("success_rate") is not None:
                table[i, j] = e["success_rate"]
            cells.append(_rate_cell(e))
            if pw:
                v = pw.get(m, {}).get(s)
                cells.append("–" if v is None else f"{v:g}")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    files += _matrix_figure(
        out,
        "success",
        table,
        models,
        [s.upper() for s in strategies],
        "white-box success",
        "strategy",
        "model",
    )
    if pw:
        lines += ["", f"The 'paper {col}' columns are the paper's Table 1 for the same model and strategy; "
                  "what they can and cannot be compared with is said under 'The paper beside us' below."]
    lines += ["", "![success rates](figures/success.png)", ""]
    # perceptual metrics, next to the clean motions' own scale
    cm = results.get("clean_motion") or {}
    lines += [
        "## Perceptual metrics of the successful attacks",
        "",
        "Median [q1–q3] over each job's successful adversarial motions. For scale, the clean motions "
        "themselves (all selected motions): speed "
        f"{_metric_cell(cm, 'clean_speed')} m/s, acceleration {_metric_cell(cm, 'clean_acceleration')} "
        f"m/s², bone length {_metric_cell(cm, 'clean_bone_length')} mm. The acceleration ratio divides "
        "the perturbation's mean joint acceleration by the clean motion's (≤ 1: no more abrupt than the "
        "motion itself).",
        "",
        "| model | strategy | " + " | ".join(_head(k) for k in REPORT_METRICS) + " | iterations to success |",
        "|---|---|" + "---|" * (len(REPORT_METRICS) + 1),
    ]
    for m in models:
        for s in strategies:
            e = wb[m].get(s, {})
            it = e.get("mean_iterations")
            lines.append(
                f"| {m} | {s.upper()} | "
                + " | ".join(_metric_cell(e.get("spread"), k) for k in REPORT_METRICS)
                + f" | {'–' if it is None else f'{it:.1f}'} |"
            )
    # timing
    timing = results.get("timing") or {}
    if any(timing.values()):
        lines += [
            "",
            "## Time",
            "",
            "Wall time of the attacks in this run (batches computed in an earlier, "
            "interrupted call keep their own time).",
            "",
            "| job | motions | s per motion | ms per iteration (batch) | mean batch |",
            "|---|---|---|---|---|",
        ]
        for k, t in timing.items():
            if t:
                lines.append(
                    f"| {k} | {t['motions']} | {t['seconds_per_motion']:.3g} | "
                    f"{1000 * t['seconds_per_iteration']:.3g} | {t['mean_batch_size']:.1f} |"
                )
    # per class and confusion
    pc = results.get("per_class") or {}
    if pc:
        lines += [
            "",
            "## Per class and the after-attack confusion",
            "",
            "Success per clean class, and the labels the attack turns each class into most often "
            "(the confusion matrices are in results.json and the figures).",
            "",
        ]
        classes = ds["classes"]
        for m, by in pc.items():
            for s, e in by.items():
                lines += [
                    f"**{m}, {s.upper()}**",
                    "",
                    "| class | success % [95 % CI] (n) | most often turned into |",
                    "|---|---|---|",
                ]
                conf = np.asarray(e["confusion"])
                for k, row in enumerate(e["classes"]):
                    if row["attacked"] == 0:
                        continue
                    off = conf[k].copy()
                    off[k] = 0
                    top = [f"{classes[j]} ({off[j]})" for j in np.argsort(-off)[:2] if off[j] > 0]
                    lines.append(f"| {row['class']} | {_rate_cell(row)} | {', '.join(top) or '–'} |")
                stem = f"confusion_{m}_{s}"
                files += _confusion_figure(out, stem, conf, classes, f"{m} {s.upper()}: after-attack labels")
                lines += ["", f"![confusion {m} {s}](figures/{stem}.png)", ""]
    # transfer
    tr = results["transfer"]
    ptr = paper.get("transfer") or {}
    if tr:
        rows = list(tr)
        cols = list(dict.fromkeys(c for r in tr.values() for c in r))
        lines += [
            "",
            "## Black-box transfer (Tables 2–3)",
            "",
            "Rows: surrogate attacked white-box; columns: target. A cell is the target's success rate on "
            "the adversarial motions that fooled the surrogate and that the target classifies correctly "
            "when clean [95 % CI] (n = those motions); for ABN the goal on the target is the same as on "
            "the surrogate (the label leaves its top N), and 'top-1' says how often the target's top-1 "
            "label is wrong. n/a: surrogate = target."
            + (" The paper's figure (NTU RGB+D) follows in braces where it has one." if ptr else ""),
            "",
        ]
        for s in strategies:
            lines += [
                f"**{s.upper()}**",
                "",
                "| surrogate \\ target | " + " | ".join(cols) + " |",
                "|---|" + "---|" * len(cols),
            ]
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
                        pv = ptr.get(s, {}).get(r, {}).get(c)
                        top1 = ""
                        if s.startswith("ab") and s != "ab" and e.get("top1_rate") is not None:
                            top1 = f"; top-1 {_pct(e['top1_rate'])}"  # ABN: the target's top-1 is wrong
                        cells.append(
                            _rate_cell(e, n_key="clean_correct")
                            + top1
                            + ("" if pv is None else f" {{{pv:g}}}")
                        )
                lines.append(f"| {r} | " + " | ".join(cells) + " |")
            stem = f"transfer_{s}"
            files += _matrix_figure(
                out, stem, mat, rows, cols, f"transfer {s.upper()}", "target", "surrogate"
            )
            lines += ["", f"![transfer {s}](figures/{stem}.png)", ""]
    # comparison
    cmp_ = results.get("compare") or {}
    if cmp_:
        pc4 = paper.get("compare") or {}
        lines += [
            "## SMART against l2 / l2_acc / l2_bone and the IAA-style baseline (§4.5, §4.7, Table 4, "
            "Figure 2)",
            "",
            "Each method attacks the same motions with the same budget; IAA's ε is bisected over the "
            "job's motions until its success rate matches SMART's (its step is fixed, not tied to ε). "
            "The metrics compare the methods **paired**, on the motions where every method succeeded; "
            "per-motion pairs are in `compare/<model>_pairs.csv`. Lower is more natural for every "
            "column; the last columns say on what share of the common motions SMART's value is lower "
            "than the method's (displacement, acceleration, high-frequency share): where a baseline wins, "
            "the table shows it (l2_acc minimises acceleration directly).",
            "",
        ]
        for m, c in cmp_.items():
            p = c["paired"]
            lines += [
                f"**{m}, {c['strategy'].upper()}**: {p['common']} of {p['attacked']} attacked motions "
                "fooled every method.",
                "",
                "| method | success % [95 % CI] (n) | "
                + " | ".join(_head(k) for k in REPORT_METRICS)
                + " | SMART lower: displacement / acceleration / HF share |"
                + (" paper success % |" if m in pc4 else ""),
                "|---|---|" + "---|" * (len(REPORT_METRICS) + 1) + ("---|" if m in pc4 else ""),
            ]
            for v, e in c["variants"].items():
                label = v if v != "iaa" else f"iaa (ε = {1000 * e.get('epsilon', float('nan')):.1f} mm)"
                lower = (p.get("smart_lower_share") or {}).get(v, {})
                share = " / ".join(
                    "–" if lower.get(k) is None else f"{100 * lower[k]:.0f} %"
                    for k in ("displacement_mean", "perturbation_acceleration", "hf_share")
                )
                pv = pc4.get(m, {}).get("smart" if v == "smart" else v)
                lines.append(
                    f"| {label} | {_rate_cell(e)} | "
                    + " | ".join(_metric_cell(p["spread"].get(v), k) for k in REPORT_METRICS)
                    + f" | {share if lower else '–'} |"
                    + ((" – |" if pv is None else f" {pv:g} |") if m in pc4 else "")
                )
            if p.get("per_joint") and joints:
                stem = f"figure2_{m}"
                files += _figure2(
                    out,
                    stem,
                    p["per_joint"],
                    joints,
                    f"{m}: joint-wise deviation on the {p['common']} common motions (Figure 2 Right)",
                )
                lines += ["", f"![Figure 2 {m}](figures/{stem}.png)"]
            lines.append("")
    # Figure 3
    lines += [
        "## Vulnerability analysis (§4.6, Figure 3)",
        "",
        "Pearson correlations per joint pair, across the successful adversarial motions, between the mean "
        "displacement of joint i (rows) and, for joint j (columns): its mean displacement (left), the "
        "original motion's mean speed (middle) and mean acceleration (right). The paper reads a "
        "vulnerability off the diagonal of the middle and right maps: a joint is displaced more the "
        "faster it moves. 'Diagonal above its row' is the share of a row's other entries that the "
        "diagonal entry exceeds (0.5 for no diagonal; 1 when every joint correlates most with its own "
        "motion).",
        "",
    ]
    for (m, s), mats in corr.items():
        stem = f"correlations_{m}_{s}"
        names = joints or [str(i) for i in range(mats["speed"].shape[0])]
        files += _correlation_figure(out, stem, mats, names, f"{m}, {s.upper()}")
        e = results["correlations"][m][s]
        verdict = "the diagonal appears" if e["speed_diagonal_exceeds_share"] > 0.75 else "no clear diagonal"
        lines += [
            f"**{m}, {s.upper()}** ({e['motions']} motions): displacement–speed diagonal mean "
            f"{e['speed_diagonal_mean']:.3f} vs off-diagonal {e['speed_offdiagonal_mean']:.3f}, diagonal "
            f"above its row {e['speed_diagonal_exceeds_share']:.2f}; displacement–acceleration "
            f"{e['acceleration_diagonal_mean']:.3f} vs {e['acceleration_offdiagonal_mean']:.3f}, "
            f"{e['acceleration_diagonal_exceeds_share']:.2f}: {verdict}.",
            "",
            f"![correlations {m} {s}](figures/{stem}.png)",
            "",
        ]
    if not corr:
        lines += ["(fewer than two successful attacks per model: no correlations)", ""]
    if paper.get("white_box") or paper.get("transfer") or paper.get("compare"):
        lines += ["## The paper beside us", "", paper["comparability"] + f" This run: {len(ds['classes'])} "
                  f"classes, {ds['split']}, {ds['selected']} motions.", ""]
    if results.get("warnings"):
        lines += ["## Warnings", ""] + [f"- {w}" for w in results["warnings"]] + [""]
    write_text(out / "report.md", "\n".join(lines) + "\n")
    return files


def write_seeds_report(out: Path, results: dict[str, Any]) -> None:
    """``report.md`` of a ``--seeds K`` run: every rate's mean, standard deviation and range over seeds."""
    seeds = results["seeds"]
    lines = [
        "# SMART robustness over seeds",
        "",
        f"{len(seeds)} runs with the seeds {seeds} (each a full run with its own report in "
        f"{', '.join(results['runs'])}). The seed changes the attack's initialisation, the SA targets and "
        "the `--limit` choice of motions. Mean ± standard deviation (min–max) over the seeds.",
        "",
        "## White-box success rate %",
        "",
        "| model | strategy | success % | per seed | mean displacement mm |",
        "|---|---|---|---|---|",
    ]
    for m, by in results["white_box"].items():
        for s, e in by.items():
            r = e["success_rate"]
            d = e["metrics"].get("displacement_mean") or {}
            per = ", ".join(_pct(v) for v in e["per_seed"])
            disp = "–" if d.get("mean") is None else f"{1000 * d['mean']:.1f} ± {1000 * d['std']:.1f}"
            cell = (
                "–"
                if r["mean"] is None
                else (f"{_pct(r['mean'])} ± {_pct(r['std'])} ({_pct(r['min'])}–{_pct(r['max'])})")
            )
            lines.append(f"| {m} | {s.upper()} | {cell} | {per} | {disp} |")
    if results["transfer"]:
        lines += [
            "",
            "## Transfer success rate % (first strategy)",
            "",
            "| surrogate | target | success % | per seed |",
            "|---|---|---|---|",
        ]
        for s, row in results["transfer"].items():
            for t, e in row.items():
                if e == "n/a":
                    continue
                r = e["success_rate"]
                cell = "–" if r["mean"] is None else f"{_pct(r['mean'])} ± {_pct(r['std'])}"
                lines.append(f"| {s} | {t} | {cell} | {', '.join(_pct(v) for v in e['per_seed'])} |")
    if results.get("warnings"):
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in results["warnings"]]
    write_text(out / "report.md", "\n".join(lines) + "\n")
