"""Batched Euler-angle rotation matrices for forward kinematics (numpy, vectorised over frames)."""

from __future__ import annotations

import numpy as np

__all__ = ["axis_rotation", "euler"]


def axis_rotation(axis: str, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` about ``axis`` (``'x'``, ``'y'`` or ``'z'``) by ``angle`` radians."""
    a = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    out = np.zeros(a.shape + (3, 3))
    ax = axis.lower()
    if ax == "x":
        i, j, k = 0, 1, 2
    elif ax == "y":
        i, j, k = 1, 2, 0
    elif ax == "z":
        i, j, k = 2, 0, 1
    else:
        raise ValueError(f"rotation axis must be x, y or z, got {axis!r}")
    # right-handed: about axis i, rotating j towards k
    out[..., i, i] = 1.0
    out[..., j, j] = c
    out[..., k, k] = c
    out[..., j, k] = -s
    out[..., k, j] = s
    return out


def euler(angles: np.ndarray, axes: str) -> np.ndarray:
    """``R = R_{axes[0]}(a0) @ R_{axes[1]}(a1) @ ...`` for angles ``(..., len(axes))`` in radians.

    This is the BVH convention (channels listed outermost first). ASF/AMC's ``XYZ`` order, where X is
    applied first, is ``euler(angles[..., ::-1], 'zyx')``.
    """
    angles = np.asarray(angles, dtype=np.float64)
    out = None
    for i, ax in enumerate(axes):
        r = axis_rotation(ax, angles[..., i])
        out = r if out is None else out @ r
    if out is None:
        return np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3)).copy()
    return out
