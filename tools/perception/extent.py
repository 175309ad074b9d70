"""Fitting a named structure's box to the structure, with the segmenter's own masks.

The structure localiser is a small CNN trained on phantoms; on a real radiograph its heat covers
only the most typical part of a lung, so its box is too small and a box-prompted mask stops at the
box. The segmenter sees more than the box (its zoomed pass keeps a margin of context), so the
mask's extent, given back as a slightly larger box, reaches further out; repeating this until the
box stops changing fits the box to the structure (a fixed point, as in iterative box refinement).
The box is kept on the localiser's side of the image for a one-sided structure (one lung), so it
cannot spread across the mediastinum into the other lung.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from tools.perception.prompting import Prompt

MARGIN = 0.1  # the next box: the mask's box grown by this share of its size on each side
MAX_ROUNDS = 6
STABLE_IOU = 0.92  # boxes this similar between rounds: the fit has converged
MIDLINE_SLACK = 0.05  # a one-sided box may cross the image midline by this share of the width


@dataclass
class FittedMask:
    mask: np.ndarray
    score: float
    box: np.ndarray  # the last box prompt
    rounds: int  # box prompts run (1: the localiser's box was kept)


def box_of(mask: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(mask)
    return np.array([cols.min(), rows.min(), cols.max(), rows.max()], np.float32)


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    inter = ix * iy
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)  # noqa: E731
    return float(inter / max(area(a) + area(b) - inter, 1.0))


def side_limits(box: np.ndarray, width: int, one_sided: bool) -> tuple[float, float]:
    """The x range a box may occupy: a one-sided structure stays on its half (plus some slack)."""
    if not one_sided:
        return 0.0, float(width - 1)
    centre = (box[0] + box[2]) / 2
    if centre < width / 2:
        return 0.0, (0.5 + MIDLINE_SLACK) * width
    return (0.5 - MIDLINE_SLACK) * width, float(width - 1)


def fit_to_structure(image: np.ndarray, box: np.ndarray, segment: Callable[[Prompt], tuple[np.ndarray, float]],
                     *, one_sided: bool = False) -> FittedMask:
    """Segment from `box`, then from the grown box of each mask, until the box is stable.

    `segment(prompt) -> (mask, score)` is the backend's call. Returns the last mask and its box.
    """
    height, width = image.shape
    lo, hi = side_limits(np.asarray(box, np.float32), width, one_sided)
    current = np.asarray(box, np.float32)
    mask, score = segment(Prompt(box=current))
    rounds = 1
    while rounds < MAX_ROUNDS and mask.any():
        found = box_of(mask)
        pad = MARGIN * (found[2:] - found[:2] + 1)
        grown = np.concatenate([found[:2] - pad, found[2:] + pad])
        grown = np.clip(grown, [lo, 0, lo, 0], [hi, height - 1, hi, height - 1]).astype(np.float32)
        if grown[2] <= grown[0] or grown[3] <= grown[1] or box_iou(grown, current) >= STABLE_IOU:
            break
        current = grown
        mask, score = segment(Prompt(box=current))
        rounds += 1
    return FittedMask(mask=mask, score=score, box=current, rounds=rounds)
