"""Dataset-scale SMART runs (paper §4): the engine side of ``smart-attack``.

``run_batch(BatchConfig(dataset='demo', surrogates=('mlp',), targets=('stgcn',), limit=16,
out='runs/demo'))`` evaluates every model on the selected motions, attacks the correctly classified
ones in batches (white-box per model and strategy; transferred to the targets for black-box), and
writes to ``out``:

* ``results.json`` -- ``white_box[model][strategy]`` (success_rate 0–1 with its 95 % Wilson
  interval ``ci95``, attacked, succeeded, metric means and ``spread`` (median, IQR, std, n)),
  ``per_class``, ``transfer[surrogate][target]``, ``compare`` (paired on the motions where every
  method succeeded), ``correlations``, ``clean``, ``clean_motion``, ``timing``, ``paper`` (the
  paper's figures beside ours), the exact ``config``, ``versions`` and ``seed``; written last, it
  marks a finished run;
* ``samples/<model>__<strategy>__<variant>.npz``, ``samples.csv``, ``clean.csv``,
  ``compare/<model>_pairs.csv``;
* ``report.md`` with ``figures/*.png`` (and ``.pdf`` / ``.svg``); ``correlations/*.npz``;
* ``config.json`` / ``run.toml`` and ``work/`` (per-batch files that make a run resumable).

Under ``torchrun`` each rank attacks its share of the batches on its own device and rank 0 merges.
The plan (public job / run types) is :mod:`engine.batch.plan`. No Qt here.
"""

from .config import PAPER_MODELS, BatchConfig, Strategy, parse_strategy, read_toml, to_toml
from .plan import FORMAT, RESULTS, Ensemble, Job, RunPlan, make_plan, sa_targets
from .runner import BatchProgress, RunSummary, run_batch

__all__ = ["FORMAT", "PAPER_MODELS", "RESULTS", "BatchConfig", "BatchProgress", "Ensemble", "Job", "RunPlan",
           "RunSummary", "Strategy", "make_plan", "parse_strategy", "read_toml", "run_batch", "sa_targets",
           "to_toml"]
