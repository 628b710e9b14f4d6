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


_GL_STATE: dict[str, str | None] = {}


def _gl_unavailable_reason() -> str | None:
    """None when an OpenGL context can be made current (Xvfb + GLX, a desktop); else why not."""
    if "reason" not in _GL_STATE:
        from PySide6.QtGui import QOffscreenSurface, QOpenGLContext

        ctx = QOpenGLContext()
        surface = QOffscreenSurface()
        surface.create()
        reason = None
        if not ctx.create():
            reason = "cannot create an OpenGL context (QT_QPA_PLATFORM=offscreen has none; run under Xvfb)"
        elif not ctx.makeCurrent(surface):
            reason = "cannot make an OpenGL context current"
        else:
            ctx.doneCurrent()
        surface.destroy()
        _GL_STATE["reason"] = reason
    return _GL_STATE["reason"]


@pytest.fixture(autouse=True)
def _skip_gl_without_context(request, qapp):
    """Tests marked ``gl`` skip, with the reason, where no OpenGL context can be had."""
    if request.node.get_closest_marker("gl") is not None:
        reason = _gl_unavailable_reason()
        if reason:
            pytest.skip(reason)
