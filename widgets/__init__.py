"""Reusable Qt widgets of SMART Workbench. They display numpy data and emit signals; no torch, no engine.

Exports are lazy (``widgets.SkeletonView`` imports Qt/pyqtgraph/OpenGL on first access). Set
``PYQTGRAPH_QT_LIB=PySide6`` or import PySide6 first: pyqtgraph prefers PyQt6 when both are installed.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "SkeletonView": "widgets.skeleton_view",
    "SkeletonItem": "widgets.skeleton_view",
    "grab_widget": "widgets.skeleton_view",
    "PlaybackBar": "widgets.playback",
    "LossPlot": "widgets.loss_plot",
    "ProbabilityBars": "widgets.probability_chart",
    "ParameterPanel": "widgets.parameter_panel",
    "PARAM_KEYS": "widgets.parameter_panel",
    "DisplacementChart": "widgets.displacement_chart",
    "heat_rgba": "widgets.colormap",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'widgets' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
