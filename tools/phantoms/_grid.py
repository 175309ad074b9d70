"""Drawing helpers shared by the phantoms: a continuous coordinate grid and smooth random fields.

Everything is drawn in normalised coordinates (u, v) in [0, 1] (u to the image right, v down),
evaluated at pixel centres, so one seed gives the same anatomy at 64, 128 or 256 pixels.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import ndimage


def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) pixel-centre coordinates, each (size, size) float32."""
    c = (np.arange(size, dtype=np.float32) + 0.5) / size
    return np.meshgrid(c, c, indexing="xy")


@lru_cache(maxsize=64)
def _cubic_weights(size: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """(size, cells + 3) Catmull-Rom interpolation matrix from a coarse lattice to pixel centres."""
    coords = (np.arange(size, dtype=np.float64) + 0.5) / size * cells + 1.0
    base = np.floor(coords).astype(int)
    t = coords - base
    weights = np.zeros((size, cells + 3), dtype=np.float32)
    taps = (
        (-1, 0.5 * (-t**3 + 2 * t**2 - t)),
        (0, 0.5 * (3 * t**3 - 5 * t**2 + 2)),
        (1, 0.5 * (-3 * t**3 + 4 * t**2 + t)),
        (2, 0.5 * (t**3 - t**2)),
    )
    rows = np.arange(size)
    for offset, w in taps:
        np.add.at(weights, (rows, np.clip(base + offset, 0, cells + 2)), w)
    return weights, np.ascontiguousarray(weights.T)


def smooth_field(rng: np.random.Generator, size: int, cells: int = 12) -> np.ndarray:
    """Zero-mean, unit-ish random field with features ~1/cells of the image, resolution independent.

    Drawn on a fixed coarse lattice and interpolated (two small matrix products), so the same
    seed gives the same field at every output size.
    """
    coarse = rng.standard_normal((cells + 3, cells + 3)).astype(np.float32)
    w, wt = _cubic_weights(size, cells)
    return np.dot(np.dot(w, coarse), wt)


def soft(mask: np.ndarray, size: int, sigma_at_128: float = 0.8) -> np.ndarray:
    """A boolean mask as a float with blurred edges, so boundaries are not aliased staircases."""
    return ndimage.gaussian_filter(mask.astype(np.float32), sigma_at_128 * size / 128.0)


def band(v: np.ndarray, curve: np.ndarray, slope: np.ndarray | float, half_width: float) -> np.ndarray:
    """Normalised distance to a curve v = curve(u) (0 on the curve, 1 at `half_width`)."""
    return np.abs(v - curve) / np.sqrt(1.0 + np.square(slope)) / half_width
