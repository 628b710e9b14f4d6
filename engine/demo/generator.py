"""A deterministic generator of labelled everyday actions on the ``ntu25`` layout.

Every clip is made from joint angles by forward kinematics, so each bone keeps exactly the length
the subject's body gives it, in every frame. Coordinates are metres, y up, 30 fps; a body whose left
is +x faces +z before its facing angle is applied.

How a clip is made:

* a **subject** (``subjects[i]``, "s00", "s01", ...) fixes the body: height, proportions of legs,
  arms, trunk and shoulders/hips, and small posture habits. Subject ``k`` is drawn from the seed and
  ``k`` alone, so a split by subject holds out bodies the model never saw;
* each **sample** draws its own speed (x0.75 to x1.3), amplitude (x0.75 to x1.2), facing
  (+-60 degrees about y), start position (+-0.3 m), phase of periodic actions, onset of one-off
  actions, a static pose offset (about 3 degrees per angle) and slow angle noise;
* the **class** gives the angle trajectories (hips, knees, spine, shoulders, elbows...) over time;
* the body is set on the floor frame by frame (its lowest foot joint 2 cm above y = 0), and jumps
  and runs add a flight height on top. Walks and runs move forward along their facing.

Samples are drawn from ``numpy.random.SeedSequence([seed, class, ...])``: the same seed gives the
same array, bit for bit on one platform.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import NTU25

__all__ = ["CLASS_NAMES", "FPS", "generate_arrays", "rest_offsets"]

FPS = 30.0

CLASS_NAMES: tuple[str, ...] = (
    "walk",
    "run",
    "jump",
    "squat",
    "wave one hand",
    "wave both hands",
    "clap",
    "punch",
    "kick",
    "sit down",
    "stand up",
    "throw",
)

# ntu25 joint indices
(SPINE_BASE, SPINE_MID, NECK, HEAD, SHOULDER_L, ELBOW_L, WRIST_L, HAND_L, SHOULDER_R, ELBOW_R, WRIST_R,
 HAND_R, HIP_L, KNEE_L, ANKLE_L, FOOT_L, HIP_R, KNEE_R, ANKLE_R, FOOT_R, SPINE_SHOULDER, TIP_L, THUMB_L,
 TIP_R, THUMB_R) = range(25)

PARENTS = np.asarray(NTU25.parents)

# Rest pose (standing, arms hanging): offset of each joint from its parent, metres, for a body of
# 1.75 m. Left is +x, forward +z, up +y.
_REST = np.zeros((25, 3))
_REST[SPINE_MID] = (0.0, 0.26, 0.0)
_REST[SPINE_SHOULDER] = (0.0, 0.24, 0.0)
_REST[NECK] = (0.0, 0.08, 0.0)
_REST[HEAD] = (0.0, 0.14, 0.01)
_REST[SHOULDER_L] = (0.17, -0.04, 0.0)
_REST[SHOULDER_R] = (-0.17, -0.04, 0.0)
_REST[ELBOW_L] = _REST[ELBOW_R] = (0.0, -0.28, 0.0)
_REST[WRIST_L] = _REST[WRIST_R] = (0.0, -0.25, 0.0)
_REST[HAND_L] = _REST[HAND_R] = (0.0, -0.07, 0.0)
_REST[TIP_L] = _REST[TIP_R] = (0.0, -0.07, 0.01)
_REST[THUMB_L] = (-0.01, -0.03, 0.04)
_REST[THUMB_R] = (0.01, -0.03, 0.04)
_REST[HIP_L] = (0.09, -0.06, 0.0)
_REST[HIP_R] = (-0.09, -0.06, 0.0)
_REST[KNEE_L] = _REST[KNEE_R] = (0.0, -0.43, 0.0)
_REST[ANKLE_L] = _REST[ANKLE_R] = (0.0, -0.42, 0.0)
_REST[FOOT_L] = _REST[FOOT_R] = (0.0, -0.05, 0.13)

_TRUNK = [SPINE_MID, SPINE_SHOULDER, NECK, HEAD]
_ARMS = [ELBOW_L, WRIST_L, HAND_L, TIP_L, THUMB_L, ELBOW_R, WRIST_R, HAND_R, TIP_R, THUMB_R]
_LEGS = [KNEE_L, ANKLE_L, FOOT_L, KNEE_R, ANKLE_R, FOOT_R]
_WIDTH = [SHOULDER_L, SHOULDER_R, HIP_L, HIP_R]

# joints in an order where every parent comes before its children
_ORDER = [0]
while len(_ORDER) < 25:
    _ORDER += [j for j in range(25) if j not in _ORDER and PARENTS[j] in _ORDER]

# Angle channels (degrees), per joint: x, y, z of the local rotation R = Ry(y) @ Rz(z) @ Rx(x), which
# turns the bones leaving the joint. Sign conventions used below:
#   shoulder / hip: forward raise by a  ->  x = -a;  sideways raise: left z = +a, right z = -a
#   elbow: flexion a -> x = -a;  knee: flexion a -> x = +a;  ankle: toes up -> x < 0
#   spine (SPINE_MID): lean forward a -> x = +a; twist -> y;  horizontal swing of a raised arm -> y
_X, _Y, _Z = 0, 1, 2


def rest_offsets(n_subjects: int, seed: int) -> np.ndarray:
    """Bone offsets ``(n_subjects, 25, 3)`` in metres of the generator's subjects for ``seed``."""
    return _bodies(np.arange(n_subjects), seed)[0]


def _bodies(subject_ids: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Offsets ``(S, 25, 3)`` and posture habits ``(S, 25, 3)`` (degrees) of the given subjects."""
    offs, habits = [], []
    for k in subject_ids:
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1_000_003, int(k)]))
        height = rng.uniform(0.84, 1.14)
        scale = np.full(25, height)
        scale[_TRUNK] *= rng.uniform(0.9, 1.1)
        scale[_ARMS] *= rng.uniform(0.9, 1.1)
        scale[_LEGS] *= rng.uniform(0.9, 1.1)
        off = _REST * scale[:, None]
        off[_WIDTH, 0] *= rng.uniform(0.85, 1.18)
        hab = np.zeros((25, 3))
        hab[SPINE_MID, _X] = rng.uniform(-3, 6)  # stoop
        hab[NECK, _X] = rng.uniform(-5, 10)
        abd = rng.uniform(3, 12)
        hab[SHOULDER_L, _Z], hab[SHOULDER_R, _Z] = abd, -abd
        elb = rng.uniform(5, 20)
        hab[ELBOW_L, _X] = hab[ELBOW_R, _X] = -elb
        spread = rng.uniform(0, 5)
        hab[HIP_L, _Z], hab[HIP_R, _Z] = spread, -spread
        offs.append(off)
        habits.append(hab)
    return np.asarray(offs), np.asarray(habits)


def _rotations(ang: np.ndarray) -> np.ndarray:
    """``Ry(y) @ Rz(z) @ Rx(x)`` for angles ``(..., 3)`` in radians -> ``(..., 3, 3)``."""
    cx, sx = np.cos(ang[..., 0]), np.sin(ang[..., 0])
    cy, sy = np.cos(ang[..., 1]), np.sin(ang[..., 1])
    cz, sz = np.cos(ang[..., 2]), np.sin(ang[..., 2])
    one, zero = np.ones_like(cx), np.zeros_like(cx)
    rx = np.stack([one, zero, zero, zero, cx, -sx, zero, sx, cx], -1).reshape(ang.shape[:-1] + (3, 3))
    ry = np.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], -1).reshape(ang.shape[:-1] + (3, 3))
    rz = np.stack([cz, -sz, zero, sz, cz, zero, zero, zero, one], -1).reshape(ang.shape[:-1] + (3, 3))
    return ry @ rz @ rx


def forward_kinematics(offsets: np.ndarray, ang_deg: np.ndarray) -> np.ndarray:
    """Joint positions ``(N, T, 25, 3)`` (root at the origin) from offsets ``(N, 25, 3)`` and angles
    ``(N, T, 25, 3)`` in degrees; the root's own angles orient the whole body."""
    rot = _rotations(np.deg2rad(ang_deg))
    n, t = ang_deg.shape[:2]
    glob = np.empty((n, t, 25, 3, 3))
    pos = np.zeros((n, t, 25, 3))
    glob[:, :, 0] = rot[:, :, 0]
    for j in _ORDER[1:]:
        p = PARENTS[j]
        pos[:, :, j] = pos[:, :, p] + np.einsum("ntab,nb->nta", glob[:, :, p], offsets[:, j])
        glob[:, :, j] = glob[:, :, p] @ rot[:, :, j]
    return pos


# -- time profiles --------------------------------------------------------------------------------
def _smoothstep(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def _bump(u: np.ndarray, c: float, w: float) -> np.ndarray:
    return np.exp(-0.5 * ((u - c) / w) ** 2)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


class _Ctx:
    """Per-class batch: time ``t`` (1, T) seconds and per-sample parameters as (N, 1) columns."""

    def __init__(self, rng: np.random.Generator, n: int, frames: int) -> None:
        self.n, self.frames = n, frames
        self.t = (np.arange(frames) / FPS)[None, :]
        self.dur = frames / FPS
        self.speed = rng.uniform(0.75, 1.3, (n, 1))
        self.amp = rng.uniform(0.75, 1.2, (n, 1))
        self.phase = rng.uniform(0, 2 * np.pi, (n, 1))
        self.u01 = rng.uniform(0, 1, (n, 1))
        self.sign = rng.choice([-1.0, 1.0], (n, 1))
        self.ang = np.zeros((n, frames, 25, 3))
        self.forward = np.zeros((n, frames))  # metres travelled along the facing
        self.lift = np.zeros((n, frames))  # metres above the floor contact

    def event(self, base_duration: float) -> np.ndarray:
        """Normalised time ``u`` (N, T) of a one-off action of ``base_duration / speed`` seconds that
        starts at a random onset and ends inside the clip (when the clip is long enough)."""
        d = base_duration / self.speed
        latest = np.maximum(self.dur - d - 0.05, 0.1)
        onset = 0.05 + self.u01 * (latest - 0.05)
        return (self.t - onset) / d

    def raise_in(self, base: float = 0.35) -> np.ndarray:
        """A 0 -> 1 ramp (N, T) of ``base / speed`` seconds starting within the first 0.5 s."""
        onset = 0.5 * self.u01
        return _smoothstep((self.t - onset) * self.speed / base)

    def set(self, j: int, ch: int, v) -> None:
        self.ang[:, :, j, ch] += v


def _walk(c: _Ctx, run: bool = False) -> None:
    f = (1.45 if run else 0.95) * c.speed
    th = 2 * np.pi * f * c.t + c.phase
    a = c.amp
    hip_amp, hip_mid = (38, 15) if run else (22, 6)
    knee_amp, knee_min = (85, 20) if run else (48, 5)
    for hip, knee, ankle, sh, elbow, ph in ((HIP_L, KNEE_L, ANKLE_L, SHOULDER_L, ELBOW_L, 0.0),
                                           (HIP_R, KNEE_R, ANKLE_R, SHOULDER_R, ELBOW_R, np.pi)):
        s = np.sin(th + ph)
        c.set(hip, _X, -(hip_mid + hip_amp * a * s))
        c.set(knee, _X, knee_min + knee_amp * a * _relu(np.cos(th + ph)) ** 1.3)
        c.set(ankle, _X, 10 * s)
        c.set(sh, _X, (35 if run else 20) * a * s)  # arm swings against its own side's leg
        c.set(elbow, _X, -(85 + 10 * s) if run else -(12 + 8 * a * _relu(-s)))
    c.set(SPINE_MID, _Y, 6 * a * np.sin(th))
    if run:
        c.set(SPINE_MID, _X, 12 * a)
        c.lift += 0.05 * a * (0.5 + 0.5 * np.cos(2 * th))
    v = (3.0 if run else 1.25) * c.speed * (0.8 + 0.2 * a)
    c.forward += v * (c.t - c.dur / 2)


def _run(c: _Ctx) -> None:
    _walk(c, run=True)


def _jump(c: _Ctx) -> None:
    u = c.event(1.2)
    inside = ((u > 0) & (u < 1)).astype(float)
    a = c.amp
    crouch = (_bump(u, 0.22, 0.09) + 0.8 * _bump(u, 0.82, 0.08)) * inside
    flight = _relu(1 - ((u - 0.52) / 0.17) ** 2)
    arms_up = _bump(u, 0.48, 0.12) * inside
    for hip, knee, ankle, sh, elbow in ((HIP_L, KNEE_L, ANKLE_L, SHOULDER_L, ELBOW_L),
                                        (HIP_R, KNEE_R, ANKLE_R, SHOULDER_R, ELBOW_R)):
        c.set(hip, _X, -(70 * a * crouch + 15 * flight))
        c.set(knee, _X, 100 * a * crouch + 25 * flight)
        c.set(ankle, _X, -25 * crouch + 30 * flight)
        c.set(sh, _X, 40 * crouch - 150 * a * arms_up)
        c.set(elbow, _X, -20 * crouch)
    c.set(SPINE_MID, _X, 35 * crouch)
    c.lift += (0.22 + 0.15 * a) * flight


def _squat(c: _Ctx) -> None:
    th = 2 * np.pi * 0.72 * c.speed * c.t + c.phase
    d = 0.5 - 0.5 * np.cos(th)
    a = c.amp
    for hip, knee, ankle, sh, elbow in ((HIP_L, KNEE_L, ANKLE_L, SHOULDER_L, ELBOW_L),
                                        (HIP_R, KNEE_R, ANKLE_R, SHOULDER_R, ELBOW_R)):
        c.set(hip, _X, -(95 * a * d))
        c.set(knee, _X, 120 * a * d)
        c.set(ankle, _X, -25 * a * d)
        c.set(sh, _X, -(10 + 75 * d))
        c.set(elbow, _X, -10 * d)
    c.set(SPINE_MID, _X, 35 * a * d)


def _wave(c: _Ctx, both: bool) -> None:
    g = c.raise_in()
    f = 2.2 * c.speed
    osc = 28 * c.amp * np.sin(2 * np.pi * f * c.t + c.phase)
    c.set(SHOULDER_R, _Z, -(95 + 20 * c.amp) * g)
    c.set(ELBOW_R, _Z, -(85 + osc) * g)
    if both:
        c.set(SHOULDER_L, _Z, (95 + 20 * c.amp) * g)
        c.set(ELBOW_L, _Z, (85 + c.sign * osc) * g)


def _clap(c: _Ctx) -> None:
    g = c.raise_in()
    th = 2 * np.pi * 2.0 * c.speed * c.t + c.phase
    swing = (-14 + 28 * c.amp * (0.5 + 0.5 * np.cos(th))) * g
    for sh, elbow, side in ((SHOULDER_L, ELBOW_L, 1.0), (SHOULDER_R, ELBOW_R, -1.0)):
        c.set(sh, _X, -(70 + 12 * c.amp) * g)
        c.set(elbow, _X, -35 * g)
        c.set(sh, _Y, side * swing)


def _guard(c: _Ctx, g) -> None:
    for sh, elbow, side in ((SHOULDER_L, ELBOW_L, 1.0), (SHOULDER_R, ELBOW_R, -1.0)):
        c.set(sh, _X, -35 * g)
        c.set(sh, _Z, side * 12 * g)
        c.set(elbow, _X, -115 * g)
    c.set(HIP_L, _X, -12 * g)
    c.set(HIP_R, _X, 8 * g)
    c.set(KNEE_L, _X, 15 * g)
    c.set(KNEE_R, _X, 15 * g)


def _punch(c: _Ctx) -> None:
    g = c.raise_in(0.3)
    _guard(c, g)
    period = 0.6 / c.speed
    start = 0.3 + 0.3 * c.u01
    k = np.floor((c.t - start) / period)
    local = (c.t - start) - k * period
    p = _bump(local, 0.15 / c.speed, 0.06 / c.speed) * (c.t > start)
    even = k % 2 == 0
    is_left = np.where(c.sign > 0, even, ~even)  # which fist leads is drawn per sample
    for sh, elbow, mine, side in ((SHOULDER_L, ELBOW_L, is_left, 1.0), (SHOULDER_R, ELBOW_R, ~is_left, -1.0)):
        pk = p * mine * c.amp
        c.set(sh, _X, -55 * pk)
        c.set(sh, _Y, -side * 10 * pk)
        c.set(elbow, _X, 110 * pk)
        c.set(SPINE_MID, _Y, -side * 18 * pk)


def _kick(c: _Ctx) -> None:
    g = c.raise_in(0.3)
    for sh, elbow, side in ((SHOULDER_L, ELBOW_L, 1.0), (SHOULDER_R, ELBOW_R, -1.0)):
        c.set(sh, _X, -25 * g)
        c.set(sh, _Z, side * 15 * g)
        c.set(elbow, _X, -80 * g)
    u = c.event(0.9)
    inside = ((u > 0) & (u < 1)).astype(float)
    ext = _bump(u, 0.5, 0.14) * inside
    chamber = (_bump(u, 0.3, 0.1) + _bump(u, 0.72, 0.1)) * inside
    c.set(HIP_R, _X, -(60 + 30 * c.amp) * np.maximum(ext, 0.8 * chamber))
    c.set(KNEE_R, _X, 95 * chamber * (1 - ext) + 8)
    c.set(ANKLE_R, _X, 25 * ext)
    c.set(SPINE_MID, _X, -12 * ext)
    c.set(KNEE_L, _X, 12 * (chamber + ext))


def _sit(c: _Ctx, down: bool) -> None:
    u = c.event(1.3)
    g = _smoothstep(u)
    if not down:
        g = 1.0 - g
    lean = 35 * _bump(u, 0.5, 0.18) * ((u > 0) & (u < 1))
    a = c.amp
    for hip, knee, sh, elbow in ((HIP_L, KNEE_L, SHOULDER_L, ELBOW_L), (HIP_R, KNEE_R, SHOULDER_R, ELBOW_R)):
        c.set(hip, _X, -(80 + 15 * a) * g)
        c.set(knee, _X, (82 + 12 * a) * g)
        c.set(sh, _X, -25 * g)
        c.set(elbow, _X, -45 * g)
    c.set(SPINE_MID, _X, lean + 5 * g)
    c.forward += -0.25 * g


def _throw(c: _Ctx) -> None:
    u = np.clip(c.event(1.1), 0, 1)
    a = c.amp
    knots = [0.0, 0.45, 0.6, 1.0]
    c.set(SHOULDER_R, _X, -np.interp(u, knots, [5, 165 * 1.0, 40, 10]) * (0.85 + 0.15 * a))
    c.set(SHOULDER_R, _Z, -np.interp(u, knots, [8, 35, 25, 10]))
    c.set(ELBOW_R, _X, -np.interp(u, [0, 0.45, 0.55, 0.6, 1.0], [10, 100, 35, 10, 15]))
    c.set(SHOULDER_L, _X, -np.interp(u, knots, [5, 60, 20, 10]))
    c.set(SPINE_MID, _Y, np.interp(u, knots, [0, -25, 20, 8]) * a)
    c.set(SPINE_MID, _X, np.interp(u, knots, [0, -8, 15, 5]))
    c.set(HIP_L, _X, -np.interp(u, knots, [0, 10, 25, 18]))
    c.set(KNEE_L, _X, np.interp(u, knots, [0, 15, 10, 8]))
    c.set(HIP_R, _X, np.interp(u, knots, [0, 5, 12, 10]))


_CLASS_FNS = (
    _walk, _run, _jump, _squat,
    lambda c: _wave(c, False), lambda c: _wave(c, True), _clap, _punch, _kick,
    lambda c: _sit(c, True), lambda c: _sit(c, False), _throw,
)


def _noise(rng: np.random.Generator, n: int, frames: int, deg: float) -> np.ndarray:
    """Slow angle noise ``(n, T, 25, 3)``: two random sinusoids (0.2 to 1.5 Hz) per channel."""
    t = np.arange(frames) / FPS
    freq = rng.uniform(0.2, 1.5, (n, 2, 25, 3))
    phase = rng.uniform(0, 2 * np.pi, (n, 2, 25, 3))
    amp = rng.normal(0, deg / np.sqrt(2), (n, 2, 25, 3))
    wave = np.sin(2 * np.pi * freq[:, :, None] * t[None, None, :, None, None] + phase[:, :, None])
    return (amp[:, :, None] * wave).sum(1)


def generate_arrays(n_per_class: int = 60, seed: int = 0, frames: int = 60, n_subjects: int = 10,
                    classes: tuple[str, ...] | list[str] | None = None
                    ) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """``(motions (N, T, 25, 3) float32 metres, labels (N,) int64, class_names, subjects)``.

    Samples come class by class; sample ``k`` of every class is played by subject ``k % n_subjects``
    (named ``"s00"``, ``"s01"``...). ``classes`` picks a subset of :data:`CLASS_NAMES` (their labels
    then index the subset, in the order given).
    """
    if not isinstance(n_per_class, int | np.integer) or n_per_class < 1:
        raise ValueError(f"n_per_class must be a positive int, got {n_per_class!r}")
    if not isinstance(frames, int | np.integer) or frames < 2:
        raise ValueError(f"frames must be an int >= 2, got {frames!r}")
    if not isinstance(n_subjects, int | np.integer) or n_subjects < 1:
        raise ValueError(f"n_subjects must be a positive int, got {n_subjects!r}")
    names = list(CLASS_NAMES if classes is None else classes)
    unknown = [c for c in names if c not in CLASS_NAMES]
    if unknown or not names:
        raise ValueError(f"unknown demo classes {unknown}; known: {list(CLASS_NAMES)}")
    offsets_all, habits_all = _bodies(np.arange(n_subjects), seed)
    subj = np.arange(n_per_class) % n_subjects
    out, labels = [], []
    for label, name in enumerate(names):
        ci = CLASS_NAMES.index(name)
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), ci]))
        c = _Ctx(rng, n_per_class, frames)
        _CLASS_FNS[ci](c)
        ang = c.ang + habits_all[subj][:, None]
        ang += rng.normal(0, 3.0, (n_per_class, 1, 25, 3))  # static pose offset
        ang += _noise(rng, n_per_class, frames, 3.0)
        facing = rng.uniform(-60, 60, (n_per_class, 1))
        ang[:, :, 0, _Y] += facing
        pos = forward_kinematics(offsets_all[subj], ang)
        # stand on the floor: the lowest foot joint 2 cm above y = 0, plus any flight
        floor = pos[:, :, [ANKLE_L, FOOT_L, ANKLE_R, FOOT_R], 1].min(-1)
        yaw = np.deg2rad(facing)
        start = rng.uniform(-0.3, 0.3, (n_per_class, 1, 2))
        root = np.stack([start[..., 0] + c.forward * np.sin(yaw),
                         0.02 - floor + c.lift,
                         start[..., 1] + c.forward * np.cos(yaw)], -1)
        out.append((pos + root[:, :, None, :]).astype(np.float32))
        labels.append(np.full(n_per_class, label, dtype=np.int64))
    subjects = [f"s{k:02d}" for k in subj] * len(names)
    return np.concatenate(out), np.concatenate(labels), names, subjects
