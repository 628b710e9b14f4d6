"""Checkpoints: our own format, the official repositories' state dicts, and TorchScript files.

:func:`load_checkpoint` reads three kinds of file and always returns ``(model, CheckpointMeta)``
with the model in eval mode:

1. **Our format** (written by :func:`save_checkpoint`): a ``torch.save`` dict ``{"format": FORMAT,
   "meta": CheckpointMeta as dict, "state_dict": ...}``. The metadata names the model and its
   options, the layout, the class names, the fps and the figures training reached, so the file
   rebuilds its model with nothing else. A ``model=`` or ``num_classes=`` that contradicts the
   metadata is refused; other keyword options override the saved ones (e.g. ``preprocess=False``).
2. **An official state dict** (the published ST-GCN, 2s-AGCN, CTR-GCN, ... files): a raw
   ``{name: tensor}`` dict, or a dict holding it under ``state_dict`` or ``model`` (SGN). Steps:

   * a leading ``module.`` (DataParallel) is stripped from every key;
   * the model is ``model=`` or, when ``None``, recognised from characteristic keys
     (:data:`SIGNATURES`); ``num_classes`` defaults to the classifier's row count in the file;
   * the documented **key map** is applied, only to keys that the model lacks and whose mapped
     name it has. ``agcn`` (the 2s-AGCN v0.0 release files, repo issues #32 and #67):
     ``l1a.* -> l1.*`` (CS bone file) and ``*.gcn1.conv_res.* -> *.gcn1.down.*`` (CV bone file,
     layers l1, l5, l8). A model class can add its own pairs with ``OFFICIAL_KEY_MAP``
     (a tuple of ``(regex, replacement)``);
   * missing BatchNorm ``num_batches_tracked`` entries are added (zero) where the file has that
     layer's running statistics (files saved with PyTorch < 0.4.1, such as 2s-AGCN's);
   * tensors a model class lists in ``REBUILT_BUFFERS`` (ST-GCN's graph ``A``) are taken from the
     freshly built model when the file lacks them;
   * then a strict load. Anything still missing, unexpected or mis-shaped -- a file for another
     model or another class count -- raises :class:`CheckpointError` listing those keys.

   Every step that changed a key is reported in ``meta.extra`` (``stripped_prefix``,
   ``key_map`` as ``"old -> new"`` strings, ``added_num_batches_tracked``, ``filled_from_model``).
   **Several files** load together into one model whose class names its parts in
   ``CHECKPOINT_PARTS`` (submodule names, in file order; ``""`` is the model itself, as for
   AS-GCN's classifier file, whose A-link module file goes to ``aim``): e.g. the 2s-AGCN ensemble,
   ``load_checkpoint([joint_file, bone_file], model="agcn", stream="ensemble")``; each file is
   mapped against its submodule and loaded under that prefix.
3. **A TorchScript file** (``torch.jit.save``) whose module maps ``(N, T, V, 3)`` metres to
   logits ``(N, C)``: loaded as an opaque :class:`ScriptedRecognizer` for ``layout``;
   ``num_classes`` defaults to the width of its output on a zero probe of ``probe_frames`` frames.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError
from ..skeleton import Layout, resolve
from ._registry import create, names

FORMAT = "smart-workbench/checkpoint-1"

#: characteristic state-dict keys of the official implementations -> (model name, classifier weight key)
SIGNATURES: tuple[tuple[str, str, str], ...] = (
    ("st_gcn_networks.0.gcn.conv.weight", "stgcn", "fcn.weight"),
    ("l1.gcn1.conv_a.0.weight", "agcn", "fc.weight"),
    ("l1a.gcn1.conv_a.0.weight", "agcn", "fc.weight"),
    ("l1.gcn1.convs.0.conv1.weight", "ctrgcn", "fc.weight"),
    ("gcn3d1.gcn3d.0.gcn3d.1.mlp.layers.0.weight", "msg3d", "fc.weight"),
    ("spa_embed.cnn.0.cnn.weight", "sgn", "fc.weight"),
    ("class_layer_0.gcn.conv.weight", "asgcn", "fcn.weight"),
    ("encoder.mlp1.fc1.weight", "asgcn", "fcn.weight"),
    ("data_bn_v.weight", "dgnn", "fc.weight"),
)

#: documented key maps for published files that do not match their own code
KEY_MAPS: dict[str, tuple[tuple[str, str], ...]] = {
    "agcn": ((r"^l1a\.", "l1."), (r"\.gcn1\.conv_res\.", ".gcn1.down.")),
}


@dataclass(frozen=True, eq=False)
class MetaLayout(Layout):
    """The :class:`Layout` of a checkpoint's metadata; also equal to its name (``meta.layout == "ntu25"``).

    ``meta.layout`` was a string before it became a layout; this keeps code written against the
    string working (comparisons with the name, ``str(meta.layout)``) while being a full layout.
    """

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return other == self.name
        if isinstance(other, Layout):
            return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(Layout))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def of(cls, lay: Layout | str) -> MetaLayout:
        lay = resolve(lay)
        if isinstance(lay, MetaLayout):
            return lay
        return cls(**{f.name: getattr(lay, f.name) for f in fields(Layout) if f.init})


@dataclass
class CheckpointMeta:
    """What a checkpoint says about its model.

    ``layout`` is a :class:`~engine.skeleton.Layout` (files that stored its name load as the
    layout of that name; it still compares equal to the name). ``fps`` is the frame rate of the
    training data; ``options`` the model's build options (including its input normalisation,
    ``normalize``); ``metrics`` the figures training reached; ``extra`` where the file came from and
    how it was made (the training command's options under ``"train"``/``"data"``, for official
    files the steps that changed keys and ``layout_source``).
    """

    model: str
    layout: Layout
    class_names: list[str]
    options: dict[str, Any] = field(default_factory=dict)
    fps: float = 30.0
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.layout = MetaLayout.of(self.layout)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the layout by name) as stored in a checkpoint file."""
        return {"model": self.model, "layout": self.layout.name, "class_names": list(self.class_names),
                "options": dict(self.options), "fps": float(self.fps), "metrics": dict(self.metrics),
                "extra": dict(self.extra)}


def _attach(net: nn.Module, meta: CheckpointMeta, source: Any) -> None:
    """Give a loaded model the contract's attributes: class names, fps, where it came from."""
    net.class_names = list(meta.class_names)
    net.fps = float(meta.fps)
    net.source_path = str(source)


def save_checkpoint(model: nn.Module, path: str | os.PathLike, class_names: list[str],
                    fps: float | None = None, metrics: dict | None = None,
                    extra: dict | None = None) -> CheckpointMeta:
    """Write ``model`` with its metadata to ``path`` (atomically: a temporary file renamed)."""
    for attr in ("model_name", "layout", "num_classes"):
        if not hasattr(model, attr):
            raise CheckpointError(f"{path}: the model was not built by engine.models.create (no {attr})")
    if isinstance(model, ScriptedRecognizer):
        raise CheckpointError(f"{path}: a TorchScript recognizer is saved with torch.jit.save, not here")
    if len(class_names) != model.num_classes:
        raise CheckpointError(
            f"{path}: {len(class_names)} class names for a model with {model.num_classes} classes"
        )
    meta = CheckpointMeta(
        model=model.model_name, layout=model.layout, class_names=list(class_names),
        options=dict(getattr(model, "options", {})), fps=float(fps or model.layout.fps),
        metrics=dict(metrics or {}), extra=dict(extra or {}),
    )
    payload = {"format": FORMAT, "meta": meta.to_dict(),
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return meta


def load_checkpoint(path: str | os.PathLike | Sequence[str | os.PathLike],
                    model: str | nn.Module | None = None, layout: Layout | str | None = None,
                    num_classes: int | None = None, map_location: str | torch.device = "cpu",
                    probe_frames: int = 64, **options) -> tuple[nn.Module, CheckpointMeta]:
    """Load a recognizer from our checkpoint, an official state dict (or several) or TorchScript.

    See the module docstring. ``model``, ``layout``, ``num_classes`` and ``options`` describe the
    model for files that do not carry metadata; for our own files they must agree with it.

    ``model`` is a registered name, or an ``nn.Module`` built by :func:`engine.models.create`: the
    architecture to load the weights into (its name, layout and class count must agree with the
    file; it is returned, loaded and in eval mode). Any other object is refused.

    ``layout`` matters only for files without metadata (official state dicts, TorchScript). The
    published files are all trained on NTU RGB+D and a state dict does not say which 25-joint
    skeleton it expects, so ``None`` assumes ``ntu25`` and says so in ``meta.extra["layout_source"]``
    (``"assumed ntu25 ..."``; ``"given"`` when passed). A file whose input width shows another joint
    count than 25 requires ``layout=``.

    The returned model carries ``class_names``, ``fps`` and ``source_path`` (for
    :func:`engine.models.contract.fit`).
    """
    given: nn.Module | None = None
    if isinstance(model, nn.Module):
        given, model = model, getattr(model, "model_name", None)
        if model is None or not hasattr(given, "layout") or not hasattr(given, "num_classes"):
            raise CheckpointError(
                f"{path}: model= got a {type(given).__name__} not built by engine.models.create; "
                f"pass a model name (one of {names()}) or a module from engine.models.create"
            )
        if layout is not None and resolve(layout).name != given.layout.name:
            raise CheckpointError(f"{path}: layout={resolve(layout).name!r} but the model given is in "
                                  f"{given.layout.name!r}")
        layout = given.layout
        if num_classes is not None and num_classes != given.num_classes:
            raise CheckpointError(f"{path}: num_classes={num_classes} but the model given has "
                                  f"{given.num_classes}")
        num_classes = given.num_classes
        if options:
            raise CheckpointError(
                f"{path}: options {sorted(options)} cannot change a model that is already built"
            )
    elif model is not None and not isinstance(model, str):
        raise CheckpointError(
            f"{path}: model= must be a model name (one of {names()}) or an nn.Module from "
            f"engine.models.create, not a {type(model).__name__}"
        )
    if isinstance(path, (list, tuple)):
        paths = [Path(p) for p in path]
        if not paths:
            raise CheckpointError("no checkpoint file given")
        if len(paths) == 1:
            path = paths[0]
        else:
            return _load_official_parts(paths, model, layout, num_classes, map_location, options, given)
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if _is_torchscript(path):
        if given is not None:
            raise CheckpointError(
                f"{path}: a TorchScript file carries its own module; load it without model="
            )
        return _load_torchscript(path, layout, num_classes, map_location, probe_frames)
    payload = _read(path, map_location)
    if isinstance(payload, dict) and payload.get("format") == FORMAT:
        return _load_ours(path, payload, model, num_classes, options, given)
    state = _unwrap(payload, path)
    state, stripped = _strip_prefix(state)
    name = model or _identify(state, path)
    if num_classes is None:
        num_classes = _classes_in(state, name, path)
    layout, layout_source = _official_layout(layout, state, name, path)
    net = given if given is not None else _build(name, layout, num_classes, options, path)
    report: dict[str, Any] = {"source": "official state dict", "files": [str(path)],
                              "stripped_prefix": stripped, "layout_source": layout_source}
    state = _fix_keys(net, name, state, report)
    _load_state(net, state, path)
    net.eval()
    meta = _official_meta(net, name, report)
    _attach(net, meta, path)
    return net, meta


#: input-width keys of official files: (model, key, channels per joint); the width is C * V (* persons)
_INPUT_WIDTH_KEYS: tuple[tuple[str, str, int], ...] = (
    ("stgcn", "data_bn.weight", 3), ("agcn", "data_bn.weight", 3), ("ctrgcn", "data_bn.weight", 3),
    ("msg3d", "data_bn.weight", 3), ("asgcn", "data_bn.weight", 3), ("dgnn", "data_bn_v.weight", 3),
)


def _official_layout(layout, state: dict, name: str, path) -> tuple[Layout, str]:
    """The layout of a file without metadata: the one given, else ntu25 when the width allows it."""
    if layout is not None:
        return resolve(layout), "given"
    for model, key, channels in _INPUT_WIDTH_KEYS:
        if model == name and key in state and state[key].ndim == 1:
            width = int(state[key].shape[0])
            if width % (channels * 25):
                raise CheckpointError(
                    f"{path}: this {name!r} file's input width {width} is not 25 joints; pass layout= "
                    f"(one of the registered layouts) to say which skeleton it expects"
                )
    return resolve("ntu25"), ("assumed ntu25: the file does not say which skeleton it expects and the "
                              "published files are NTU RGB+D; pass layout= to choose another")


# -- helpers -----------------------------------------------------------------------------------------

def _read(path: Path, map_location) -> Any:
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
        # torch's own text (its weights_only advice among it) stays in __cause__, for "details"
        raise CheckpointError(
            f"{path}: not a checkpoint we can read -- neither a SMART Workbench checkpoint, nor a PyTorch "
            f"state dict of plain tensors, nor a TorchScript file (the file may be damaged, or hold "
            f"pickled Python objects, which we do not load for safety)"
        ) from exc


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            entries = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any("/code/" in e or e.endswith("/constants.pkl") for e in entries)


def _load_ours(path: Path, payload: dict, model: str | None, num_classes: int | None,
               options: dict, given: nn.Module | None = None) -> tuple[nn.Module, CheckpointMeta]:
    try:
        meta = CheckpointMeta(**payload["meta"])
    except (TypeError, KeyError, ValueError) as exc:
        raise CheckpointError(f"{path}: malformed checkpoint metadata ({exc})") from None
    if model is not None and model != meta.model:
        raise CheckpointError(f"{path}: this is a {meta.model!r} checkpoint, not {model!r}")
    if num_classes is not None and num_classes != meta.num_classes:
        raise CheckpointError(
            f"{path}: the checkpoint has {meta.num_classes} classes, not the {num_classes} asked for"
        )
    if given is not None:
        if given.layout.name != meta.layout.name:
            raise CheckpointError(f"{path}: the checkpoint is for layout {meta.layout.name!r}, the model "
                                  f"given is in {given.layout.name!r}")
        net = given
    else:
        opts = {**meta.options, **options}
        net = _build(meta.model, meta.layout.name, meta.num_classes, opts, path)
    meta.options = dict(net.options)
    _load_state(net, payload.get("state_dict", {}), path)
    net.eval()
    _attach(net, meta, path)
    return net, meta


def _build(name: str, layout, num_classes: int, options: dict, path) -> nn.Module:
    if name not in names():
        raise CheckpointError(f"{path}: unknown model {name!r}; known: {names()}")
    try:
        return create(name, layout, num_classes, **options)
    except TypeError as exc:
        raise CheckpointError(f"{path}: cannot build {name!r} with options {options}: {exc}") from None


def _unwrap(payload: Any, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(payload, dict):
        for key in ("state_dict", "model", "model_state_dict"):
            inner = payload.get(key)
            if isinstance(inner, dict) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                return dict(inner)
        if payload and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in payload.items()):
            return dict(payload)
    raise CheckpointError(
        f"{path}: neither a SMART Workbench checkpoint nor a state dict of tensors "
        f"(nor a dict holding one under 'state_dict' or 'model')"
    )


def _strip_prefix(state: dict) -> tuple[dict, bool]:
    stripped = any(k.startswith("module.") for k in state)
    if not stripped:
        return state, False
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}, True


def _identify(state: dict, path: Path) -> str:
    found = sorted({name for key, name, _ in SIGNATURES if key in state})
    if len(found) == 1 and found[0] in names():
        return found[0]
    if len(found) == 1:
        raise CheckpointError(
            f"{path}: looks like a {found[0]!r} state dict, but no such model is registered"
        )
    raise CheckpointError(
        f"{path}: cannot tell which model this state dict is for; pass model=... (one of {names()})"
    )


def _classes_in(state: dict, name: str, path: Path) -> int:
    for _, model, key in SIGNATURES:
        if model == name and key in state and state[key].ndim >= 1:
            return int(state[key].shape[0])
    raise CheckpointError(
        f"{path}: cannot find the class count of this {name!r} state dict; pass num_classes="
    )


def _key_map(net: nn.Module, name: str) -> tuple[tuple[str, str], ...]:
    return KEY_MAPS.get(name, ()) + tuple(getattr(type(net), "OFFICIAL_KEY_MAP", ()))


def _fix_keys(net: nn.Module, name: str, state: dict, report: dict, prefix: str = "") -> dict:
    own = net.state_dict()
    rules = _key_map(net, name)
    fixed: dict[str, torch.Tensor] = {}
    mapped = []
    for key, value in state.items():
        new = key
        if key not in own:
            for pattern, repl in rules:
                cand = re.sub(pattern, repl, new)
                if cand != new:
                    new = cand
            if new != key and new in own and new not in state:
                mapped.append(f"{prefix}{key} -> {prefix}{new}")
            else:
                new = key
        fixed[new] = value
    added = 0
    for key in own:
        if key.endswith("num_batches_tracked") and key not in fixed:
            base = key[: -len("num_batches_tracked")]
            if base + "running_mean" in fixed:
                fixed[key] = torch.zeros((), dtype=torch.long)
                added += 1
    filled = []
    for key in getattr(type(net), "REBUILT_BUFFERS", ()):
        if key in own and key not in fixed:
            fixed[key] = own[key].detach().clone()
            filled.append(prefix + key)
    report.setdefault("key_map", []).extend(mapped)
    report["added_num_batches_tracked"] = report.get("added_num_batches_tracked", 0) + added
    report.setdefault("filled_from_model", []).extend(filled)
    return fixed


def _default_class_names(layout: Layout | str, n: int) -> list[str]:
    if resolve(layout).name == "ntu25":
        return [f"A{i + 1:03d}" for i in range(n)]
    return [f"class {i}" for i in range(n)]


def _official_meta(net: nn.Module, name: str, report: dict) -> CheckpointMeta:
    return CheckpointMeta(model=name, layout=net.layout,
                          class_names=_default_class_names(net.layout, net.num_classes),
                          options=dict(net.options), fps=net.layout.fps, extra=report)


def _load_official_parts(paths: list[Path], model: str | None, layout, num_classes: int | None,
                         map_location, options: dict, given: nn.Module | None = None
                         ) -> tuple[nn.Module, CheckpointMeta]:
    states = []
    stripped = False
    for p in paths:
        if not p.is_file():
            raise CheckpointError(f"{p}: no such checkpoint file")
        st, s = _strip_prefix(_unwrap(_read(p, map_location), p))
        stripped |= s
        states.append(st)
    label = " + ".join(str(p) for p in paths)
    name = model or _identify(states[0], paths[0])
    if num_classes is None:
        num_classes = _classes_in(states[0], name, paths[0])
    layout, layout_source = _official_layout(layout, states[0], name, paths[0])
    net = given if given is not None else _build(name, layout, num_classes, options, label)
    parts = tuple(getattr(type(net), "CHECKPOINT_PARTS", ()))
    if len(parts) != len(paths):
        raise CheckpointError(
            f"{label}: {len(paths)} files given, but model {name!r} with options {options} is loaded from "
            f"{len(parts) or 1} file(s){' ' + str(parts) if parts else ''}"
        )
    report: dict[str, Any] = {"source": "official state dicts", "files": [str(p) for p in paths],
                              "parts": list(parts), "stripped_prefix": stripped,
                              "layout_source": layout_source}
    merged: dict[str, torch.Tensor] = {}
    for part, st in zip(parts, states, strict=True):
        sub = net.get_submodule(part)  # "" is the model itself
        prefix = f"{part}." if part else ""
        for key, value in _fix_keys(sub, name, st, report, prefix=prefix).items():
            if part == "" and any(key.startswith(f"{q}.") for q in parts if q):
                raise CheckpointError(
                    f"{label}: the file for the root part holds {key!r}, which belongs to another part"
                )
            merged[prefix + key] = value
    _load_state(net, merged, label)
    net.eval()
    meta = _official_meta(net, name, report)
    _attach(net, meta, label)
    return net, meta


def _load_state(model: nn.Module, state: dict, path) -> tuple[list, list]:
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    misshaped = [f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
                 for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or misshaped:
        hint = ""
        guess = sorted({name for key, name, _ in SIGNATURES if key in state})
        if len(guess) == 1 and guess[0] != getattr(model, "model_name", None):
            hint = f" (the file looks like a {guess[0]!r} checkpoint)"
        raise CheckpointError(
            f"{path}: the checkpoint does not fit model {getattr(model, 'model_name', '?')!r}{hint}: "
            f"{len(missing)} missing keys {missing[:10]}{'…' if len(missing) > 10 else ''}; "
            f"{len(unexpected)} unexpected keys {unexpected[:10]}{'…' if len(unexpected) > 10 else ''}; "
            f"{len(misshaped)} mis-shaped {misshaped[:10]}{'…' if len(misshaped) > 10 else ''}"
        )
    model.load_state_dict(state, strict=True)
    return missing, unexpected


# -- TorchScript -------------------------------------------------------------------------------------

class ScriptedRecognizer(nn.Module):
    """An opaque TorchScript recognizer: ``(N, T, V, 3)`` metres -> logits ``(N, C)``."""

    def __init__(self, module: torch.jit.ScriptModule, layout: Layout, num_classes: int) -> None:
        super().__init__()
        self.module = module
        self._layout = layout
        self._classes = num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._layout.check_motion_shape(tuple(x.shape), what="TorchScript recognizer input")
        y = self.module(x)
        if not isinstance(y, torch.Tensor) or y.ndim != 2 or y.shape != (x.shape[0], self._classes):
            shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise ValueError(
                f"TorchScript recognizer returned {shape}, expected ({x.shape[0]}, {self._classes})"
            )
        return y


def _load_torchscript(path: Path, layout, num_classes: int | None, map_location,
                      probe_frames: int) -> tuple[nn.Module, CheckpointMeta]:
    layout_source = "given" if layout is not None else (
        "assumed ntu25: a TorchScript file does not say which skeleton it expects; pass layout=")
    lay = resolve(layout if layout is not None else "ntu25")
    try:
        with warnings.catch_warnings():  # TorchScript is deprecated upstream but is what users bring
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(str(path), map_location=map_location)
    except Exception as exc:  # noqa: BLE001
        raise CheckpointError(
            f"{path}: a TorchScript archive that cannot be loaded here (made by another PyTorch, or damaged)"
        ) from exc
    module.eval()
    if num_classes is None:
        try:
            with torch.no_grad():
                y = module(torch.zeros(1, probe_frames, lay.num_joints, 3))
        except Exception as exc:  # noqa: BLE001
            raise CheckpointError(
                f"{path}: the TorchScript module fails on a (1, {probe_frames}, {lay.num_joints}, 3) probe "
                f"({type(exc).__name__}: {exc}); pass num_classes= (and probe_frames=)"
            ) from None
        if not isinstance(y, torch.Tensor) or y.ndim != 2 or y.shape[0] != 1 or y.shape[1] < 2:
            shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise CheckpointError(f"{path}: the TorchScript module returns {shape}, not logits (1, C)")
        num_classes = int(y.shape[1])
    net = ScriptedRecognizer(module, lay, num_classes)
    net.layout = lay
    net.num_classes = num_classes
    net.model_name = "torchscript"
    net.options = {}
    net.eval()
    meta = CheckpointMeta(model="torchscript", layout=lay,
                          class_names=_default_class_names(lay, num_classes), fps=lay.fps,
                          extra={"source": "torchscript", "files": [str(path)],
                                 "layout_source": layout_source})
    _attach(net, meta, path)
    return net, meta
