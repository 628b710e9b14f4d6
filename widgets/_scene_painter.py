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

__all__ = ["camera_matrix", "paint_scene", "project"]


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


def _rgba8(colours, n: int, background: tuple[float, float, float] | None) -> np.ndarray:
    """``(n, 4)`` uint8 RGBA of one colour or of per-vertex colours (0..1); with ``background``,
    translucent colours made opaque by blending them over it."""
    c = np.asarray(colours, dtype=np.float64)
    c = np.broadcast_to(c, (n, 4)) if c.ndim == 1 else c[:n]
    c = np.clip(c, 0.0, 1.0)
    if background is not None:
        a = c[:, 3:4]
        c = np.concatenate([a * c[:, :3] + (1.0 - a) * np.asarray(background), np.ones_like(a)], 1)
    return np.rint(c * 255.0).astype(np.uint8)


def _groups(rgba: np.ndarray):
    """``(QColor, rows)`` for each distinct colour of ``rgba`` ``(n, 4)`` uint8, in first-seen order."""
    key = rgba.view(np.uint32).reshape(-1)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    for k in np.argsort(first):
        r, g, b, a = (int(v) for v in rgba[first[k]])
        yield QtGui.QColor(r, g, b, a), np.flatnonzero(inverse.reshape(-1) == k)


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
    pen = QtGui.QPen()
    width = float(item.width)
    # one pixel wide: a cosmetic pen (width 0), which the raster engine draws without stroking a path
    pen.setWidthF(0.0 if width <= 1.0 else width)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    if np.ndim(item.color) == 1:  # one colour for the item
        (colour, _), = _groups(_rgba8(item.color, 1, background))
        pen.setColor(colour)
        painter.setPen(pen)
        painter.drawLines([QtCore.QLineF(*s) for s in seg.tolist()])
        return
    colours = _rgba8(item.color, len(pos), background)[a_idx]  # a segment takes its first vertex's colour
    for colour, rows in _groups(colours):
        pen.setColor(colour)
        painter.setPen(pen)
        painter.drawLines([QtCore.QLineF(*s) for s in seg[rows].tolist()])


def _draw_points(painter: QtGui.QPainter, item: gl.GLScatterPlotItem, mvp: np.ndarray, w: float, h: float):
    """Screen-sized discs (``pxMode``), each in its colour."""
    pos = getattr(item, "pos", None)
    if pos is None or not len(pos):
        return
    xy, front = project(pos, mvp, w, h)
    radius = 0.5 * np.broadcast_to(np.asarray(item.size, dtype=np.float64), (len(xy),))
    colours = _rgba8(item.color, len(pos), None)
    painter.setPen(Qt.PenStyle.NoPen)
    rows = zip(xy.tolist(), colours.tolist(), radius.tolist(), front.tolist(), strict=True)
    for (x, y), (r, g, b, a), rad, shown in rows:
        if shown:
            painter.setBrush(QtGui.QColor(r, g, b, a))
            painter.drawEllipse(QtCore.QPointF(x, y), rad, rad)


def camera_matrix(view: gl.GLViewWidget, width: float, height: float) -> np.ndarray:
    """Projection × view of ``view``'s camera for a ``width`` × ``height`` picture, ``(4, 4)``."""
    region = (0, 0, max(int(width), 1), max(int(height), 1))
    return _matrix(view.projectionMatrix(region, region)) @ _matrix(view.viewMatrix())


def paint_scene(painter: QtGui.QPainter, view: gl.GLViewWidget, width: float, height: float,
                background, only=None, skip=()) -> None:
    """Draw ``view``'s visible items with its camera into ``painter`` (``width`` × ``height`` logical
    pixels), over ``background`` (RGB 0..255, filled by the caller). Translucent lines are drawn opaque
    in their colour blended over the background beforehand: the raster engine's blending of lines cost
    ~8× their drawing (measured), and the lines that are translucent (floor, trails) lie over the
    background. ``only``: draw just these items (and their children); ``skip``: leave these out."""
    bg = tuple(float(c) / 255.0 for c in background[:3])
    camera = camera_matrix(view, width, height)

    def walk(items, parent: np.ndarray, drawing: bool) -> None:
        for item in sorted(items, key=lambda it: it.depthValue()):  # stable: insertion order on ties
            if not item.visible() or item in skip:
                continue
            tr = parent @ _matrix(item.transform())
            draw = drawing or item in only
            if not draw:
                pass
            elif isinstance(item, gl.GLLinePlotItem):
                _draw_lines(painter, item, camera @ tr, width, height, bg)
            elif isinstance(item, gl.GLScatterPlotItem):
                _draw_points(painter, item, camera @ tr, width, height)
            elif hasattr(item, "paint_on"):
                item.paint_on(painter)
            walk(item.childItems(), tr, draw)

    only = () if only is None else tuple(only)
    walk([it for it in view.items if it.parentItem() is None], np.eye(4), not only)
