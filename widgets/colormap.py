"""Heat scale used for joint displacement: numpy values -> RGBA floats in 0..1.

The same stops feed the skeleton view (joint colours), its colour-bar legend and the per-joint
displacement chart, so one colour means one displacement everywhere.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

__all__ = ["HEAT_STOPS", "HEAT_COLORS", "heat_rgba", "heat_colormap", "to_rgba255"]

#: Positions (0..1) of the colour stops: white (no displacement) -> yellow -> orange -> red.
HEAT_STOPS = np.array([0.0, 0.35, 0.7, 1.0], dtype=np.float64)
#: RGBA colours (0..1) at :data:`HEAT_STOPS`. Light at 0 so small values stay visible on a dark background.
HEAT_COLORS = np.array(
    [
        [0.95, 0.95, 0.95, 1.0],
        [1.00, 0.88, 0.20, 1.0],
        [1.00, 0.50, 0.05, 1.0],
        [0.90, 0.05, 0.10, 1.0],
    ],
    dtype=np.float64,
)


def heat_rgba(values, vmin: float = 0.0, vmax: float | None = None, *, out: np.ndarray | None = None
              ) -> np.ndarray:
    """Map ``values`` (any shape) to RGBA float32 colours in 0..1, shape ``values.shape + (4,)``.

    ``vmax`` defaults to the largest finite value; values are clipped to ``[vmin, vmax]``. A zero-width
    range maps everything to the first stop. NaN maps to the first stop as well. ``out``: a float32 array
    of that shape to write into (and return) instead of a new one.
    """
    v = np.asarray(values, dtype=np.float64)
    if vmax is None:
        finite = v[np.isfinite(v)]
        vmax = float(finite.max()) if finite.size else vmin
    span = float(vmax) - float(vmin)
    if span <= 0.0:
        t = np.zeros_like(v)
    else:
        t = (np.nan_to_num(v, nan=vmin) - vmin) / span
    t = np.clip(t, 0.0, 1.0)
    if out is None:
        out = np.empty(v.shape + (4,), dtype=np.float32)
    elif out.shape != v.shape + (4,) or out.dtype != np.float32:
        raise ValueError(f"out must be float32 of shape {v.shape + (4,)}, got {out.dtype} {out.shape}")
    for c in range(4):
        out[..., c] = np.interp(t, HEAT_STOPS, HEAT_COLORS[:, c])
    return out


def heat_colormap() -> pg.ColorMap:
    """The heat scale as a :class:`pyqtgraph.ColorMap` (for colour bars and legends)."""
    return pg.ColorMap(pos=HEAT_STOPS, color=(HEAT_COLORS * 255).astype(np.ubyte))


def to_rgba255(rgba) -> tuple[int, int, int, int]:
    """One RGBA colour in 0..1 -> a 0..255 int tuple (for QColor / pg.mkBrush)."""
    r, g, b, a = (float(x) for x in rgba)
    return (round(r * 255), round(g * 255), round(b * 255), round(a * 255))
