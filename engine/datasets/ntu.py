"""NTU RGB+D: raw Kinect v2 ``.skeleton`` text files and the ST-GCN / 2s-AGCN preprocessed arrays.

Raw format (public, from the NTU RGB+D toolbox): the frame count; per frame the body count; per body
one line of 10 values (bodyID, clipedEdges, handLeftConfidence, handLeftState, handRightConfidence,
handRightState, isResticted, leanX, leanY, trackingState), the joint count (25), then one line per
joint of 12 values (x y z depthX depthY colorX colorY orientationW X Y Z trackingState). x, y, z are
camera-space metres; joints follow the ``ntu25`` layout; 30 fps.

*Most active body*: of the bodies (by bodyID) in a file, the one whose joint positions vary most, i.e.
the largest sum over its 25 joints and x, y, z of the variance over the frames it is tracked in; ties
go to the longer track. The others are dropped and counted. Frames where the kept body is not tracked
hold its nearest tracked frame.
"""

from __future__ import annotations

import io
import os
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..errors import DatasetError
from ..skeleton import NTU25
from ._cache import cached
from ._dataset import MotionDataset, NonFiniteMotionError
from ._takes import ClipOptions, LoaderOptions, Take, TakeSet, file_or_folder, take_loader
from ._text import read_text, to_float, to_int, where
from .io import open_npy

__all__ = [
    "parse_ntu_skeleton",
    "most_active_body",
    "ntu_name_fields",
    "read_label_pkl",
    "NTU_CLASS_NAMES",
    "NtuOptions",
    "NpyOptions",
    "load_ntu_skeleton",
    "load_ntu_npy",
]

NTU_JOINTS = 25

NTU_CLASS_NAMES = (
    "drink water",
    "eat meal/snack",
    "brushing teeth",
    "brushing hair",
    "drop",
    "pickup",
    "throw",
    "sitting down",
    "standing up (from sitting position)",
    "clapping",
    "reading",
    "writing",
    "tear up paper",
    "wear jacket",
    "take off jacket",
    "wear a shoe",
    "take off a shoe",
    "wear on glasses",
    "take off glasses",
    "put on a hat/cap",
    "take off a hat/cap",
    "cheer up",
    "hand waving",
    "kicking something",
    "reach into pocket",
    "hopping (one foot jumping)",
    "jump up",
    "make a phone call/answer phone",
    "playing with phone/tablet",
    "typing on a keyboard",
    "pointing to something with finger",
    "taking a selfie",
    "check time (from watch)",
    "rub two hands together",
    "nod head/bow",
    "shake head",
    "wipe face",
    "salute",
    "put the palms together",
    "cross hands in front (say stop)",
    "sneeze/cough",
    "staggering",
    "falling",
    "touch head (headache)",
    "touch chest (stomachache/heart pain)",
    "touch back (backache)",
    "touch neck (neckache)",
    "nausea or vomiting condition",
    "use a fan (with hand or paper)/feeling warm",
    "punching/slapping other person",
    "kicking other person",
    "pushing other person",
    "pat on back of other person",
    "point finger at the other person",
    "hugging other person",
    "giving something to other person",
    "touch other person's pocket",
    "handshaking",
    "walking towards each other",
    "walking apart from each other",
)
"""The 60 action classes of NTU RGB+D (A001 ... A060); NTU RGB+D 120 classes beyond are named ``A061``...."""

_NAME_RE = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")


def ntu_name_fields(name: str) -> dict[str, str | int] | None:
    """``{'setup': 'S001', 'camera': 'C001', 'subject': 'P001', 'replication': 'R001', 'action': 1}``."""
    m = _NAME_RE.search(name)
    if not m:
        return None
    s, c, p, r, a = m.groups()
    return {"setup": f"S{s}", "camera": f"C{c}", "subject": f"P{p}", "replication": f"R{r}", "action": int(a)}


def ntu_class_names(max_label: int) -> list[str]:
    n = 60 if max_label < 60 else 120
    return [NTU_CLASS_NAMES[i] if i < 60 else f"A{i + 1:03d}" for i in range(n)]


def parse_ntu_skeleton(path: str | os.PathLike, text: str | None = None) -> tuple[np.ndarray, int, int]:
    """Parse a raw ``.skeleton`` file: ``(positions (F, 25, 3) of the most active body, bodies dropped,
    number of bodies seen)``."""
    path = str(path)
    if text is None:
        text = read_text(path)
    lines = text.splitlines()
    n_lines = len(lines)
    pos = 0

    def next_line(what: str, count: int) -> tuple[int, list[str]]:
        """The next non-blank line's number and tokens; it must hold ``count`` values."""
        nonlocal pos
        while pos < n_lines and not lines[pos].strip():
            pos += 1
        if pos >= n_lines:
            raise DatasetError(f"{path}: file ends at line {n_lines}; expected {what} (truncated?)")
        pos += 1
        tok = lines[pos - 1].split()
        if len(tok) != count:
            raise DatasetError(f"{where(path, pos)}: {what} has {len(tok)} values; expected {count}")
        return pos, tok

    ln, tok = next_line("the frame count (first line)", 1)
    n_frames = to_int(tok[0], path, ln, "the frame count", minimum=1)
    if n_frames > n_lines:
        raise DatasetError(
            f"{where(path, ln)}: frame count {n_frames} but the file has only {n_lines} lines (truncated?)"
        )
    tracks: dict[str, dict[int, np.ndarray]] = {}
    first_seen: dict[str, int] = {}
    for f in range(n_frames):
        ln, tok = next_line(f"the body count of frame {f}", 1)
        n_bodies = to_int(tok[0], path, ln, f"the body count of frame {f}", minimum=0)
        if n_bodies * (2 + NTU_JOINTS) > n_lines - pos:
            raise DatasetError(
                f"{where(path, ln)}: frame {f} has {n_bodies} bodies but only "
                f"{n_lines - pos} lines are left; "
                f"expected {2 + NTU_JOINTS} lines per body (truncated?)"
            )
        for b in range(n_bodies):
            body_id = next_line(f"the info line of body {b} in frame {f}", 10)[1][0]
            ln, tok = next_line(f"the joint count of body {b} in frame {f}", 1)
            nj = to_int(tok[0], path, ln, "the joint count")
            if nj != NTU_JOINTS:
                raise DatasetError(
                    f"{where(path, ln)}: body {b} of frame {f} has {nj} joints; expected {NTU_JOINTS}"
                )
            if pos + NTU_JOINTS > n_lines:
                raise DatasetError(f"{path}: file ends inside frame {f}; expected {NTU_JOINTS} joint lines")
            joints = np.empty((NTU_JOINTS, 3))
            for j in range(NTU_JOINTS):
                ln, tok = next_line(f"joint {j} of body {b} in frame {f}", 12)
                for a in range(3):
                    joints[j, a] = to_float(tok[a], path, ln, f"joint {j} of frame {f}")
            tracks.setdefault(body_id, {})[f] = joints
            first_seen.setdefault(body_id, f)
    while pos < n_lines and not lines[pos].strip():
        pos += 1
    if pos < n_lines:
        raise DatasetError(f"{where(path, pos + 1)}: text after the {n_frames} frames the file announced")
    if not tracks:
        raise DatasetError(f"{path}: no body in any of its {n_frames} frames; expected at least one")
    keep = most_active_body(tracks, first_seen)
    track = tracks[keep]
    frames_present = np.array(sorted(track))
    data = np.stack([track[f] for f in frames_present])
    # nearest tracked frame for every frame
    idx = np.searchsorted(frames_present, np.arange(n_frames))
    idx = np.clip(idx, 0, len(frames_present) - 1)
    prev = np.clip(idx - 1, 0, len(frames_present) - 1)
    use_prev = np.abs(frames_present[prev] - np.arange(n_frames)) < np.abs(
        frames_present[idx] - np.arange(n_frames)
    )
    nearest = np.where(use_prev, prev, idx)
    return data[nearest], len(tracks) - 1, len(tracks)


def _activity(frames: np.ndarray) -> float:
    return float(frames.var(axis=0).sum()) if frames.shape[0] > 1 else 0.0


def most_active_body(tracks: dict[str, dict[int, np.ndarray]], first_seen: dict[str, int]) -> str:
    """The bodyID with the largest positional variance (ties: longer track, then first seen)."""

    def key(bid: str) -> tuple[float, int, int]:
        fr = np.stack(list(tracks[bid].values()))
        return (_activity(fr), len(tracks[bid]), -first_seen[bid])

    return max(tracks, key=key)


def select_body_npy(sample: np.ndarray) -> tuple[np.ndarray, int, int]:
    """From one ST-GCN sample ``(C, T, V, M)``: ``(T, V, C)`` of the most active body, its valid frame
    count (trailing all-zero frames excluded), and how many other non-empty bodies were dropped."""
    x = np.asarray(sample, dtype=np.float64)
    nonzero_body = np.abs(x).reshape(-1, x.shape[-1]).sum(0) > 0
    best, best_key = 0, None
    for m in range(x.shape[-1]):
        if not nonzero_body[m]:
            continue
        b = x[..., m].transpose(1, 2, 0)  # (T, V, C)
        valid = np.abs(b).sum(axis=(1, 2)) > 0
        k = (_activity(b[valid]), int(valid.sum()), -m)
        if best_key is None or k > best_key:
            best, best_key = m, k
    b = x[..., best].transpose(1, 2, 0)
    valid = np.flatnonzero(np.abs(x).sum(axis=(0, 2, 3)) > 0)
    length = int(valid[-1]) + 1 if valid.size else 0
    return b, length, max(0, int(nonzero_body.sum()) - 1)


class _LabelUnpickler(pickle.Unpickler):
    """Unpickles only plain data (lists, tuples, str, int, numpy arrays/scalars): no code runs."""

    _ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("builtins", "list"),
        ("builtins", "tuple"),
        ("collections", "OrderedDict"),
        ("numpy", "int64"),
        ("numpy", "int32"),
        ("numpy", "str_"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def read_label_pkl(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """``(sample names, labels)`` from an ST-GCN / 2s-AGCN label pickle, safely (plain data only)."""
    path = str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise DatasetError(
            f"{path}: label file not found; expected the (sample_names, labels) pickle"
        ) from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc})") from None
    try:
        obj = _LabelUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is bad input
        raise DatasetError(f"{path}: not a label pickle ({type(exc).__name__}: {exc})") from None
    if not (isinstance(obj, list | tuple) and len(obj) == 2):
        raise DatasetError(f"{path}: expected a pickle of (sample_names, labels), got {type(obj).__name__}")
    names, labels = obj
    try:
        names = [str(n) for n in names]
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{path}: sample names / labels not readable ({exc})") from None
    if len(names) != labels.shape[0]:
        raise DatasetError(f"{path}: {len(names)} sample names but {labels.shape[0]} labels")
    if labels.size and labels.min() < 0:
        raise DatasetError(f"{path}: negative label {labels.min()}; expected class indices from 0")
    return names, labels


# -- loaders ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NtuOptions(ClipOptions):
    """:func:`load_ntu_skeleton`'s options: :class:`~engine.datasets._takes.ClipOptions` with
    ``window=None`` by default (each file one clip, padded holding the last frame to the longest)."""

    window: int | None = None


def _ntu_take(f: Path) -> Take:
    fields = ntu_name_fields(f.stem)
    if fields is None:
        raise DatasetError(f"{f}: name has no SxxxCxxxPxxxRxxxAxxx part; expected an NTU sample name")
    if not 1 <= fields["action"] <= 120:
        raise DatasetError(f"{f}: action A{fields['action']:03d}; expected A001 ... A120")
    pos, drop, _ = parse_ntu_skeleton(f)
    cams = {"cameras": fields["camera"]}
    return Take(pos, 30.0, str(f), str(fields["subject"]), int(fields["action"]) - 1, cams, {"dropped": drop})


def _bodies(takes: list[Take]) -> dict:
    return {
        "bodies_dropped": sum(t.facts["dropped"] for t in takes),
        "bodies_dropped_per_file": {Path(t.source).name: t.facts["dropped"] for t in takes},
        "body_rule": "most active: largest summed joint-position variance",
    }


@take_loader("ntu_skeleton", NtuOptions)
def load_ntu_skeleton(p: Path, opts: NtuOptions) -> TakeSet:
    """NTU RGB+D raw ``.skeleton`` files (a file or a folder) on ``ntu25``, metres, 30 fps.

    The label is ``A0xx`` of the name (class ``xx - 1``), the subject ``Pxxx``; cameras are in
    ``info['cameras']``. One body is kept per file (the most active, see :mod:`engine.datasets.ntu`);
    ``info['bodies_dropped']`` counts the others. ``options`` are the fields of :class:`NtuOptions`.
    """
    files = file_or_folder(p, ".skeleton", None, "NTU RGB+D .skeleton")
    names = lambda takes: ntu_class_names(max(t.label for t in takes))
    return TakeSet(files, _ntu_take, NTU25, names, describe=_bodies)


@dataclass(frozen=True)
class NpyOptions(LoaderOptions):
    """:func:`load_ntu_npy`'s options: ``labels``, the label pickle (default ``<prefix>_label.pkl``
    beside ``<prefix>_data_joint.npy``); ``centre``: the root at the origin in every frame."""

    labels: str | os.PathLike | None = None
    centre: bool = False

    FLAGS: ClassVar = ("centre",)


def _npy_motion(p: Path, i: int, name: str, sample: np.ndarray, centre: bool) -> tuple[np.ndarray, int, int]:
    """``(motion (T, V, 3), valid frames, bodies dropped)`` of sample ``i``, padded holding its last frame."""
    if not np.all(np.isfinite(sample)):
        c, f, j, m = (int(k) for k in np.argwhere(~np.isfinite(sample))[0])
        raise NonFiniteMotionError(
            f"{p}: sample {i} ({name}) holds non-finite values (NaN or inf), first at frame {f}, "
            f"joint {j}, body {m}; expected finite joint positions. Repair or drop the sample at its "
            "source and load again"
        )
    b, length, drop = select_body_npy(sample)
    if length == 0:
        raise DatasetError(f"{p}: sample {i} ({name}) is all zeros; expected a skeleton")
    if length < b.shape[0]:
        b = np.concatenate([b[:length], np.repeat(b[length - 1 : length], b.shape[0] - length, axis=0)])
    return (b - b[:, :1] if centre else b), length, drop


def load_ntu_npy(path: str | os.PathLike, *, cache: bool = False, cache_dir=None, **options) -> MotionDataset:
    """The ST-GCN / 2s-AGCN arrays: ``*_data_joint.npy`` ``(N, C=3, T, V=25, M)`` and its label pickle.

    The pickle holds ``(sample_names, labels)``. Per sample the most active of the M bodies is kept
    (``info['bodies_dropped']`` counts non-empty others); trailing all-zero frames (the padding of
    these arrays) hold the last real frame and mark the sample ``padded``. Sources are the sample names.
    ``options`` are the fields of :class:`NpyOptions`. The array is memory-mapped and already binary,
    so ``cache`` is off by default here.
    """
    opts = NpyOptions.make(options, "load_ntu_npy")
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"{p}: file not found")
    stem = p.name.removesuffix("_data_joint.npy") if p.name.endswith("_data_joint.npy") else p.stem
    lp = Path(opts.labels) if opts.labels is not None else p.parent / f"{stem}_label.pkl"
    if not lp.is_file():
        raise DatasetError(
            f"{lp}: label file not found; expected the (sample_names, labels) pickle for {p.name}"
        )

    def build() -> MotionDataset:
        data = open_npy(p)
        if data.ndim != 5 or data.shape[1] != 3 or data.shape[3] != 25:
            raise DatasetError(f"{p}: array of shape {data.shape}; expected (N, 3, T, 25, M)")
        names, labs = read_label_pkl(lp)
        if len(names) != data.shape[0]:
            raise DatasetError(
                f"{lp}: {len(names)} labels for the {data.shape[0]} samples of {p}; expected equal"
            )
        n, _, t, v, _ = data.shape
        motions = np.empty((n, t, v, 3), dtype=np.float32)
        padded = np.zeros(n, dtype=bool)
        dropped = 0
        for i in range(n):
            motions[i], length, drop = _npy_motion(p, i, names[i], np.asarray(data[i]), opts.centre)
            padded[i] = length < t
            dropped += drop
        fields = [ntu_name_fields(nm) for nm in names]
        info = {
            "format": "ntu_npy",
            "labels": str(lp),
            "bodies_dropped": dropped,
            "window": t,
            "stride": None,
        }
        return MotionDataset(
            motions,
            labs,
            ntu_class_names(int(labs.max()) if labs.size else 0),
            NTU25,
            30.0,
            sources=names,
            subjects=[str(f["subject"]) if f else None for f in fields],
            padded=padded,
            name=p.stem,
            info={**info, "centred": opts.centre, "options": opts.record()},
            origin=p,
        )

    return cached("ntu_npy", [p, lp], opts.record(), build, cache=cache, cache_dir=cache_dir)


load_ntu_npy.options = NpyOptions
