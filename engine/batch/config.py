"""The settings of a dataset-scale run (:class:`BatchConfig`), strategies by name, and TOML in/out."""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from ..attack.config import AttackConfig
from ..errors import WorkbenchError

__all__ = ["BatchConfig", "Strategy", "parse_strategy", "read_toml", "to_toml"]

SPLITS = ("val", "all")
COMPARE_VARIANTS = ("l2", "l2_acc", "l2_bone", "iaa")


@dataclass(frozen=True)
class Strategy:
    """A strategy as the tables name it: ``name`` 'ab' / 'ab3' / 'ab5' / 'sa'; ``kind`` the attack's
    strategy ('ab', 'abn', 'sa'); ``top_n`` N of ABN."""

    name: str
    kind: str
    top_n: int = 1

    @property
    def label(self) -> str:
        return self.name.upper()


def parse_strategy(text: str, top_n: int = 3) -> Strategy:
    """``'ab'``, ``'abn'`` (N = ``top_n``), ``'ab3'``/``'ab5'``/``'abN'``, ``'sa'`` → :class:`Strategy`."""
    t = str(text).strip().lower()
    if t == "ab" or t == "ab1":
        return Strategy("ab", "ab", 1)
    if t == "sa":
        return Strategy("sa", "sa", 1)
    if t == "abn":
        if top_n < 2:
            raise ValueError(f"strategy 'abn' needs top_n >= 2, got {top_n}")
        return Strategy(f"ab{top_n}", "abn", top_n)
    m = re.fullmatch(r"ab(\d+)", t)
    if m:
        return Strategy(t, "abn", int(m.group(1)))
    raise ValueError(f"unknown strategy {text!r}: use ab, abn (with top_n), ab3, ab5, ... or sa")


def _tuple(v: Any) -> tuple:
    if v is None:
        return ()
    if isinstance(v, str):
        return (v,)
    return tuple(v)


@dataclass(frozen=True)
class BatchConfig:
    """Everything one ``smart-attack`` run needs; checked when built (``ValueError`` names the field).

    dataset: ``'demo'``, ``'hdm05-demo'`` or a path :func:`engine.datasets.load` reads.
    models: checkpoints attacked white-box (a path or a shipped demo model name such as ``'mlp'``).
    surrogates / targets: black-box by transfer: every surrogate is attacked white-box and its
        adversarial motions are evaluated on every target (``surrogate == target`` is n/a).
    transfer: with several ``models``: the full model × model transfer matrix (Table 3).
    strategies: ``'ab'``, ``'abn'`` (``top_n``), ``'ab3'``, ``'ab5'``, ``'sa'`` (random targets, never the
        clean label, seeded per motion; or ``sa_target`` for all).
    w, alpha, betas, lr, iterations, perceptual, classification_loss, confidence: the
        :class:`engine.attack.AttackConfig` settings (defaults: the paper's).
    device: ``'cpu'``, ``'cuda'`` (under torchrun: ``cuda:LOCAL_RANK``), ``'cuda:1'``, ``'auto'``.
    batch_size: motions attacked at once; limit: at most this many motions of the split (a seeded
        random choice, kept in dataset order); split: ``'val'`` (the demo's held-out subjects, or
        ``val_subjects``) or ``'all'``; ``None`` = ``'val'`` for the demos or when ``val_subjects``
        is given, ``'all'`` otherwise.
    compare: also attack with the l2 / l2_acc / l2_bone losses and the IAA-style baseline (its ε
        bisected until its success rate matches SMART's) for ``compare_strategy`` (default: the first).
    threads: torch CPU threads (None: torch's default). out: the output folder.
    """

    dataset: str = "demo"
    models: tuple[str, ...] = ()
    surrogates: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    transfer: bool = False
    strategies: tuple[str, ...] = ("ab",)
    # the attack's settings, with the attack's own defaults (the paper's)
    top_n: int = AttackConfig.top_n
    w: float = AttackConfig.w
    alpha: float = AttackConfig.alpha
    betas: tuple[float, ...] = AttackConfig.betas
    lr: float = AttackConfig.lr
    iterations: int = AttackConfig.iterations
    perceptual: str = AttackConfig.perceptual
    classification_loss: str = AttackConfig.classification_loss
    confidence: float = AttackConfig.confidence
    sa_target: int | None = None
    device: str = "cpu"
    batch_size: int = 32
    limit: int | None = None
    split: str | None = None
    val_subjects: tuple[str, ...] = ()
    seed: int = 0
    compare: bool = False
    compare_strategy: str | None = None
    iaa_calibration: int = 32
    iaa_bisections: int = 6
    threads: int | None = None
    out: str = "runs/smart"

    def __post_init__(self) -> None:
        for name in ("models", "surrogates", "targets", "strategies", "val_subjects"):
            object.__setattr__(self, name, tuple(str(x) for x in _tuple(getattr(self, name))))
        object.__setattr__(self, "betas", tuple(float(b) for b in _tuple(self.betas)))
        if not str(self.dataset):
            raise ValueError("dataset must be given ('demo', 'hdm05-demo' or a path)")
        object.__setattr__(self, "dataset", str(self.dataset))
        if not self.attacked_models:
            raise ValueError("no model to attack: give models, or surrogates (with targets)")
        if self.targets and not self.surrogates:
            raise ValueError("targets need a surrogate: --surrogate A --targets B C")
        if self.transfer and len(self.models) + len(self.surrogates) < 2:
            raise ValueError("transfer needs at least two models")
        if not self.strategies:
            raise ValueError("no strategy given")
        for name in ("top_n", "iterations", "batch_size", "seed", "iaa_calibration", "iaa_bisections"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool):
                raise ValueError(f"{name} must be an integer, got {v!r}")
        # the attack settings are checked by the attack's own config (top_n, w, alpha, betas, lr,
        # iterations, perceptual, classification loss, confidence), before any strategy is parsed
        AttackConfig(top_n=self.top_n, w=self.w, alpha=self.alpha, betas=self.betas, lr=self.lr,
                     iterations=self.iterations, perceptual=self.perceptual,
                     classification_loss=self.classification_loss, confidence=self.confidence)
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.iaa_calibration < 2 or self.iaa_bisections < 1:
            raise ValueError("iaa_calibration must be >= 2 and iaa_bisections >= 1")
        seen = set()
        for s in self.strategies:
            st = parse_strategy(s, self.top_n)
            if st.name in seen:
                raise ValueError(f"strategy {st.name!r} given twice")
            seen.add(st.name)
        if self.limit is not None and (not isinstance(self.limit, int) or isinstance(self.limit, bool)
                                       or self.limit < 1):
            raise ValueError(f"limit must be an integer >= 1, got {self.limit!r}")
        if self.split is not None and self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.sa_target is not None and (not isinstance(self.sa_target, int) or self.sa_target < 0):
            raise ValueError(f"sa_target must be a class index >= 0, got {self.sa_target!r}")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise ValueError(f"threads must be >= 1, got {self.threads!r}")
        if self.compare_strategy is not None:
            names = [parse_strategy(s, self.top_n).name for s in self.strategies]
            if parse_strategy(self.compare_strategy, self.top_n).name not in names:
                raise ValueError(f"compare_strategy {self.compare_strategy!r} is not among the "
                                 f"strategies {names}")
        if not str(self.out):
            raise ValueError("out (the output folder) must be given")

    # -- derived ----------------------------------------------------------------------------------
    @property
    def attacked_models(self) -> tuple[str, ...]:
        """Models attacked white-box: ``models`` then ``surrogates`` (each once)."""
        return tuple(dict.fromkeys(self.models + self.surrogates))

    @property
    def all_models(self) -> tuple[str, ...]:
        """Every model the run loads: the attacked ones and the transfer targets."""
        return tuple(dict.fromkeys(self.attacked_models + self.targets))

    def transfer_pairs(self) -> dict[str, tuple[str, ...]]:
        """Rows and columns of the transfer matrix: surrogate → targets (the diagonal included)."""
        if self.transfer:
            cols = self.all_models
            rows = self.attacked_models
        else:
            rows, cols = self.surrogates, self.targets
        return {s: cols for s in rows} if cols else {}

    def parsed_strategies(self) -> list[Strategy]:
        return [parse_strategy(s, self.top_n) for s in self.strategies]

    def compare_on(self) -> Strategy:
        return parse_strategy(self.compare_strategy or self.strategies[0], self.top_n)

    def replace(self, **changes: Any) -> BatchConfig:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], where: str = "config") -> BatchConfig:
        """Build from a mapping (a TOML table): keys with '-' or '_'; 'strategy'/'model'/'surrogate'
        are accepted for 'strategies'/'models'/'surrogates'; an unknown key is refused."""
        aliases = {"strategy": "strategies", "model": "models", "surrogate": "surrogates",
                   "target": "targets"}
        known = set(cls.field_names())
        out: dict[str, Any] = {}
        for k, v in values.items():
            key = aliases.get(k.replace("-", "_"), k.replace("-", "_"))
            if key not in known:
                raise WorkbenchError(f"{where}: unknown option {k!r}; options: {sorted(known)}")
            out[key] = v
        return cls(**out)


def read_toml(path: str | Path) -> dict[str, Any]:
    """The options of a TOML file: top-level keys, or those of an ``[attack]`` / ``[smart-attack]`` table."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise WorkbenchError(f"{p}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise WorkbenchError(f"{p}: not valid TOML: {exc}") from None
    for table in ("smart-attack", "attack"):
        if isinstance(data.get(table), dict):
            rest = {k: v for k, v in data.items() if k != table}
            return {**rest, **data[table]}
    return data


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def to_toml(config: BatchConfig, header: str = "") -> str:
    """The config as a TOML file that ``--config`` reads back (``None`` fields are left out)."""
    lines = [f"# {line}" for line in header.splitlines()] if header else []
    for k, v in config.to_dict().items():
        if v is None:
            continue
        lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"
