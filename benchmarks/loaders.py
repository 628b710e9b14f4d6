"""Frames parsed per second by the AMC and BVH loaders, cold (parse + forward kinematics) and cached.

Run: ``python benchmarks/loaders.py [DATA]`` with ``DATA`` the shared data folder (default
``../shared/data`` beside the project). AMC: the HDM05 ``hdm05-amc/train`` split (189 takes at 120 Hz).
BVH: the HDM05 cartwheel take copied ``--copies`` times into class folders (one take is too small to
time). Frames are source frames (120 Hz) per second of wall time; the CPU seconds of this process are
printed beside each time (steadier than wall time on a shared machine). The cache lives in a temporary
folder.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import datasets  # noqa: E402


def _time(fn, repeat: int = 1):
    """``(best wall seconds, CPU seconds of that run, result)`` over ``repeat`` runs."""
    best, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = time.perf_counter() - t0
        if wall < best:
            best, cpu = wall, time.process_time() - c0
    return best, cpu, out


def bench(name: str, loader, path: Path, cache_dir: Path, repeat: int) -> None:
    cold, cold_cpu, ds = _time(lambda: loader(path, cache=False), repeat)
    frames = ds.info["source_frames"]
    first, _, _ = _time(lambda: loader(path, cache_dir=cache_dir))
    cached, cached_cpu, again = _time(lambda: loader(path, cache_dir=cache_dir), max(repeat, 3))
    if "cache" not in again.info:
        raise RuntimeError("the second load did not come from the cache")
    print(
        f"{name:4s} {ds.info['takes']:4d} takes {frames:7d} frames | "
        f"cold {frames / cold:10,.0f} frames/s ({cold:6.3f} s, CPU {cold_cpu:6.3f} s) | "
        f"first with cache write {first:6.3f} s | "
        f"cached {frames / cached:12,.0f} frames/s ({cached:6.3f} s, CPU {cached_cpu:6.3f} s) | "
        f"speed-up x{cold / cached:5.1f}"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--copies", type=int, default=40, help="copies of the cartwheel BVH (default 40)")
    ap.add_argument("--repeat", type=int, default=1, help="cold runs; the best is reported")
    args = ap.parse_args(argv)
    data = Path(args.data)
    amc = data / "hdm05-amc" / "train"
    bvh = data / "hdm05-bvh" / "HDM_bd_cartwheelLHandStart1Reps_001_120.bvh"
    if not amc.is_dir() or not bvh.is_file():
        print(f"real data not found under {data}; give the shared data folder as argument", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bench("AMC", datasets.load_amc_folder, amc, tmp / "cache-amc", args.repeat)
        folder = tmp / "bvh"
        for k in range(args.copies):
            d = folder / f"{k % 4 + 1}"
            d.mkdir(parents=True, exist_ok=True)
            shutil.copy(bvh, d / f"HDM_bd_cartwheelLHandStart1Reps_{k + 1:03d}_120.bvh")
        bench("BVH", datasets.load_bvh_folder, folder, tmp / "cache-bvh", args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
