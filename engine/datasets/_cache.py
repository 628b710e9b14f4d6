"""A cache of parsed datasets, keyed by the content of the source files and the loader options."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..errors import DatasetError

__all__ = ["cache_root", "cached"]

CACHE_VERSION = 2  # 2: keyed by the loaders' options objects; info['options']
ENV_VAR = "SMART_WORKBENCH_CACHE"


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """``cache_dir``, else ``$SMART_WORKBENCH_CACHE``, else ``~/.cache/smart-workbench/datasets``."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return Path.home() / ".cache" / "smart-workbench" / "datasets"


def content_key(kind: str, files: Iterable[Path], options: dict[str, Any]) -> str:
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{kind}\0{CACHE_VERSION}\0".encode())
    h.update(json.dumps(options, sort_keys=True, default=str).encode())
    # the absolute path is part of the key too: cached datasets record their source files
    for f in sorted((Path(os.path.abspath(p)) for p in files), key=str):
        h.update(b"\0file\0" + str(f).encode("utf-8", "surrogateescape") + b"\0")
        try:
            with open(f, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    h.update(chunk)
        except OSError as exc:
            raise DatasetError(f"{f}: cannot be read ({exc})") from None
    return h.hexdigest()


def cached(
    kind: str,
    files: list[Path],
    options: dict[str, Any],
    build: Callable[[], Any],
    *,
    cache: bool,
    cache_dir: str | os.PathLike | None,
):
    """``build()`` unless the cache holds a dataset for the same files' content and options.

    A cache entry that cannot be read is rebuilt; a cache folder that cannot be written is ignored
    (the dataset is still returned).
    """
    from .io import load_workbench_npz, save

    if not cache:
        return build()
    root = cache_root(cache_dir)
    key = content_key(kind, files, options)
    entry = root / f"{kind}-{key}.npz"
    if entry.is_file():
        try:
            ds = load_workbench_npz(entry)
            ds.info["cache"] = str(entry)
            return ds
        except (DatasetError, OSError):
            pass
    ds = build()
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=root)
        os.close(fd)
        try:
            save(ds, tmp, compress=False)
            os.replace(tmp, entry)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        pass
    return ds
