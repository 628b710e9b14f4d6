"""A pyqtgraph GL scene drawn with QPainter: the skeleton view's live frames under software OpenGL.

Under Mesa llvmpipe (Xvfb, VMs, remote desktops) one GL frame of the skeleton view — rasterised on the
CPU, then read back with ``grabFramebuffer`` — costs 8–10 ms of the GUI thread at ~900×560 (measured),
so playback during an attack left the event loop stalled for most of every display frame. This
module projects the same items with the GL view's own camera (projection × view × each item's
transform, exactly what the GL pipeline applies) and draws them as 2D lines and discs: ~1 ms a frame.
It draws what :class:`~widgets.skeleton_view.SkeletonView` puts in a scene — line sets
(``GLLinePlotItem``, 'lines' or 'line_strip', one colour or one per vertex), screen-sized points
(``GLScatterPlotItem`` with ``pxMode``) and pixel overlays (items with ``paint_on(painter)``) — in
pyqtgraph's order (siblings by depth value, a parent before its children), without a depth buffer:
what is drawn later covers what was drawn earlier. Exports keep rendering through OpenGL.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph.opengl as gl
from PySide6 import QtCore, QtGui
from PySide6.QtCore import Qt

__all__ = ["paint_scene", "project"]


def _matrix(m: QtGui.QMatrix4x4) -> np.ndarray:
    """A QMatrix4x4 as a row-major numpy array (``data()`` is column-major)."""
    return np.asarray(m.data(), dtype=np.float64).reshape(4, 4).T


def project(points: np.ndarray, mvp: np.ndarray, width: float, height: float
            ) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates ``(N, 2)`` of ``points`` ``(N, 3)`` under ``mvp`` in a ``width`` × ``height`` view
    (y down, as QPainter draws), and ``(N,)`` True where the point is in front of the camera."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    clip = p @ mvp[:, :3].T + mvp[:, 3]
    w = clip[:, 3]
    front = w > 1e-9
    safe = np.where(front, w, 1.0)
    x = (clip[:, 0] / safe + 1.0) * 0.5 * width
    y = (1.0 - clip[:, 1] / safe) * 0.5 * height
    return np.stack([x, y], 1), front


def _qcolor(rgba, background: tuple[float, float, float] | None = None) -> QtGui.QColor:
    """A QColor of ``rgba`` (0..1); with ``background``, made opaque by blending it over that colour."""
    r, g, b, a = (min(max(float(c), 0.0), 1.0) for c in rgba)
    if background is not None and a < 1.0:
        r, g, b = (a * c + (1.0 - a) * k for c, k in zip((r, g, b), background, strict=True))
        a = 1.0
    return QtGui.QColor.fromRgbF(r, g, b, a)


def _colours(color, n: int) -> np.ndarray | None:
    """Per-vertex RGBA ``(n, 4)``, or None for one colour (returned by the caller's own tuple)."""
    c = np.asarray(color, dtype=np.float64)
    if c.ndim == 2 and c.shape[0] == n:
        return c
    return None


def _draw_lines(painter: QtGui.QPainter, item: gl.GLLinePlotItem, mvp: np.ndarray, w: float, h: float,
                background: tuple[float, float, float]):
    pos = getattr(item, "pos", None)
    if pos is None or len(pos) < 2:
        return
    xy, front = project(pos, mvp, w, h)
    if item.mode == "lines":
        a_idx = np.arange(0, len(xy) - 1, 2)
    else:  # line_strip
        a_idx = np.arange(len(xy) - 1)
    b_idx = a_idx + 1
    keep = front[a_idx] & front[b_idx]
    a_idx, b_idx = a_idx[keep], b_idx[keep]
    if not len(a_idx):
        return
    seg = np.concatenate([xy[a_idx], xy[b_idx]], 1)
    per_vertex = _colours(item.color, len(pos))
    pen = QtGui.QPen()
    width = float(item.width)
    # one pixel wide: a cosmetic pen (width 0), which the raster engine draws without stroking a path
    pen.setWidthF(0.0 if width <= 1.0 else width)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    if per_vertex is None:
        pen.setColor(_qcolor(item.color, background))
        painter.setPen(pen)
        painter.drawLines([QtCore.QLineF(*s) for s in seg.tolist()])
        return
    seg_colours = per_vertex[a_idx]  # a segment takes its first vertex's colour
    groups, inverse = np.unique(seg_colours, axis=0, return_inverse=True)
    for k, rgba in enumerate(groups):
        pen.setColor(_qcolor(rgba, background))
        painter.setPen(pen)
        painter.drawLines([QtCore.QLineF(*s) for s in seg[inverse.reshape(-1) == k].tolist()])


def _draw_points(painter: QtGui.QPainter, item: gl.GLScatterPlotItem, mvp: np.ndarray, w: float, h: float):
    pos = getattr(item, "pos", None)
    if pos is None or not len(pos):
        return
    xy, front = project(pos, mvp, w, h)
    radius = 0.5 * np.broadcast_to(np.asarray(item.size, dtype=np.float64), (len(xy),))
    per_vertex = _colours(item.color, len(pos))
    painter.setPen(Qt.PenStyle.NoPen)
    if per_vertex is None:
        painter.setBrush(_qcolor(item.color))
    for i in np.flatnonzero(front):
        if per_vertex is not None:
            painter.setBrush(_qcolor(per_vertex[i]))
        painter.drawEllipse(QtCore.QPointF(xy[i, 0], xy[i, 1]), radius[i], radius[i])


def paint_scene(painter: QtGui.QPainter, view: gl.GLViewWidget, width: float, height: float,
                background) -> None:
    """Draw ``view``'s visible items with its camera into ``painter`` (``width`` × ``height`` logical
    pixels), over ``background`` (RGB 0..255, filled by the caller). Translucent lines are drawn opaque
    in their colour blended over the background beforehand: the raster engine's blending of lines cost
    ~8× their drawing (measured), and the lines that are translucent (floor, trails) lie over the
    background."""
    bg = tuple(float(c) / 255.0 for c in background[:3])
    region = (0, 0, max(int(width), 1), max(int(height), 1))
    camera = _matrix(view.projectionMatrix(region, region)) @ _matrix(view.viewMatrix())

    def walk(items, parent: np.ndarray) -> None:
        for item in sorted(items, key=lambda it: it.depthValue()):  # stable: insertion order on ties
            if not item.visible():
                continue
            tr = parent @ _matrix(item.transform())
            if isinstance(item, gl.GLLinePlotItem):
                _draw_lines(painter, item, camera @ tr, width, height, bg)
            elif isinstance(item, gl.GLScatterPlotItem):
                _draw_points(painter, item, camera @ tr, width, height)
            elif hasattr(item, "paint_on"):
                item.paint_on(painter)
            walk(item.childItems(), tr)

    walk([it for it in view.items if it.parentItem() is None], np.eye(4))
