"""Small synthetic dataset files for the loader tests (ASF/AMC, BVH, MHAD, NTU), written from scratch."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

# name, parent, direction, length, dof, axis (ASF units of 0.0254/0.45 m)
_LEFT = [
    ("lhipjoint", "root", (0.6, -0.8, 0.25), 2.3, "", (0, 0, 0)),
    ("lfemur", "lhipjoint", (0.34, -0.94, 0.0), 7.3, "rx ry rz", (0, 0, 20)),
    ("ltibia", "lfemur", (0.34, -0.94, 0.0), 7.0, "rx", (0, 0, 20)),
    ("lfoot", "ltibia", (0.1, -0.3, 0.95), 2.3, "rx rz", (-90, 0, 20)),
    ("ltoes", "lfoot", (0.0, 0.0, 1.0), 1.2, "rx", (-90, 0, 20)),
]
_SPINE = [
    ("lowerback", "root", (0.0, 1.0, 0.0), 2.2, "rx ry rz", (0, 0, 0)),
    ("upperback", "lowerback", (0.0, 1.0, 0.0), 2.2, "rx ry rz", (0, 0, 0)),
    ("thorax", "upperback", (0.0, 1.0, 0.0), 2.2, "rx ry rz", (0, 0, 0)),
    ("lowerneck", "thorax", (0.0, 1.0, 0.1), 1.7, "rx ry rz", (0, 0, 0)),
    ("upperneck", "lowerneck", (0.0, 1.0, 0.0), 1.7, "rx ry rz", (0, 0, 0)),
    ("head", "upperneck", (0.0, 1.0, 0.0), 1.8, "rx ry rz", (0, 0, 0)),
]
_LARM = [
    ("lclavicle", "thorax", (0.95, 0.25, 0.0), 3.8, "ry rz", (0, 0, 0)),
    ("lhumerus", "lclavicle", (1.0, 0.0, 0.0), 4.8, "rx ry rz", (180, -30, -90)),
    ("lradius", "lhumerus", (1.0, 0.0, 0.0), 3.0, "rx", (180, -30, -90)),
    ("lwrist", "lradius", (1.0, 0.0, 0.0), 1.5, "ry", (0, 90, 90)),
    ("lhand", "lwrist", (1.0, 0.0, 0.0), 1.3, "rx rz", (0, 90, 90)),
    ("lfingers", "lhand", (1.0, 0.0, 0.0), 1.0, "rx", (0, 90, 90)),
    ("lthumb", "lwrist", (0.7071, 0.0, 0.7071), 1.5, "rx rz", (-90, 45, 0)),
]


def _mirror(bones):
    out = []
    for name, parent, d, length, dof, axis in bones:
        rn = "r" + name[1:]
        rp = parent if parent in ("root", "thorax") else "r" + parent[1:]
        out.append((rn, rp, (-d[0], d[1], d[2]), length, dof, (axis[0], -axis[1], -axis[2])))
    return out


# order as in the HDM05 ASF: left leg, right leg, spine, left arm, right arm
BONES = _LEFT + _mirror(_LEFT) + _SPINE + _LARM + _mirror(_LARM)


def asf_text(bones=BONES, *, length_unit: float = 0.45, angle: str = "deg") -> str:
    lines = [
        "# synthetic ASF for tests",
        ":version 1.10",
        ":name test",
        ":units",
        "  mass 1.0",
        f"  length {length_unit}",
        f"  angle {angle}",
        ":root",
        "   order TX TY TZ RX RY RZ",
        "   axis XYZ",
        "   position 0 0 0",
        "   orientation 0 0 0",
        ":bonedata",
    ]
    for i, (name, _parent, d, length, dof, axis) in enumerate(bones, start=1):
        lines += ["  begin", f"     id {i}", f"     name {name}", f"     direction {d[0]} {d[1]} {d[2]}"]
        lines += [f"     length {length}", f"     axis {axis[0]} {axis[1]} {axis[2]}  XYZ"]
        if dof:
            lines.append(f"    dof {dof}")
            lines.append("    limits " + " ".join("(-180.0 180.0)" for _ in dof.split()))
        lines.append("  end")
    children: dict[str, list[str]] = {}
    for name, parent, *_ in bones:
        children.setdefault(parent, []).append(name)
    lines += [":hierarchy", "  begin"]
    for parent, kids in children.items():
        lines.append(f"    {parent} {' '.join(kids)}")
    lines += ["  end", ""]
    return "\n".join(lines)


def amc_values(bones, frames: int, seed: int = 0, amplitude: float = 10.0) -> list[dict[str, list[float]]]:
    """Per frame, values for root and every bone with dofs (smooth, small angles in degrees)."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / 120.0
    out = []
    phase = {name: rng.uniform(0, 6.28) for name, *_ in bones}
    for f in range(frames):
        fr = {"root": [2.0 * t[f], 16.3, 0.5 * t[f], 0.0, 30.0 * t[f], 0.0]}
        for name, _p, _d, _l, dof, _a in bones:
            if dof:
                fr[name] = [amplitude * np.sin(2 * t[f] + phase[name] + k) for k in range(len(dof.split()))]
        out.append(fr)
    return out


def amc_text(values: list[dict[str, list[float]]], header: str = "") -> str:
    lines = ["# synthetic AMC", ":FULLY-SPECIFIED", ":DEGREES"]
    if header:
        lines.insert(0, header)
    for f, fr in enumerate(values, start=1):
        lines.append(str(f))
        for name, vals in fr.items():
            lines.append(name + " " + " ".join(f"{v:.6f}" for v in vals))
    return "\n".join(lines) + "\n"


def write_amc_take(folder: Path, actor: str, motion: str, take: int, frames: int, seed: int = 0) -> Path:
    """``HDM_<actor>.asf`` (if absent) and ``HDM_<actor>_<motion>_<take>_120.amc`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    asf = folder / f"HDM_{actor}.asf"
    if not asf.exists():
        asf.write_text(asf_text())
    amc = folder / f"HDM_{actor}_{motion}_{take:03d}_120.amc"
    amc.write_text(amc_text(amc_values(BONES, frames, seed)))
    return amc


# -- BVH ----------------------------------------------------------------------------------------------
# MotionBuilder-style names as MHAD-like exports use; offsets in millimetres.
MHAD_JOINTS = [
    # name, parent, offset (mm)
    ("Hips", None, (0.0, 0.0, 0.0)),
    ("Spine", "Hips", (0.0, 120.0, 0.0)),
    ("Spine1", "Spine", (0.0, 120.0, 0.0)),
    ("Neck", "Spine1", (0.0, 200.0, 0.0)),
    ("Head", "Neck", (0.0, 100.0, 0.0)),
    ("LeftShoulder", "Spine1", (40.0, 180.0, 0.0)),
    ("LeftArm", "LeftShoulder", (150.0, 0.0, 0.0)),
    ("LeftForeArm", "LeftArm", (280.0, 0.0, 0.0)),
    ("LeftHand", "LeftForeArm", (250.0, 0.0, 0.0)),
    ("RightShoulder", "Spine1", (-40.0, 180.0, 0.0)),
    ("RightArm", "RightShoulder", (-150.0, 0.0, 0.0)),
    ("RightForeArm", "RightArm", (-280.0, 0.0, 0.0)),
    ("RightHand", "RightForeArm", (-250.0, 0.0, 0.0)),
    ("LeftUpLeg", "Hips", (100.0, -60.0, 0.0)),
    ("LeftLeg", "LeftUpLeg", (0.0, -420.0, 0.0)),
    ("LeftFoot", "LeftLeg", (0.0, -410.0, 0.0)),
    ("LeftToeBase", "LeftFoot", (0.0, -60.0, 120.0)),
    ("RightUpLeg", "Hips", (-100.0, -60.0, 0.0)),
    ("RightLeg", "RightUpLeg", (0.0, -420.0, 0.0)),
    ("RightFoot", "RightLeg", (0.0, -410.0, 0.0)),
    ("RightToeBase", "RightFoot", (0.0, -60.0, 120.0)),
]


def bvh_text(joints, motion: np.ndarray, frame_time: float, *, end_sites: bool = True) -> str:
    """A BVH with ``joints`` ``[(name, parent, offset)]`` (parents before children), root channels
    ``Xposition Yposition Zposition Zrotation Xrotation Yrotation`` and ``Zrotation Xrotation Yrotation``
    for the others; ``motion`` ``(F, 6 + 3 * (J - 1))``."""
    children: dict[str | None, list[int]] = {}
    for i, (_n, p, _o) in enumerate(joints):
        children.setdefault(p, []).append(i)
    lines = ["HIERARCHY"]

    def emit(i: int, depth: int) -> None:
        name, parent, off = joints[i]
        pad = "  " * depth
        lines.append(f"{pad}{'ROOT' if parent is None else 'JOINT'} {name}")
        lines.append(pad + "{")
        lines.append(f"{pad}  OFFSET {off[0]:.6f} {off[1]:.6f} {off[2]:.6f}")
        if parent is None:
            lines.append(f"{pad}  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation")
        else:
            lines.append(f"{pad}  CHANNELS 3 Zrotation Xrotation Yrotation")
        kids = children.get(name, [])
        for k in kids:
            emit(k, depth + 1)
        if not kids and end_sites:
            lines.extend(
                [f"{pad}  End Site", pad + "  {", f"{pad}    OFFSET 0.000000 10.000000 0.000000", pad + "  }"]
            )
        lines.append(pad + "}")

    emit(0, 0)
    lines += ["MOTION", f"Frames: {motion.shape[0]}", f"Frame Time: {frame_time:.8f}"]
    lines += [" ".join(f"{v:.6f}" for v in row) for row in motion]
    return "\n".join(lines) + "\n"


def dfs_order(joints) -> list:
    """``joints`` reordered as a BVH file lists them (depth first, children in given order)."""
    children: dict[str | None, list[int]] = {}
    for i, (_n, p, _o) in enumerate(joints):
        children.setdefault(p, []).append(i)
    out = []

    def walk(i):
        out.append(joints[i])
        for k in children.get(joints[i][0], []):
            walk(k)

    walk(0)
    return out


def mhad_motion(frames: int, seed: int = 0, root_height: float = 950.0, joints=MHAD_JOINTS) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / 480.0
    cols = [
        100 * t,
        np.full(frames, root_height),
        np.zeros(frames),
        np.zeros(frames),
        np.zeros(frames),
        20 * t,
    ]
    for _ in range(len(joints) - 1):
        ph = rng.uniform(0, 6.28, 3)
        cols += [8 * np.sin(3 * t + ph[k]) for k in range(3)]
    return np.stack(cols, axis=-1)


def write_mhad(folder: Path, s: int, a: int, r: int, frames: int = 960, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / f"skl_s{s:02d}_a{a:02d}_r{r:02d}.bvh"
    joints = dfs_order(MHAD_JOINTS)
    p.write_text(bvh_text(joints, mhad_motion(frames, seed, joints=joints), 1 / 480))
    return p


# -- NTU RGB+D ----------------------------------------------------------------------------------------
def ntu_body_frames(frames: int, seed: int, amplitude: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 0.3, (25, 3)) + np.array([0.0, 0.0, 3.0])
    t = np.arange(frames)[:, None, None] / 30.0
    return base + amplitude * np.sin(2 * t + rng.uniform(0, 6, (1, 25, 3)))


def ntu_text(n_frames: int, bodies: list[tuple[str, dict[int, np.ndarray]]], joints: int = 25) -> str:
    """``bodies``: ``[(bodyID, {frame: (25, 3)})]``."""
    lines = [str(n_frames)]
    for f in range(n_frames):
        present = [(bid, fr[f]) for bid, fr in bodies if f in fr]
        lines.append(str(len(present)))
        for bid, xyz in present:
            lines.append(f"{bid} 0 1 1 1 1 0 0.1 0.2 2")
            lines.append(str(joints))
            for j in range(joints):
                x, y, z = xyz[j % 25]
                lines.append(f"{x:.7f} {y:.7f} {z:.7f} 250.1 200.2 900.3 500.4 0.1 0.2 0.3 0.4 2")
    return "\n".join(lines) + "\n"


def write_ntu(folder: Path, name: str, n_frames: int = 40, n_bodies: int = 1, seed: int = 0) -> Path:
    """An NTU ``.skeleton`` file; body 0 moves most (amplitude 0.2 m), the others 0.01 m."""
    folder.mkdir(parents=True, exist_ok=True)
    bodies = []
    for b in range(n_bodies):
        arr = ntu_body_frames(n_frames, seed + b, 0.2 if b == 0 else 0.01)
        bodies.append((f"7205759403792{b:04d}", {f: arr[f] for f in range(n_frames)}))
    p = folder / f"{name}.skeleton"
    p.write_text(ntu_text(n_frames, bodies))
    return p


def write_stgcn(folder: Path, prefix: str, names: list[str], labels: list[int], t: int = 50, valid: int = 30):
    """``<prefix>_data_joint.npy`` ``(N, 3, T, 25, 2)`` (first ``valid`` frames filled) and
    ``<prefix>_label.pkl``."""
    folder.mkdir(parents=True, exist_ok=True)
    n = len(names)
    data = np.zeros((n, 3, t, 25, 2), dtype=np.float32)
    for i in range(n):
        b0 = ntu_body_frames(valid, i, 0.01)  # quiet body in slot 0
        b1 = ntu_body_frames(valid, 100 + i, 0.3)  # active body in slot 1
        data[i, :, :valid, :, 0] = b0.transpose(2, 0, 1)
        data[i, :, :valid, :, 1] = b1.transpose(2, 0, 1)
    npy = folder / f"{prefix}_data_joint.npy"
    np.save(npy, data)
    with open(folder / f"{prefix}_label.pkl", "wb") as fh:
        pickle.dump((list(names), list(labels)), fh)
    return npy, data
