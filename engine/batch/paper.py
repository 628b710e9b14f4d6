"""The published figures of Wang et al., CVPR 2021 (SMART), in one place, as the report prints them
beside ours (read from /work/shared/paper/smart-cvpr2021.md: Tables 1–4 and §4.3's timings).

Percentages as printed in the paper (0–100). Model keys are ours (``engine.models`` names).
"""

from __future__ import annotations

from typing import Any

__all__ = ["COMPARABILITY", "MODEL_NAMES", "SECONDS_PER_ITERATION", "TABLE1", "TABLE2", "TABLE3", "TABLE4",
           "paper_beside"]

#: the paper's names of our model keys
MODEL_NAMES = {"hrnn": "HRNN", "stgcn": "ST-GCN", "asgcn": "AS-GCN", "dgnn": "DGNN", "agcn": "2s-AGCN",
               "msg3d": "MSG3D", "sgn": "SGN"}

#: Table 1, success rate %: TABLE1[dataset][strategy][model]; AB (Left), AB3 and AB5 (Mid), SA (Right)
TABLE1: dict[str, dict[str, dict[str, float]]] = {
    "HDM05": {
        "ab": {"hrnn": 100.0, "stgcn": 99.57, "asgcn": 99.36, "dgnn": 96.09, "agcn": 99.18},
        "ab3": {"hrnn": 100.0, "stgcn": 93.30, "asgcn": 91.46, "dgnn": 93.55, "agcn": 83.40},
        "ab5": {"hrnn": 100.0, "stgcn": 90.28, "asgcn": 82.83, "dgnn": 86.32, "agcn": 75.2},
        "sa": {"hrnn": 67.19, "stgcn": 74.95, "asgcn": 64.62, "dgnn": 97.26, "agcn": 96.72},
    },
    "MHAD": {
        "ab": {"hrnn": 100.0, "stgcn": 99.96, "asgcn": 92.84, "dgnn": 94.46, "agcn": 95.97},
        "ab3": {"hrnn": 100.0, "stgcn": 76.86, "asgcn": 42.07, "dgnn": 87.54, "agcn": 55.9},
        "ab5": {"hrnn": 100.0, "stgcn": 70.5, "asgcn": 22.34, "dgnn": 74.27, "agcn": 32.08},
        "sa": {"hrnn": 57.41, "stgcn": 66.93, "asgcn": 40.18, "dgnn": 96.13, "agcn": 97.53},
    },
    "NTU": {
        "ab": {"hrnn": 99.56, "stgcn": 100.0, "asgcn": 97.43, "dgnn": 92.51, "agcn": 100.0},
        "ab3": {"hrnn": 99.84, "stgcn": 95.86, "asgcn": 91.18, "dgnn": 98.73, "agcn": 100.0},
        "ab5": {"hrnn": 99.62, "stgcn": 91.32, "asgcn": 82.47, "dgnn": 97.62, "agcn": 100.0},
        "sa": {"hrnn": 49.17, "stgcn": 100.0, "asgcn": 99.48, "dgnn": 99.99, "agcn": 100.0},
    },
}

#: Table 2, AB black-box success % on NTU with 2s-AGCN as the surrogate: target → %
TABLE2: dict[str, float] = {"dgnn": 98.37, "asgcn": 98.10, "msg3d": 3.08, "sgn": 97.75}

#: Table 3, black-box success % on NTU: TABLE3[strategy][surrogate][target]
TABLE3: dict[str, dict[str, dict[str, float]]] = {
    "ab": {"dgnn": {"agcn": 90.6, "asgcn": 7.24}, "agcn": {"dgnn": 98.37, "asgcn": 98.10},
           "asgcn": {"dgnn": 10.90, "agcn": 91.17}},
    "ab5": {"dgnn": {"agcn": 90.99, "asgcn": 7.63}, "agcn": {"dgnn": 98.46, "asgcn": 98.96},
            "asgcn": {"dgnn": 12.97, "agcn": 91.99}},
}

#: Table 4 (HDM05, AB): attack success % and indistinguishability % per method and model
TABLE4: dict[str, dict[str, dict[str, float]]] = {
    "success": {"hrnn": {"smart": 100.0, "iaa": 98.12, "ciasa": 98.75},
                "stgcn": {"smart": 99.57, "iaa": 99.57, "ciasa": 99.56},
                "agcn": {"smart": 99.18, "iaa": 98.77, "ciasa": 98.98}},
    "indistinguishability": {"hrnn": {"smart": 42.22, "iaa": 36.67, "ciasa": 32.22},
                             "stgcn": {"smart": 90.00, "iaa": 87.5, "ciasa": 90.00},
                             "agcn": {"smart": 80.83, "iaa": 35.33, "ciasa": 49.33}},
}

#: §4.3: seconds per iteration on a GTX 1080Ti / TitanXp
SECONDS_PER_ITERATION = {"hrnn": 0.102, "stgcn": 0.267, "asgcn": 0.419, "dgnn": 0.275, "agcn": 0.738}

COMPARABILITY = (
    "The paper's figures are beside ours for orientation, not as a like-for-like comparison: the "
    "paper's HDM05 has 65 classes (grouped as in HRNN) and a split of its own, its models are the "
    "authors' trained networks, and its transfer tables (2–3) are on NTU RGB+D. A difference of a few "
    "points says little; a qualitative disagreement (e.g. AB5 transferring worse than AB) is worth a look."
)


def _dataset_column(demo: str | None, dataset: str) -> str | None:
    name = (demo or dataset or "").lower()
    if "hdm05" in name:
        return "HDM05"
    if "mhad" in name:
        return "MHAD"
    if "ntu" in name:
        return "NTU"
    return None


def paper_beside(results: dict[str, Any], demo: str | None) -> dict[str, Any]:
    """The paper's numbers for the models and strategies of ``results`` (white-box from Table 1's
    column of the run's dataset, transfer from Table 3, the comparison from Table 4), plus the
    sentence on comparability. Models the paper does not report are left out."""
    col = _dataset_column(demo, results.get("dataset", {}).get("name", ""))
    white: dict[str, dict[str, float]] = {}
    if col:
        for m, by in results.get("white_box", {}).items():
            for s in by:
                v = TABLE1[col].get(s, {}).get(m)
                if v is not None:
                    white.setdefault(m, {})[s] = v
    transfer: dict[str, dict[str, dict[str, float]]] = {}
    for s_model, row in results.get("transfer", {}).items():
        for t in row:
            for st in results.get("strategies", []):
                v = TABLE3.get(st, {}).get(s_model, {}).get(t)
                if v is None and st == "ab" and s_model == "agcn":
                    v = TABLE2.get(t)
                if v is not None:
                    transfer.setdefault(st, {}).setdefault(s_model, {})[t] = v
    compare = {m: TABLE4["success"][m] for m in results.get("compare", {}) if m in TABLE4["success"]}
    return {"dataset_column": col, "white_box": white, "transfer": transfer, "compare": compare,
            "comparability": COMPARABILITY}
