"""The settings of a dataset-scale run (:class:`BatchConfig`), strategies by name, and TOML in/out."""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import WorkbenchError

__all__ = ["ATTACK_FIELDS", "PAPER_MODELS", "BatchConfig", "Strategy", "check_value", "parse_strategy",
           "preset_config", "read_toml", "to_toml"]

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


#: the paper's seven recognizers (§4.2): ``models = "paper"`` / ``--models paper``
PAPER_MODELS = ("hrnn", "stgcn", "asgcn", "dgnn", "agcn", "msg3d", "sgn")

# the kind of value of every field: what a TOML file or a Python caller must give
_KINDS: dict[str, str] = {
    "dataset": "str", "models": "strs", "surrogates": "strs", "targets": "strs", "transfer": "bool",
    "ensemble": "bool", "strategies": "strs", "preset": "str?", "top_n": "int?", "w": "float?",
    "alpha": "float?", "betas": "floats?", "lr": "float?", "iterations": "int?", "perceptual": "str?",
    "classification_loss": "str?", "confidence": "float?", "stop_on_success": "bool?", "smoothing": "float?",
    "adam_beta2": "float?", "sa_target": "int?",
    "device": "str", "batch_size": "int", "limit": "int?", "split": "str?", "val_subjects": "strs",
    "seed": "int", "seeds": "int", "compare": "bool", "compare_strategy": "str?", "iaa_calibration": "int?",
    "iaa_bisections": "int", "iaa_step": "float?", "threads": "int?", "out": "str",
}
_WORDS = {"str": "a string", "strs": "a string or a list of strings", "bool": "true or false",
          "int": "an integer", "float": "a number", "floats": "a list of numbers"}
#: the attack settings a run may override; the rest come from the preset (engine.attack.PRESETS)
ATTACK_FIELDS = ("top_n", "w", "alpha", "betas", "lr", "iterations", "perceptual", "classification_loss",
                 "confidence", "stop_on_success", "smoothing", "adam_beta2")
#: above this learning rate (metres per Adam step) the perceptual loss cannot hold the perturbation
LR_WARNING = 0.05


def _type_name(v: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list",
            tuple: "list", dict: "table"}.get(type(v), type(v).__name__)


def _is_int(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_)


def _is_number(v: Any) -> bool:
    return (isinstance(v, int | float | np.integer | np.floating)) and not isinstance(v, bool | np.bool_)


def check_value(key: str, v: Any) -> Any:
    """``v`` checked against the kind of field ``key`` and normalised (numpy numbers to Python, lists
    to tuples); ``ValueError`` naming the key, what it must be and what it got. A string is never
    taken for a boolean or a number (``compare = "false"`` is refused, not read as true)."""
    kind = _KINDS[key]
    optional = kind.endswith("?")
    base = kind.rstrip("?")
    if v is None and optional:
        return None
    ok = False
    if base == "str":
        ok = isinstance(v, str)
    elif base == "strs":
        ok = isinstance(v, str) or (isinstance(v, list | tuple) and all(isinstance(x, str) for x in v))
    elif base == "bool":
        ok = isinstance(v, bool | np.bool_)
    elif base == "int":
        ok = _is_int(v)
    elif base == "float":
        ok = _is_number(v)
    elif base == "floats":
        ok = isinstance(v, list | tuple) and all(_is_number(x) for x in v)
    if not ok:
        hint = ""
        if base == "bool" and isinstance(v, str):
            hint = f' (write {key} = true or {key} = false, without quotes)'
        elif base in ("int", "float") and isinstance(v, str):
            hint = " (without quotes)"
        elif base == "strs" and _is_number(v):
            hint = f' (quote it: {key} = ["{v}"])'
        raise ValueError(f"{key} must be {_WORDS[base]}{' or left out' if optional else ''}, got {v!r} "
                         f"({_type_name(v)}){hint}")
    if base == "bool":
        return bool(v)
    if base == "int":
        return int(v)
    if base == "float":
        return float(v)
    if base == "floats":
        return tuple(float(x) for x in v)
    if base == "strs":
        return _tuple(v)
    return v


def _attack_defaults() -> Any:
    from ..attack import AttackConfig

    return AttackConfig()


def preset_config(name: str | None) -> Any:
    """The :class:`~engine.attack.AttackConfig` of a preset (``None``: ``AttackConfig()``, whose
    defaults are the natural preset)."""
    if name is None:
        return _attack_defaults()
    from .. import attack as A

    presets = getattr(A, "PRESETS", None)
    if presets is None:
        raise WorkbenchError("presets need engine.attack.PRESETS, which this version of the engine lacks")
    if name not in presets:
        raise ValueError(f"preset must be one of {sorted(presets)}, got {name!r}")
    return presets[name]()


@dataclass(frozen=True)
class BatchConfig:
    """Everything one ``smart-attack`` run needs; checked when built (``ValueError`` names the field).

    dataset: ``'demo'``, ``'hdm05-demo'`` or a path :func:`engine.datasets.load` reads.
    models: checkpoints attacked white-box (a path or a shipped demo model name such as ``'mlp'``);
        ``'paper'`` stands for the paper's seven recognizers (:data:`PAPER_MODELS`), those of them
        that the demo ships.
    surrogates / targets: black-box by transfer: every surrogate is attacked white-box and its
        adversarial motions are evaluated on every target (``surrogate == target`` is n/a).
    ensemble: attack the surrogates together, as one model whose logits are their mean
        (:class:`engine.batch.plan.Ensemble`), instead of one by one.
    transfer: with several ``models``: the full model × model transfer matrix (Table 3).
    strategies: ``'ab'``, ``'abn'`` (``top_n``), ``'ab3'``, ``'ab5'``, ``'sa'`` (random targets, never the
        clean label, seeded per motion; or ``sa_target`` for all, which needs the ``'sa'`` strategy).
    preset: ``'natural'`` or ``'paper'`` (``engine.attack.PRESETS``); None: ``AttackConfig()``'s
        defaults (the natural preset).
    top_n, w, alpha, betas, lr, iterations, perceptual, classification_loss, confidence,
        stop_on_success, smoothing, adam_beta2: override the preset's
        :class:`engine.attack.AttackConfig` settings (None: the preset's value).
    device: ``'cpu'``, ``'cuda'`` (under torchrun: ``cuda:LOCAL_RANK``), ``'cuda:1'``, ``'auto'``.
    batch_size: motions attacked at once; limit: at most this many motions of the split (a seeded
        random choice, kept in dataset order); split: ``'val'`` (the demo's held-out subjects, or
        ``val_subjects``) or ``'all'``; ``None`` = ``'val'`` for the demos or when ``val_subjects``
        is given, ``'all'`` otherwise.
    seed: seeds the attack, the ``limit`` choice and the SA targets; seeds: repeat the run with the
        seeds ``seed … seed + seeds − 1`` (each in ``out/seed_<s>``) and report the spread.
    compare: also attack with the l2 / l2_acc / l2_bone losses and the IAA-style baseline for
        ``compare_strategy`` (default: the first), compared on the motions where all succeeded.
    iaa_calibration: motions the IAA ε is bisected on (None: all the job's motions);
        iaa_bisections: bisection steps; iaa_step: IAA's step in metres (None: ``IAAConfig``'s),
        fixed, not tied to ε.
    threads: torch CPU threads (None: torch's default). out: the output folder.
    """

    dataset: str = "demo"
    models: tuple[str, ...] = ()
    surrogates: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    transfer: bool = False
    ensemble: bool = False
    strategies: tuple[str, ...] = ("ab",)
    preset: str | None = None
    # overrides of the preset's attack settings (None: the preset's)
    top_n: int | None = None
    w: float | None = None
    alpha: float | None = None
    betas: tuple[float, ...] | None = None
    lr: float | None = None
    iterations: int | None = None
    perceptual: str | None = None
    classification_loss: str | None = None
    confidence: float | None = None
    stop_on_success: bool | None = None
    smoothing: float | None = None
    adam_beta2: float | None = None
    sa_target: int | None = None
    device: str = "cpu"
    batch_size: int = 32
    limit: int | None = None
    split: str | None = None
    val_subjects: tuple[str, ...] = ()
    seed: int = 0
    seeds: int = 1
    compare: bool = False
    compare_strategy: str | None = None
    iaa_calibration: int | None = None
    iaa_bisections: int = 6
    iaa_step: float | None = None
    threads: int | None = None
    out: str = "runs/smart"

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, check_value(f.name, getattr(self, f.name)))
        if not self.dataset:
            raise ValueError("dataset must be given ('demo', 'hdm05-demo' or a path)")
        if not self.attacked_models:
            raise ValueError("no model to attack: give models, or surrogates (with targets)")
        if self.targets and not self.surrogates:
            raise ValueError("targets need a surrogate: --surrogate A --targets B C")
        if self.ensemble and len(self.surrogates) < 2:
            raise ValueError("ensemble needs at least two surrogates: --surrogate A B --ensemble")
        if self.transfer and sum(len(PAPER_MODELS) if m == "paper" else 1 for m in self.attacked_models) < 2:
            raise ValueError("transfer needs at least two models")
        if not self.strategies:
            raise ValueError("no strategy given")
        for name in ("seed", "iaa_bisections"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {getattr(self, name)}")
        for name in ("batch_size", "seeds", "limit", "threads"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v}")
        if self.iaa_calibration is not None and self.iaa_calibration < 2:
            raise ValueError(f"iaa_calibration must be >= 2 motions (or left out: all), "
                             f"got {self.iaa_calibration}")
        if self.iaa_step is not None and not (math.isfinite(self.iaa_step) and self.iaa_step > 0):
            raise ValueError(f"iaa_step must be > 0 metres, got {self.iaa_step}")
        # the attack's own checks (through the preset and its overrides), before any strategy is parsed
        self.attack_config()
        seen = set()
        for s in self.strategies:
            st = parse_strategy(s, self.abn_n)
            if st.name in seen:
                raise ValueError(f"strategy {st.name!r} given twice")
            seen.add(st.name)
        if self.split is not None and self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.sa_target is not None:
            if self.sa_target < 0:
                raise ValueError(f"sa_target must be a class index >= 0, got {self.sa_target!r}")
            if "sa" not in seen:
                raise ValueError(f"sa_target {self.sa_target} is given but the strategies {sorted(seen)} do "
                                 "not include 'sa' (add --strategy sa, or leave --sa-target out)")
        if self.compare_strategy is not None:
            names = [parse_strategy(s, self.abn_n).name for s in self.strategies]
            if parse_strategy(self.compare_strategy, self.abn_n).name not in names:
                raise ValueError(f"compare_strategy {self.compare_strategy!r} is not among the "
                                 f"strategies {names}")
        if not self.out:
            raise ValueError("out (the output folder) must be given")

    # -- derived ----------------------------------------------------------------------------------
    def attack_config(self, **changes: Any) -> Any:
        """The :class:`~engine.attack.AttackConfig` of this run: the preset, its overrides, ``changes``."""
        base = preset_config(self.preset)
        over = {k: getattr(self, k) for k in ATTACK_FIELDS if getattr(self, k) is not None}
        try:
            return replace(base, **{**over, **changes})
        except TypeError as exc:  # a field this engine's AttackConfig does not have
            raise ValueError(f"the attack does not take these settings: {exc}") from None

    @property
    def abn_n(self) -> int:
        """N of the strategy ``'abn'``."""
        return self.top_n if self.top_n is not None else int(_attack_defaults().top_n)

    def warnings(self) -> list[str]:
        """Settings that run but make the result meaningless (printed before the run, kept in results)."""
        cfg = self.attack_config()
        out = []
        if cfg.lr > LR_WARNING:
            out.append(f"lr {cfg.lr:g} moves every joint by up to {cfg.lr:g} m per Adam step: the perceptual "
                       "loss cannot keep the perturbation small, success rates will mean nothing (the paper "
                       "uses 0.005 … 0.0005)")
        if cfg.w >= 1.0:
            out.append("w = 1 gives the perceptual loss no weight: the perturbation is unconstrained")
        if cfg.iterations == 0:
            out.append("iterations = 0: nothing is attacked, every success rate will be 0")
        return out

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
        return [parse_strategy(s, self.abn_n) for s in self.strategies]

    def compare_on(self) -> Strategy:
        return parse_strategy(self.compare_strategy or self.strategies[0], self.abn_n)

    def replace(self, **changes: Any) -> BatchConfig:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def normalise_keys(cls, values: Mapping[str, Any], where: str = "config") -> dict[str, Any]:
        """Keys with '-' or '_', 'strategy'/'model'/'surrogate'/'target' for the plural; each value
        checked against its field's kind; an unknown key or a wrong type is refused naming ``where``."""
        aliases = {"strategy": "strategies", "model": "models", "surrogate": "surrogates",
                   "target": "targets"}
        known = set(cls.field_names())
        out: dict[str, Any] = {}
        for k, v in values.items():
            key = aliases.get(str(k).replace("-", "_"), str(k).replace("-", "_"))
            if key not in known:
                raise WorkbenchError(f"{where}: unknown option {k!r}; options: {sorted(known)}")
            try:
                out[key] = check_value(key, v)
            except ValueError as exc:
                raise WorkbenchError(f"{where}: {exc}") from None
        return out

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], where: str = "config") -> BatchConfig:
        """Build from a mapping (a TOML table), see :meth:`normalise_keys`; any error names ``where``."""
        out = cls.normalise_keys(values, where)
        try:
            return cls(**out)
        except WorkbenchError:
            raise
        except ValueError as exc:
            raise WorkbenchError(f"{where}: {exc}") from None


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
