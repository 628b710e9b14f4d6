"""A pyqtgraph GL scene drawn with QPainter: the skeleton view's frames under software OpenGL.

Under Mesa llvmpipe (Xvfb, VMs, remote desktops) one GL frame of the skeleton view — rasterised on the
CPU, then read back with ``grabFramebuffer`` — costs 6–10 ms of the GUI thread at ~900×560 (measured),
so playback during an attack left the event loop stalled for most of every display frame. This
module projects the same items with the GL view's own camera (projection × view × each item's
transform, exactly what the GL pipeline applies) and draws them as 2D line segments and discs: about
2 ms a frame. It draws what :class:`~widgets.skeleton_view.SkeletonView` puts in a scene — line sets
(``GLLinePlotItem``, 'lines' or 'line_strip', one colour or one per vertex), screen-sized points
(``GLScatterPlotItem`` with ``pxMode``) and pixel overlays (items with ``paint_on(painter)``, drawn
last, as their depth value puts them). In place of a depth buffer the segments and discs are drawn
from the farthest to the nearest (a painter's algorithm on their distance to the camera), so two
overlaid skeletons interleave as they do in OpenGL. Translucent colours are blended over the
background colour beforehand and drawn opaque: the raster engine's blending of lines cost ~8× their
drawing (measured), and the translucent lines of the view (floor grid, trails) lie over the background.
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


def camera_matrix(view: gl.GLViewWidget, width: float, height: float) -> np.ndarray:
    """Projection × view of ``view``'s camera for a ``width`` × ``height`` picture, ``(4, 4)``."""
    region = (0, 0, max(int(width), 1), max(int(height), 1))
    return _matrix(view.projectionMatrix(region, region)) @ _matrix(view.viewMatrix())


def project(points: np.ndarray, mvp: np.ndarray, width: float, height: float
            ) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates ``(N, 2)`` of ``points`` ``(N, 3)`` under ``mvp`` in a ``width`` × ``height`` view
    (y down, as QPainter draws), and their distance along the view direction ``(N,)`` (the clip w;
    ≤ 0 behind the camera)."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    clip = p @ mvp[:, :3].T + mvp[:, 3]
    w = clip[:, 3]
    safe = np.where(w > 1e-9, w, 1.0)
    x = (clip[:, 0] / safe + 1.0) * 0.5 * width
    y = (1.0 - clip[:, 1] / safe) * 0.5 * height
    return np.stack([x, y], 1), w


def _rgba8(colours, n: int, background: tuple[float, float, float]) -> np.ndarray:
    """``(n, 4)`` uint8 RGBA of one colour or of per-vertex colours (0..1), translucent ones blended
    over ``background`` (RGB 0..1) and made opaque."""
    c = np.asarray(colours, dtype=np.float64)
    c = np.broadcast_to(c, (n, 4)) if c.ndim == 1 else c[:n]
    c = np.clip(c, 0.0, 1.0)
    a = c[:, 3:4]
    c = np.concatenate([a * c[:, :3] + (1.0 - a) * np.asarray(background), np.ones_like(a)], 1)
    return np.rint(c * 255.0).astype(np.uint8)


def _line_primitives(item: gl.GLLinePlotItem, mvp: np.ndarray, w: float, h: float, bg, out: list) -> None:
    """Append ``(depth, 0, x0, y0, x1, y1, rgba, width)`` for each segment of ``item`` in front of the
    camera."""
    pos = getattr(item, "pos", None)
    if pos is None or len(pos) < 2:
        return
    xy, depth = project(pos, mvp, w, h)
    a = np.arange(0, len(xy) - 1, 2) if item.mode == "lines" else np.arange(len(xy) - 1)
    b = a + 1
    keep = (depth[a] > 1e-9) & (depth[b] > 1e-9)
    a, b = a[keep], b[keep]
    rgba = _rgba8(item.color, len(pos), bg)[a]  # a segment takes its first vertex's colour
    key = rgba.view(np.uint32).reshape(-1).tolist()
    width = float(item.width)
    seg_depth = (0.5 * (depth[a] + depth[b])).tolist()
    for d, (x0, y0), (x1, y1), k in zip(seg_depth, xy[a].tolist(), xy[b].tolist(), key, strict=True):
        out.append((d, 0, x0, y0, x1, y1, k, width))


def _point_primitives(item: gl.GLScatterPlotItem, mvp: np.ndarray, w: float, h: float, bg, out: list) -> None:
    """Append ``(depth, 1, x, y, radius, 0, rgba, 0)`` for each screen-sized point (``pxMode``)."""
    pos = getattr(item, "pos", None)
    if pos is None or not len(pos):
        return
    xy, depth = project(pos, mvp, w, h)
    radius = (0.5 * np.broadcast_to(np.asarray(item.size, dtype=np.float64), (len(xy),))).tolist()
    key = _rgba8(item.color, len(pos), bg).view(np.uint32).reshape(-1).tolist()
    for d, (x, y), r, k in zip(depth.tolist(), xy.tolist(), radius, key, strict=True):
        if d > 1e-9:
            out.append((d, 1, x, y, r, 0.0, k, 0.0))


def _draw(painter: QtGui.QPainter, primitives: list) -> None:
    """Draw the primitives farthest first; a run of segments in one colour and width is one call."""
    primitives.sort(key=lambda p: -p[0])  # stable: on equal depth, the order the items were walked
    colours: dict[int, QtGui.QColor] = {}
    pen = QtGui.QPen()
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    state = None
    run: list[QtCore.QLineF] = []
    for _, kind, x0, y0, x1, y1, key, width in primitives:
        new = (kind, key, width)
        if new != state:
            if run:
                painter.drawLines(run)
                run = []
            colour = colours.get(key)
            if colour is None:
                r, g, b, a = np.array([key], dtype=np.uint32).view(np.uint8).tolist()
                colour = colours[key] = QtGui.QColor(r, g, b, a)
            if kind == 0:
                pen.setColor(colour)
                # one pixel wide: a cosmetic pen (width 0), drawn without stroking a path
                pen.setWidthF(0.0 if width <= 1.0 else width)
                painter.setPen(pen)
            else:
                if state is None or state[0] != 1:
                    painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour)
            state = new
        if kind == 0:
            run.append(QtCore.QLineF(x0, y0, x1, y1))
        else:
            painter.drawEllipse(QtCore.QPointF(x0, y0), x1, x1)
    if run:
        painter.drawLines(run)


def paint_scene(painter: QtGui.QPainter, view: gl.GLViewWidget, width: float, height: float,
                background, only=None, skip=(), camera: np.ndarray | None = None) -> None:
    """Draw ``view``'s visible items with its camera into ``painter`` (``width`` × ``height`` logical
    pixels), over ``background`` (RGB 0..255, filled by the caller). ``only``: draw just these items (and
    their children); ``skip``: leave these out; ``camera``: :func:`camera_matrix` when the caller has it."""
    bg = tuple(float(c) / 255.0 for c in background[:3])
    if camera is None:
        camera = camera_matrix(view, width, height)
    primitives: list = []
    overlays: list = []

    def walk(items, parent: np.ndarray, drawing: bool) -> None:
        for item in sorted(items, key=lambda it: it.depthValue()):  # stable: insertion order on ties
            if not item.visible() or item in skip:
                continue
            tr = parent @ _matrix(item.transform())
            draw = drawing or item in only
            if not draw:
                pass
            elif isinstance(item, gl.GLLinePlotItem):
                _line_primitives(item, camera @ tr, width, height, bg, primitives)
            elif isinstance(item, gl.GLScatterPlotItem):
                _point_primitives(item, camera @ tr, width, height, bg, primitives)
            elif hasattr(item, "paint_on"):
                overlays.append(item)
            walk(item.childItems(), tr, draw)

    only = () if only is None else tuple(only)
    walk([it for it in view.items if it.parentItem() is None], np.eye(4), not only)
    _draw(painter, primitives)
    for item in overlays:
        item.paint_on(painter)
