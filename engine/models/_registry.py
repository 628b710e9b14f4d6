"""The recognizer registry: builders registered by name, built by :func:`create`.

A builder is ``build(layout: Layout, num_classes: int, **options) -> torch.nn.Module``. The module's
``forward`` takes motions ``(N, T, V, 3)`` in metres in that layout and returns logits ``(N, C)``;
everything the model needs before its own layers happens inside ``forward``, differentiably.
Built modules carry ``model.layout`` (a :class:`~engine.skeleton.Layout`), ``model.num_classes``,
and ``model.options`` (the options it was built with, for checkpoints).

Every model takes the option ``normalize`` (handled here, not by the builder): ``True`` or a dict
of :class:`~engine.models.normalize.InputNormalization` options gives the model an input
normalisation (face ``+z``, first root at ``x = z = 0``, optional scale) applied on every call
before its own ``forward``; ``model.options["normalize"]`` records the full options (``None``:
none). The models we train use it; official files do not.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from ..skeleton import Layout, resolve
from .normalize import attach, normalize_options

Builder = Callable[..., nn.Module]
_BUILDERS: dict[str, Builder] = {}


def register(name: str) -> Callable[[Builder], Builder]:
    """Decorator: register a builder under ``name``; a taken name is refused."""

    def deco(fn: Builder) -> Builder:
        if name in _BUILDERS:
            raise ValueError(f"a model named {name!r} is already registered")
        _BUILDERS[name] = fn
        return fn

    return deco


def names() -> list[str]:
    """Names of the registered recognizers, sorted."""
    return sorted(_BUILDERS)


def create(name: str, layout: Layout | str, num_classes: int, **options) -> nn.Module:
    """Build the recognizer ``name`` for ``layout`` with ``num_classes`` outputs.

    ``normalize=True`` (or a dict of options) adds the input normalisation of
    :mod:`engine.models.normalize`; the other options go to the model's builder.
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown model {name!r}; known: {names()}")
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
    lay = resolve(layout)
    options = dict(options)
    norm = normalize_options(options.pop("normalize", None))
    model = _BUILDERS[name](lay, num_classes, **options)
    if norm is not None:
        attach(model, lay, norm)
        options["normalize"] = norm
    model.layout = lay
    model.num_classes = num_classes
    model.model_name = name
    model.options = options
    return model
