"""The visible "SYNTHETIC — not for diagnosis" marking burned into derived pixels and PNGs."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

TEXT = "SYNTHETIC — not for diagnosis"
ASCII_TEXT = "SYNTHETIC - not for diagnosis"
_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
)


@lru_cache(maxsize=32)
def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, str]:
    """A font with an em dash if the system has one; Pillow's own font (ASCII text) otherwise."""
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size), TEXT
    return ImageFont.load_default(size=size), ASCII_TEXT


@lru_cache(maxsize=64)
def banner_masks(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(band, letters) boolean masks: a strip across the top and the marking's glyphs inside it.

    The text is fitted to the width; on very small images it still covers the strip, so the
    marking is always present even where it is too small to read.
    """
    band_h = max(6, min(height // 6, int(round(max(height, width) / 14))))
    size = max(6, band_h - 2)
    font, text = _font(size)
    while size > 6:
        left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), text, font=font)
        if right - left <= width - 4:
            break
        size -= 1
        font, text = _font(size)
    canvas = Image.new("L", (width, band_h), 0)
    draw = ImageDraw.Draw(canvas)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text((max(2, (width - (right - left)) // 2) - left, (band_h - (bottom - top)) // 2 - top), text,
              fill=255, font=font)
    letters = np.zeros((height, width), dtype=bool)
    band = np.zeros((height, width), dtype=bool)
    band[:band_h] = True
    letters[:band_h] = np.asarray(canvas) > 96
    band.flags.writeable = letters.flags.writeable = False  # cached and shared between calls
    return band, letters


def burn_grey(stored: np.ndarray, low: float, high: float) -> np.ndarray:
    """Burn the marking into a grey image (H, W) or stack (S, H, W): dark strip, bright letters."""
    out = stored.copy()
    band, letters = banner_masks(out.shape[-2], out.shape[-1])
    out[..., band] = low
    out[..., letters] = high
    return out


def burn_rgb(rgb: np.ndarray) -> np.ndarray:
    """Burn the marking into an 8-bit RGB image: dark red strip, white letters."""
    out = rgb.copy()
    band, letters = banner_masks(out.shape[0], out.shape[1])
    out[band] = (150, 0, 0)
    out[letters] = (255, 255, 255)
    return out
