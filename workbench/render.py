"""Rendering clips from a SkeletonView: a frame generator shared by the GUI's Export panel (driven by a
timer, a few frames per event-loop turn) and the headless ``smart-workbench render`` command."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from widgets.skeleton_view import SkeletonView

from .export import ClipWriter, clip_kind, effective_fps, even_size, frame_indices

__all__ = ["ClipJob", "make_export_view", "render_clip"]


@dataclass
class ClipJob:
    """What to render: clips ``(T, V, 3)`` (adversarial may be None), bones ``(E, 2)``, clip fps; the
    output size (width, height), fps and playback speed; 'overlay' or 'side'; the burned-in texts."""

    original: np.ndarray
    adversarial: np.ndarray | None
    bones: np.ndarray
    clip_fps: float
    size: tuple[int, int] = (640, 480)
    fps: float = 30.0
    speed: float = 1.0
    mode: str = "overlay"
    label_original: str = "original"
    label_adversarial: str = "adversarial"
    caption: str = ""
    heat: bool = True
    camera: str = "default"


def make_export_view() -> SkeletonView:
    """A SkeletonView without controls that is never shown (renders at exactly the requested size)."""
    return SkeletonView(controls=False)


def render_clip(view: SkeletonView, job: ClipJob, path: str | os.PathLike, kind: str | None = None
                ) -> Iterator[tuple[int, int]]:
    """Render ``job`` into ``path``; yields ``(done, total)`` after every frame. Closing the generator
    early aborts (a partial video file is removed)."""
    kind = kind or clip_kind(path)
    w, h = even_size(*job.size) if kind == "mp4" else (int(job.size[0]), int(job.size[1]))
    fps = effective_fps(kind, job.fps)
    view.set_motions(job.original, job.adversarial, job.bones, fps=job.clip_fps)
    view.set_mode(job.mode)
    view.set_heat(job.heat)
    view.set_labels(job.label_original, job.label_adversarial, job.caption)
    if not view.isVisible():
        view.gl_view.resize(w, h)
    if job.camera == "default":
        view.reset_camera()
    else:
        view.set_camera_preset(job.camera)
    idx = frame_indices(len(job.original), job.clip_fps, fps, job.speed)
    writer = ClipWriter(path, fps, kind)
    ok = False
    try:
        for k, i in enumerate(idx):
            view.set_frame(int(i))
            writer.append(view.grab_array((w, h)))
            yield k + 1, len(idx)
        ok = True
    finally:
        writer.close(abort=not ok)
