"""The attack panel's values and the attack's config (no Qt): the presets of :data:`engine.attack.PRESETS`
("natural", the default, and "paper"), the panel's values of a config (``AttackConfig.to_dict()``: every
field, so the panel shows what the engine has), and a config from the panel's values. No default is
copied here: they all come from :class:`engine.attack.AttackConfig`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from engine.attack import PRESETS, AttackConfig

__all__ = ["config_fields", "config_from_params", "params_from_config", "presets"]


def presets() -> dict[str, Callable[[], AttackConfig]]:
    """:data:`engine.attack.PRESETS` ("natural" first: the default)."""
    return dict(PRESETS)


def config_fields() -> tuple[str, ...]:
    """The settable fields of :class:`AttackConfig`."""
    return tuple(f.name for f in dataclasses.fields(AttackConfig) if f.init)


def params_from_config(cfg: AttackConfig) -> dict:
    """The panel's values of ``cfg`` (``targets`` as the panel's single ``target``; no device)."""
    p = cfg.to_dict()
    p.pop("device", None)
    t = p.pop("targets", None)
    if isinstance(t, list | tuple):
        t = t[0] if len(t) else None
    p["target"] = None if t is None else int(t)
    p["betas"] = tuple(float(b) for b in p["betas"])
    return p


def config_from_params(params: dict, base: AttackConfig | None = None, device: str | None = None
                       ) -> AttackConfig:
    """``base`` (default ``AttackConfig()``) with the panel's values (keys that are not fields are ignored);
    ValueError in our words."""
    base = base if base is not None else AttackConfig()
    known = set(config_fields())
    p = {k: v for k, v in params.items() if k in known and k not in ("targets", "device")}
    target = params.get("target")
    if p.get("strategy", base.strategy) == "sa":
        if target is None:
            raise ValueError("the specified attack (SA) needs a target class: pick one in the Target list")
        p["targets"] = int(target)
    else:
        p["targets"] = None
    if "betas" in p:
        p["betas"] = tuple(float(b) for b in p["betas"])
    if device is not None:
        p["device"] = device
    return base.replace(**p)
