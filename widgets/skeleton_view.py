"""3D view of an original and an adversarial skeleton clip (pyqtgraph OpenGL).

Coordinates: clips are ``(T, V, 3)`` float arrays in metres with **y up**. The GL view is z-up, so every
item lives under one root node rotated +90 degrees about x, which maps data ``(x, y, z)`` to GL
``(x, -z, y)``. Item data therefore stays in data coordinates: ``SkeletonItem.joints.pos`` is exactly the
pose of the current frame.

Side by side is done with **one** GL view and two item sets: the original is translated to -x and the
adversarial to +x (item transforms, the data is untouched). One view means one GL context, one camera
for both skeletons, and one framebuffer to grab for export.

With a software OpenGL (Mesa llvmpipe: Xvfb, VMs, remote desktops) the GL view is not embedded in the
window: a ``QOpenGLWidget`` in a window makes Qt compose the *whole* window through OpenGL on every
repaint of *any* widget (about 30 ms of CPU per repaint at 1600x960 under llvmpipe, measured), so every
plot update or playback tick would stall the event loop. Instead the GL view stays hidden and keeps the
scene and the camera; each new frame (once per display frame at most) is drawn from them with QPainter
(:mod:`widgets._scene_painter`, the same projection; a software-GL frame and its read-back cost 8–10 ms
of the GUI thread) and a plain widget shows the image and passes mouse, wheel and keys to the GL view
(``offscreen=True``; ``None`` picks it for software renderers). Exports are drawn the same way
there; with a hardware OpenGL the view is embedded and renders (and exports) through OpenGL.

Items are built once in ``__init__`` and only updated with ``setData`` (see STYLE.md W2/W3): a frame
writes the pose into preallocated float32 buffers that pyqtgraph writes into its existing vertex buffers.
Heat colours are looked up per shown frame (a 256-entry table, into a reused ``(V, 4)`` buffer), so a new
adversarial clip costs one ``(T, V)`` norm and its quantisation; :meth:`SkeletonView.set_adversarial`
takes clips at any rate and applies at most one per display frame (the newest wins).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pyqtgraph.opengl as gl
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt, Signal
from PySide6.QtOpenGLWidgets import QOpenGLWidget

from widgets._gl import Lines, Points
from widgets._scene_painter import camera_matrix, paint_scene
from widgets._throttle import FRAME_MS, FrameThrottle
from widgets.colormap import heat_colormap, heat_rgba

__all__ = [
    "ADVERSARIAL_COLOR",
    "grab_widget",
    "BACKGROUND",
    "CAMERA_PRESETS",
    "ORIGINAL_COLOR",
    "SkeletonItem",
    "SkeletonView",
    "leaf_joints",
]

ORIGINAL_COLOR = (0.30, 0.72, 1.00, 1.0)
ADVERSARIAL_COLOR = (1.00, 0.35, 0.75, 1.0)
BACKGROUND = (28, 30, 36)
FLOOR_COLOR = (1.0, 1.0, 1.0, 0.16)
#: Camera angles (GL euler: elevation, azimuth) of the presets. Front looks along data -z (camera at +z).
CAMERA_PRESETS = {
    "front": (5.0, -90.0),
    "side": (5.0, 0.0),
    "top": (90.0, -90.0),
    "default": (18.0, -60.0),
}
MODES = ("overlay", "side")
_HEAT_LEVELS = 256
_HEAT_LUT = heat_rgba(np.linspace(0.0, 1.0, _HEAT_LEVELS))  # (256, 4) float32


def _as_clip(a, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float32)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have shape (T, V, 3) with T, V >= 1, got {arr.shape}")
    return np.ascontiguousarray(arr)


def _as_bones(bones, n_joints: int) -> np.ndarray:
    b = np.asarray(bones)
    if b.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if b.ndim != 2 or b.shape[1] != 2 or not np.issubdtype(b.dtype, np.integer):
        raise ValueError(f"bones must be an integer array of shape (E, 2), got {b.dtype} {b.shape}")
    if b.min() < 0 or b.max() >= n_joints:
        raise ValueError(f"bones index joints 0..{n_joints - 1}, got values {b.min()}..{b.max()}")
    return b.astype(np.int64)


def leaf_joints(bones: np.ndarray, n_joints: int) -> np.ndarray:
    """Joints that touch exactly one bone (hands, feet, head): the default joints with motion trails."""
    if len(bones) == 0:
        return np.arange(n_joints)
    degree = np.bincount(np.asarray(bones).reshape(-1), minlength=n_joints)
    leaves = np.flatnonzero(degree == 1)
    return leaves if leaves.size else np.arange(n_joints)


class SkeletonItem(gl.GLGraphicsItem.GLGraphicsItem):
    """One skeleton: a joint scatter and a bone line set (``mode='lines'``), plus an optional trail.

    Children (built once): ``joints`` (scatter, ``pos`` (V, 3)), ``bones`` (lines, ``pos`` (2E, 3) with
    ``bones.pos.reshape(E, 2, 3) == joints.pos[bones]``) and ``trail`` (lines, hidden until
    :meth:`set_trail` gets data). Positions are written into preallocated float32 buffers and passed with
    ``setData(pos=...)``; colours are only sent when they change.
    """

    def __init__(self, color=ORIGINAL_COLOR, joint_size: float = 9.0, bone_width: float = 3.0,
                 parentItem=None):
        super().__init__(parentItem=parentItem)
        self._color = tuple(float(c) for c in color)
        # 'opaque' (depth test, no blending): pyqtgraph's default 'additive' would mix two overlaid skeletons.
        self.bones = Lines(parentItem=self, mode="lines", color=self._color, width=bone_width,
                           antialias=False, glOptions="opaque")
        # Joint colours are always an (V, 4) array: pyqtgraph 0.14 keeps the "colour dirty" flag when an
        # array colour is replaced by a tuple before the next paint, then calls .nbytes on the tuple.
        self.joints = Points(parentItem=self, size=joint_size, pxMode=True, glOptions="opaque")
        self.trail = Lines(parentItem=self, mode="lines", width=2.0, antialias=False, glOptions="translucent")
        self.trail.hide()
        self._bone_index = np.zeros(0, dtype=np.int64)
        self._jbuf = np.zeros((0, 3), dtype=np.float32)
        self._bbuf = np.zeros((0, 3), dtype=np.float32)
        self._tbuf = np.zeros((0, 2, 3), dtype=np.float32)
        self._joint_colors: np.ndarray | None = None
        self._base_colors = np.zeros((0, 4), dtype=np.float32)
        self.n_joints = 0
        self.bone_pairs = np.zeros((0, 2), dtype=np.int64)

    # --- topology and colour -------------------------------------------------------------------------
    def set_topology(self, bones, n_joints: int) -> None:
        """Set the joint count and the ``(E, 2)`` bone index pairs; reallocates the position buffers."""
        b = _as_bones(bones, n_joints)
        self.n_joints = int(n_joints)
        self.bone_pairs = b
        self._bone_index = b.reshape(-1)
        self._jbuf = np.zeros((n_joints, 3), dtype=np.float32)
        self._bbuf = np.zeros((len(self._bone_index), 3), dtype=np.float32)
        self.bones.setVisible(len(b) > 0)
        self._joint_colors = None
        self._base_colors = np.tile(np.asarray(self._color, dtype=np.float32), (self.n_joints, 1))
        self.joints.setData(color=self._base_colors)

    @property
    def color(self) -> tuple[float, ...]:
        return self._color

    def set_color(self, color) -> None:
        """Base colour (RGBA 0..1) of bones and, unless per-joint colours are set, joints."""
        self._color = tuple(float(c) for c in color)
        self.bones.setData(color=self._color)
        self._base_colors = np.tile(np.asarray(self._color, dtype=np.float32), (self.n_joints, 1))
        self._tbuf = np.zeros((0, 2, 3), dtype=np.float32)  # trail colours are rebuilt on the next set_trail
        if self._joint_colors is None:
            self.joints.setData(color=self._base_colors)

    def set_joint_colors(self, colors) -> None:
        """Per-joint RGBA colours ``(V, 4)`` in 0..1, or None for the base colour (as a (V, 4) array)."""
        if colors is None:
            if self._joint_colors is not None:
                self._joint_colors = None
                self.joints.setData(color=self._base_colors)
            return
        c = np.ascontiguousarray(colors, dtype=np.float32)
        if c.shape != (self.n_joints, 4):
            raise ValueError(f"joint colours must have shape ({self.n_joints}, 4), got {c.shape}")
        self._joint_colors = c
        self.joints.setData(color=c)

    # --- per frame -----------------------------------------------------------------------------------
    def set_pose(self, joints) -> None:
        """Show one pose ``(V, 3)`` (data coordinates)."""
        np.copyto(self._jbuf, joints, casting="same_kind")
        if len(self._bone_index):
            np.take(self._jbuf, self._bone_index, axis=0, out=self._bbuf)
            self.bones.setData(pos=self._bbuf)
        self.joints.setData(pos=self._jbuf)

    def set_trail(self, history) -> None:
        """Trail through ``history`` ``(L + 1, J, 3)``, oldest first; None hides the trail.

        Drawn as ``L * J`` segments whose alpha fades with age. The buffers (and the colour array) are
        reallocated only when ``L`` or ``J`` changes.
        """
        if history is None:
            self.trail.hide()
            return
        h = np.asarray(history, dtype=np.float32)
        n_seg, n_j = h.shape[0] - 1, h.shape[1]
        if n_seg < 1:
            self.trail.hide()
            return
        if self._tbuf.shape != (n_seg * n_j, 2, 3):
            self._tbuf = np.zeros((n_seg * n_j, 2, 3), dtype=np.float32)
            age = (np.arange(n_seg, dtype=np.float32) + 1.0) / n_seg  # 1 = newest segment
            alpha = 0.05 + 0.75 * age
            col = np.empty((n_seg, n_j, 2, 4), dtype=np.float32)
            col[..., :3] = self._color[:3]
            col[..., 3] = alpha[:, None, None]
            self.trail.setData(color=np.ascontiguousarray(col.reshape(-1, 4)))
        seg = self._tbuf.reshape(n_seg, n_j, 2, 3)
        seg[:, :, 0] = h[:-1]
        seg[:, :, 1] = h[1:]
        self.trail.setData(pos=self._tbuf.reshape(-1, 3))
        self.trail.show()


class _PixelOverlay(gl.GLGraphicsItem.GLGraphicsItem):
    """A raster image painted in pixels at ``origin`` over the 3D scene (so part of the framebuffer and of
    every export). Subclasses draw the image when their content changes; a frame is one ``drawImage``.
    (Measured under software GL: text and gradients painted through the GL paint engine on every frame —
    pyqtgraph's GLGradientLegendItem — cost up to 48 ms in a frame, the longest stall of the window.)"""

    TEXT = QtGui.QColor(235, 235, 235)

    def __init__(self):
        super().__init__()
        self.origin = (0, 0)
        self.font = QtGui.QFont()
        self.font.setPixelSize(13)
        self._image: QtGui.QImage | None = None

    def _canvas(self, width: int, height: int) -> QtGui.QImage:
        """A transparent image of ``width`` × ``height`` logical pixels at the view's pixel ratio."""
        view = self.view()
        dpr = view.devicePixelRatioF() if view is not None else 1.0
        image = QtGui.QImage(max(1, math.ceil(width * dpr)), max(1, math.ceil(height * dpr)),
                             QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(dpr)
        image.fill(Qt.GlobalColor.transparent)
        return image

    def _painter(self, image: QtGui.QImage) -> QtGui.QPainter:
        painter = QtGui.QPainter(image)
        painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
        painter.setFont(self.font)
        return painter

    def _render(self) -> QtGui.QImage | None:
        """The overlay's image now (None: nothing to show)."""
        raise NotImplementedError

    def redraw(self) -> None:
        """Draw the image again (the content changed) and ask the view for a frame."""
        self._image = self._render()
        self.update()

    def paint(self):
        painter = QtGui.QPainter(self.view())
        try:
            self.paint_on(painter)
        finally:
            painter.end()

    def paint_on(self, painter: QtGui.QPainter) -> None:
        """Draw the overlay with ``painter`` (the GL view's, or the software frames' of _scene_painter)."""
        view = self.view()
        if self._image is not None and self._image.devicePixelRatio() != view.devicePixelRatioF():
            self._image = self._render()  # drawn before the view knew its screen
        if self._image is not None:
            painter.drawImage(QtCore.QPointF(*self.origin), self._image)


class _OverlayText(_PixelOverlay):
    """Text lines with colour swatches at the top left."""

    def __init__(self):
        super().__init__()
        self.lines: list[tuple[str, QtGui.QColor | None]] = []
        self.origin = (10, 8)
        self.line_height = 17

    def set_lines(self, lines) -> None:
        self.lines = list(lines)
        self.redraw()

    def _render(self) -> QtGui.QImage | None:
        if not self.lines:
            return None
        metrics = QtGui.QFontMetrics(self.font)
        width = max(metrics.horizontalAdvance(t) + (17 if c is not None else 0) for t, c in self.lines) + 4
        image = self._canvas(width, self.line_height * len(self.lines) + 4)
        painter = self._painter(image)
        try:
            y = 0
            for text, color in self.lines:
                x = 0
                if color is not None:
                    painter.fillRect(QtCore.QRectF(x, y + 3, 11, 11), color)
                    x += 17
                painter.setPen(self.TEXT)
                painter.drawText(QtCore.QPointF(x, y + 13), text)
                y += self.line_height
        finally:
            painter.end()
        return image

    def height(self) -> int:
        return self.origin[1] + self.line_height * len(self.lines)


class _ColourBar(_PixelOverlay):
    """The heat colour bar: ``size`` (w, h) pixels, 0 at the bottom and 1 at the top, ``labels``
    {text: position in 0..1} to its right; ``setData(pos=…, labels=…)`` as pyqtgraph's legend item."""

    MARGIN = 8  # room for the half line of text above the top label and below the bottom one

    def __init__(self, size=(12, 110), pos=(12, 60), labels=None):
        super().__init__()
        self.size = (int(size[0]), int(size[1]))
        self.labels: dict[str, float] = dict(labels or {})
        self.origin = (pos[0], pos[1] - self.MARGIN)
        self._gradient: QtGui.QLinearGradient | None = None
        self._image = self._render()

    def setData(self, pos=None, labels=None) -> None:  # noqa: N802 - the pyqtgraph item's name
        if pos is not None:
            self.origin = (pos[0], pos[1] - self.MARGIN)
        if labels is not None and dict(labels) != self.labels:
            self.labels = dict(labels)
            self._image = self._render()
        self.update()

    def _render(self) -> QtGui.QImage:
        w, h, m = self.size[0], self.size[1], self.MARGIN
        metrics = QtGui.QFontMetrics(self.font)
        text_w = max((metrics.horizontalAdvance(t) for t in self.labels), default=0)
        image = self._canvas(w + 6 + text_w + 2, h + 2 * m)
        painter = self._painter(image)
        try:
            grad = self._gradient if self._gradient is not None else heat_colormap().getGradient(
                QtCore.QPointF(0, m + h), QtCore.QPointF(0, m))  # bottom (0) to top (1)
            self._gradient = grad
            painter.fillRect(QtCore.QRectF(0, m, w, h), QtGui.QBrush(grad))
            painter.setPen(self.TEXT)
            for text, v in self.labels.items():
                y = m + (1.0 - float(v)) * h
                painter.drawText(QtCore.QPointF(w + 6, y + metrics.ascent() / 2 - 1), text)
        finally:
            painter.end()
        return image


class _GLView(gl.GLViewWidget):
    """GLViewWidget that leaves ←/→ to the window (frame stepping); ↑/↓ still orbit, the mouse does all.

    ``on_update`` (offscreen mode): called whenever the view asks to be repainted (items changed, the
    camera moved)."""

    _PASS_KEYS = (Qt.Key.Key_Left, Qt.Key.Key_Right)
    on_update = None

    def update(self, *args):
        super().update(*args)
        if self.on_update is not None:
            self.on_update()

    def keyPressEvent(self, ev):
        if ev.key() in self._PASS_KEYS:
            ev.ignore()
            return
        super().keyPressEvent(ev)

    def keyReleaseEvent(self, ev):
        if ev.key() in self._PASS_KEYS:
            ev.ignore()
            return
        super().keyReleaseEvent(ev)


class _ImageCanvas(QtWidgets.QWidget):
    """Shows the frames of a hidden GL view and hands it mouse, wheel and key events (offscreen mode)."""

    def __init__(self, glview: _GLView, parent=None):
        super().__init__(parent)
        self._gl = glview
        self.image: QtGui.QImage | None = None
        self.resized = None  # callback(size)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumSize(160, 120)

    def set_image(self, image: QtGui.QImage) -> None:
        self.image = image
        self.update()

    def paintEvent(self, ev):  # noqa: N802 - Qt naming
        p = QtGui.QPainter(self)
        try:
            if self.image is None:
                p.fillRect(self.rect(), QtGui.QColor(*BACKGROUND))
            else:
                p.drawImage(self.rect(), self.image)
        finally:
            p.end()

    def resizeEvent(self, ev):  # noqa: N802 - Qt naming
        super().resizeEvent(ev)
        if self.resized is not None:
            self.resized(self.size())

    # the GL view reads positions in its own coordinates: same size, same origin
    def mousePressEvent(self, ev):  # noqa: N802 - Qt naming
        self._gl.mousePressEvent(ev)

    def mouseMoveEvent(self, ev):  # noqa: N802 - Qt naming
        self._gl.mouseMoveEvent(ev)

    def mouseReleaseEvent(self, ev):  # noqa: N802 - Qt naming
        self._gl.mouseReleaseEvent(ev)

    def wheelEvent(self, ev):  # noqa: N802 - Qt naming
        self._gl.wheelEvent(ev)

    def keyPressEvent(self, ev):  # noqa: N802 - Qt naming
        self._gl.keyPressEvent(ev)

    def keyReleaseEvent(self, ev):  # noqa: N802 - Qt naming
        self._gl.keyReleaseEvent(ev)


_SOFTWARE_GL: bool | None = None


def software_gl() -> bool:
    """True when OpenGL is rendered in software (Mesa llvmpipe/softpipe/swrast, SwiftShader); cached."""
    global _SOFTWARE_GL
    if _SOFTWARE_GL is None:
        _SOFTWARE_GL = False
        ctx = QtGui.QOpenGLContext()
        surface = QtGui.QOffscreenSurface()
        surface.create()
        try:
            if ctx.create() and ctx.makeCurrent(surface):
                from OpenGL import GL

                renderer = GL.glGetString(GL.GL_RENDERER) or b""
                if isinstance(renderer, bytes):
                    renderer = renderer.decode(errors="replace")
                name = str(renderer).lower()
                _SOFTWARE_GL = any(k in name for k in ("llvmpipe", "softpipe", "swrast", "swiftshader"))
                ctx.doneCurrent()
        except Exception:  # no GL at all: the embedded view will say so when it is shown
            _SOFTWARE_GL = False
        finally:
            surface.destroy()
    return _SOFTWARE_GL


def _frame(w: int, h: int, dpr: float) -> QtGui.QImage:
    """An image of ``w`` × ``h`` logical pixels at ``dpr`` (what the offscreen frames are drawn into)."""
    image = QtGui.QImage(math.ceil(w * dpr), math.ceil(h * dpr), QtGui.QImage.Format.Format_RGB32)
    image.setDevicePixelRatio(dpr)
    return image


def _qcolor(rgba) -> QtGui.QColor:
    return QtGui.QColor.fromRgbF(*(float(c) for c in rgba))


class SkeletonView(QtWidgets.QWidget):
    """Original and adversarial skeletons in one GL view, overlaid or side by side.

    Public API: :meth:`set_motions`, :meth:`set_adversarial`, :meth:`set_frame`, :meth:`set_mode`,
    :meth:`set_heat`, :meth:`set_trails`, :meth:`set_grid_visible`, :meth:`set_labels`,
    :meth:`reset_camera`, :meth:`frame_data`, :meth:`set_camera_preset`, :meth:`grab_frame`,
    :meth:`grab_array`, :meth:`flush`.
    Attributes: ``gl_view`` (the GLViewWidget), ``original`` and ``adversarial`` (:class:`SkeletonItem`),
    ``floor`` (line item), ``offscreen`` (the GL view is hidden and shown as images through ``canvas``;
    see the module docstring; ``offscreen=None`` picks it when OpenGL is rendered in software),
    ``canvas`` (that image widget, None when the GL view is embedded). Signal ``mode_changed(str)``.
    """

    mode_changed = Signal(str)

    def __init__(self, parent=None, *, controls: bool = True, offscreen: bool | None = None):
        super().__init__(parent)
        self._orig: np.ndarray | None = None
        self._adv: np.ndarray | None = None
        self._bones = np.zeros((0, 2), dtype=np.int64)
        self._fps = 30.0
        self._frame = 0
        self._mode = "overlay"
        self._heat = True
        self._trails = False
        self._trail_length = 20
        self._trail_joints = np.zeros(0, dtype=np.int64)
        self._disp: np.ndarray | None = None  # (T, V) metres
        self._heat_buf = np.zeros((0, 4), dtype=np.float32)  # (V, 4) colours of the shown frame
        self._heat_level = np.zeros((0, 0), dtype=np.intp)  # (T, V) index into _HEAT_LUT
        self._pending_adv: tuple[np.ndarray | None] | None = None  # set_adversarial waiting for its frame
        self._adv_throttle = FrameThrottle(self._apply_adversarial, FRAME_MS, self)
        self._fit_pending: tuple[float | None, float | None] | None = None
        self._disp_max = 0.0
        self._offsets = (0.0, 0.0)
        self._label_texts = ["original", "adversarial"]
        self._caption = ""

        self.offscreen = software_gl() if offscreen is None else bool(offscreen)
        # Offscreen, the GL view has no parent: a QOpenGLWidget anywhere in a window switches that window
        # to OpenGL composition. It goes with this widget.
        self.gl_view = _GLView()
        self.gl_view.setBackgroundColor(BACKGROUND)
        self.gl_view.setMinimumSize(160, 120)
        self.canvas: _ImageCanvas | None = None
        self._frame_image: QtGui.QImage | None = None  # offscreen: the canvas's frame, drawn into again
        self._backdrop_cache: tuple | None = None  # offscreen: (key, floor data, camera, image)
        self._render = FrameThrottle(self._render_image, FRAME_MS, self, leading=False, paced=True)
        if self.offscreen:
            self.canvas = _ImageCanvas(self.gl_view)
            self.canvas.resized = self._on_canvas_resized
            self.gl_view.on_update = self._render.request
            self.destroyed.connect(self.gl_view.deleteLater)

        self._world = gl.GLGraphicsItem.GLGraphicsItem()
        self._world.rotate(90.0, 1.0, 0.0, 0.0)  # data y-up -> GL z-up: (x, y, z) -> (x, -z, y)
        self.floor = Lines(parentItem=self._world, mode="lines", color=FLOOR_COLOR, width=1.0,
                           antialias=False, glOptions="translucent")
        self.floor.setDepthValue(-1)
        self.original = SkeletonItem(ORIGINAL_COLOR, parentItem=self._world)
        self.adversarial = SkeletonItem(ADVERSARIAL_COLOR, parentItem=self._world)
        self.adversarial.setDepthValue(1)
        self.original.hide()
        self.adversarial.hide()
        self.gl_view.addItem(self._world)

        self._labels = _OverlayText()
        self._labels.setDepthValue(10)
        self.gl_view.addItem(self._labels)
        self._legend = _ColourBar(pos=(12, 60), size=(12, 110), labels={"0": 0.0})
        self._legend.setDepthValue(10)
        self._legend.hide()
        self._legend_top = ""
        self.gl_view.addItem(self._legend)
        self._set_floor(-1.0, 1.0, 0.0, -1.0, 1.0)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.controls = self._build_controls()
        self.controls.setVisible(controls)
        layout.addWidget(self.controls)
        layout.addWidget(self.canvas if self.offscreen else self.gl_view, 1)
        self.reset_camera()

    # --- controls ------------------------------------------------------------------------------------
    def _build_controls(self) -> QtWidgets.QWidget:
        bar = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(bar)
        row.setContentsMargins(2, 2, 2, 0)
        self.mode_combo = QtWidgets.QComboBox()
        self.mode_combo.addItem("Overlay", "overlay")
        self.mode_combo.addItem("Side by side", "side")
        self.mode_combo.currentIndexChanged.connect(lambda _i: self.set_mode(self.mode_combo.currentData()))
        self.heat_check = QtWidgets.QCheckBox("Heat")
        self.heat_check.setToolTip("Colour adversarial joints by their displacement from the original")
        self.heat_check.setChecked(self._heat)
        self.heat_check.toggled.connect(self.set_heat)
        self.trails_check = QtWidgets.QCheckBox("Trails")
        self.trails_check.setToolTip("Motion trails of the end effectors")
        self.trails_check.toggled.connect(self.set_trails)
        row.addWidget(self.mode_combo)
        row.addWidget(self.heat_check)
        row.addWidget(self.trails_check)
        row.addStretch(1)
        self.camera_buttons: dict[str, QtWidgets.QPushButton] = {}
        for name, text in (("reset", "Reset"), ("front", "Front"), ("side", "Side"), ("top", "Top")):
            btn = QtWidgets.QPushButton(text)
            btn.setToolTip(f"Camera: {text.lower()}")
            if name == "reset":
                btn.clicked.connect(self.reset_camera)
            else:
                btn.clicked.connect(lambda _c=False, n=name: self.set_camera_preset(n))
            row.addWidget(btn)
            self.camera_buttons[name] = btn
        # Keyboard stays with the window's playback actions (space would toggle a focused check box).
        for w in (self.mode_combo, self.heat_check, self.trails_check, *self.camera_buttons.values()):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return bar

    # --- data ----------------------------------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        return 0 if self._orig is None else int(self._orig.shape[0])

    @property
    def frame(self) -> int:
        return self._frame

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def displacement(self) -> np.ndarray | None:
        """Per-frame, per-joint displacement ``(T, V)`` in metres (None without an adversarial clip)."""
        self.flush()
        return self._disp

    def set_motions(self, original, adversarial=None, bones=None, fps: float = 30.0, *,
                    fit_camera: bool = True) -> None:
        """Show ``original`` ``(T, V, 3)`` and ``adversarial`` (same shape, or None), metres, y up.

        ``bones`` is an ``(E, 2)`` integer array of joint pairs. Keeps the current frame (clamped) and
        refits the camera (the default view), unless ``fit_camera`` is False (the camera stays; call
        :meth:`frame_data` to re-frame it keeping the user's angles).
        """
        orig = _as_clip(original, "original")
        bones_arr = _as_bones(np.zeros((0, 2), np.int64) if bones is None else bones, orig.shape[1])
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        adv = self._check_adv(adversarial, orig)
        self._adv_throttle.cancel()
        self._pending_adv = None
        self._orig = orig
        self._bones = bones_arr
        self._fps = float(fps)
        n_joints = orig.shape[1]
        for item in (self.original, self.adversarial):
            item.set_topology(bones_arr, n_joints)
        self._trail_joints = leaf_joints(bones_arr, n_joints)
        self.original.show()
        self._adv = adv
        self._update_displacement()
        self._update_overlay()
        self._frame = min(self._frame, orig.shape[0] - 1)
        self._layout_scene()
        self._refresh()
        if fit_camera:
            self.reset_camera()

    def set_adversarial(self, adversarial) -> None:
        """Replace only the adversarial clip (same shape as the original) or remove it with None.

        Cheap enough to call while an attack runs (at any rate: the clip is checked now and shown at most
        once per display frame, the newest winning; :meth:`flush` shows it at once); the camera and the
        frame stay. The array is used as given when it is C-contiguous float32 (no copy): do not write
        into it afterwards.
        """
        if self._orig is None:
            raise RuntimeError("set_motions() must be called before set_adversarial()")
        self._pending_adv = (self._check_adv(adversarial, self._orig),)
        self._adv_throttle.request()

    def flush(self) -> None:
        """Apply an adversarial clip still waiting for its frame (:meth:`set_adversarial`) and, offscreen,
        render a pending frame into the canvas now."""
        self._adv_throttle.flush()
        self._render.flush()

    # --- offscreen rendering -----------------------------------------------------------------------------
    @property
    def display_widget(self) -> QtWidgets.QWidget:
        """The widget that shows the 3D view in the layout: ``canvas`` offscreen, else ``gl_view``."""
        return self.canvas if self.offscreen else self.gl_view

    def _gl_visible(self) -> bool:
        """The GL view is on screen (embedded and shown, or offscreen with its canvas shown)."""
        return self.canvas.isVisible() if self.offscreen else self.gl_view.isVisible()

    def _on_canvas_resized(self, size: QtCore.QSize) -> None:
        self.gl_view.resize(max(size.width(), 1), max(size.height(), 1))
        self._render.request()

    def _render_image(self) -> None:
        """Offscreen: the canvas's next frame, drawn into a reused image (:meth:`_paint_frame`)."""
        if self.canvas is None or not self.canvas.isVisible():
            return
        w, h = max(self.canvas.width(), 1), max(self.canvas.height(), 1)
        if (self.gl_view.width(), self.gl_view.height()) != (w, h):
            self.gl_view.resize(w, h)  # the mouse's coordinates follow the canvas
        dpr = self.canvas.devicePixelRatioF()
        image = self._frame_image
        if (image is None or (image.width(), image.height()) != (math.ceil(w * dpr), math.ceil(h * dpr))
                or image.devicePixelRatio() != dpr):
            image = self._frame_image = _frame(w, h, dpr)
        self._paint_frame(image, w, h)
        self.canvas.set_image(image)

    def _paint_frame(self, image: QtGui.QImage, w: int, h: int) -> QtGui.QImage:
        """Offscreen: the scene drawn with QPainter from the GL view's items and camera into ``image``
        (``w`` × ``h`` logical pixels; :mod:`widgets._scene_painter`: ~2 ms a frame, where a software-GL
        frame and its read-back cost 6–10 ms of the GUI thread). The hidden GL view is never asked to
        render: under llvmpipe the first ``grabFramebuffer`` of a never-shown QOpenGLWidget could crash
        inside Qt (QOpenGLContext::functions on a context that failed to initialise)."""
        camera = camera_matrix(self.gl_view, w, h)
        painter = QtGui.QPainter(image)
        try:
            painter.drawImage(0, 0, self._backdrop(w, h, image.devicePixelRatio(), camera))
            paint_scene(painter, self.gl_view, w, h, BACKGROUND, skip=(self.floor,), camera=camera)
        finally:
            painter.end()
        return image

    def _backdrop(self, w: int, h: int, dpr: float, camera: np.ndarray) -> QtGui.QImage:
        """The background with the floor grid, drawn again only when the camera, the size or the floor
        changes (a playing clip moves neither: ~1 ms of every frame saved)."""
        key = (w, h, dpr, self.floor.visible())
        cached = self._backdrop_cache
        if cached is not None and cached[0] == key and cached[1] is self.floor.pos and \
                np.array_equal(cached[2], camera):
            return cached[3]
        image = _frame(w, h, dpr)
        image.fill(QtGui.QColor(*BACKGROUND))
        painter = QtGui.QPainter(image)
        try:
            paint_scene(painter, self.gl_view, w, h, BACKGROUND, only=(self.floor,), camera=camera)
        finally:
            painter.end()
        self._backdrop_cache = (key, self.floor.pos, camera, image)
        return image

    @property
    def redraws(self) -> int:
        """How many adversarial clips were applied (set_adversarial calls merge within a frame)."""
        return self._adv_throttle.redraws

    def _apply_adversarial(self) -> None:
        if self._pending_adv is None:
            return
        (adv,) = self._pending_adv
        self._pending_adv = None
        presence_changed = (adv is None) != (self._adv is None)
        self._adv = adv
        self._update_displacement()
        if presence_changed:  # side-by-side offsets and the floor depend on whether there is a second clip
            self._layout_scene()
        self._refresh()

    def _check_adv(self, adversarial, orig: np.ndarray) -> np.ndarray | None:
        if adversarial is None:
            return None
        adv = _as_clip(adversarial, "adversarial")
        if adv.shape != orig.shape:
            raise ValueError(f"adversarial shape {adv.shape} differs from original shape {orig.shape}")
        return adv

    def _update_displacement(self) -> None:
        had_adv = self._disp is not None
        if self._adv is None or self._orig is None:
            self._disp = None
            self._disp_max = 0.0
        else:
            d = self._adv - self._orig
            self._disp = np.sqrt(np.einsum("tvc,tvc->tv", d, d))
            finite = np.isfinite(self._disp)
            top = float(self._disp[finite].max()) if finite.any() else 0.0
            self._disp_max = top
            scale = (_HEAT_LEVELS - 1) / top if top > 0 else 0.0
            level = np.nan_to_num(self._disp * scale, nan=0.0, posinf=_HEAT_LEVELS - 1)
            self._heat_level = np.clip(level + 0.5, 0, _HEAT_LEVELS - 1).astype(np.intp)
            text = f"{self._disp_max * 1000:.1f} mm"
            if text != self._legend_top:
                self._legend_top = text
                self._legend.setData(labels={"0 mm": 0.0, text: 1.0})
        if had_adv != (self._disp is not None):
            self._update_overlay()

    # --- frame -------------------------------------------------------------------------------------------
    def set_frame(self, i: int) -> None:
        """Show frame ``i`` (clamped to the clip)."""
        self._adv_throttle.flush()
        if self._orig is None:
            self._frame = 0
            return
        self._frame = int(min(max(int(i), 0), self._orig.shape[0] - 1))
        self._refresh()

    def _refresh(self) -> None:
        if self._orig is None:
            return
        i = self._frame
        self.original.set_pose(self._orig[i])
        show_adv = self._adv is not None
        self.adversarial.setVisible(show_adv)
        if show_adv:
            self.adversarial.set_pose(self._adv[i])
            self.adversarial.set_joint_colors(self._frame_heat(i) if self._heat else None)
        self._legend.setVisible(show_adv and self._heat)
        self._update_trails()

    def _frame_heat(self, i: int) -> np.ndarray:
        """Heat colours ``(V, 4)`` of frame ``i``, written into one reused buffer."""
        level = self._heat_level[i]
        if self._heat_buf.shape[0] != level.shape[0]:
            self._heat_buf = np.zeros((level.shape[0], 4), dtype=np.float32)
        return np.take(_HEAT_LUT, level, axis=0, out=self._heat_buf)

    def _update_trails(self) -> None:
        if not self._trails or self._orig is None:
            self.original.set_trail(None)
            self.adversarial.set_trail(None)
            return
        i = self._frame
        idx = np.clip(np.arange(i - self._trail_length, i + 1), 0, None)
        j = self._trail_joints
        self.original.set_trail(self._orig[idx][:, j])
        if self._adv is not None:
            self.adversarial.set_trail(self._adv[idx][:, j])
        else:
            self.adversarial.set_trail(None)

    # --- display options -----------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        """'overlay' (both at the same place) or 'side' (original left, adversarial right)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self._adv_throttle.flush()
        changed = mode != self._mode
        self._mode = mode
        with QtCore.QSignalBlocker(self.mode_combo):
            self.mode_combo.setCurrentIndex(MODES.index(mode))
        if changed:
            self._layout_scene()
            self._fit_camera()
            self.mode_changed.emit(mode)

    def set_heat(self, on: bool) -> None:
        """Colour the adversarial joints by displacement (heat scale, with a colour bar)."""
        self._adv_throttle.flush()
        self._heat = bool(on)
        with QtCore.QSignalBlocker(self.heat_check):
            self.heat_check.setChecked(self._heat)
        self._refresh()

    def set_trails(self, on: bool, length: int | None = None) -> None:
        """Motion trails of the leaf joints over the last ``length`` frames."""
        self._adv_throttle.flush()
        self._trails = bool(on)
        if length is not None:
            if length < 1:
                raise ValueError(f"trail length must be >= 1, got {length}")
            self._trail_length = int(length)
        with QtCore.QSignalBlocker(self.trails_check):
            self.trails_check.setChecked(self._trails)
        self._update_trails()

    def set_trail_joints(self, joints) -> None:
        """Joints that get trails (default: the leaves of the bone graph)."""
        self._trail_joints = np.asarray(joints, dtype=np.int64).reshape(-1)
        self._update_trails()

    def set_grid_visible(self, on: bool) -> None:
        self.floor.setVisible(bool(on))

    def set_labels(self, original: str | None = None, adversarial: str | None = None,
                   caption: str | None = None) -> None:
        """Texts of the colour key (top left, burned into grabbed frames); None keeps a text."""
        self._adv_throttle.flush()
        if original is not None:
            self._label_texts[0] = original
        if adversarial is not None:
            self._label_texts[1] = adversarial
        if caption is not None:
            self._caption = caption
        self._update_overlay()

    def _update_overlay(self) -> None:
        lines: list[tuple[str, QtGui.QColor | None]] = []
        if self._orig is not None:
            lines.append((self._label_texts[0], _qcolor(ORIGINAL_COLOR)))
            if self._adv is not None:
                lines.append((self._label_texts[1], _qcolor(ADVERSARIAL_COLOR)))
        if self._caption:
            lines.append((self._caption, None))
        self._labels.set_lines(lines)
        self._legend.setData(pos=(14, self._labels.height() + 10))

    # --- scene layout and camera ---------------------------------------------------------------------
    def _clips(self) -> list[tuple[np.ndarray, float]]:
        if self._orig is None:
            return []
        out = [(self._orig, self._offsets[0])]
        if self._adv is not None:
            out.append((self._adv, self._offsets[1]))
        return out

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        los, his = [], []
        for clip, dx in self._clips():
            flat = clip.reshape(-1, 3)
            flat = flat[np.isfinite(flat).all(axis=1)]
            if flat.size:
                los.append(flat.min(axis=0) + (dx, 0, 0))
                his.append(flat.max(axis=0) + (dx, 0, 0))
        if not los:
            return np.array([-1.0, 0.0, -1.0]), np.array([1.0, 2.0, 1.0])
        return np.min(los, axis=0), np.max(his, axis=0)

    def _layout_scene(self) -> None:
        if self._orig is not None and self._mode == "side" and self._adv is not None:
            flat = self._orig.reshape(-1, 3)
            flat = flat[np.isfinite(flat).all(axis=1)]
            width = float(np.ptp(flat[:, 0])) if flat.size else 1.0
            half = 0.5 * (width + 0.6)
            self._offsets = (-half, half)
        else:
            self._offsets = (0.0, 0.0)
        for item, dx in zip((self.original, self.adversarial), self._offsets, strict=True):
            item.resetTransform()
            if dx:
                item.translate(dx, 0.0, 0.0)
        lo, hi = self._bounds()
        self._set_floor(float(lo[0]), float(hi[0]), float(lo[1]), float(lo[2]), float(hi[2]))

    def _set_floor(self, x0: float, x1: float, y: float, z0: float, z1: float, step: float = 0.5) -> None:
        margin = 1.0
        xs = np.arange(math.floor((x0 - margin) / step), math.ceil((x1 + margin) / step) + 1) * step
        zs = np.arange(math.floor((z0 - margin) / step), math.ceil((z1 + margin) / step) + 1) * step
        seg = []
        for x in xs:
            seg += [(x, y, zs[0]), (x, y, zs[-1])]
        for z in zs:
            seg += [(xs[0], y, z), (xs[-1], y, z)]
        self.floor.setData(pos=np.asarray(seg, dtype=np.float32))
        self._floor_y = y

    def _fit_camera(self, elevation: float | None = None, azimuth: float | None = None) -> None:
        self._adv_throttle.flush()
        # Fitted before the view is shown, the distance would use a provisional size: fit again on show.
        self._fit_pending = None if self._gl_visible() else (elevation, azimuth)
        lo, hi = self._bounds()
        centre = 0.5 * (lo + hi)
        radius = max(0.5 * float(np.linalg.norm(hi - lo)), 0.25)
        fov = float(self.gl_view.opts["fov"])
        shown = self.display_widget  # offscreen, the hidden GL view follows the canvas's size later
        w, h = max(shown.width(), 1), max(shown.height(), 1)
        if self.offscreen and (self.gl_view.width(), self.gl_view.height()) != (w, h) and shown.isVisible():
            self.gl_view.resize(w, h)
        half_h = math.radians(0.5 * fov)
        half_v = math.atan(math.tan(half_h) * h / w)
        dist = radius / math.sin(min(half_h, half_v)) * 0.95
        # data (x, y, z) -> GL (x, -z, y)
        pos = pg.Vector(float(centre[0]), float(-centre[2]), float(centre[1]))
        self.gl_view.setCameraPosition(pos=pos, distance=dist, elevation=elevation, azimuth=azimuth)

    def reset_camera(self) -> None:
        """Default three-quarter view, fitted to both clips."""
        self._fit_camera(*CAMERA_PRESETS["default"])

    def frame_data(self) -> None:
        """Re-frame the camera on the clips shown now (centre and distance), keeping its angles.

        For a new dataset or motion whose size or place differs from the last one. A view that is not
        shown yet is framed again when it first appears at its real size.
        """
        self._fit_camera()

    def showEvent(self, ev):  # noqa: N802 - Qt naming
        super().showEvent(ev)
        if self._fit_pending is not None:
            QtCore.QTimer.singleShot(0, self._refit_pending)

    def _refit_pending(self) -> None:
        if self._fit_pending is not None and self._gl_visible():
            self._fit_camera(*self._fit_pending)
        if self.offscreen:
            self._render.request()

    def set_camera_preset(self, name: str) -> None:
        """'front', 'side', 'top' (or 'default'), fitted to both clips."""
        if name not in CAMERA_PRESETS:
            raise ValueError(f"camera preset must be one of {tuple(CAMERA_PRESETS)}, got {name!r}")
        self._fit_camera(*CAMERA_PRESETS[name])

    def camera(self) -> dict:
        """The GL view's camera parameters (center, distance, fov, elevation, azimuth)."""
        return self.gl_view.cameraParams()

    # --- export --------------------------------------------------------------------------------------
    def grab_frame(self, size: tuple[int, int] | None = None) -> QtGui.QImage:
        """Render the view now and return the frame (labels and colour bar included).

        ``size`` (width, height): a hidden view (an export view that is never shown) renders at exactly
        that size; a visible view renders at its own size and the image is scaled (smooth) to ``size``,
        so the user's layout is left alone. Offscreen (software GL) the frame is drawn with QPainter at
        exactly ``size`` (default: the canvas's). Pass even sizes for video encoders.
        """
        self._adv_throttle.flush()
        if size is not None:
            w, h = (int(size[0]), int(size[1]))
            if w < 1 or h < 1:
                raise ValueError(f"size must be positive, got {size}")
        if self.offscreen:  # software GL: drawn with QPainter, like the canvas's frames
            if size is None:
                w, h = max(self.canvas.width(), 1), max(self.canvas.height(), 1)
                dpr = self.canvas.devicePixelRatioF()
            else:
                dpr = 1.0
            return self._paint_frame(_frame(w, h, dpr), w, h)
        if size is None:
            return self.gl_view.grabFramebuffer()
        if not self._gl_visible():
            if (self.gl_view.width(), self.gl_view.height()) != (w, h):
                self.gl_view.resize(w, h)
            img = self.gl_view.grabFramebuffer()
            if (img.width(), img.height()) == (w, h):
                return img
        else:
            img = self.gl_view.grabFramebuffer()
        return img.scaled(w, h, Qt.AspectRatioMode.IgnoreAspectRatio,
                          Qt.TransformationMode.SmoothTransformation)

    def grab_array(self, size: tuple[int, int] | None = None) -> np.ndarray:
        """:meth:`grab_frame` as an ``(H, W, 4)`` RGBA uint8 array (a copy)."""
        img = self.grab_frame(size).convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
        h, w, bpl = img.height(), img.width(), img.bytesPerLine()
        buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=h * bpl)
        return buf.reshape(h, bpl)[:, : w * 4].reshape(h, w, 4).copy()


def grab_widget(widget: QtWidgets.QWidget) -> QtGui.QImage:
    """Screenshot of ``widget`` with every visible GL view's framebuffer painted in.

    ``QWidget.grab()`` on a window leaves out what GL items paint with QPainter (this view's colour key and
    colour bar, pyqtgraph's GLTextItem / GLGradientLegendItem); ``grabFramebuffer()`` has them.
    """
    views = widget.findChildren(SkeletonView) + ([widget] if isinstance(widget, SkeletonView) else [])
    for view in views:  # offscreen views: their newest frame, drawn now
        view.flush()
    image = widget.grab().toImage()
    dpr = image.devicePixelRatio()
    painter = QtGui.QPainter(image)
    try:
        for glw in widget.findChildren(QOpenGLWidget):
            if not glw.isVisible():
                continue
            fb = glw.grabFramebuffer()
            fb.setDevicePixelRatio(dpr)
            painter.drawImage(glw.mapTo(widget, QtCore.QPoint(0, 0)), fb)
    finally:
        painter.end()
    return image
