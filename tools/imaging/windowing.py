"""Turning stored intensities into display grey levels: window presets, DICOM VOI, percentiles."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from agent.errors import InvalidInputError

if TYPE_CHECKING:
    from tools.imaging.types import LoadedImage

# (centre, width) in Hounsfield units; the usual radiology presets.
PRESETS: dict[str, tuple[float, float]] = {
    "lung": (-600.0, 1500.0),
    "mediastinum": (50.0, 350.0),
    "soft_tissue": (40.0, 400.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
    "subdural": (75.0, 215.0),
    "stroke": (40.0, 40.0),
    "liver": (60.0, 160.0),
}


def window_for(preset: str) -> tuple[float, float]:
    key = preset.strip().lower().replace(" ", "_").replace("-", "_")
    if key == "soft":
        key = "soft_tissue"
    if key not in PRESETS:
        raise InvalidInputError(f"Unknown window preset '{preset}'.", f"Use one of: {', '.join(PRESETS)}.")
    return PRESETS[key]


def apply_window(pixels: np.ndarray, preset: str | float | None = None, width: float | None = None, *,
                 center: float | None = None) -> np.ndarray:
    """Linear DICOM window (PS3.3 C.11.2.1.2) to uint8.

    `apply_window(hu, "lung")`, `apply_window(hu, 40, 400)` or `apply_window(hu, center=40, width=400)`.
    """
    if isinstance(preset, str):
        center, width = window_for(preset)
    elif preset is not None:
        center = float(preset)
    if center is None or width is None:
        raise InvalidInputError("A window needs a preset or both a centre and a width.",
                                f"Presets: {', '.join(PRESETS)}.")
    width = max(float(width), 1.0)
    low = float(center) - 0.5 - (width - 1) / 2
    scaled = (np.asarray(pixels, dtype=np.float32) - low) / max(width - 1, 1e-3) * 255.0
    return np.clip(scaled, 0, 255).astype(np.uint8)


def percentile_window(pixels: np.ndarray, low: float = 0.5, high: float = 99.5) -> np.ndarray:
    """Stretch the central percentiles to 0-255: for images with no stored window."""
    arr = np.asarray(pixels, dtype=np.float32)
    sample = arr[:: max(1, arr.shape[0] // 256)] if arr.ndim >= 2 else arr
    lo, hi = np.percentile(sample, [low, high])
    if hi <= lo:
        hi = lo + 1.0
    return np.clip((arr - lo) / (hi - lo) * 255.0, 0, 255).astype(np.uint8)


def to_display(loaded: "LoadedImage", preset: str | None = None, frame: int | None = None) -> np.ndarray:
    """uint8 grey (H, W) or RGB (H, W, 3) for showing `loaded`.

    Order: an explicit preset; the image's own VOI LUT; its first stored window; percentiles.
    A volume shows its middle slice unless `frame` is given.
    """
    pixels = loaded.pixels
    if pixels.ndim == 4:  # colour cine: (frames, H, W, 3)
        index = pixels.shape[0] // 2 if frame is None else int(frame)
        if not 0 <= index < pixels.shape[0]:
            raise InvalidInputError(f"Frame {frame} is out of range.", f"Use 0..{pixels.shape[0] - 1}.")
        pixels = pixels[index]
    elif loaded.is_volume:
        index = pixels.shape[0] // 2 if frame is None else int(frame)
        if not 0 <= index < pixels.shape[0]:
            raise InvalidInputError(f"Frame {frame} is out of range.", f"Use 0..{pixels.shape[0] - 1}.")
        pixels = pixels[index]
    if pixels.ndim == 3 and pixels.shape[-1] == 3:  # colour: scale to 8 bits as stored
        top = 255.0 if pixels.max(initial=0) <= 255 else float(pixels.max())
        return np.clip(pixels / top * 255.0, 0, 255).astype(np.uint8)
    if preset is not None:
        return apply_window(pixels, preset)
    if loaded.voi_lut is not None:
        return _apply_lut(pixels, loaded)
    if loaded.window is not None:
        center, width = loaded.window
        return apply_window(pixels, center=center, width=width)
    return percentile_window(pixels)


def _apply_lut(pixels: np.ndarray, loaded: "LoadedImage") -> np.ndarray:
    first, table = loaded.voi_lut  # type: ignore[misc]
    values = pixels
    if loaded.inverted and loaded.value_range is not None:  # the LUT indexes the stored (uninverted) values
        values = loaded.value_range[0] + loaded.value_range[1] - pixels
    index = np.clip(np.rint(values - first), 0, len(table) - 1).astype(np.int64)
    out = np.asarray(table, dtype=np.float32)[index]
    top = float(np.max(table)) or 1.0
    grey = out / top * 255.0
    if loaded.inverted:
        grey = 255.0 - grey
    return np.clip(grey, 0, 255).astype(np.uint8)
