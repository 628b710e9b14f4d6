"""Tiny PNG figures with numpy + zlib (no plotting library): heat maps with a 3x5 bitmap font.

:func:`write_png` writes an ``(H, W, 3)`` uint8 image; :func:`heatmap` turns a matrix into an image
(cells as square blocks, a diverging or sequential colour map, optional row/column labels and a
title drawn with :data:`FONT`); :func:`hstack` puts panels side by side.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["FONT", "colormap", "encode_png", "heatmap", "hstack", "text_image", "text_mask", "write_png"]

# 3x5 glyphs, rows top to bottom, 3 bits each (MSB = left column)
_GLYPHS = {
    "0": "111 101 101 101 111", "1": "010 110 010 010 111", "2": "111 001 111 100 111",
    "3": "111 001 111 001 111", "4": "101 101 111 001 001", "5": "111 100 111 001 111",
    "6": "111 100 111 101 111", "7": "111 001 010 010 010", "8": "111 101 111 101 111",
    "9": "111 101 111 001 111", ".": "000 000 000 000 010", "-": "000 000 111 000 000",
    "/": "001 001 010 100 100", "%": "101 001 010 100 101", ":": "000 010 000 010 000",
    "(": "010 100 100 100 010", ")": "010 001 001 001 010", "_": "000 000 000 000 111",
    " ": "000 000 000 000 000", "=": "000 111 000 111 000", "+": "000 010 111 010 000",
    "A": "010 101 111 101 101", "B": "110 101 110 101 110", "C": "011 100 100 100 011",
    "D": "110 101 101 101 110", "E": "111 100 110 100 111", "F": "111 100 110 100 100",
    "G": "011 100 101 101 011", "H": "101 101 111 101 101", "I": "111 010 010 010 111",
    "J": "001 001 001 101 010", "K": "101 101 110 101 101", "L": "100 100 100 100 111",
    "M": "101 111 111 101 101", "N": "110 101 101 101 101", "O": "010 101 101 101 010",
    "P": "110 101 110 100 100", "Q": "010 101 101 110 011", "R": "110 101 110 101 101",
    "S": "011 100 010 001 110", "T": "111 010 010 010 010", "U": "101 101 101 101 111",
    "V": "101 101 101 101 010", "W": "101 101 111 111 101", "X": "101 101 010 101 101",
    "Y": "101 101 010 010 010", "Z": "111 001 010 100 111", "?": "111 001 010 000 010",
}
FONT = {ch: np.array([[c == "1" for c in row] for row in spec.split()], dtype=bool)
        for ch, spec in _GLYPHS.items()}
"""Glyph bitmaps (5 rows x 3 columns) of the characters the figures use (upper case, digits)."""


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write an ``(H, W, 3)`` (or ``(H, W)`` grey) uint8 array as an 8-bit RGB PNG."""
    Path(path).write_bytes(encode_png(image))


def encode_png(image: np.ndarray) -> bytes:
    """The bytes of an 8-bit RGB PNG of an ``(H, W, 3)`` (or ``(H, W)`` grey) uint8 array."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3 or img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"image must be (H, W, 3), got {img.shape}")
    img = np.ascontiguousarray(img.astype(np.uint8))
    h, w = img.shape[:2]
    raw = np.zeros((h, 1 + 3 * w), dtype=np.uint8)  # filter byte 0 (None) per row
    raw[:, 1:] = img.reshape(h, 3 * w)

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + chunk(b"IEND", b""))
    return png


_DIVERGING = np.array([[59, 76, 192], [221, 221, 221], [180, 4, 38]], dtype=np.float64)  # blue-grey-red
_SEQUENTIAL = np.array([[247, 251, 255], [107, 174, 214], [8, 48, 107]], dtype=np.float64)  # white-blue


def colormap(values: np.ndarray, vmin: float, vmax: float, diverging: bool = True) -> np.ndarray:
    """RGB uint8 for ``values`` scaled linearly from ``vmin`` to ``vmax``; NaN is drawn light grey."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    x = np.clip((np.where(finite, v, vmin) - vmin) / max(vmax - vmin, 1e-12), 0.0, 1.0) * 2.0
    stops = _DIVERGING if diverging else _SEQUENTIAL
    lo = np.minimum(np.floor(x).astype(int), 1)
    f = (x - lo)[..., None]
    rgb = stops[lo] * (1 - f) + stops[lo + 1] * f
    rgb[~finite] = (235, 235, 235)
    return rgb.round().astype(np.uint8)


def text_mask(text: str, scale: int = 2) -> np.ndarray:
    """``text`` (upper-cased; unknown characters as '?') as a boolean mask ``(5*scale, ...)``."""
    text = text.upper()
    mask = np.zeros((5 * scale, max(1, (4 * len(text) - 1) * scale)), dtype=bool)
    for i, ch in enumerate(text):
        g = np.kron(FONT.get(ch, FONT["?"]), np.ones((scale, scale), dtype=bool))
        mask[:, 4 * i * scale:4 * i * scale + 3 * scale] = g
    return mask


def text_image(text: str, scale: int = 2, color: Sequence[int] = (0, 0, 0)) -> np.ndarray:
    """``text`` drawn in ``color`` on white."""
    mask = text_mask(text, scale)
    img = np.full((*mask.shape, 3), 255, dtype=np.uint8)
    img[mask] = color
    return img


def _stamp(canvas: np.ndarray, mask: np.ndarray, y: int, x: int, color: Sequence[int]) -> None:
    """Draw ``mask`` in ``color`` at (y, x), clipped to the canvas; other pixels stay as they are."""
    h = min(mask.shape[0], canvas.shape[0] - y)
    w = min(mask.shape[1], canvas.shape[1] - x)
    if h > 0 and w > 0 and y >= 0 and x >= 0:
        canvas[y:y + h, x:x + w][mask[:h, :w]] = color


def _paste(canvas: np.ndarray, img: np.ndarray, y: int, x: int) -> None:
    h = min(img.shape[0], canvas.shape[0] - y)
    w = min(img.shape[1], canvas.shape[1] - x)
    if h > 0 and w > 0 and y >= 0 and x >= 0:
        canvas[y:y + h, x:x + w] = img[:h, :w]


def heatmap(matrix: np.ndarray, vmin: float = -1.0, vmax: float = 1.0, cell: int = 12,
            diverging: bool = True, title: str = "", row_labels: Sequence[str] | None = None,
            col_labels: Sequence[str] | None = None, values: bool = False) -> np.ndarray:
    """A heat map image of a 2-D ``matrix``: one ``cell``-pixel square per entry, a colour bar
    (``vmin`` bottom to ``vmax`` top) on the right, labels in the bitmap font; ``values`` writes each
    entry (as a percentage when the range is 0..1) inside its cell."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.size == 0:
        raise ValueError(f"heatmap needs a non-empty 2-D matrix, got shape {m.shape}")
    r, c = m.shape
    s = 2
    lab_w = max([len(t) for t in row_labels] + [0]) * 4 * s + 6 if row_labels is not None else 0
    lab_h = max([len(t) for t in col_labels] + [0]) * 4 * s + 6 if col_labels is not None else 0
    title_h = 5 * s + 8 if title else 0
    top = title_h + lab_h
    bar_w = 3 * cell // 2 + 40
    canvas = np.full((top + r * cell + 8, lab_w + c * cell + bar_w + 8, 3), 255, dtype=np.uint8)
    cells = np.kron(colormap(m, vmin, vmax, diverging), np.ones((cell, cell, 1), dtype=np.uint8))
    _paste(canvas, cells, top, lab_w)
    if title:
        _paste(canvas, text_image(title, s), 4, 4)
    if row_labels is not None:
        for i, t in enumerate(row_labels):
            _paste(canvas, text_image(t, s), top + i * cell + (cell - 5 * s) // 2, 2)
    if col_labels is not None:
        for j, t in enumerate(col_labels):
            img = np.rot90(text_image(t, s))  # read bottom to top
            _paste(canvas, img, top - img.shape[0] - 3, lab_w + j * cell + (cell - 5 * s) // 2)
    if values:
        pct = vmin >= 0 and vmax <= 1
        rgb = colormap(m, vmin, vmax, diverging).astype(float)
        for i in range(r):
            for j in range(c):
                v = m[i, j]
                t = "N/A" if not np.isfinite(v) else (f"{100 * v:.0f}" if pct else f"{v:.2g}")
                mask = text_mask(t, 1 if cell < 30 else 2)
                dark = rgb[i, j] @ (0.299, 0.587, 0.114) < 128
                _stamp(canvas, mask, top + i * cell + (cell - mask.shape[0]) // 2,
                       lab_w + j * cell + (cell - mask.shape[1]) // 2, (255, 255, 255) if dark else (0, 0, 0))
    # colour bar
    bx, bh = lab_w + c * cell + 8, r * cell
    grad = colormap(np.linspace(vmax, vmin, bh)[:, None].repeat(cell // 2 + 4, 1), vmin, vmax, diverging)
    _paste(canvas, grad, top, bx)
    _paste(canvas, text_image(f"{vmax:g}", s), top, bx + cell // 2 + 8)
    _paste(canvas, text_image(f"{vmin:g}", s), top + bh - 5 * s, bx + cell // 2 + 8)
    return canvas


def hstack(images: Sequence[np.ndarray], gap: int = 16) -> np.ndarray:
    """Images side by side on white, top-aligned."""
    h = max(i.shape[0] for i in images)
    w = sum(i.shape[1] for i in images) + gap * (len(images) - 1)
    canvas = np.full((h, w, 3), 255, dtype=np.uint8)
    x = 0
    for img in images:
        _paste(canvas, img, 0, x)
        x += img.shape[1] + gap
    return canvas
