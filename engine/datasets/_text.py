"""Reading text files with errors that name the file, the line and what was expected."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from ..errors import DatasetError

__all__ = ["read_text", "where", "to_float", "to_int"]

_SURROGATE = re.compile("[\udc80-\udcff]")


def where(path: str | os.PathLike | None, line: int | None = None) -> str:
    """``'file.amc, line 12'`` (line numbers are 1-based)."""
    name = str(path) if path is not None else "<text>"
    return f"{name}, line {line}" if line is not None else name


def read_text(path: str | os.PathLike) -> str:
    """The file decoded as UTF-8 (a BOM is dropped); other bytes raise :class:`DatasetError`."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{p}: file not found") from None
    except OSError as exc:
        raise DatasetError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    return decode(data, p)


def decode(data: bytes, path: str | os.PathLike | None = None, comment: str = "#") -> str:
    """UTF-8 text; bytes that are not UTF-8 are tolerated only inside ``comment`` lines.

    (HDM05's AMC files carry a Latin-1 ``für`` in their first comment line.) Anywhere else a byte
    that is not UTF-8 raises :class:`DatasetError` naming the line and offset.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="surrogateescape")
        for m in _SURROGATE.finditer(text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            if not comment or comment not in text[line_start : m.start()]:
                ln = text.count("\n", 0, m.start()) + 1
                byte = ord(m.group()) - 0xDC00
                raise DatasetError(
                    f"{where(path, ln)}: byte 0x{byte:02x} (column {m.start() - line_start + 1}) is not "
                    "UTF-8 text; expected a UTF-8 (or ASCII) text file"
                ) from None
        text = _SURROGATE.sub("?", text)
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise DatasetError(f"{where(path, line)}: NUL byte in a text file; expected plain text")
    return text


def to_float(tok: str, path, line: int | None, what: str) -> float:
    try:
        v = float(tok)
    except ValueError:
        raise DatasetError(f"{where(path, line)}: expected a number for {what}, got {tok[:40]!r}") from None
    if not math.isfinite(v):
        raise DatasetError(f"{where(path, line)}: {what} is {tok[:40]!r}; expected a finite number")
    return v


def to_int(tok: str, path, line: int | None, what: str, *, minimum: int | None = None) -> int:
    try:
        v = int(tok)
    except ValueError:
        raise DatasetError(f"{where(path, line)}: expected an integer for {what}, got {tok[:40]!r}") from None
    if minimum is not None and v < minimum:
        raise DatasetError(f"{where(path, line)}: {what} is {v}; expected at least {minimum}")
    return v
