"""The model/data contract: a model and a dataset that meet must agree (issue 11).

A model knows the class names it was trained on, its skeleton layout and the frame rate of its
training data (``model.class_names``, ``model.layout``, ``model.fps``: every model returned by
:func:`engine.models.load_checkpoint` carries them). A dataset knows the same of itself. Before a
model scores or attacks a dataset:

* **class names** are matched by name: :func:`match_classes` returns, for each dataset label index,
  the model's class index (``arange`` when both lists are identical). Names are compared exactly
  first, then ignoring case and surrounding white space. Dataset classes the model does not know
  map to ``-1`` (their samples cannot be scored); when the two sets share no name at all, or when
  a dataset name matches two model classes, :class:`ModelDataMismatch` is raised;
* the **layout** must be the same (same name and joint count);
* the **frame rate** must agree within 1 % (a model trained at 30 fps sees motion three times
  too fast at 10 fps).

Every refusal is a :class:`ModelDataMismatch` (a :class:`ValueError`) whose message says which part
differs, lists both sides shortly and says what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import WorkbenchError
from ..skeleton import Layout, resolve

__all__ = ["ModelDataMismatch", "fit", "match_classes"]

#: relative frame-rate difference tolerated between a model and a dataset
FPS_TOLERANCE = 0.01


class ModelDataMismatch(WorkbenchError):
    """A model and a dataset do not fit: other class names, another layout or another frame rate."""


def _short(names: Sequence[str], limit: int = 8) -> str:
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:limit])
    more = f", … ({len(names)} in all)" if len(names) > limit else ""
    return f"[{shown}{more}]"


def _where(what: str, path: Any) -> str:
    return f"{what} {str(path)!r}" if path is not None else what


def _layout_name(layout: Layout | str) -> tuple[str, int | None]:
    try:
        lay = resolve(layout)
    except (ValueError, KeyError):
        return str(layout), None
    return lay.name, lay.num_joints


def match_classes(model_class_names: Sequence[str], dataset_class_names: Sequence[str], *,
                  model_layout: Layout | str, dataset_layout: Layout | str,
                  model_fps: float | None, dataset_fps: float | None,
                  model_path: Any = None, dataset_path: Any = None) -> np.ndarray:
    """Map each dataset label index to the model's class index, by name; refuse what does not fit.

    Returns an int64 array ``m`` of length ``len(dataset_class_names)``: the model's index for
    dataset label ``k`` is ``m[k]`` (``-1`` for a dataset class the model does not know). Identical
    lists give ``arange``. Raises :class:`ModelDataMismatch` when the layouts differ, the frame
    rates differ by more than 1 %, the two sets of class names share no name, or a name is
    ambiguous. ``model_path`` / ``dataset_path`` only make the messages name the files.
    """
    model_names = [str(n) for n in model_class_names]
    data_names = [str(n) for n in dataset_class_names]
    m_what, d_what = _where("the model", model_path), _where("the dataset", dataset_path)

    m_lay, m_v = _layout_name(model_layout)
    d_lay, d_v = _layout_name(dataset_layout)
    if m_lay != d_lay or (m_v is not None and d_v is not None and m_v != d_v):
        m_j, d_j = (f" ({v} joints)" if v else "" for v in (m_v, d_v))
        raise ModelDataMismatch(
            f"layout differs: {m_what} expects skeletons in layout {m_lay!r}{m_j} but {d_what} is in "
            f"{d_lay!r}{d_j}. "
            f"Pick a model trained on {d_lay!r} data, or load the data in {m_lay!r}."
        )
    if model_fps is not None and dataset_fps is not None:
        mf, df = float(model_fps), float(dataset_fps)
        if not (mf > 0 and df > 0) or abs(mf - df) > FPS_TOLERANCE * max(mf, df):
            raise ModelDataMismatch(
                f"frame rate differs: {m_what} was trained at {mf:g} fps but {d_what} is at {df:g} fps. "
                f"Load the data resampled to {mf:g} fps (the loaders' fps= option), or use a model "
                f"trained at {df:g} fps."
            )

    if model_names == data_names:
        return np.arange(len(data_names), dtype=np.int64)

    exact = {}
    for i, n in enumerate(model_names):
        exact.setdefault(n, []).append(i)
    loose = {}
    for i, n in enumerate(model_names):
        loose.setdefault(n.strip().casefold(), []).append(i)
    mapping = np.full(len(data_names), -1, dtype=np.int64)
    for k, n in enumerate(data_names):
        hits = exact.get(n) or loose.get(n.strip().casefold()) or []
        if len(hits) > 1:
            raise ModelDataMismatch(
                f"class names are ambiguous: {d_what}'s class {n!r} matches {len(hits)} classes of "
                f"{m_what} ({[model_names[h] for h in hits]}). Rename the classes so that each is unique."
            )
        if hits:
            mapping[k] = hits[0]
    if (mapping < 0).all():
        raise ModelDataMismatch(
            f"class names differ: {m_what} knows {_short(model_names)} but {d_what} has "
            f"{_short(data_names)} — no name in common. Pick a model trained on these classes, "
            f"or a dataset with the model's classes."
        )
    used = mapping[mapping >= 0]
    if len(np.unique(used)) != len(used):
        dup = [data_names[k] for k in range(len(data_names))
               if mapping[k] >= 0 and (used == mapping[k]).sum() > 1]
        raise ModelDataMismatch(
            f"class names are ambiguous: {d_what}'s classes {_short(dup)} all match one class of "
            f"{m_what}. Rename the classes so that each is unique."
        )
    return mapping


def fit(model: Any, dataset: Any) -> np.ndarray:
    """:func:`match_classes` for a loaded model (``class_names``, ``layout``, ``fps``) and a dataset.

    A model without ``class_names`` (built by hand, not loaded) is taken to use the dataset's classes
    in the dataset's order when its class count matches; a model without ``fps`` is not checked for
    frame rate.
    """
    data_names = list(dataset.class_names)
    names = getattr(model, "class_names", None)
    if names is None:
        k = getattr(model, "num_classes", None)
        if k is not None and k != len(data_names):
            raise ModelDataMismatch(
                f"class count differs: the model has {k} classes and no class names, the dataset has "
                f"{len(data_names)} classes {_short(data_names)}. Load the model from a checkpoint that "
                f"names its classes."
            )
        names = data_names
    return match_classes(
        names, data_names, model_layout=model.layout, dataset_layout=dataset.layout,
        model_fps=getattr(model, "fps", None), dataset_fps=getattr(dataset, "fps", None),
        model_path=getattr(model, "source_path", None),
        dataset_path=getattr(dataset, "name", None) or None,
    )
