"""``smart-attack``: dataset-scale SMART runs from the shell (no Qt here).

    smart-attack --dataset demo --surrogate mlp --targets stgcn --strategy ab --limit 16 --out runs/demo
    smart-attack --dataset demo --models mlp stgcn hrnn --strategy ab ab3 ab5 sa --out runs/table1
    smart-attack --dataset demo --models mlp stgcn hrnn --transfer --strategy ab ab5 --out runs/table3
    smart-attack --dataset demo --models mlp --compare --out runs/compare
    smart-attack --config run.toml --device cuda
    torchrun --standalone --nproc_per_node 4 -m workbench.cli --config run.toml --device cuda

``--dataset`` is ``demo``, ``hdm05-demo`` or a path :func:`engine.datasets.load` reads; a model is a
checkpoint path or the name of a shipped demo checkpoint (``mlp``, ``stgcn``, ...). ``--split``
defaults to the demo's held-out subjects for the demos and to all motions otherwise. Re-running
the same command resumes an interrupted run; a finished one is not redone. Options given on the
command line override those of ``--config``. See docs/batch.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="smart-attack", description=(__doc__ or "").split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    S = argparse.SUPPRESS  # absent options stay absent, so --config values are not overridden
    ap.add_argument("--config", help="TOML file holding any of these options (keys as below, '-' or '_')")
    ap.add_argument("--dataset", default=S, help="demo | hdm05-demo | PATH")
    ap.add_argument("--models", "--model", nargs="+", default=S, dest="models",
                    help="checkpoints attacked white-box (path or shipped demo name)")
    ap.add_argument("--surrogate", "--surrogates", nargs="+", default=S, dest="surrogates",
                    help="black-box: checkpoint(s) the attack is computed on")
    ap.add_argument("--targets", nargs="+", default=S, help="black-box: checkpoints the attacks are sent to")
    ap.add_argument("--transfer", action="store_true", default=S,
                    help="with several --models: the full surrogate x target matrix (Table 3)")
    ap.add_argument("--strategy", "--strategies", nargs="+", default=S, dest="strategies",
                    help="ab, abn (N = --top-n), ab3, ab5, ..., sa (random targets, never the clean label)")
    ap.add_argument("--top-n", type=int, default=S, help="N of 'abn' (default 3)")
    ap.add_argument("--sa-target", type=int, default=S, help="SA: one target class for every motion")
    ap.add_argument("--w", type=float, default=S, help="weight of the classification loss (default 0.4)")
    ap.add_argument("--alpha", type=float, default=S, help="weight of l_dyn in Lp (default 0.3)")
    ap.add_argument("--betas", type=float, nargs="+", default=S, help="β0..β4 (default 0.6 0 0.4 0 0)")
    ap.add_argument("--lr", type=float, default=S, help="Adam learning rate in metres (default 0.005)")
    ap.add_argument("--iterations", type=int, default=S, help="iteration budget (default 300)")
    ap.add_argument("--perceptual", default=S, help="smart | l2 | l2_acc | l2_bone (default smart)")
    ap.add_argument("--classification-loss", default=S, help="ce | margin (default ce)")
    ap.add_argument("--confidence", type=float, default=S, help="κ of the margin loss")
    ap.add_argument("--device", default=S, help="cpu | cuda | cuda:N | auto (default cpu)")
    ap.add_argument("--batch-size", type=int, default=S, help="motions attacked at once (default 32)")
    ap.add_argument("--limit", type=int, default=S, help="at most this many motions (a seeded random choice)")
    ap.add_argument("--split", choices=("val", "all"), default=S,
                    help="val: the demo's held-out subjects (default for demos) or --val-subjects; all")
    ap.add_argument("--val-subjects", nargs="+", default=S, help="subjects of the 'val' split")
    ap.add_argument("--seed", type=int, default=S)
    ap.add_argument("--compare", action="store_true", default=S,
                    help="also l2 / l2_acc / l2_bone and the IAA-style baseline at matched success")
    ap.add_argument("--compare-strategy", default=S, help="strategy of --compare (default: the first)")
    ap.add_argument("--threads", type=int, default=S, help="torch CPU threads")
    ap.add_argument("--out", default=S, help="output folder (default runs/smart)")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    ap.add_argument("--list", action="store_true", help="list demos and their shipped checkpoints and exit")
    return ap


def _fmt_time(s: float | None) -> str:
    if s is None or s != s or s == float("inf"):
        return "--:--"
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class _Bar:
    """Progress on stderr: a live line on a terminal, a line every few seconds otherwise."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last = 0.0
        self.width = 0

    def __call__(self, p: Any) -> None:
        now = time.monotonic()
        final = p.done >= p.total
        if now - self.last < (0.2 if self.tty else 5.0) and not final:
            return
        self.last = now
        frac = p.done / p.total if p.total else 1.0
        filled = int(24 * frac)
        rate = f"{100 * p.success_rate:.1f}%" if p.attacked else "-"
        rank = f"rank {p.rank}/{p.world} " if p.world > 1 else ""
        text = (f"{rank}[{'#' * filled}{'.' * (24 - filled)}] {p.done}/{p.total} motions  success {rate}  "
                f"elapsed {_fmt_time(p.elapsed)}  ETA {_fmt_time(p.eta)}  {p.job}"
                + (f" ({p.phase})" if p.phase != "attack" else ""))
        if self.tty:
            pad = max(0, self.width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self.width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.width:
            self.stream.write("\n")
            self.stream.flush()


def build_config(argv: list[str] | None = None):
    """``(BatchConfig, quiet)`` from the command line (and its ``--config`` file)."""
    from engine.batch import BatchConfig, read_toml

    args = vars(_parser().parse_args(argv))
    quiet = args.pop("quiet")
    args.pop("list")
    values: dict[str, Any] = {}
    path = args.pop("config", None)
    if path:
        values.update(read_toml(path))
    values.update({k: v for k, v in args.items()})
    return BatchConfig.from_mapping(values, where=path or "options"), quiet


def _list() -> int:
    from engine.demo import demo_models, demo_names

    for d in demo_names():
        print(f"demo {d}: shipped checkpoints {demo_models(d)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if "--list" in raw:
        return _list()
    from engine.batch import run_batch

    try:
        config, quiet = build_config(raw)
    except ValueError as exc:  # WorkbenchError is a ValueError
        print(f"smart-attack: error: {exc}", file=sys.stderr)
        return 2
    is_main = int(os.environ.get("RANK", "0") or 0) == 0
    bar = None if quiet or not is_main else _Bar()
    try:
        summary = run_batch(config, progress=bar)
    except ValueError as exc:
        if bar:
            bar.close()
        print(f"smart-attack: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if bar:
            bar.close()
        print(f"\nsmart-attack: interrupted; run the same command again to resume ({config.out})",
              file=sys.stderr)
        return 130
    if bar:
        bar.close()
    if summary.results is None:  # a rank other than 0: rank 0 reports
        return 0
    if summary.already_finished:
        print(f"{config.out}: this run is already complete (results.json); nothing to do", file=sys.stderr)
    _print_summary(summary)
    return 0


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _print_summary(summary) -> None:
    res = summary.results
    out = summary.out
    for w in summary.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"results: {out / 'results.json'}   report: {out / 'report.md'}")
    for m, by in res["white_box"].items():
        cells = ", ".join(f"{s.upper()} {_pct(e['success_rate'])} of {e['attacked']}" for s, e in by.items())
        print(f"  white-box {m}: {cells}")
    for s, row in res["transfer"].items():
        for t, e in row.items():
            if e == "n/a":
                continue
            print(f"  transfer {s} -> {t} ({e['strategy'].upper()}): success {_pct(e['success_rate'])} "
                  f"of the {e['count']} motions that fooled {s} (clean accuracy of {t} on them "
                  f"{_pct(e['clean_accuracy'])})")


if __name__ == "__main__":  # python -m workbench.cli (torchrun -m workbench.cli ...)
    sys.exit(main())
