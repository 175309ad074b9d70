"""Whole-image and zoomed (crop) passes of the embedded segmenter, shared by the tool and training.

A 64 px model sees a lung well but a 10 mm nodule as a few pixels. So, as in coarse-to-fine
cascades (and MedSAM's practice of working inside the box), a box prompt is segmented inside a
square crop around the box (a margin of context included) resized to the model size; a point-only
prompt is first segmented on the whole image, and its mask's box then seeds the zoomed pass.
Logits from the crop are mapped back to the original pixels, so masks come at full resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

CROP_MARGIN = 0.25  # context around the box, as a fraction of its longer side
MIN_CROP_FRACTION = 0.1  # a crop is never smaller than this share of the image's longer side
# Windows centred on a lone click, as shares of the image's longer side (1.0: the whole image).
# Training shows the model the same click-centred views, so its predicted IoUs hold there.
POINT_WINDOW_FRACTIONS = (0.15, 0.3, 0.6, 1.0)


@dataclass(frozen=True)
class Crop:
    """A square window of `side` pixels centred at (cx, cy) in image pixel coordinates (edges at 0..W)."""

    cx: float
    cy: float
    side: float

    @classmethod
    def around_box(cls, box: np.ndarray, height: int, width: int, margin: float = CROP_MARGIN) -> "Crop":
        x0, y0, x1, y1 = (float(v) for v in box)
        side = max(x1 - x0 + 1, y1 - y0 + 1) * (1 + margin)
        side = max(side, MIN_CROP_FRACTION * max(height, width))
        return cls((x0 + x1 + 1) / 2, (y0 + y1 + 1) / 2, side)

    @classmethod
    def whole(cls, height: int, width: int) -> "Crop":
        side = float(max(height, width))
        return cls(width / 2, height / 2, side)

    def key(self) -> str:
        return f"{self.cx:.1f},{self.cy:.1f},{self.side:.1f}"

    def to_crop(self, xy: np.ndarray, size: int) -> np.ndarray:
        """Image pixel coordinates (N, 2) -> crop-model pixel coordinates."""
        scale = size / self.side
        origin = np.array([self.cx - self.side / 2, self.cy - self.side / 2], np.float32)
        return ((np.asarray(xy, np.float32) - origin + 0.5) * scale - 0.5).astype(np.float32)


def extract(image: np.ndarray, crop: Crop, size: int) -> torch.Tensor:
    """(1, 1, size, size) view of the crop; outside the image is zero (as the letterbox pads)."""
    h, w = image.shape
    x0, y0 = crop.cx - crop.side / 2, crop.cy - crop.side / 2
    ix0, iy0 = int(np.floor(x0)), int(np.floor(y0))
    factor = max(1, int(crop.side / size)) if crop.side / size > 1.5 else 1
    n = -(-(int(np.ceil(crop.side)) + 1) // factor) * factor  # a multiple of the pooling factor
    canvas = np.zeros((n, n), np.float32)
    sx0, sy0 = max(ix0, 0), max(iy0, 0)
    sx1, sy1 = min(ix0 + n, w), min(iy0 + n, h)
    if sx1 > sx0 and sy1 > sy0:
        canvas[sy0 - iy0: sy1 - iy0, sx0 - ix0: sx1 - ix0] = image[sy0:sy1, sx0:sx1]
    tensor = torch.from_numpy(canvas)[None, None]
    # Sub-pixel alignment: resample the exact window [x0, x0 + side) onto size x size.
    theta = torch.tensor([[[crop.side / n, 0.0, (2 * (x0 - ix0) + crop.side) / n - 1],
                           [0.0, crop.side / n, (2 * (y0 - iy0) + crop.side) / n - 1]]], dtype=torch.float32)
    if factor > 1:  # shrinking: average first so thin structures are not aliased away
        tensor = F.avg_pool2d(tensor, factor, factor)
    grid = F.affine_grid(theta, (1, 1, size, size), align_corners=False)
    return F.grid_sample(tensor, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def paste(logits: torch.Tensor, crop: Crop, height: int, width: int, fill: float = -20.0) -> np.ndarray:
    """Crop-frame logits (h', w') -> (height, width) logits; pixels outside the crop get `fill`."""
    out = np.full((height, width), fill, np.float32)
    x0, y0 = crop.cx - crop.side / 2, crop.cy - crop.side / 2
    ix0, iy0 = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
    ix1, iy1 = min(int(np.ceil(x0 + crop.side)), width), min(int(np.ceil(y0 + crop.side)), height)
    if ix1 <= ix0 or iy1 <= iy0:
        return out
    xs = (np.arange(ix0, ix1, dtype=np.float32) + 0.5 - x0) / crop.side * 2 - 1
    ys = (np.arange(iy0, iy1, dtype=np.float32) + 0.5 - y0) / crop.side * 2 - 1
    gy, gx = np.meshgrid(ys, xs, indexing="ij")
    grid = torch.from_numpy(np.stack([gx, gy], -1))[None]
    region = F.grid_sample(logits.float().reshape(1, 1, *logits.shape[-2:]), grid, mode="bilinear",
                           padding_mode="border", align_corners=False)[0, 0].numpy()
    out[iy0:iy1, ix0:ix1] = region
    return out
