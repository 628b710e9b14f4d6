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


def _rgba_keys(colours, n: int, background: tuple[float, float, float]) -> np.ndarray:
    """``(n,)`` uint32 keys ``r | g << 8 | b << 16 | a << 24`` of one colour or of per-vertex colours
    (0..1), translucent ones blended over ``background`` (RGB 0..1) and made opaque."""
    c = np.asarray(colours, dtype=np.float64)
    c = np.broadcast_to(c, (n, 4)) if c.ndim == 1 else c[:n]
    c = np.clip(c, 0.0, 1.0)
    a = c[:, 3:4]
    rgb = np.rint((a * c[:, :3] + (1.0 - a) * np.asarray(background)) * 255.0).astype(np.uint32)
    return rgb[:, 0] | (rgb[:, 1] << 8) | (rgb[:, 2] << 16) | np.uint32(255 << 24)


_COLOURS: dict[int, QtGui.QColor] = {}  # key -> QColor, shared by every frame (a few hundred at most)


def _colour(key: int) -> QtGui.QColor:
    colour = _COLOURS.get(key)
    if colour is None:
        if len(_COLOURS) > 4096:
            _COLOURS.clear()
        colour = _COLOURS[key] = QtGui.QColor(key & 0xFF, (key >> 8) & 0xFF, (key >> 16) & 0xFF, key >> 24)
    return colour


# A frame's primitives are collected per item as columns: (depth (n,), kind (0 segment, 1 disc),
# coordinates (n, 4): x0, y0, x1, y1 of a segment or x, y, radius, 0 of a disc, colour keys (n,), width).
def _line_primitives(item: gl.GLLinePlotItem, mvp: np.ndarray, w: float, h: float, bg, out: list) -> None:
    """Append the segments of ``item`` in front of the camera (a segment takes its first vertex's colour
    and the depth of its middle)."""
    pos = getattr(item, "pos", None)
    if pos is None or len(pos) < 2:
        return
    xy, depth = project(pos, mvp, w, h)
    a = np.arange(0, len(xy) - 1, 2) if item.mode == "lines" else np.arange(len(xy) - 1)
    b = a + 1
    keep = (depth[a] > 1e-9) & (depth[b] > 1e-9)
    a, b = a[keep], b[keep]
    keys = _rgba_keys(item.color, len(pos), bg)[a]
    out.append((0.5 * (depth[a] + depth[b]), 0, np.concatenate([xy[a], xy[b]], 1), keys, float(item.width)))


def _point_primitives(item: gl.GLScatterPlotItem, mvp: np.ndarray, w: float, h: float, bg, out: list) -> None:
    """Append the screen-sized points (``pxMode``) of ``item`` in front of the camera, as discs."""
    pos = getattr(item, "pos", None)
    if pos is None or not len(pos):
        return
    xy, depth = project(pos, mvp, w, h)
    radius = 0.5 * np.broadcast_to(np.asarray(item.size, dtype=np.float64), (len(xy),))
    keep = depth > 1e-9
    coords = np.stack([xy[:, 0], xy[:, 1], radius, np.zeros(len(xy))], 1)
    out.append((depth[keep], 1, coords[keep], _rgba_keys(item.color, len(pos), bg)[keep], 0.0))


def _draw(painter: QtGui.QPainter, parts: list) -> None:
    """Draw the primitives farthest first (stable: on equal depth, in the order the items were walked);
    a run of segments in one colour and width is one call."""
    if not parts:
        return
    depth = np.concatenate([p[0] for p in parts])
    if not depth.size:
        return
    kind = np.concatenate([np.full(len(p[0]), p[1], dtype=np.int8) for p in parts])
    coords = np.concatenate([p[2] for p in parts])
    keys = np.concatenate([p[3] for p in parts])
    widths = np.concatenate([np.full(len(p[0]), p[4]) for p in parts])
    order = np.argsort(-depth, kind="stable")
    kind, coords, keys, widths = kind[order], coords[order], keys[order], widths[order]
    change = np.ones(len(order), dtype=bool)
    change[1:] = (kind[1:] != kind[:-1]) | (keys[1:] != keys[:-1]) | (widths[1:] != widths[:-1])
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], len(order))
    rows = coords.tolist()
    pen = QtGui.QPen()
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    no_pen = False
    line_f, point_f = QtCore.QLineF, QtCore.QPointF
    for start, end, k, key, width in zip(starts.tolist(), ends.tolist(), kind[starts].tolist(),
                                         keys[starts].tolist(), widths[starts].tolist(), strict=True):
        colour = _colour(key)
        if k == 0:
            pen.setColor(colour)
            # one pixel wide: a cosmetic pen (width 0), drawn without stroking a path
            pen.setWidthF(0.0 if width <= 1.0 else width)
            painter.setPen(pen)
            no_pen = False
            painter.drawLines([line_f(*r) for r in rows[start:end]])
        else:
            if not no_pen:
                painter.setPen(Qt.PenStyle.NoPen)
                no_pen = True
            painter.setBrush(colour)
            for x, y, r, _ in rows[start:end]:
                painter.drawEllipse(point_f(x, y), r, r)


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
