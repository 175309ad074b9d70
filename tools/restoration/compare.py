"""Side-by-side comparison pictures (input | output | reference) with labels and the SYNTHETIC banner.

A reviewer judges a restoration by looking at it next to what it came from; every panel uses
the same display window so differences in noise or contrast are real, not a display artefact.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

BANNER = "SYNTHETIC - not for diagnosis"
PANEL_MAX = 384  # panels larger than this are downsampled for display only


def to_display(image: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """Map an image to 8-bit through a fixed (low, high) window."""
    lo, hi = window
    scaled = (np.clip(np.asarray(image, dtype=np.float64), lo, hi) - lo) / max(hi - lo, 1e-6)
    return (scaled * 255).astype(np.uint8)


def percentile_window(image: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(image, [0.5, 99.5])
    return float(lo), float(hi if hi > lo else lo + 1)


def save_comparison(panels: list[tuple[str, np.ndarray, tuple[float, float]]], path: Path, title: str = "") -> Path:
    """Write labelled panels side by side with a red SYNTHETIC banner; returns the path."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default()
    tiles = []
    for label, image, window in panels:
        tile = Image.fromarray(to_display(image, window))
        scale = min(1.0, PANEL_MAX / max(tile.size))
        if scale < 1.0 or max(tile.size) < 192:
            scale = scale if scale < 1.0 else 256 / max(tile.size)
            tile = tile.resize((max(1, round(tile.width * scale)), max(1, round(tile.height * scale))), Image.BILINEAR)
        tiles.append((label, tile.convert("RGB")))
    label_h, banner_h, gap = 18, 22, 6
    width = sum(t.width for _, t in tiles) + gap * (len(tiles) + 1)
    height = max(t.height for _, t in tiles) + label_h + banner_h + gap * 2
    canvas = Image.new("RGB", (width, height), (0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle([0, 0, width, banner_h], fill=(180, 0, 0))
    draw.text((gap, 5), f"{BANNER}{'  |  ' + title if title else ''}", fill=(255, 255, 255), font=font)
    x = gap
    for label, tile in tiles:
        draw.text((x, banner_h + 3), label, fill=(255, 255, 0), font=font)
        canvas.paste(tile, (x, banner_h + label_h))
        x += tile.width + gap
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path
