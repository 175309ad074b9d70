"""Turning loaded images, masks and derived outputs into pictures for the page."""

from __future__ import annotations

import numpy as np

WINDOW_PRESETS: dict[str, tuple[float, float] | None] = {
    "auto": None,
    "lung": (-600.0, 1500.0),
    "mediastinum": (50.0, 350.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
    "soft tissue": (40.0, 400.0),
}


def pick_slice(pixels: np.ndarray, index: int) -> np.ndarray:
    """A 2-D (or RGB) frame from a series; index is clamped to the valid range."""
    if pixels.ndim == 3 and pixels.shape[-1] != 3:
        return pixels[int(np.clip(index, 0, pixels.shape[0] - 1))]
    return pixels


def window(frame: np.ndarray, center: float | None, width: float | None) -> np.ndarray:
    """Map intensities to uint8 with a level/width, or robust percentiles when none is given."""
    if frame.ndim == 3:  # RGB is shown as is
        return np.clip(frame, 0, 255).astype(np.uint8)
    data = np.nan_to_num(frame.astype(np.float32))
    if center is None or width is None or width <= 0:
        low, high = np.percentile(data, [0.5, 99.5])
    else:
        low, high = center - width / 2.0, center + width / 2.0
    if high <= low:
        high = low + 1.0
    return (np.clip((data - low) / (high - low), 0.0, 1.0) * 255.0).astype(np.uint8)


def draw_prompts(image: np.ndarray, points: list[tuple[float, float, int]],
                 box: tuple[float, float, float, float] | None) -> np.ndarray:
    """Overlay prompt points (green +, red −) and a box (yellow) on a grayscale or RGB frame."""
    rgb = np.stack([image] * 3, axis=-1) if image.ndim == 2 else image.copy()
    h, w = rgb.shape[:2]
    radius = max(2, min(h, w) // 100)
    for x, y, label in points:
        colour = (0, 220, 0) if label else (230, 30, 30)
        xi, yi = int(round(x)), int(round(y))
        rgb[max(0, yi - radius):yi + radius + 1, max(0, xi - radius):xi + radius + 1] = colour
    if box is not None:
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        x0, x1 = sorted((max(0, x0), min(w - 1, x1)))
        y0, y1 = sorted((max(0, y0), min(h - 1, y1)))
        t = max(1, radius // 2)
        for ys, xs in (((y0, y0 + t), (x0, x1)), ((y1 - t, y1), (x0, x1)), ((y0, y1), (x0, x0 + t)), ((y0, y1), (x1 - t, x1))):
            rgb[ys[0]:ys[1] + 1, xs[0]:xs[1] + 1] = (250, 210, 0)
    return rgb
