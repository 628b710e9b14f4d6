"""A synthetic walking stick figure (metres, y up, facing +z) for widget tests and screenshots."""

from __future__ import annotations

import numpy as np

JOINT_NAMES = (
    "pelvis", "spine", "neck", "head",
    "l_shoulder", "l_elbow", "l_hand", "r_shoulder", "r_elbow", "r_hand",
    "l_hip", "l_knee", "l_foot", "r_hip", "r_knee", "r_foot",
)
PARENTS = (-1, 0, 1, 2, 2, 4, 5, 2, 7, 8, 0, 10, 11, 0, 13, 14)
BONES = np.array([(p, j) for j, p in enumerate(PARENTS) if p >= 0], dtype=np.int64)


def _limb(root: np.ndarray, angle: np.ndarray, bend: np.ndarray, l1: float, l2: float):
    """Two-segment limb hanging from ``root`` (T, 3), swinging in the y-z plane by ``angle`` (T,)."""
    d1 = np.stack([np.zeros_like(angle), -np.cos(angle), np.sin(angle)], axis=1)
    a2 = angle + bend
    d2 = np.stack([np.zeros_like(angle), -np.cos(a2), np.sin(a2)], axis=1)
    mid = root + l1 * d1
    return mid, mid + l2 * d2


def walking_figure(n_frames: int = 60, fps: float = 30.0, speed: float = 0.6) -> np.ndarray:
    """``(T, 16, 3)`` float32 walk cycle moving along +z at ``speed`` m/s."""
    t = np.arange(n_frames) / fps
    phase = 2 * np.pi * 1.0 * t  # one stride per second
    T = n_frames
    out = np.zeros((T, len(JOINT_NAMES), 3), dtype=np.float64)
    pelvis = np.stack([np.zeros(T), 0.95 + 0.02 * np.cos(2 * phase), speed * t], axis=1)
    out[:, 0] = pelvis
    out[:, 1] = pelvis + (0, 0.28, 0)
    out[:, 2] = pelvis + (0, 0.55, 0.02)
    out[:, 3] = pelvis + (0, 0.75, 0.03)
    swing = 0.45 * np.sin(phase)
    for side, sx, s in (("l", 0.19, 1.0), ("r", -0.19, -1.0)):
        i0 = JOINT_NAMES.index(f"{side}_shoulder")
        sh = out[:, 2] + (sx, -0.04, 0)
        out[:, i0] = sh
        elbow, hand = _limb(sh, -s * 0.6 * swing, np.full(T, 0.35), 0.28, 0.26)
        out[:, i0 + 1], out[:, i0 + 2] = elbow, hand
        h0 = JOINT_NAMES.index(f"{side}_hip")
        hip = pelvis + (sx * 0.55, -0.04, 0)
        out[:, h0] = hip
        knee_bend = -0.5 * np.clip(np.sin(phase * s + 1.2), 0, None)
        knee, foot = _limb(hip, s * swing, knee_bend, 0.44, 0.43)
        out[:, h0 + 1], out[:, h0 + 2] = knee, foot
    return out.astype(np.float32)


def perturbed(clip: np.ndarray, scale: float = 0.03, seed: int = 0) -> np.ndarray:
    """A smooth per-joint perturbation of ``clip``, larger on the hands and feet (an 'adversarial' clip)."""
    rng = np.random.default_rng(seed)
    T, V, _ = clip.shape
    weights = np.full(V, 0.3)
    for name in ("l_hand", "r_hand", "l_foot", "r_foot"):
        weights[JOINT_NAMES.index(name)] = 1.0
    t = np.linspace(0, 2 * np.pi, T)[:, None, None]
    freq = rng.uniform(0.5, 2.0, size=(1, V, 3))
    ph = rng.uniform(0, 2 * np.pi, size=(1, V, 3))
    noise = np.sin(freq * t + ph) * weights[None, :, None] * scale
    return (clip + noise).astype(np.float32)
