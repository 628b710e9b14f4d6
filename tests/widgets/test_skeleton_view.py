"""SkeletonView: tier 1 checks item data (no rendering), tier 2 (``gl``) renders under Xvfb's Mesa."""

from __future__ import annotations

import numpy as np
import pytest
from OpenGL import GL
from PySide6 import QtGui

from widgets.colormap import heat_rgba
from widgets.skeleton_view import ADVERSARIAL_COLOR, BACKGROUND, ORIGINAL_COLOR, SkeletonItem, SkeletonView


@pytest.fixture
def view(qtbot, walk):
    v = SkeletonView()
    qtbot.addWidget(v)
    original, adversarial, bones = walk
    v.set_motions(original, adversarial, bones, fps=30)
    return v


# --- tier 1: item data ------------------------------------------------------------------------------
def test_item_positions_follow_frame(view, walk):
    original, adversarial, bones = walk
    view.set_frame(7)
    for item, clip in ((view.original, original), (view.adversarial, adversarial)):
        pos = item.joints.pos
        assert pos.dtype == np.float32 and pos.shape == (original.shape[1], 3)
        np.testing.assert_array_equal(pos, clip[7])
        bpos = item.bones.pos
        assert bpos.dtype == np.float32 and bpos.shape == (2 * len(bones), 3)
        np.testing.assert_array_equal(bpos.reshape(-1, 2, 3), pos[bones])
        assert item.bones.mode == "lines"


def test_items_are_built_once_and_reused(view, walk):
    items = (view.original, view.adversarial, view.original.joints, view.original.bones, view.floor)
    top_level = list(view.gl_view.items)
    buf = view.original.joints.pos
    for i in range(5):
        view.set_frame(i)
    view.set_mode("side")
    view.set_adversarial(walk[1] * 1.01)
    view.set_trails(True)
    assert (view.original, view.adversarial, view.original.joints, view.original.bones, view.floor) == items
    assert view.gl_view.items == top_level
    assert view.original.joints.pos is buf  # same float32 buffer, rewritten in place


def test_bone_lines_are_not_additive(view):
    # pyqtgraph's default 'additive' blending mixes two overlaid skeletons' colours
    for item in (view.original, view.adversarial):
        for child in (item.joints, item.bones):
            opts = child._GLGraphicsItem__glOpts
            assert opts[GL.GL_DEPTH_TEST] is True and opts[GL.GL_BLEND] is False


def test_set_frame_clamps(view, walk):
    view.set_frame(10_000)
    assert view.frame == walk[0].shape[0] - 1
    view.set_frame(-3)
    assert view.frame == 0


def test_side_by_side_offsets_items_not_data(view, walk):
    view.set_frame(3)
    p = QtGui.QVector3D(0.0, 1.0, 0.0)
    assert view.original.transform().map(p) == p
    view.set_mode("side")
    left = view.original.transform().map(p).x()
    right = view.adversarial.transform().map(p).x()
    assert left < 0 < right
    np.testing.assert_array_equal(view.original.joints.pos, walk[0][3])
    view.set_mode("overlay")
    assert view.adversarial.transform().map(p) == p
    with pytest.raises(ValueError, match="mode"):
        view.set_mode("stacked")


def test_heat_colours_and_legend(view, walk):
    original, adversarial, _ = walk
    disp = np.linalg.norm(adversarial - original, axis=2)
    view.set_frame(12)
    colors = view.adversarial.joints.color
    assert isinstance(colors, np.ndarray) and colors.shape == (original.shape[1], 4)
    # 256-level lookup table: within 1/255 of the scale's steepest stop-to-stop slope
    np.testing.assert_allclose(colors, heat_rgba(disp[12], 0.0, disp.max()), atol=0.01)
    assert view._legend.visible()
    view.set_heat(False)
    np.testing.assert_allclose(view.adversarial.joints.color, np.tile(ADVERSARIAL_COLOR, (16, 1)), atol=1e-6)
    assert not view._legend.visible()


def test_adversarial_none_hides_it(view, walk):
    view.set_adversarial(None)
    assert not view.adversarial.visible() and view.displacement is None
    view.set_adversarial(walk[1])
    view.flush()  # a second clip within one display frame is applied at the end of the frame
    assert view.adversarial.visible() and view.displacement.shape == walk[0].shape[:2]


def test_trails(view, walk):
    original = walk[0]
    view.set_trails(True, length=5)
    view.set_frame(20)
    leaves = view._trail_joints
    seg = view.original.trail.pos.reshape(5, len(leaves), 2, 3)
    assert view.original.trail.visible()
    np.testing.assert_array_equal(seg[-1, :, 1], original[20, leaves])
    np.testing.assert_array_equal(seg[0, :, 0], original[15, leaves])
    view.set_frame(0)  # before the trail's start: clamped, fixed shape
    assert view.original.trail.pos.shape == (5 * len(leaves) * 2, 3)
    view.set_trails(False)
    assert not view.original.trail.visible()


def test_invalid_input_raises(qtbot, walk):
    v = SkeletonView()
    qtbot.addWidget(v)
    original, adversarial, bones = walk
    with pytest.raises(ValueError, match=r"\(T, V, 3\)"):
        v.set_motions(original[..., :2], None, bones)
    with pytest.raises(ValueError, match="differs"):
        v.set_motions(original, adversarial[:10], bones)
    with pytest.raises(ValueError, match="bones"):
        v.set_motions(original, None, bones + 100)
    with pytest.raises(ValueError, match="camera preset"):
        v.set_camera_preset("back")


def test_camera_presets(view):
    view.set_camera_preset("front")
    assert (view.camera()["elevation"], view.camera()["azimuth"]) == (5.0, -90.0)
    view.set_camera_preset("top")
    assert view.camera()["elevation"] == 90.0
    view.camera_buttons["reset"].click()
    assert view.camera()["azimuth"] == -60.0


def test_controls_drive_the_view(view, qtbot):
    with qtbot.waitSignal(view.mode_changed, timeout=1000) as sig:
        view.mode_combo.setCurrentIndex(1)
    assert sig.args == ["side"] and view.mode == "side"
    view.trails_check.setChecked(True)
    assert view.original.trail.visible()


def test_skeleton_item_standalone():
    item = SkeletonItem(ORIGINAL_COLOR)
    item.set_topology(np.array([[0, 1], [1, 2]]), 3)
    pose = np.array([[0, 0, 0], [0, 1, 0], [1, 1, 0]], np.float32)
    item.set_pose(pose)
    np.testing.assert_array_equal(item.bones.pos, pose[[0, 1, 1, 2]])
    with pytest.raises(ValueError):
        item.set_joint_colors(np.zeros((2, 4)))


def test_set_adversarial_coalesces_and_last_clip_wins(view, walk, qtbot):
    original, adversarial, _ = walk
    view.flush()
    n0 = view.redraws
    clips = [original + 0.01 * (k + 1) for k in range(20)]
    for c in clips:  # faster than the display: at most the first now and one at the end of the frame
        view.set_adversarial(c)
    assert view.redraws - n0 <= 1
    qtbot.waitUntil(lambda: not view._adv_throttle.pending, timeout=2000)
    assert view.redraws - n0 <= 2
    view.set_frame(5)
    np.testing.assert_allclose(view.adversarial.joints.pos, clips[-1][5], atol=1e-6)
    np.testing.assert_allclose(view.displacement, np.linalg.norm(clips[-1] - original, axis=2), atol=1e-6)


def test_frame_data_keeps_angles_and_centres_on_new_data(view, walk):
    original, adversarial, bones = walk
    view.set_camera_preset("side")
    before = view.camera()
    moved = original + np.array([5.0, 0.0, -3.0], np.float32)  # another dataset, far away
    view.set_motions(moved, None, bones, fps=30, fit_camera=False)
    assert view.camera()["center"] == before["center"]  # the caller decides when to re-frame
    view.frame_data()
    after = view.camera()
    assert after["elevation"] == before["elevation"] and after["azimuth"] == before["azimuth"]
    centre = np.array([after["center"].x(), after["center"].y(), after["center"].z()])
    lo, hi = moved.reshape(-1, 3).min(axis=0), moved.reshape(-1, 3).max(axis=0)
    mid = 0.5 * (lo + hi)
    np.testing.assert_allclose(centre, [mid[0], -mid[2], mid[1]], atol=1e-4)  # data y-up -> GL z-up
    view.set_motions(original, adversarial, bones, fps=30)  # the default path still re-frames
    assert view.camera()["elevation"] != before["elevation"] or view.camera()["azimuth"] != before["azimuth"]


# --- tier 2: rendering -----------------------------------------------------------------------------
def _show(qtbot, v: SkeletonView, size=(420, 320)):
    v.resize(*size)
    with qtbot.waitExposed(v):
        v.show()
    v.reset_camera()


def _screen_points(v: SkeletonView, points: np.ndarray) -> np.ndarray:
    """Project data-space points (N, 3) of the original skeleton to framebuffer pixels (N, 2)."""
    glv = v.gl_view
    w, h = glv.width(), glv.height()
    region = (0, 0, w, h)
    mvp = glv.projectionMatrix(region, region) * glv.viewMatrix() * v._world.transform()
    mvp = mvp * v.original.transform()
    out = []
    for p in points:
        q = mvp.map(QtGui.QVector3D(*map(float, p)))
        out.append(((q.x() + 1) / 2 * w, (1 - q.y()) / 2 * h))
    return np.array(out)


def _not_background(img: np.ndarray) -> np.ndarray:
    return np.abs(img[..., :3].astype(int) - np.array(BACKGROUND)).sum(axis=2) > 40


@pytest.mark.gl
def test_renders_skeleton_where_joints_project(qtbot, walk):
    original, _, bones = walk
    v = SkeletonView()
    qtbot.addWidget(v)
    v.set_motions(original, None, bones, 30)
    v.set_grid_visible(False)
    _show(qtbot, v)
    img = v.grab_array()
    assert img.shape == (v.gl_view.height(), v.gl_view.width(), 4)
    mask = _not_background(img)
    assert 200 < mask.sum() < 0.5 * mask.size
    hits = 0
    for x, y in _screen_points(v, original[0]):
        xi, yi = int(round(x)), int(round(y))
        assert 0 <= xi < img.shape[1] and 0 <= yi < img.shape[0]
        hits += mask[max(yi - 3, 0): yi + 4, max(xi - 3, 0): xi + 4].any()
    assert hits == original.shape[1]
    # and nothing but background far from the skeleton (left edge strip)
    assert not mask[:, :10].any()


@pytest.mark.gl
def test_pixels_change_between_frames(qtbot, view):
    _show(qtbot, view)
    view.set_frame(0)
    a = view.grab_array()
    view.set_frame(15)
    b = view.grab_array()
    changed = np.abs(a.astype(int) - b.astype(int)).sum(axis=2) > 30
    assert changed.sum() > 100


@pytest.mark.gl
def test_side_by_side_renders_both_colours(qtbot, view):
    view.set_heat(False)
    view.set_mode("side")
    view.set_camera_preset("front")
    _show(qtbot, view)
    view.set_camera_preset("front")
    img = view.grab_array()[..., :3].astype(int)

    def near(color):
        return np.abs(img - np.array(color[:3]) * 255).sum(axis=2) < 60

    blue_x = np.nonzero(near(ORIGINAL_COLOR))[1]
    pink_x = np.nonzero(near(ADVERSARIAL_COLOR))[1]
    assert blue_x.size > 100 and pink_x.size > 100
    assert blue_x.mean() < img.shape[1] / 2 < pink_x.mean()


@pytest.mark.gl
def test_two_views_in_two_windows_both_render(qtbot, walk):
    """pyqtgraph caches shader programs per class; our items cache them per GL share group."""
    original, adversarial, bones = walk
    views = []
    for _ in range(2):
        v = SkeletonView()
        qtbot.addWidget(v)
        v.set_motions(original, adversarial, bones, 30)
        _show(qtbot, v, size=(300, 240))
        views.append(v)
    for v in views:
        assert _not_background(v.grab_array()).sum() > 200


@pytest.mark.gl
def test_colour_key_is_in_the_framebuffer_and_window_grab(qtbot, view):
    from widgets.skeleton_view import grab_widget

    view.set_labels("walk (clean)", "run (adversarial)")
    _show(qtbot, view)
    img = view.grab_array()
    assert _not_background(img[5:40, 5:150]).sum() > 50  # swatches and text, top left
    shot = grab_widget(view)
    shown = view.display_widget  # the GL view itself, or the image canvas of an offscreen view
    gl_origin = shown.mapTo(view, shown.rect().topLeft())
    arr = shot.convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
    px = arr.pixelColor(gl_origin.x() + 15, gl_origin.y() + 15)  # inside the 'original' swatch
    assert abs(px.blueF() - ORIGINAL_COLOR[2]) < 0.1 and abs(px.redF() - ORIGINAL_COLOR[0]) < 0.1


def test_gl_view_leaves_left_right_to_the_window(qtbot, view):
    from PySide6.QtCore import QEvent, Qt

    for key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
        ev = QtGui.QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier)
        view.gl_view.keyPressEvent(ev)
        assert not ev.isAccepted()
    ev = QtGui.QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Up, Qt.KeyboardModifier.NoModifier)
    view.gl_view.keyPressEvent(ev)
    assert ev.isAccepted()
    view.gl_view.keyReleaseEvent(QtGui.QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_Up,
                                                 Qt.KeyboardModifier.NoModifier))


@pytest.mark.gl
def test_hidden_export_view_renders_at_requested_size(qtbot, walk):
    original, adversarial, bones = walk
    v = SkeletonView(controls=False)
    qtbot.addWidget(v)
    v.set_motions(original, adversarial, bones, 30)
    v.set_frame(4)
    a = v.grab_array(size=(320, 180))
    assert a.shape == (180, 320, 4)
    assert _not_background(a).sum() > 100
    v.set_frame(30)
    b = v.grab_array(size=(320, 180))
    assert (np.abs(a.astype(int) - b.astype(int)).sum(axis=2) > 30).sum() > 50
    with pytest.raises(ValueError, match="size"):
        v.grab_frame(size=(0, 10))


@pytest.mark.gl
@pytest.mark.parametrize("offscreen", [True, False])
def test_offscreen_and_embedded_views_render(qtbot, walk, offscreen):
    """Offscreen (software GL): a hidden GL view renders into an image canvas that gets the mouse."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent

    original, adversarial, bones = walk
    v = SkeletonView(offscreen=offscreen)
    qtbot.addWidget(v)
    v.set_motions(original, adversarial, bones, 30)
    _show(qtbot, v, size=(320, 260))
    assert v.offscreen is offscreen and (v.canvas is not None) is offscreen
    assert v.display_widget.isVisible() and (v.gl_view.isVisible() is not offscreen)
    v.flush()
    assert _not_background(v.grab_array()).sum() > 200
    if offscreen:
        qtbot.waitUntil(lambda: v.canvas.image is not None, timeout=2000)
        assert (v.gl_view.width(), v.gl_view.height()) == (v.canvas.width(), v.canvas.height())
        d0 = v.camera()["distance"]
        pos = QPointF(100, 100)
        ev = QWheelEvent(pos, v.canvas.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120),
                         Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                         Qt.ScrollPhase.NoScrollPhase, False)
        v.canvas.wheelEvent(ev)
        assert v.camera()["distance"] < d0  # the wheel reached the hidden GL view: zoomed in
        n = v._render.redraws
        qtbot.waitUntil(lambda: v._render.redraws > n, timeout=2000)  # and a new frame was rendered


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    out = mask.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out |= np.roll(np.roll(mask, dy, axis=0), dx, axis=1)
    return out


@pytest.mark.gl
@pytest.mark.parametrize("mode", ["overlay", "side"])
def test_software_frames_draw_what_opengl_draws(qtbot, walk, mode):
    """Offscreen (software GL), frames are drawn with QPainter from the GL view's scene and camera
    (widgets._scene_painter): the same skeletons, floor, trails, key and colour bar in the same places
    as an embedded view's OpenGL framebuffer, to within a few pixels (only the depth order of
    overlapping lines differs); the canvas shows those frames."""
    original, adversarial, bones = walk
    views = []
    for offscreen in (True, False):
        v = SkeletonView(offscreen=offscreen)
        qtbot.addWidget(v)
        v.set_motions(original, adversarial, bones, 30)
        v.set_labels("original: walk", "adversarial: run")
        v.set_mode(mode)
        v.set_trails(True)
        _show(qtbot, v, size=(480, 360))
        v.set_frame(17)
        views.append(v)
    soft_view, gl_view = views
    assert soft_view.display_widget.size() == gl_view.display_widget.size()
    soft, hard = soft_view.grab_array()[..., :3], gl_view.grab_array()[..., :3]
    assert soft.shape == hard.shape
    for colour in (ORIGINAL_COLOR, ADVERSARIAL_COLOR):  # each skeleton's bones, pixel by pixel
        want = np.array(colour[:3]) * 255
        a = np.abs(soft.astype(int) - want).sum(2) < 40
        b = np.abs(hard.astype(int) - want).sum(2) < 40
        assert a.sum() > 100 and b.sum() > 100
        assert (a & _dilate(b, 3)).sum() > 0.9 * a.sum() and (b & _dilate(a, 3)).sum() > 0.9 * b.sum()
    fg_soft, fg_hard = _not_background(soft), _not_background(hard)  # floor, trails, text and colour bar
    assert (fg_soft & _dilate(fg_hard, 3)).sum() > 0.9 * fg_soft.sum()
    assert (fg_hard & _dilate(fg_soft, 3)).sum() > 0.9 * fg_hard.sum()
    soft_view.flush()  # the canvas shows the same frame
    shown = soft_view.canvas.image.convertToFormat(soft_view.canvas.image.Format.Format_RGBA8888)
    assert (shown.width(), shown.height()) == (soft.shape[1], soft.shape[0])
    assert shown == soft_view.grab_frame().convertToFormat(shown.format())
