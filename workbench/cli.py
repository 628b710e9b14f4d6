"""``smart-attack``: dataset-scale SMART runs from the shell (no Qt here).

    smart-attack --dataset demo --surrogate mlp --targets stgcn --strategy ab --limit 16 --out runs/demo
    smart-attack --dataset demo --models mlp stgcn hrnn --strategy ab ab3 ab5 sa --out runs/table1
    smart-attack --dataset demo --models mlp stgcn hrnn --transfer --strategy ab ab5 --out runs/table3
    smart-attack --dataset demo --models mlp --compare --out runs/compare
    smart-attack --dataset hdm05-demo --models paper --transfer --strategy ab ab3 ab5 sa --out runs/paper
    smart-attack --dataset demo --surrogate mlp hrnn --ensemble --targets stgcn --out runs/ensemble
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
from typing import Any

__all__ = ["main"]


def _nonneg_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return v


def _pos_int(text: str) -> int:
    v = _nonneg_int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return v


def _parser() -> argparse.ArgumentParser:
    from engine.attack import PRESETS, AttackConfig

    d = AttackConfig()  # the defaults (the natural preset) exist there and nowhere else
    ap = argparse.ArgumentParser(prog="smart-attack", description=(__doc__ or "").split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    S = argparse.SUPPRESS  # absent options stay absent, so --config values are not overridden
    ap.add_argument("--config", help="TOML file holding any of these options (keys as below, '-' or '_')")
    ap.add_argument("--dataset", default=S, help="demo | hdm05-demo | PATH")
    ap.add_argument("--models", "--model", nargs="+", default=S, dest="models",
                    help="checkpoints attacked white-box (path or shipped demo name); 'paper': the paper's "
                         "seven recognizers (hrnn stgcn asgcn dgnn agcn msg3d sgn) that the demo ships")
    ap.add_argument("--surrogate", "--surrogates", nargs="+", default=S, dest="surrogates",
                    help="black-box: checkpoint(s) the attack is computed on")
    ap.add_argument("--targets", nargs="+", default=S, help="black-box: checkpoints the attacks are sent to")
    ap.add_argument("--ensemble", action="store_true", default=S,
                    help="attack the surrogates together (the mean of their logits) instead of one by one")
    ap.add_argument("--transfer", action="store_true", default=S,
                    help="with several --models: the full surrogate x target matrix (Table 3)")
    ap.add_argument("--strategy", "--strategies", nargs="+", default=S, dest="strategies",
                    help="ab, abn (N = --top-n), ab3, ab5, ..., sa (random targets, never the clean label)")
    ap.add_argument("--preset", choices=sorted(PRESETS), default=S,
                    help="the attack's settings: natural (the default) or paper (the published protocol); "
                         "the options below override single settings")
    ap.add_argument("--top-n", type=_pos_int, default=S, help=f"N of 'abn' (default {d.top_n})")
    ap.add_argument("--sa-target", type=_nonneg_int, default=S,
                    help="SA: one target class for every motion (needs --strategy sa)")
    ap.add_argument("--w", type=float, default=S, help=f"weight of the classification loss (default {d.w})")
    ap.add_argument("--alpha", type=float, default=S, help=f"weight of l_dyn in Lp (default {d.alpha})")
    ap.add_argument("--betas", type=float, nargs="+", default=S,
                    help=f"β0..β4 (default {' '.join(f'{b:g}' for b in d.betas)})")
    ap.add_argument("--lr", type=float, default=S, help=f"Adam learning rate in metres (default {d.lr})")
    ap.add_argument("--iterations", type=_nonneg_int, default=S,
                    help=f"iteration budget (default {d.iterations})")
    ap.add_argument("--perceptual", default=S, help=f"smart | l2 | l2_acc | l2_bone (default {d.perceptual})")
    ap.add_argument("--classification-loss", default=S,
                    help=f"ce | margin (default {d.classification_loss})")
    ap.add_argument("--confidence", type=float, default=S,
                    help=f"κ of the margin loss: the margin kept past success (default {d.confidence})")
    ap.add_argument("--stop-on-success", action=argparse.BooleanOptionalAction, default=S,
                    help=f"stop a motion at its first success (default {d.stop_on_success})")
    ap.add_argument("--smoothing", type=float, default=S,
                    help=f"σ in frames of the temporal preconditioner, 0: none (default {d.smoothing})")
    ap.add_argument("--adam-beta2", type=float, default=S,
                    help=f"Adam's β₂ (default {d.adam_beta2}; 0.999 under the paper preset)")
    ap.add_argument("--device", default=S, help="cpu | cuda | cuda:N | auto (default cpu)")
    ap.add_argument("--batch-size", type=_pos_int, default=S, help="motions attacked at once (default 32)")
    ap.add_argument("--limit", type=_pos_int, default=S,
                    help="at most this many motions (a seeded random choice)")
    ap.add_argument("--split", choices=("val", "all"), default=S,
                    help="val: the demo's held-out subjects (default for demos) or --val-subjects; all")
    ap.add_argument("--val-subjects", nargs="+", default=S, help="subjects of the 'val' split")
    ap.add_argument("--seed", type=_nonneg_int, default=S, help="seed of the attack, --limit and SA targets")
    ap.add_argument("--seeds", type=_pos_int, default=S,
                    help="repeat the run with K seeds (seed … seed+K−1) and report the spread")
    ap.add_argument("--compare", action="store_true", default=S,
                    help="also l2 / l2_acc / l2_bone and the IAA-style baseline at matched success, paired")
    ap.add_argument("--compare-strategy", default=S, help="strategy of --compare (default: the first)")
    ap.add_argument("--iaa-calibration", type=_pos_int, default=S,
                    help="motions IAA's ε is bisected on (default: all the job's motions)")
    ap.add_argument("--iaa-bisections", type=_nonneg_int, default=S, help="bisection steps of IAA's ε (6)")
    ap.add_argument("--iaa-step", type=float, default=S, help="IAA's fixed step in metres")
    ap.add_argument("--threads", type=_pos_int, default=S, help="torch CPU threads")
    ap.add_argument("--out", default=S, help="output folder (default runs/smart)")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    ap.add_argument("--list", action="store_true", help="list demos and their shipped checkpoints and exit")
    return ap


class _Bar:
    """Progress through tqdm on stderr: motions of the attack, and the iterations of the batch (or of
    the IAA ε calibration's trial) on a second line."""

    def __init__(self, stream=None) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.every = 0.5 if self.tty else 10.0  # a log file gets a line every 10 s, not every redraw
        self.main = None
        self.inner = None
        self.key = None
        self.phase = None

    def __call__(self, p: Any) -> None:
        if self.main is None:
            rank = f"rank {p.rank}/{p.world} " if p.world > 1 else ""
            self.main = self._tqdm(total=p.total, desc=f"{rank}motions", unit="motion", file=self.stream,
                                   dynamic_ncols=True, mininterval=self.every)
        if p.done > self.main.n:
            self.main.update(p.done - self.main.n)
        rate = f"{100 * p.success_rate:.1f}%" if p.attacked else "-"
        self.main.set_postfix_str(f"success {rate}  {p.job}", refresh=False)
        if p.iterations and self.tty:  # the iterations only on a terminal
            desc = p.phase if p.phase != "attack" else "iterations"
            if self.inner is None or self.key != (p.job, p.phase, p.iterations):
                if self.inner is not None:
                    self.inner.close()
                self.inner = self._tqdm(total=p.iterations, desc=desc, unit="it", file=self.stream,
                                        leave=False, position=1, dynamic_ncols=True, mininterval=self.every)
                self.key = (p.job, p.phase, p.iterations)
            if p.iteration < self.inner.n:
                self.inner.reset(total=p.iterations)
            self.inner.update(p.iteration - self.inner.n)
        elif p.phase != "attack" and p.phase != self.phase:  # a log gets one line per phase (IAA trial)
            self.main.write(f"{p.job}: {p.phase}", file=self.stream)
        self.phase = p.phase

    def close(self) -> None:
        for bar in (self.inner, self.main):
            if bar is not None:
                bar.close()
        self.inner = self.main = None


def build_config(argv: list[str] | None = None):
    """``(BatchConfig, quiet)`` from the command line (and its ``--config`` file): every value of the
    file is checked against its key's type, naming the file."""
    from engine.batch import BatchConfig, read_toml

    args = vars(_parser().parse_args(argv))
    quiet = args.pop("quiet")
    args.pop("list")
    values: dict[str, Any] = {}
    path = args.pop("config", None)
    if path:
        values.update(BatchConfig.normalise_keys(read_toml(path), where=str(path)))
    values.update(BatchConfig.normalise_keys(args, where="command line"))
    where = f"{path} with the command line" if path and args else (str(path) if path else "command line")
    return BatchConfig.from_mapping(values, where=where), quiet


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
    if is_main:
        for w in config.warnings():
            print(f"smart-attack: warning: {w}", file=sys.stderr)
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
    for f in summary.recomputed:
        print(f"smart-attack: {f} was unreadable (damaged); computed it again", file=sys.stderr)
    _print_summary(summary)
    return 0


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _ci(e: dict) -> str:
    lo, hi = (e.get("ci95") or [None, None])[:2]
    return "" if lo is None else f" [95% CI {_pct(lo)}-{_pct(hi)}]"


def _print_summary(summary) -> None:
    res = summary.results
    out = summary.out
    for w in summary.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"results: {out / 'results.json'}   report: {out / 'report.md'}")
    if "seeds" in res:  # --seeds K: the spread over the seeds
        for m, by in res["white_box"].items():
            cells = ", ".join(f"{s.upper()} {_pct(e['success_rate']['mean'])} ± "
                              f"{_pct(e['success_rate']['std'])}"
                              for s, e in by.items() if e["success_rate"]["mean"] is not None)
            print(f"  white-box {m} over seeds {res['seeds']}: {cells}")
        return
    for m, by in res["white_box"].items():
        cells = ", ".join(f"{s.upper()} {_pct(e['success_rate'])}{_ci(e)} of {e['attacked']}"
                          for s, e in by.items())
        print(f"  white-box {m}: {cells}")
    for s, row in res["transfer"].items():
        for t, e in row.items():
            if e == "n/a":
                continue
            print(f"  transfer {s} -> {t} ({e['strategy'].upper()}): success "
                  f"{_pct(e['success_rate'])}{_ci(e)} "
                  f"of the {e['clean_correct']} motions that fooled {s} and that {t} classifies correctly")
    for m, c in res.get("compare", {}).items():
        p = c["paired"]
        print(f"  compare {m}: {p['common']} of {p['attacked']} motions fooled every method "
              f"({', '.join(p['methods'])}); pairs in {p.get('pairs_file', '-')}")


if __name__ == "__main__":  # python -m workbench.cli (torchrun -m workbench.cli ...)
    sys.exit(main())
