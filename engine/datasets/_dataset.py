"""The :class:`MotionDataset` container and the helpers every loader shares (windowing, body frame)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..errors import DatasetError
from ..skeleton import Layout, bone_lengths, resolve

__all__ = [
    "MotionDataset",
    "NonFiniteMotionError",
    "window_take",
    "face_and_centre",
    "resample",
    "bone_lengths",
    "set_bone_lengths",
]


class MotionDataset:
    """Fixed-length clips in metres with their labels and, per sample, where they came from.

    ``motions`` float32 ``(N, T, V, 3)`` in metres, ``labels`` int64 ``(N,)`` indexing ``class_names``,
    ``layout`` the skeleton the joint axis follows, ``fps`` the frame rate. Per sample: ``sources``
    (the file), ``first_frames`` (first frame of the clip in the source file, at the source's own
    frame rate), ``subjects`` (actor / subject / performer id, or ``None``) and ``padded`` (the take
    was shorter than the clip and its last frame is held). ``info`` says how the clips were made
    (window, stride, dropped bodies, skipped files...).

    A motion holding NaN or inf is refused (:class:`NonFiniteMotionError`), naming ``origin`` (the
    file or folder the motions were read from; else the dataset's name), the motion and its source.
    """

    def __init__(
        self,
        motions: np.ndarray,
        labels: Sequence[int] | np.ndarray,
        class_names: Sequence[str],
        layout: Layout | str,
        fps: float,
        *,
        sources: Sequence[str] | None = None,
        first_frames: Sequence[int] | np.ndarray | None = None,
        subjects: Sequence[str | None] | None = None,
        padded: Sequence[bool] | np.ndarray | None = None,
        name: str = "",
        info: dict[str, Any] | None = None,
        origin: str | os.PathLike | None = None,
    ) -> None:
        self.layout = resolve(layout)
        motions = np.asarray(motions, dtype=np.float32)
        if motions.ndim != 4:
            raise DatasetError(f"dataset {name!r}: motions must be (N, T, V, 3), got shape {motions.shape}")
        self.layout.check_motion_shape(motions.shape, what=f"dataset {name!r} motions")
        n = motions.shape[0]
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        if labels.shape[0] != n:
            raise DatasetError(f"dataset {name!r}: {labels.shape[0]} labels for {n} motions")
        self.class_names = [str(c) for c in class_names]
        if n and (labels.min() < 0 or labels.max() >= len(self.class_names)):
            raise DatasetError(
                f"dataset {name!r}: labels span {labels.min()}..{labels.max()} but there are "
                f"{len(self.class_names)} class names"
            )
        fps = float(fps)
        if not fps > 0:
            raise DatasetError(f"dataset {name!r}: fps must be > 0, got {fps}")
        self.motions = motions
        self.labels = labels
        self.fps = fps
        self.name = str(name)
        self.sources = [str(s) for s in sources] if sources is not None else [""] * n
        self.first_frames = (
            np.asarray(first_frames, dtype=np.int64).reshape(-1)
            if first_frames is not None
            else np.zeros(n, dtype=np.int64)
        )
        self.subjects = (
            [None if s is None else str(s) for s in subjects] if subjects is not None else [None] * n
        )
        self.padded = (
            np.asarray(padded, dtype=bool).reshape(-1) if padded is not None else np.zeros(n, dtype=bool)
        )
        for what, seq in (
            ("sources", self.sources),
            ("first_frames", self.first_frames),
            ("subjects", self.subjects),
            ("padded", self.padded),
        ):
            if len(seq) != n:
                raise DatasetError(f"dataset {name!r}: {len(seq)} {what} for {n} motions")
        refuse_non_finite(motions, str(origin) if origin is not None else f"dataset {name!r}", self)
        self.info: dict[str, Any] = dict(info or {})

    # -- container protocol ------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.motions.shape[0])

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        """``(motion (T, V, 3), label)`` of sample ``i``."""
        return self.motions[i], int(self.labels[i])

    def __repr__(self) -> str:
        n, t = (self.motions.shape[0], self.motions.shape[1])
        return (
            f"MotionDataset({self.name!r}, {n} clips of {t} frames at {self.fps:g} fps, "
            f"layout {self.layout.name!r}, {len(self.class_names)} classes)"
        )

    @property
    def num_frames(self) -> int:
        return int(self.motions.shape[1])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def classes_present(self) -> list[int]:
        """Sorted class indices that occur in ``labels``."""
        return sorted(int(c) for c in np.unique(self.labels))

    # -- selections ------------------------------------------------------------------------------
    def subset(self, indices: Iterable[int] | np.ndarray) -> MotionDataset:
        """A new dataset with the samples at ``indices`` (ints or a boolean mask), in that order."""
        idx = np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise DatasetError(f"subset: mask of shape {idx.shape} for {len(self)} samples")
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64).reshape(-1)
        if idx.size and (idx.min() < -len(self) or idx.max() >= len(self)):
            raise DatasetError(f"subset: index out of range for {len(self)} samples")
        return MotionDataset(
            self.motions[idx],
            self.labels[idx],
            self.class_names,
            self.layout,
            self.fps,
            sources=[self.sources[i] for i in idx],
            first_frames=self.first_frames[idx],
            subjects=[self.subjects[i] for i in idx],
            padded=self.padded[idx],
            name=self.name,
            info=dict(self.info),
        )

    def split_by_subject(self, val_subjects: Iterable[str]) -> tuple[MotionDataset, MotionDataset]:
        """``(train, val)``: samples whose subject is in ``val_subjects`` go to ``val``.

        Subjects are compared as strings; an unknown subject is refused so that a typo cannot
        silently yield an empty validation set.
        """
        if isinstance(val_subjects, str):
            val_subjects = [val_subjects]
        wanted = {str(s) for s in val_subjects}
        known = {s for s in self.subjects if s is not None}
        unknown = sorted(wanted - known)
        if unknown:
            raise DatasetError(
                f"dataset {self.name!r}: unknown subjects {unknown}; subjects are {sorted(known)}"
            )
        mask = np.array([s in wanted for s in self.subjects], dtype=bool)
        return self.subset(~mask), self.subset(mask)

    def subject_names(self) -> list[str]:
        return sorted({s for s in self.subjects if s is not None})


class NonFiniteMotionError(DatasetError):
    """A motion of a dataset holds NaN or inf: names the file, the motion, its source and the frame."""


def refuse_non_finite(motions: np.ndarray, where: str, ds: MotionDataset, chunk: int = 1024) -> None:
    """Raise :class:`NonFiniteMotionError` if any of ``motions`` ``(N, T, V, 3)`` holds NaN or inf.

    ``where`` names the file; ``ds`` gives the layout's joint names and each motion's source and
    subject. Checked ``chunk`` motions at a time so that a large dataset needs no full-size mask.
    """
    bad: list[int] = []
    for a in range(0, motions.shape[0], chunk):
        ok = np.isfinite(motions[a : a + chunk]).reshape(min(chunk, motions.shape[0] - a), -1).all(axis=1)
        bad.extend(a + int(i) for i in np.flatnonzero(~ok))
    if not bad:
        return
    i = bad[0]
    t, j = (int(k) for k in np.argwhere(~np.isfinite(motions[i]))[0][:2])
    src, first = ds.sources[i], int(ds.first_frames[i])
    take = ""
    if src and src != where:
        take = f" (take {src}, from its frame {first})" if first >= 0 else f" (take {src})"
    if ds.subjects[i] is not None:
        take += f", subject {ds.subjects[i]},"
    more = ""
    if len(bad) > 1:
        listed = ", ".join(str(k) for k in bad[:8]) + (" ..." if len(bad) > 8 else "")
        more = f"; {len(bad)} of {motions.shape[0]} motions are ({listed})"
    raise NonFiniteMotionError(
        f"{where}: motion {i}{take} is not finite (NaN or inf) at frame {t}, joint {j} "
        f"({ds.layout.joint_names[j]}){more}; expected finite joint positions. "
        "Repair or drop these motions at their source (e.g. MotionDataset.subset, then save) and load again"
    )


# -- shared processing ------------------------------------------------------------------------------
def resample(frames: np.ndarray, src_fps: float, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Resample ``(F, V, 3)`` from ``src_fps`` to ``fps``; returns ``(frames, source frame index)``.

    When ``src_fps`` is an integer multiple of ``fps`` every k-th frame is taken (as the SMART
    preprocessing does, 120 -> 30 fps = every 4th frame); otherwise frames are interpolated
    linearly and the index is the source frame at or before each output frame.
    """
    if not (src_fps > 0 and fps > 0):
        raise DatasetError(f"resample: frame rates must be > 0, got {src_fps} -> {fps}")
    ratio = src_fps / fps
    k = round(ratio)
    if k >= 1 and abs(ratio - k) < 1e-6:
        idx = np.arange(0, frames.shape[0], k)
        return frames[idx], idx
    n_out = max(1, int(np.floor((frames.shape[0] - 1) / ratio)) + 1)
    t = np.arange(n_out) * ratio
    i0 = np.minimum(np.floor(t).astype(np.int64), frames.shape[0] - 1)
    i1 = np.minimum(i0 + 1, frames.shape[0] - 1)
    w = (t - i0)[:, None, None]
    return (1 - w) * frames[i0] + w * frames[i1], i0


def face_and_centre(
    frames: np.ndarray, root: int, left_hip: int, right_hip: int, *, centre: bool, face: bool
) -> np.ndarray:
    """Root-centre every frame and/or turn the take about +y so that it faces +z at its first frame.

    Facing follows the SMART preprocessing: y is up and the left-minus-right hip vector of the first
    frame, projected on the floor, is turned onto +x (a body whose left is +x faces +z).
    """
    out = np.array(frames, dtype=np.float64, copy=True)
    if face and out.shape[0]:
        h = out[0, left_hip] - out[0, right_hip]
        ang = np.arctan2(h[2], h[0])  # angle of the hip vector from +x towards +z
        if np.isfinite(ang) and (abs(h[0]) + abs(h[2])) > 0:
            c, s = np.cos(ang), np.sin(ang)
            # rotation about y by +ang maps (cos a, ., sin a) onto (1, ., 0)
            rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
            pivot = out[0, root].copy()
            pivot[1] = 0.0
            out = (out - pivot) @ rot.T + pivot
    if centre:
        out = out - out[:, root : root + 1]
    return out


def window_take(
    frames: np.ndarray, window: int | None, stride: int
) -> tuple[list[np.ndarray], list[int], list[bool]]:
    """Cut ``(F, V, 3)`` into clips of ``window`` frames every ``stride`` frames.

    A take shorter than the window gives one clip padded by holding its last frame (``padded``).
    Frames after the last full window are not used (as in the SMART preprocessing). ``window=None``
    keeps the whole take as one clip. Returns ``(clips, first frames, padded flags)``.
    """
    n = frames.shape[0]
    if n == 0:
        raise DatasetError("take has no frames")
    if window is None:
        return [frames], [0], [False]
    if n < window:
        pad = np.repeat(frames[-1:], window - n, axis=0)
        return [np.concatenate([frames, pad], axis=0)], [0], [True]
    starts = list(range(0, n - window + 1, stride))
    return [frames[s : s + window] for s in starts], starts, [False] * len(starts)


def set_bone_lengths(frames: np.ndarray, layout: Layout | str, lengths) -> np.ndarray:
    """``frames`` ``(..., V, 3)`` with every bone of ``layout.bones`` scaled to ``lengths`` along its
    own direction, from the root outwards (the root stays; coincident joints stay together).

    Used to put takes of different actors on one reference skeleton, as the SMART data are (e.g. the
    lengths of ``hdm05_rest.bvh`` via :func:`bone_lengths`).
    """
    lay = resolve(layout)
    target = np.asarray(lengths, dtype=np.float64).reshape(-1)
    if target.shape[0] != lay.num_bones:
        raise DatasetError(
            f"bone_lengths has {target.shape[0]} values; layout {lay.name!r} has {lay.num_bones} bones"
        )
    old = np.asarray(frames, dtype=np.float64)
    new = np.empty_like(old)
    length_of = {child: target[i] for i, (_, child) in enumerate(lay.bones)}
    done = {lay.root}
    new[..., lay.root, :] = old[..., lay.root, :]
    order = [lay.root]
    while len(order) < lay.num_joints:
        for j, p in enumerate(lay.parents):
            if j not in done and p in done:
                order.append(j)
                done.add(j)
    for j in order[1:]:
        p = lay.parents[j]
        if j not in length_of:
            new[..., j, :] = new[..., p, :]
            continue
        d = old[..., j, :] - old[..., p, :]
        n = np.linalg.norm(d, axis=-1, keepdims=True)
        unit = np.divide(d, n, out=np.zeros_like(d), where=n > 0)
        new[..., j, :] = new[..., p, :] + unit * length_of[j]
    return new
