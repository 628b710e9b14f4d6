"""pyqtgraph GL items that work in more than one GL context.

pyqtgraph 0.14 caches each item class's shader program in a class attribute (``_shaderProgram``), compiled
in whichever context painted first. A second :class:`GLViewWidget` in another top-level window (an export
view, a second test, a dialog) gets a context that does not share objects with the first, and every paint
fails with ``GLError 1281 (invalid value) in glUseProgram``; the item is silently not drawn. Setting
``Qt.AA_ShareOpenGLContexts`` before the QApplication exists avoids it for the whole app; these
subclasses avoid it regardless by caching one program per context share group.
"""

from __future__ import annotations

import itertools

import pyqtgraph.opengl as gl
from pyqtgraph.Qt import QtGui

__all__ = ["Lines", "Points", "program_for_current_context"]

_PROGRAMS: dict[int, object] = {}
_TOKENS = itertools.count(1)


def program_for_current_context(base: type) -> object:
    """The shader program of pyqtgraph item class ``base`` for the current context's share group.

    The program is remembered in a dynamic property of the share group (a QObject), so a group that is
    destroyed and replaced by another at the same address never reuses a stale program.
    """
    ctx = QtGui.QOpenGLContext.currentContext()
    group = ctx.shareGroup()
    key = f"_smart_program_{base.__name__}"
    token = group.property(key)
    if token is not None and token in _PROGRAMS:
        return _PROGRAMS[token]
    saved = base._shaderProgram
    base._shaderProgram = None
    try:
        program = base.getShaderProgram()
    finally:
        base._shaderProgram = saved
    token = next(_TOKENS)
    group.setProperty(key, token)
    _PROGRAMS[token] = program
    return program


class Lines(gl.GLLinePlotItem):
    """:class:`GLLinePlotItem` with a per-context shader program (see module docstring)."""

    @staticmethod
    def getShaderProgram():
        return program_for_current_context(gl.GLLinePlotItem)


class Points(gl.GLScatterPlotItem):
    """:class:`GLScatterPlotItem` with a per-context shader program (see module docstring)."""

    @staticmethod
    def getShaderProgram():
        return program_for_current_context(gl.GLScatterPlotItem)
