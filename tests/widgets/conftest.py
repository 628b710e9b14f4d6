"""Fixtures of the widget tests: a synthetic walking stick figure and its perturbed ('adversarial') copy."""

from __future__ import annotations

import numpy as np
import pytest
from stick_figure import BONES, JOINT_NAMES, perturbed, walking_figure


@pytest.fixture(scope="session")
def walk() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(original (T, V, 3), adversarial (T, V, 3), bones (E, 2)), metres, y up."""
    original = walking_figure(60)
    return original, perturbed(original, 0.05), BONES


@pytest.fixture(scope="session")
def joint_names() -> tuple[str, ...]:
    return JOINT_NAMES


@pytest.fixture(autouse=True)
def _skip_gl_without_context(request, qapp, gui_thread_gc):
    """Tests marked ``gl`` skip, with the reason, where no OpenGL context can be had
    (``gl_unavailable_reason``, in ``tests/conftest.py``)."""
    if request.node.get_closest_marker("gl") is not None:
        reason = request.getfixturevalue("gl_unavailable_reason")
        if reason:
            pytest.skip(reason)
