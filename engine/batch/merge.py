"""Rank 0's merge: batch files → per-job sample files, samples.csv, the tables of results.json, the
correlation analysis and the report. ``results.json`` is written last: its presence marks a
finished run."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import metrics as M
from .files import write_csv, write_json, write_npz
from .report import write_report

if TYPE_CHECKING:
    from .runner import _Job, _Runner

__all__ = ["merge_outputs"]

METRIC_KEYS = ("displacement_mean", "displacement_max", "bone_abs_mean", "bone_abs_max", "bone_rel_mean",
               "bone_rel_max", "velocity_dev", "acceleration_dev", "jerk_dev")


def _rate(mask: np.ndarray) -> float | None:
    return float(mask.mean()) if mask.size else None


def _summary(data: dict[str, np.ndarray]) -> dict[str, Any]:
    if not data:
        return {"success_rate": None, "attacked": 0, "succeeded": 0, "mean_iterations": None,
                "metrics": {}, "saturated": 0}
    s = data["success"]
    metrics = {k[7:]: data[k] for k in data if k.startswith("metric_")}
    it = data["flip_iteration"][s]
    return {
        "success_rate": _rate(s), "attacked": int(s.size), "succeeded": int(s.sum()),
        "mean_iterations": float(it.mean()) if it.size else None,
        "metrics": M.summarize(metrics, s) if s.any() else {k: None for k in metrics},
        "saturated": int(data["saturated"].sum()),
    }


def _transfer_cell(r: _Runner, data: dict[str, np.ndarray], target: str) -> dict[str, Any]:
    if not data:
        return {"success_rate": None, "success_rate_all": None, "clean_accuracy": None, "count": 0,
                "clean_correct": 0}
    j = [str(t) for t in data["transfer_targets"]].index(target)
    fooled = data["success"]
    pos = data["positions"]
    clean_ok = r.clean[target][pos] == data["labels"]
    goal = data["transfer_goal"][j]
    both = fooled & clean_ok
    return {
        "success_rate": _rate(goal[both]),
        "success_rate_all": _rate(goal[fooled]),
        "clean_accuracy": _rate(clean_ok[fooled]),
        "count": int(fooled.sum()),
        "clean_correct": int(both.sum()),
    }


def merge_outputs(r: _Runner) -> dict[str, Any]:
    ds, cfg, out = r.ds, r.cfg, r.out
    # one job at a time: its adversarial motions are dropped once written (NTU-size runs)
    merged: dict[str, dict[str, np.ndarray]] = {}
    files: list[str] = []
    correlations: dict[str, dict[str, Any]] = {}
    corr_arrays: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    # -- per-job sample files and the CSV ---------------------------------------------------------
    header = ["model", "strategy", "variant", "dataset_index", "source", "subject", "label", "label_name",
              "target", "predicted", "predicted_name", "success", "iterations", "flip_iteration",
              "confidence", *METRIC_KEYS, "transfer"]
    rows: list[list[Any]] = []
    for job in r.jobs:
        data = r.merged(job)
        name = f"samples/{job.dirname}.npz"
        if data:
            idx = data["dataset_index"]
            write_npz(out / name, adversarial=data["adversarial"], original=ds.motions[idx],
                      dataset_index=idx, labels=data["labels"], predicted=data["predicted"],
                      targets=data["targets"], success=data["success"], iterations=data["iterations"],
                      flip_iteration=data["flip_iteration"], confidence=data["confidence"],
                      class_names=np.array(ds.class_names), layout=ds.layout.name, fps=ds.fps,
                      transfer_targets=data["transfer_targets"],
                      transfer_predicted=data["transfer_predicted"], transfer_goal=data["transfer_goal"],
                      **{k: data[k] for k in data if k.startswith("metric_")})
            files.append(name)
            tt = [str(t) for t in data["transfer_targets"]]
            for i in range(len(idx)):
                d = int(idx[i])
                tp, tg = data["transfer_predicted"], data["transfer_goal"]
                tr = ";".join(f"{t}:{int(tp[j, i])}:{int(tg[j, i])}" for j, t in enumerate(tt))
                rows.append([job.model, job.strategy.name, job.variant, d, ds.sources[d],
                             ds.subjects[d] or "",
                             int(data["labels"][i]), ds.class_names[int(data["labels"][i])],
                             int(data["targets"][i]), int(data["predicted"][i]),
                             ds.class_names[int(data["predicted"][i])], int(data["success"][i]),
                             int(data["iterations"][i]), int(data["flip_iteration"][i]),
                             float(data["confidence"][i]),
                             *[float(data[f"metric_{k}"][i]) for k in METRIC_KEYS], tr])
        if job.main:
            correlations.setdefault(job.model, {})[job.strategy.name] = _correlations(r, job, data, files,
                                                                                      corr_arrays)
        data.pop("adversarial", None)
        merged[job.key] = data
    write_csv(out / "samples.csv", header, rows)
    files.append("samples.csv")
    # clean predictions of every model on the selection
    write_csv(out / "clean.csv", ["dataset_index", "label", *r.models],
              [[int(d), int(y), *[int(r.clean[k][i]) for k in r.models]]
               for i, (d, y) in enumerate(zip(r.sel, r.labels, strict=True))])
    files.append("clean.csv")
    # -- tables ------------------------------------------------------------------------------------
    clean = {}
    for k in r.models:
        ok = r.clean[k] == r.labels
        clean[k] = {"accuracy": float(ok.mean()), "correct": int(ok.sum()), "count": int(ok.size)}
    white_box: dict[str, dict[str, Any]] = {}
    for job in r.jobs:
        if job.main:
            white_box.setdefault(job.model, {})[job.strategy.name] = _summary(merged[job.key])
    transfer: dict[str, dict[str, Any]] = {}
    primary = cfg.parsed_strategies()[0]
    for s, targets in r.pairs.items():
        row: dict[str, Any] = {}
        for t in targets:
            if t == s:
                row[t] = "n/a"
                continue
            by = {st.name: _transfer_cell(r, merged[f"{s}/{st.name}"], t) for st in cfg.parsed_strategies()}
            row[t] = {**by[primary.name], "strategy": primary.name, "strategies": by}
        transfer[s] = row
    compare: dict[str, Any] = {}
    if cfg.compare:
        st = cfg.compare_on()
        for m in cfg.attacked_models:
            key = r.keys[m]
            variants = {}
            for job in r.jobs:
                if job.model == key and job.strategy == st:
                    variants[job.variant] = _summary(merged[job.key])
            if "iaa" in variants and key in r.calibration:
                cal = r.calibration[key]
                variants["iaa"].update(
                    epsilon=cal["epsilon"], step=cal["step"],
                    calibration={"motions": cal["calibration_motions"], "trace": cal["trace"],
                                 "smart_success_rate": cal["smart_success_rate"]})
            compare[key] = {"strategy": st.name, "variants": variants}
    results: dict[str, Any] = {
        "format": "smart-workbench/results-1",
        "fingerprint": r.fingerprint,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seed": cfg.seed,
        "config": cfg.to_dict(),
        "versions": _versions_of(r),
        "world_size": r.ctx.world,
        "dataset": {"name": cfg.dataset, "split": r.split_desc, "selected": int(len(r.sel)),
                    "layout": ds.layout.name, "fps": ds.fps, "frames": ds.num_frames,
                    "classes": list(ds.class_names)},
        "models": {k: {"spec": m.spec, "path": str(m.path), "sha256": m.sha256, "model": m.meta.model,
                       "options": m.meta.options} for k, m in r.models.items()},
        "strategies": [s.name for s in cfg.parsed_strategies()],
        "clean": clean,
        "white_box": white_box,
        "transfer": transfer,
        "compare": compare,
        "correlations": correlations,
        "warnings": _warnings(r, merged),
    }
    files += write_report(out, results, corr_arrays)
    results["files"] = sorted(files + ["results.json", "report.md", "config.json", "run.toml"])
    write_json(out / "results.json", results)
    return results


def _versions_of(r: _Runner) -> dict[str, str]:
    from .runner import _versions

    return _versions()


def _correlations(r: _Runner, job: _Job, data: dict[str, np.ndarray], files: list[str],
                  corr_arrays: dict[tuple[str, str], dict[str, np.ndarray]]) -> dict[str, Any]:
    """Figure 3: correlations over the successful adversarial motions of one job."""
    ds, out = r.ds, r.out
    entry: dict[str, Any] = {"motions": 0, "file": None}
    if data and int(data["success"].sum()) >= 2:
        s = data["success"]
        orig = ds.motions[data["dataset_index"][s]]
        mats = M.correlation_matrices(orig, data["adversarial"][s], ds.fps)
        name = f"correlations/{job.dirname}.npz"
        write_npz(out / name, **mats)
        files.append(name)
        corr_arrays[(job.model, job.strategy.name)] = mats
        off = ~np.eye(mats["speed"].shape[0], dtype=bool)
        entry = {"motions": int(s.sum()), "file": name}
        for k in ("speed", "acceleration"):
            entry[f"{k}_diagonal_mean"] = float(np.diag(mats[k]).mean())
            entry[f"{k}_offdiagonal_mean"] = float(mats[k][off].mean())
        entry["displacement_offdiagonal_mean"] = float(mats["displacement"][off].mean())
    return entry


def _warnings(r: _Runner, merged: dict[str, dict[str, np.ndarray]]) -> list[str]:
    out = []
    for job in r.jobs:
        data = merged[job.key]
        if data and data["saturated"].any():
            ids = data["dataset_index"][data["saturated"]].tolist()
            more = " ..." if len(ids) > 10 else ""
            out.append(f"{job.key}: the classification loss saturated on {len(ids)} motion(s) (dataset "
                       f"indices {ids[:10]}{more}): the model is so confident that ∂Lc/∂logits vanished; "
                       "try --classification-loss margin or a larger --w")
    return out
