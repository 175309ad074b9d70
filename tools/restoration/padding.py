"""Pad any image to a size the U-Nets accept (a multiple of 2^depth) and crop the result back.

The networks are fully convolutional but halve the size four times, so odd or non-square
inputs are reflect-padded (no artificial edges for the convolutions to react to) and the
output is cropped back to exactly the input's shape.
"""

from __future__ import annotations

import numpy as np


def pad_to_multiple(image: np.ndarray, multiple: int = 16, mode: str = "reflect") -> tuple[np.ndarray, tuple[slice, slice]]:
    """Pad the last two axes up to a multiple; return the padded array and the slices that undo it."""
    h, w = image.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    top, left = ph // 2, pw // 2
    pad = [(0, 0)] * (image.ndim - 2) + [(top, ph - top), (left, pw - left)]
    if mode == "reflect" and (ph >= h or pw >= w):
        mode = "symmetric"  # reflect cannot pad more than the image size minus one
    if mode == "symmetric" and (ph > 2 * h or pw > 2 * w):
        mode = "edge"
    padded = np.pad(image, pad, mode=mode)
    return padded, (slice(top, top + h), slice(left, left + w))


def crop_back(image: np.ndarray, crop: tuple[slice, slice]) -> np.ndarray:
    """Undo `pad_to_multiple` on the last two axes."""
    return image[..., crop[0], crop[1]]
