"""Skeleton layouts: joint names, the kinematic tree and the bones it implies.

A motion anywhere in the engine is a float tensor ``(N, T, V, 3)`` in metres whose joint axis
follows one :class:`Layout`. Two layouts ship:

* ``ntu25`` -- the 25 Kinect v2 joints of NTU RGB+D, in their published order.
* ``hdm05_25`` -- the 25-joint skeleton of the SMART authors' HDM05 / Berkeley MHAD
  preprocessing (a selection of the 31 joints of the HDM05/CMU ASF skeleton). Several of its
  joints coincide by construction (0, 5 and 10; 12 and 13; 17 and 19; 22 and 24); the bones
  between coinciding joints have zero length and are left out of :attr:`Layout.bones`.

``layout(name)`` returns a layout, ``names()`` lists them; every engine function that takes a
layout accepts the :class:`Layout` or its name (see :func:`resolve`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import LayoutMismatchError

__all__ = ["Layout", "bone_lengths", "layout", "names", "register", "resolve"]


@dataclass(frozen=True)
class Layout:
    """A skeleton layout.

    ``parents[j]`` is the parent joint of ``j`` (``-1`` for the root). ``coincident`` lists groups of
    joints that sit at the same place in every frame by construction; a parent--child pair inside
    one group is a zero-length bone and is not in :attr:`bones`. ``parts`` names the five body
    parts (trunk, arms, legs) as joint-index tuples, for part-based models (HRNN) and analysis.
    """

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    fps: float = 30.0
    coincident: tuple[tuple[int, ...], ...] = ()
    parts: tuple[tuple[str, tuple[int, ...]], ...] = ()
    description: str = ""
    hips: tuple[int, int] | None = None
    shoulders: tuple[int, int] | None = None
    spine: int | None = None
    bones: tuple[tuple[int, int], ...] = field(init=False)

    def __post_init__(self) -> None:
        v = len(self.joint_names)
        if v == 0:
            raise ValueError(f"layout {self.name!r}: no joints")
        if len(self.parents) != v:
            raise ValueError(
                f"layout {self.name!r}: {len(self.parents)} parents for {v} joints"
            )
        roots = [j for j, p in enumerate(self.parents) if p < 0]
        if len(roots) != 1:
            raise ValueError(f"layout {self.name!r}: expected one root (parent -1), found {roots}")
        for j, p in enumerate(self.parents):
            if p >= v or p == j:
                raise ValueError(f"layout {self.name!r}: joint {j} has invalid parent {p}")
        # every joint must reach the root without a cycle
        for j in range(v):
            seen, k = set(), j
            while k >= 0:
                if k in seen:
                    raise ValueError(f"layout {self.name!r}: cycle through joint {k}")
                seen.add(k)
                k = self.parents[k]
        if self.fps <= 0:
            raise ValueError(f"layout {self.name!r}: fps must be > 0, got {self.fps}")
        group_of = {}
        for g, group in enumerate(self.coincident):
            for j in group:
                if not 0 <= j < v:
                    raise ValueError(f"layout {self.name!r}: coincident joint {j} out of range")
                group_of[j] = g
        for part, joints in self.parts:
            if any(not 0 <= j < v for j in joints):
                raise ValueError(f"layout {self.name!r}: part {part!r} has a joint out of range")
        marks = [*(self.hips or ()), *(self.shoulders or ()), *(() if self.spine is None else (self.spine,))]
        if any(not 0 <= j < v for j in marks):
            raise ValueError(f"layout {self.name!r}: a landmark (hips, shoulders, spine) is out of range")
        bones = tuple(
            (p, j)
            for j, p in enumerate(self.parents)
            if p >= 0 and not (j in group_of and group_of.get(p) == group_of[j])
        )
        object.__setattr__(self, "bones", bones)

    # -- derived views ---------------------------------------------------------------------------
    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def root(self) -> int:
        """Index of the root joint (the one whose parent is -1)."""
        return self.parents.index(-1)

    @property
    def num_bones(self) -> int:
        return len(self.bones)

    def bone_array(self) -> np.ndarray:
        """Bones as an ``(E, 2)`` int64 array of ``(parent, child)`` joint indices."""
        return np.asarray(self.bones, dtype=np.int64).reshape(-1, 2)

    def part(self, name: str) -> tuple[int, ...]:
        for part, joints in self.parts:
            if part == name:
                return joints
        raise KeyError(f"layout {self.name!r} has no part {name!r}; parts: {[p for p, _ in self.parts]}")

    def index(self, joint_name: str) -> int:
        try:
            return self.joint_names.index(joint_name)
        except ValueError:
            raise KeyError(f"layout {self.name!r} has no joint {joint_name!r}") from None

    def check_motion_shape(self, shape: tuple[int, ...], what: str = "motion") -> None:
        """Raise :class:`LayoutMismatchError` unless ``shape`` is ``(..., V, 3)`` for this layout."""
        if len(shape) < 2 or shape[-1] != 3:
            raise LayoutMismatchError(
                f"{what}: expected shape (..., {self.num_joints}, 3), got {tuple(shape)}"
            )
        if shape[-2] != self.num_joints:
            raise LayoutMismatchError(
                f"{what} has {shape[-2]} joints but layout {self.name!r} has {self.num_joints}"
            )


def bone_lengths(motions: np.ndarray, layout: Layout | str) -> np.ndarray:
    """Lengths ``(..., E)`` of the layout's bones (``layout.bones`` order) in ``motions`` ``(..., V, 3)``."""
    b = resolve(layout).bone_array()
    m = np.asarray(motions)
    return np.linalg.norm(m[..., b[:, 1], :] - m[..., b[:, 0], :], axis=-1)


_LAYOUTS: dict[str, Layout] = {}


def register(lay: Layout) -> Layout:
    """Add a layout to the registry; a taken name is refused."""
    if lay.name in _LAYOUTS:
        raise ValueError(f"a layout named {lay.name!r} is already registered")
    _LAYOUTS[lay.name] = lay
    return lay


def names() -> list[str]:
    """Names of the registered layouts, sorted."""
    return sorted(_LAYOUTS)


def layout(name: str) -> Layout:
    """The registered layout called ``name``."""
    try:
        return _LAYOUTS[name]
    except KeyError:
        raise ValueError(f"unknown skeleton layout {name!r}; known: {names()}") from None


def resolve(lay: Layout | str) -> Layout:
    """Accept a :class:`Layout` or the name of a registered one."""
    if isinstance(lay, Layout):
        return lay
    if isinstance(lay, str):
        return layout(lay)
    raise TypeError(f"expected a Layout or a layout name, got {type(lay).__name__}")


# -- NTU RGB+D (Kinect v2) ----------------------------------------------------------------------
NTU25 = register(
    Layout(
        name="ntu25",
        joint_names=(
            "SpineBase", "SpineMid", "Neck", "Head",
            "ShoulderLeft", "ElbowLeft", "WristLeft", "HandLeft",
            "ShoulderRight", "ElbowRight", "WristRight", "HandRight",
            "HipLeft", "KneeLeft", "AnkleLeft", "FootLeft",
            "HipRight", "KneeRight", "AnkleRight", "FootRight",
            "SpineShoulder", "HandTipLeft", "ThumbLeft", "HandTipRight", "ThumbRight",
        ),
        parents=(-1, 0, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18, 1, 7, 7, 11, 11),
        fps=30.0,
        parts=(
            ("trunk", (0, 1, 20, 2, 3)),
            ("left_arm", (4, 5, 6, 7, 21, 22)),
            ("right_arm", (8, 9, 10, 11, 23, 24)),
            ("left_leg", (12, 13, 14, 15)),
            ("right_leg", (16, 17, 18, 19)),
        ),
        description="NTU RGB+D / Kinect v2, 25 joints, metres, 30 fps",
        hips=(12, 16),
        shoulders=(4, 8),
        spine=20,
    )
)

# -- HDM05 / MHAD as preprocessed by the SMART authors --------------------------------------------
HDM05_25 = register(
    Layout(
        name="hdm05_25",
        joint_names=(
            "lhipjoint", "lfemur", "ltibia", "lfoot", "ltoes",
            "rhipjoint", "rfemur", "rtibia", "rfoot", "rtoes",
            "root", "upperback", "thorax", "lowerneck", "upperneck",
            "lhumerus", "lradius", "lwrist", "lfingers", "lthumb",
            "rhumerus", "rradius", "rwrist", "rfingers", "rthumb",
        ),
        parents=(10, 0, 1, 2, 3, 10, 5, 6, 7, 8, -1, 10, 11, 12, 13, 13, 15, 16, 17, 18, 13, 20, 21, 22, 23),
        fps=30.0,
        coincident=((0, 5, 10), (12, 13), (17, 19), (22, 24)),
        parts=(
            ("trunk", (10, 11, 12, 13, 14)),
            ("left_arm", (15, 16, 17, 18, 19)),
            ("right_arm", (20, 21, 22, 23, 24)),
            ("left_leg", (0, 1, 2, 3, 4)),
            ("right_leg", (5, 6, 7, 8, 9)),
        ),
        description="HDM05/MHAD 25 joints of the SMART preprocessing (ASF selection), 30 fps",
        hips=(1, 6),
        shoulders=(15, 20),
        spine=12,
    )
)

# Indices of the 25 hdm05_25 joints in the 31-joint HDM05/CMU ASF skeleton.
HDM05_FROM_ASF31 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 12, 13, 14, 15, 18, 19, 20, 22, 23, 25, 26, 27, 29, 30)
