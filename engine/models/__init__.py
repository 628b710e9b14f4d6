"""Skeleton action recognizers.

``create(name, layout, num_classes, **options)`` builds one, ``names()`` lists them and
``load_checkpoint(path) -> (model, metadata)`` loads one. Every recognizer maps motions
``(N, T, V, 3)`` in metres to logits ``(N, C)``. ``fit(model, dataset)`` (:mod:`.contract`) checks
that a model and a dataset agree (class names matched by name, layout, fps) and returns the label map.
"""

from . import (
    agcn,  # noqa: F401  (registers "agcn")
    asgcn,  # noqa: F401  (registers "asgcn")
    ctrgcn,  # noqa: F401  (registers "ctrgcn")
    dgnn,  # noqa: F401  (registers "dgnn")
    hrnn,  # noqa: F401  (registers "hrnn")
    mlp,  # noqa: F401  (registers "mlp")
    msg3d,  # noqa: F401  (registers "msg3d")
    sgn,  # noqa: F401  (registers "sgn")
    stgcn,  # noqa: F401  (registers "stgcn")
)
from ._registry import create, names, register
from .checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
from .contract import ModelDataMismatch, fit, match_classes

__all__ = ["CheckpointMeta", "ModelDataMismatch", "create", "fit", "load_checkpoint", "match_classes",
           "names", "register", "save_checkpoint"]
