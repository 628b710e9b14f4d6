"""Atomic output files: everything is written to a temporary name in the same folder and renamed,
so a reader never sees a half-written file under its final name (a full disk or a killed run
leaves at most a ``.*.tmp`` file behind, which the next run ignores and removes). Files are created
with mode 0666 less the umask, as any other tool would (``tempfile.mkstemp``'s 0600 is not kept)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import secrets
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import WorkbenchError

__all__ = ["atomic_write", "clean_temporaries", "jsonable", "write_csv", "write_json", "write_npz",
           "write_text"]


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, flush it to disk, rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise WorkbenchError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise WorkbenchError(f"{path}: cannot write ({exc.strerror or exc}); is the disk full?") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path


def write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def jsonable(obj: Any) -> Any:
    """numpy scalars/arrays to Python, NaN/inf to None, tuples to lists, Paths to str."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(path: str | Path, data: Any) -> Path:
    return write_text(path, json.dumps(jsonable(data), indent=2, allow_nan=False) + "\n")


def write_npz(path: str | Path, **arrays: Any) -> Path:
    def w(f: IO[bytes]) -> None:
        np.savez(f, **{k: np.asarray(v) for k, v in arrays.items()})
    return atomic_write(path, w)


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(header)
    for row in rows:
        wr.writerow(["" if (isinstance(v, float) and not math.isfinite(v)) else v for v in row])
    return write_text(path, buf.getvalue())


def clean_temporaries(folder: str | Path) -> int:
    """Remove ``.*.tmp`` files left by an interrupted writer under ``folder``; returns how many."""
    n = 0
    root = Path(folder)
    if root.is_dir():
        for p in root.rglob(".*.tmp"):
            with contextlib.suppress(OSError):
                p.unlink()
                n += 1
    return n
