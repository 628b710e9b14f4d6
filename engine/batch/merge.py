"""Rank 0's merge: batch files → per-job sample files, samples.csv, the tables of results.json (with
95 % Wilson intervals, medians and IQRs), the paired comparison, per-class views, the correlation
analysis and the report. ``results.json`` is written last: its presence marks a finished run.
Reads the run through the public :class:`engine.batch.plan.RunPlan` only."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import metrics as M
from .config import BatchConfig
from .files import write_csv, write_json, write_npz
from .paper import paper_beside
from .plan import RESULTS, Job, RunPlan, versions
from .report import write_report, write_seeds_report

__all__ = ["METRIC_KEYS", "merge_outputs", "merge_seeds"]

#: the per-motion metrics, in the table's order (engine.metrics.METRICS)
METRIC_KEYS = tuple(m.key for m in M.METRICS)
#: a mean displacement above this (m) is no longer a perturbation of a human motion
IMPLAUSIBLE_DISPLACEMENT = 0.5


def _rate(mask: np.ndarray) -> dict[str, Any]:
    return M.rate_summary(np.asarray(mask, dtype=bool))


def _spread(values: dict[str, np.ndarray], mask: np.ndarray | None) -> dict[str, dict[str, Any]]:
    return {k: s.as_dict() for k, s in M.describe(values, mask).items()}


def _summary(data: dict[str, np.ndarray]) -> dict[str, Any]:
    if not data:
        return {
            "success_rate": None,
            "ci95": [None, None],
            "attacked": 0,
            "succeeded": 0,
            "mean_iterations": None,
            "metrics": {},
            "spread": {},
            "saturated": 0,
        }
    s = data["success"]
    r = _rate(s)
    metrics = {k: data[f"metric_{k}"] for k in METRIC_KEYS if f"metric_{k}" in data}
    it = data["flip_iteration"][s]
    return {
        "success_rate": r["rate"],
        "ci95": [r["low"], r["high"]],
        "attacked": r["n"],
        "succeeded": r["k"],
        "mean_iterations": float(it.mean()) if it.size else None,
        "metrics": M.summarize(metrics, s) if s.any() else {k: None for k in metrics},
        "spread": _spread(metrics, s) if s.any() else {},
        "saturated": int(data["saturated"].sum()),
    }


def _timing(data: dict[str, np.ndarray]) -> dict[str, Any]:
    if not data:
        return {}
    secs, its, sizes = data["batch_seconds"], data["batch_iterations"], data["batch_sizes"]
    ok = np.isfinite(secs)
    if not ok.any():
        return {}
    total = float(secs[ok].sum())
    return {
        "seconds": total,
        "motions": int(sizes[ok].sum()),
        "seconds_per_motion": total / max(int(sizes[ok].sum()), 1),
        "seconds_per_iteration": total / max(int(its[ok].sum()), 1),
        "mean_batch_size": float(sizes[ok].mean()),
    }


def _per_class(data: dict[str, np.ndarray], classes: list[str]) -> dict[str, Any]:
    """Success per clean class and the after-attack confusion (clean label → predicted label)."""
    c = len(classes)
    conf = np.zeros((c, c), dtype=np.int64)
    rows = []
    if data:
        np.add.at(conf, (data["labels"], data["predicted"]), 1)
    for k in range(c):
        m = data["labels"] == k if data else np.zeros(0, bool)
        r = _rate(data["success"][m]) if data else _rate(np.zeros(0, bool))
        rows.append(
            {
                "class": classes[k],
                "attacked": r["n"],
                "succeeded": r["k"],
                "success_rate": r["rate"],
                "ci95": [r["low"], r["high"]],
            }
        )
    return {"classes": rows, "confusion": conf.tolist()}


def _transfer_cell(plan: RunPlan, data: dict[str, np.ndarray], target: str) -> dict[str, Any]:
    if not data:
        return {
            "success_rate": None,
            "ci95": [None, None],
            "success_rate_all": None,
            "top1_rate": None,
            "top1_ci95": [None, None],
            "clean_accuracy": None,
            "count": 0,
            "clean_correct": 0,
        }
    j = [str(t) for t in data["transfer_targets"]].index(target)
    fooled = data["success"]
    clean_ok = plan.clean[target][data["positions"]] == data["labels"]
    goal = data["transfer_goal"][j]
    both = fooled & clean_ok
    r = _rate(goal[both])
    # the target's top-1 label is not the clean one (what AB's goal is; ABN's goal on the target is
    # harder: the label must leave its top N)
    top1 = _rate((data["transfer_predicted"][j] != data["labels"])[both])
    return {
        "success_rate": r["rate"],
        "ci95": [r["low"], r["high"]],
        "success_rate_all": _rate(goal[fooled])["rate"],
        "top1_rate": top1["rate"],
        "top1_ci95": [top1["low"], top1["high"]],
        "clean_accuracy": _rate(clean_ok[fooled])["rate"],
        "count": int(fooled.sum()),
        "clean_correct": int(both.sum()),
    }


def _job_files(plan: RunPlan, job: Job, data: dict[str, np.ndarray], rows: list[list[Any]]) -> str | None:
    ds = plan.ds
    if not data:
        return None
    name = f"samples/{job.dirname}.npz"
    idx = data["dataset_index"]
    write_npz(
        plan.out / name,
        adversarial=data["adversarial"],
        original=ds.motions[idx],
        dataset_index=idx,
        labels=data["labels"],
        predicted=data["predicted"],
        targets=data["targets"],
        success=data["success"],
        iterations=data["iterations"],
        flip_iteration=data["flip_iteration"],
        confidence=data["confidence"],
        class_names=np.array(ds.class_names),
        layout=ds.layout.name,
        fps=ds.fps,
        transfer_targets=data["transfer_targets"],
        transfer_predicted=data["transfer_predicted"],
        transfer_goal=data["transfer_goal"],
        **{k: data[k] for k in data if k.startswith("metric_")},
    )
    tt = [str(t) for t in data["transfer_targets"]]
    tp, tg = data["transfer_predicted"], data["transfer_goal"]
    for i in range(len(idx)):
        d = int(idx[i])
        tr = ";".join(f"{t}:{int(tp[j, i])}:{int(tg[j, i])}" for j, t in enumerate(tt))
        lab, pred = int(data["labels"][i]), int(data["predicted"][i])
        rows.append(
            [
                job.model,
                job.strategy.name,
                job.variant,
                d,
                ds.sources[d],
                ds.subjects[d] or "",
                lab,
                ds.class_names[lab],
                int(data["targets"][i]),
                pred,
                ds.class_names[pred],
                int(data["success"][i]),
                int(data["iterations"][i]),
                int(data["flip_iteration"][i]),
                float(data["confidence"][i]),
                *[float(data[f"metric_{k}"][i]) for k in METRIC_KEYS],
                tr,
            ]
        )
    return name


def _paired(
    plan: RunPlan, model: str, variants: dict[str, dict[str, np.ndarray]], files: list[str]
) -> dict[str, Any]:
    """The methods compared on the motions where every one of them succeeded; the pairs in a CSV."""
    names = [v for v in variants if variants[v]]
    if not names:
        return {"methods": [], "attacked": 0, "common": 0}
    # every variant attacks the same positions (the model's correctly classified motions)
    base = variants[names[0]]["dataset_index"]
    for v in names[1:]:
        if not np.array_equal(variants[v]["dataset_index"], base):
            raise AssertionError(f"compare variants of {model} attacked different motions")
    common = np.logical_and.reduce([variants[v]["success"] for v in names])
    out: dict[str, Any] = {
        "methods": names,
        "attacked": int(len(base)),
        "common": int(common.sum()),
        "success_rates": {v: _rate(variants[v]["success"])["rate"] for v in names},
        "spread": {},
        "per_joint": {},
    }
    for v in names:
        d = variants[v]
        vals = {k: d[f"metric_{k}"] for k in METRIC_KEYS}
        out["spread"][v] = _spread(vals, common) if common.any() else {}
        if common.any():
            pj = M.describe({"pj": d["metric_per_joint"]}, common)["pj"]
            out["per_joint"][v] = {
                "mean": pj.mean,
                "std": pj.std,
                "median": pj.median,
                "q1": pj.q1,
                "q3": pj.q3,
            }
    if common.any():
        name = f"compare/{model}_pairs.csv"
        header = ["dataset_index", "label", "label_name"] + [f"{v}:{k}" for k in METRIC_KEYS for v in names]
        labels = variants[names[0]]["labels"]
        rows = []
        for i in np.flatnonzero(common):
            rows.append(
                [
                    int(base[i]),
                    int(labels[i]),
                    plan.ds.class_names[int(labels[i])],
                    *[float(variants[v][f"metric_{k}"][i]) for k in METRIC_KEYS for v in names],
                ]
            )
        write_csv(plan.out / name, header, rows)
        files.append(name)
        out["pairs_file"] = name
        # how often SMART beats each baseline on the same motion, per metric
        if "smart" in names:
            wins: dict[str, dict[str, float]] = {}
            for v in names:
                if v == "smart":
                    continue
                wins[v] = {}
                for k in METRIC_KEYS:
                    a = variants["smart"][f"metric_{k}"][common]
                    b = variants[v][f"metric_{k}"][common]
                    ok = np.isfinite(a) & np.isfinite(b)
                    wins[v][k] = float((a[ok] < b[ok]).mean()) if ok.any() else None
            out["smart_lower_share"] = wins
    return out


def _correlations(
    plan: RunPlan,
    job: Job,
    data: dict[str, np.ndarray],
    files: list[str],
    arrays: dict[tuple[str, str], dict[str, np.ndarray]],
) -> dict[str, Any]:
    """Figure 3: per joint pair, across the successful adversarial motions of one job."""
    ds, out = plan.ds, plan.out
    entry: dict[str, Any] = {"motions": 0, "file": None}
    if data and int(data["success"].sum()) >= 2:
        s = data["success"]
        orig = ds.motions[data["dataset_index"][s]]
        mats = M.correlation_matrices(orig, data["adversarial"][s], ds.fps)
        name = f"correlations/{job.dirname}.npz"
        write_npz(out / name, joint_names=np.array(ds.layout.joint_names), **mats)
        files.append(name)
        arrays[(job.model, job.strategy.name)] = mats
        off = ~np.eye(mats["speed"].shape[0], dtype=bool)
        entry = {"motions": int(s.sum()), "file": name}
        for k in ("speed", "acceleration"):
            entry[f"{k}_diagonal_mean"] = float(np.diag(mats[k]).mean())
            entry[f"{k}_offdiagonal_mean"] = float(mats[k][off].mean())
            # the diagonal the paper shows: is a joint's displacement correlated with its own motion
            # more than with the other joints'?
            entry[f"{k}_diagonal_exceeds_share"] = float(
                (np.diag(mats[k])[:, None] > np.where(off, mats[k], -np.inf)).sum(1).mean()
                / max(mats[k].shape[0] - 1, 1)
            )
        entry["displacement_offdiagonal_mean"] = float(mats["displacement"][off].mean())
    return entry


def _warnings(plan: RunPlan, merged: dict[str, dict[str, np.ndarray]]) -> list[str]:
    out = list(plan.warnings)
    for job in plan.jobs:
        data = merged[job.key]
        if data and data["saturated"].any():
            ids = data["dataset_index"][data["saturated"]].tolist()
            more = " ..." if len(ids) > 10 else ""
            out.append(
                f"{job.key}: the classification loss saturated on {len(ids)} motion(s) (dataset "
                f"indices {ids[:10]}{more}): the model is so confident that ∂Lc/∂logits vanished; "
                "try --classification-loss margin or a larger --w"
            )
        if data and data["success"].any():
            disp = float(np.nanmean(data["metric_displacement_mean"][data["success"]]))
            if disp > IMPLAUSIBLE_DISPLACEMENT:
                out.append(
                    f"{job.key}: the successful attacks move the joints by {disp:.3g} m on average: not a "
                    "perturbation of a human motion any more (check --lr and --w); these success rates "
                    "mean nothing"
                )
    return out


def merge_outputs(
    plan: RunPlan, calibration: dict[str, dict[str, Any]], world: int, notes: list[str] | None = None
) -> dict[str, Any]:
    """Write every output of a finished run from its batch files; returns results.json's content."""
    ds, cfg, out = plan.ds, plan.cfg, plan.out
    merged: dict[str, dict[str, np.ndarray]] = {}
    files: list[str] = []
    correlations: dict[str, dict[str, Any]] = {}
    corr_arrays: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    compare_data: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    header = [
        "model",
        "strategy",
        "variant",
        "dataset_index",
        "source",
        "subject",
        "label",
        "label_name",
        "target",
        "predicted",
        "predicted_name",
        "success",
        "iterations",
        "flip_iteration",
        "confidence",
        *METRIC_KEYS,
        "transfer",
    ]
    rows: list[list[Any]] = []
    st_cmp = cfg.compare_on() if cfg.compare else None
    # one job at a time: its adversarial motions are dropped once written (NTU-size runs)
    for job in plan.jobs:
        data = plan.load_job(job)
        name = _job_files(plan, job, data, rows)
        if name:
            files.append(name)
        if job.main:
            correlations.setdefault(job.model, {})[job.strategy.name] = _correlations(
                plan, job, data, files, corr_arrays
            )
        data.pop("adversarial", None)
        merged[job.key] = data
        if st_cmp is not None and job.strategy == st_cmp:
            compare_data.setdefault(job.model, {})[job.variant] = data
    write_csv(out / "samples.csv", header, rows)
    files.append("samples.csv")
    write_csv(
        out / "clean.csv",
        ["dataset_index", "label", *plan.models],
        [
            [int(d), int(y), *[int(plan.clean[k][i]) for k in plan.models]]
            for i, (d, y) in enumerate(zip(plan.sel, plan.labels, strict=True))
        ],
    )
    files.append("clean.csv")
    # -- tables ------------------------------------------------------------------------------------
    clean = {}
    for k in plan.models:
        ok = plan.clean[k] == plan.labels
        r = _rate(ok)
        clean[k] = {"accuracy": r["rate"], "ci95": [r["low"], r["high"]], "correct": r["k"], "count": r["n"]}
    classes = list(ds.class_names)
    white_box: dict[str, dict[str, Any]] = {}
    per_class: dict[str, dict[str, Any]] = {}
    timing: dict[str, Any] = {}
    for job in plan.jobs:
        timing[job.key] = _timing(merged[job.key])
        if job.main:
            white_box.setdefault(job.model, {})[job.strategy.name] = _summary(merged[job.key])
            per_class.setdefault(job.model, {})[job.strategy.name] = _per_class(merged[job.key], classes)
    transfer: dict[str, dict[str, Any]] = {}
    strategies = cfg.parsed_strategies()
    for s, targets in plan.pairs.items():
        row: dict[str, Any] = {}
        for t in targets:
            if t == s:
                row[t] = "n/a"
                continue
            by = {st.name: _transfer_cell(plan, merged[f"{s}/{st.name}"], t) for st in strategies}
            row[t] = {**by[strategies[0].name], "strategy": strategies[0].name, "strategies": by}
        transfer[s] = row
    compare: dict[str, Any] = {}
    unmatched: list[str] = []
    if st_cmp is not None:
        for key, variants in compare_data.items():
            summaries = {v: _summary(d) for v, d in variants.items()}
            if "iaa" in summaries and key in calibration:
                cal = calibration[key]
                summaries["iaa"].update(
                    epsilon=cal["epsilon"],
                    step=cal["step"],
                    calibration={
                        "motions": cal["calibration_motions"],
                        "trace": cal["trace"],
                        "smart_success_rate": cal["smart_success_rate"],
                    },
                )
                iaa, smart = summaries["iaa"]["success_rate"], cal["smart_success_rate"]
                if iaa is not None and smart is not None and iaa < smart - 1e-9:
                    step = cal["step"]
                    unmatched.append(
                        f"{key}: IAA reached {100 * iaa:.1f} % against SMART's {100 * smart:.1f} % even "
                        f"at ε = {1000 * cal['epsilon']:.0f} mm (its fixed step {1000 * step:.1f} mm × "
                        f"{cfg.attack_config().iterations} iterations bounds how far it can move): the "
                        "comparison is not at matched success; raise --iterations or --iaa-step"
                    )
            compare[key] = {
                "strategy": st_cmp.name,
                "variants": summaries,
                "paired": _paired(plan, key, variants, files),
            }
    # the clean motions' own scale, next to the deviations
    cs = M.clean_statistics(plan.motions, ds.layout, ds.fps)
    clean_motion = {k: v.as_dict() for k, v in M.describe(cs).items()}
    results: dict[str, Any] = {
        "format": "smart-workbench/results-2",
        "fingerprint": plan.fingerprint,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seed": cfg.seed,
        "config": cfg.to_dict(),
        "attack": _attack_dict(cfg),
        "versions": versions(),
        "world_size": world,
        "dataset": {
            "name": cfg.dataset,
            "split": plan.split_desc,
            "selected": int(len(plan.sel)),
            "layout": ds.layout.name,
            "fps": ds.fps,
            "frames": ds.num_frames,
            "classes": classes,
            "joint_names": list(ds.layout.joint_names),
        },
        "models": {
            k: {
                "spec": m.spec,
                "path": None if m.path is None else str(m.path),
                "sha256": m.sha256,
                "model": getattr(m.meta, "model", None) if not m.members else "ensemble",
                "members": list(m.members),
                "options": getattr(m.meta, "options", {}) if not m.members else {},
            }
            for k, m in plan.models.items()
        },
        "strategies": [s.name for s in strategies],
        "metrics": {
            m.key: {"label": m.label, "unit": m.unit, "scale": m.scale, "description": m.description}
            for m in M.METRICS
        },
        "clean": clean,
        "clean_motion": clean_motion,
        "white_box": white_box,
        "per_class": per_class,
        "transfer": transfer,
        "compare": compare,
        "correlations": correlations,
        "timing": timing,
        "warnings": _warnings(plan, merged) + unmatched + list(notes or []),
    }
    results["paper"] = paper_beside(results, plan.demo)
    files += write_report(out, results, corr_arrays)
    results["files"] = sorted(set(files + [RESULTS, "report.md", "config.json", "run.toml"]))
    write_json(out / RESULTS, results)
    return results


def _attack_dict(cfg: BatchConfig) -> dict[str, Any]:
    return cfg.attack_config().to_dict()


def merge_seeds(out: Path, config: BatchConfig, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The spread over seeds of every white-box and transfer success rate and of the metric means."""
    seeds = [r["seed"] for r in runs]
    white: dict[str, dict[str, Any]] = {}
    for m, by in runs[0]["white_box"].items():
        for s in by:
            rates = [r["white_box"][m][s]["success_rate"] for r in runs]
            vals = np.array([np.nan if v is None else v for v in rates], dtype=float)
            metr = {}
            for k in METRIC_KEYS:
                mv = np.array(
                    [
                        np.nan
                        if r["white_box"][m][s]["metrics"].get(k) is None
                        else r["white_box"][m][s]["metrics"][k]
                        for r in runs
                    ],
                    dtype=float,
                )
                metr[k] = _seed_spread(mv)
            white.setdefault(m, {})[s] = {
                "success_rate": _seed_spread(vals),
                "per_seed": rates,
                "attacked": [r["white_box"][m][s]["attacked"] for r in runs],
                "metrics": metr,
            }
    transfer: dict[str, dict[str, Any]] = {}
    for s, row in runs[0]["transfer"].items():
        for t, cell in row.items():
            if cell == "n/a":
                transfer.setdefault(s, {})[t] = "n/a"
                continue
            rates = [r["transfer"][s][t]["success_rate"] for r in runs]
            vals = np.array([np.nan if v is None else v for v in rates], dtype=float)
            transfer.setdefault(s, {})[t] = {"success_rate": _seed_spread(vals), "per_seed": rates}
    results = {
        "format": "smart-workbench/seeds-1",
        "seeds": seeds,
        "config": config.to_dict(),
        "runs": [f"seed_{s}" for s in seeds],
        "white_box": white,
        "transfer": transfer,
        "warnings": sorted({w for r in runs for w in r.get("warnings", [])}),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_seeds_report(out, results)
    write_json(out / RESULTS, results)
    return results


def _seed_spread(v: np.ndarray) -> dict[str, Any]:
    f = v[np.isfinite(v)]
    if not f.size:
        return {"mean": None, "std": None, "min": None, "max": None, "n": 0}
    return {
        "mean": float(f.mean()),
        "std": float(f.std(ddof=1)) if f.size > 1 else 0.0,
        "min": float(f.min()),
        "max": float(f.max()),
        "n": int(f.size),
    }
