"""Exports: clips (MP4, GIF, PNG frames) rendered from a SkeletonView, the motion as our npz, the numbers
as JSON/CSV.

Frames come from :meth:`widgets.skeleton_view.SkeletonView.grab_array` of a *hidden* export view (it
renders at exactly the requested size, the user's view is left alone). :class:`ClipWriter` takes RGB
frames one at a time so the GUI can render and write in small slices between events.

Video rules (measured): even frame sizes for H.264 (yuv420p); GIF frame times are multiples of 10 ms, so
GIF is capped at 30 fps and written with ``loop=0`` (loop forever).
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np

from engine.datasets import MotionDataset
from engine.datasets import save as save_dataset

__all__ = [
    "GIF_MAX_FPS", "ClipWriter", "clip_kind", "even_size", "frame_indices", "parse_size", "save_motion_npz",
    "write_metrics_csv", "write_metrics_json",
]

GIF_MAX_FPS = 30.0
KINDS = ("mp4", "gif", "png")


def parse_size(text: str) -> tuple[int, int]:
    """'640x480' -> (640, 480); raises ValueError for anything else."""
    try:
        w, h = (int(v) for v in str(text).lower().replace("×", "x").split("x"))
    except ValueError:
        raise ValueError(f"size must look like 640x480, got {text!r}") from None
    if w < 16 or h < 16 or w > 8192 or h > 8192:
        raise ValueError(f"size must be between 16x16 and 8192x8192, got {w}x{h}")
    return w, h


def even_size(w: int, h: int) -> tuple[int, int]:
    """Round down to even numbers (video encoders need them)."""
    return int(w) - int(w) % 2, int(h) - int(h) % 2


def clip_kind(path: str | os.PathLike) -> str:
    """'mp4', 'gif' or 'png' (a folder or a name ending in .png) from the path."""
    p = Path(path)
    ext = p.suffix.lower().lstrip(".")
    if ext in ("mp4", "m4v", "mov"):
        return "mp4"
    if ext == "gif":
        return "gif"
    if ext == "png" or ext == "":
        return "png"
    raise ValueError(f"{path}: unknown clip type .{ext}; use .mp4, .gif, or .png / a folder for PNG frames")


def effective_fps(kind: str, fps: float) -> float:
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    return min(float(fps), GIF_MAX_FPS) if kind == "gif" else float(fps)


def frame_indices(n_frames: int, clip_fps: float, out_fps: float, speed: float = 1.0) -> np.ndarray:
    """Which clip frame each output frame shows: the clip lasts ``n_frames / (clip_fps * speed)`` s."""
    if n_frames < 1:
        return np.zeros(0, dtype=np.int64)
    if not (clip_fps > 0 and out_fps > 0 and speed > 0):
        raise ValueError(f"fps and speed must be > 0, got clip_fps={clip_fps}, fps={out_fps}, speed={speed}")
    duration = n_frames / (clip_fps * speed)
    n_out = max(1, int(round(duration * out_fps)))
    t = np.arange(n_out) / out_fps
    return np.minimum((t * clip_fps * speed + 1e-9).astype(np.int64), n_frames - 1)


def gif_durations(n: int, fps: float) -> list[int]:
    """Frame times (ms) in GIF's 10 ms units whose running sum stays on the ideal clock (30 fps gives
    30, 40, 30, 30, 40, ... instead of 30 ms throughout, which would play 10 % fast)."""
    ends = np.round(np.arange(1, n + 1) * 100.0 / fps).astype(np.int64) * 10
    d = np.diff(np.concatenate([[0], ends]))
    return [int(max(x, 20)) for x in d]


class ClipWriter:
    """Write RGB(A) uint8 frames ``(H, W, 3|4)`` to ``path``: MP4 (H.264), GIF or PNG frames.

    GIF: Pillow stores a run of identical frames (slow motion repeats clip frames) as one frame with
    their summed duration, so the file can hold fewer frames than were appended; the timing is the same.

    ``kind`` defaults to :func:`clip_kind` of the path. For 'png' the path is a folder (created) or a
    ``name.png`` pattern whose stem gets ``_00000`` numbers. Call :meth:`close` (or use ``with``).
    """

    def __init__(self, path: str | os.PathLike, fps: float, kind: str | None = None):
        self.path = Path(path)
        self.kind = kind or clip_kind(path)
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        self.fps = effective_fps(self.kind, fps)
        self.n_frames = 0
        self.files: list[Path] = []
        self._writer = None
        self._gif_frames: list[np.ndarray] = []
        self._size: tuple[int, int] | None = None
        if self.kind == "png":
            if self.path.suffix.lower() == ".png":
                self._png_dir, self._png_stem = self.path.parent, self.path.stem
            else:
                self._png_dir, self._png_stem = self.path, "frame"
            self._png_dir.mkdir(parents=True, exist_ok=True)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> ClipWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close(abort=exc[0] is not None)

    def append(self, frame: np.ndarray) -> None:
        rgb = np.ascontiguousarray(np.asarray(frame)[..., :3], dtype=np.uint8)
        h, w = rgb.shape[:2]
        if self._size is None:
            self._size = (w, h)
        elif self._size != (w, h):
            w0, h0 = self._size
            raise ValueError(f"frame {self.n_frames} is {w}x{h}, earlier frames are {w0}x{h0}")
        if self.kind == "mp4":
            if w % 2 or h % 2:
                raise ValueError(f"MP4 frames need even sizes, got {w}x{h}")
            if self._writer is None:
                import imageio.v2 as iio2

                self._writer = iio2.get_writer(
                    str(self.path), format="FFMPEG", mode="I", fps=self.fps, codec="libx264",
                    pixelformat="yuv420p", macro_block_size=1, quality=8, ffmpeg_log_level="error",
                )
            self._writer.append_data(rgb)
        elif self.kind == "gif":
            self._gif_frames.append(rgb)
        else:
            import imageio.v3 as iio3

            out = self._png_dir / f"{self._png_stem}_{self.n_frames:05d}.png"
            iio3.imwrite(out, rgb)
            self.files.append(out)
        self.n_frames += 1

    def close(self, abort: bool = False) -> None:
        """Finish the file (abort: stop and remove a partial video)."""
        if self.kind == "mp4" and self._writer is not None:
            self._writer.close()
            self._writer = None
            if abort:
                self.path.unlink(missing_ok=True)
        elif self.kind == "gif" and self._gif_frames:
            frames, self._gif_frames = self._gif_frames, []
            if not abort:
                from PIL import Image

                images = [Image.fromarray(f) for f in frames]
                images[0].save(self.path, save_all=True, append_images=images[1:],
                               duration=gif_durations(len(frames), self.fps), loop=0, optimize=False,
                               disposal=1)
        self.files = [self.path] if self.kind != "png" and not abort else self.files


def save_motion_npz(path: str | os.PathLike, original: np.ndarray, adversarial: np.ndarray, label: int,
                    class_names: list[str], layout, fps: float, source: str = "",
                    info: dict | None = None, include_original: bool = True) -> Path:
    """Our npz (engine.datasets.save) holding the adversarial motion (and the original, first)."""
    motions = [np.asarray(adversarial, np.float32)]
    sources = [f"adversarial:{source}"]
    if include_original:
        motions.insert(0, np.asarray(original, np.float32))
        sources.insert(0, f"original:{source}")
    ds = MotionDataset(np.stack(motions), np.full(len(motions), int(label)), list(class_names), layout,
                       float(fps), sources=sources, name=f"smart adversarial {source}".strip(),
                       info=dict(info or {}))
    return save_dataset(ds, path)


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, np.generic):
        return _clean(v.item())
    if isinstance(v, np.ndarray):
        return [_clean(x) for x in v.tolist()]
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    return v


def write_metrics_json(path: str | os.PathLike, payload: dict) -> Path:
    path = Path(path)
    path.write_text(json.dumps(_clean(payload), indent=2, allow_nan=False), encoding="utf-8")
    return path


def write_metrics_csv(path: str | os.PathLike, rows: list[dict]) -> Path:
    """One row per run; columns are the union of the rows' keys (first row's order first)."""
    path = Path(path)
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({k: _clean(v) for k, v in r.items()})
    return path
