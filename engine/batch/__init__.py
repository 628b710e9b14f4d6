"""Dataset-scale SMART runs (paper §4): the engine side of ``smart-attack``.

``run_batch(BatchConfig(dataset='demo', surrogates=('mlp',), targets=('stgcn',), limit=16,
out='runs/demo'))`` evaluates every model on the selected motions, attacks the correctly classified
ones in batches (white-box per model and strategy; transferred to the targets for black-box), and
writes to ``out``:

* ``results.json`` -- ``white_box[model][strategy]`` (success_rate 0–1, attacked, succeeded,
  metrics...), ``transfer[surrogate][target]`` (success_rate on the target of the motions that fooled
  the surrogate, clean_accuracy of the target on them, count; ``"n/a"`` on the diagonal),
  ``compare``, ``correlations``, ``clean``, the exact ``config``, ``versions`` and ``seed``;
  written last, it marks a finished run;
* ``samples/<model>__<strategy>__<variant>.npz`` (adversarial and original motions, labels before
  and after, per-sample metrics), ``samples.csv`` and ``clean.csv``;
* ``report.md`` with ``figures/*.png``; ``correlations/*.npz`` (Figure 3 matrices);
* ``config.json`` / ``run.toml`` (the settings; ``--config run.toml`` reruns them) and ``work/``
  (per-batch files that make an interrupted run resumable).

Under ``torchrun`` each rank attacks its share of the batches on its own device and rank 0 merges.
No Qt here.
"""

from .config import BatchConfig, Strategy, parse_strategy, read_toml, to_toml
from .runner import FORMAT, RESULTS, BatchProgress, RunSummary, run_batch, sa_targets

__all__ = ["FORMAT", "RESULTS", "BatchConfig", "BatchProgress", "RunSummary", "Strategy", "parse_strategy",
           "read_toml", "run_batch", "sa_targets", "to_toml"]
