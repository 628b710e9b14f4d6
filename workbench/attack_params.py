"""The attack panel's values and the attack's config (no Qt): the presets of
:data:`engine.attack.PRESETS` ("natural", the default, and "paper"), the panel's values of a config, and a
config from a preset and the panel's values. No default is copied here: they come from
:class:`engine.attack.AttackConfig`."""

from __future__ import annotations

from collections.abc import Callable

from engine.attack import AttackConfig

__all__ = ["PANEL_KEYS", "config_from_params", "params_from_config", "presets"]

#: the attack settings the parameter panel shows (the rest of a preset's config is kept as it is)
PANEL_KEYS = ("strategy", "top_n", "target", "w", "alpha", "betas", "lr", "iterations", "perceptual",
              "classification_loss", "stop_on_success", "seed")


def presets() -> dict[str, Callable[[], AttackConfig]]:
    """The attack presets of :data:`engine.attack.PRESETS` ("natural", the default, and "paper")."""
    from engine import attack as attack_mod

    table = getattr(attack_mod, "PRESETS", None)
    if table:
        return dict(table)
    out: dict[str, Callable[[], AttackConfig]] = {"natural": AttackConfig}
    if hasattr(AttackConfig, "paper"):
        out["paper"] = AttackConfig.paper
    return out


def params_from_config(cfg: AttackConfig) -> dict:
    """The panel's values (:data:`PANEL_KEYS`) of ``cfg``."""
    t = cfg.targets
    if isinstance(t, tuple | list):
        t = t[0] if len(t) else None
    p = {k: getattr(cfg, k) for k in PANEL_KEYS if k != "target"}
    p["target"] = None if t is None else int(t)
    p["betas"] = tuple(float(b) for b in cfg.betas)[:5]
    p["w"], p["alpha"], p["lr"] = float(cfg.w), float(cfg.alpha), float(cfg.lr)
    p["iterations"], p["top_n"], p["seed"] = int(cfg.iterations), int(cfg.top_n), int(cfg.seed)
    return p


def config_from_params(params: dict, base: AttackConfig | None = None, device: str | None = None
                       ) -> AttackConfig:
    """``base`` (default :class:`AttackConfig()`) with the panel's values; ValueError in our words."""
    base = base if base is not None else AttackConfig()
    p = {k: v for k, v in params.items() if k in PANEL_KEYS}
    target = p.pop("target", None)
    if p.get("strategy", base.strategy) == "sa":
        if target is None:
            raise ValueError("the specified attack (SA) needs a target class: pick one in the Target list")
        p["targets"] = int(target)
    else:
        p["targets"] = None
    if "betas" in p:
        p["betas"] = tuple(float(b) for b in p["betas"])
    for k in ("iterations", "top_n", "seed"):
        if k in p:
            p[k] = int(p[k])
    if device is not None:
        p["device"] = device
    return base.replace(**p)
