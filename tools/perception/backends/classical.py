"""The classical baseline: random walker seeded from the prompt (scikit-image).

It needs no checkpoint, so it is the fallback when none is available and the yardstick the
learned segmenter must beat. Seeds: positive points and the centre of the box are foreground;
negative points, the box border and everything outside the box are background. A point with no
box grows a region first (flood fill with a tolerance from the local contrast) to bound the walk.
Its score is a boundary-contrast heuristic, not a calibrated probability.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import ndimage as ndi
from skimage import filters, measure, morphology, segmentation, transform

from tools.perception.backends.base import BackendOutput
from tools.perception.prompting import Prompt

WORK_SIZE = 256  # the walk runs on at most this many pixels per side, then the mask is mapped back


class ClassicalBackend:
    name = "classical"

    def segment(self, image: np.ndarray, prompt: Prompt) -> BackendOutput:
        height, width = image.shape
        scale = min(1.0, WORK_SIZE / max(height, width))
        small = transform.resize(image, (max(8, round(height * scale)), max(8, round(width * scale))),
                                 anti_aliasing=scale < 1, preserve_range=True).astype(np.float32)
        small_prompt = prompt.scaled(small.shape[1] / width, small.shape[0] / height)
        smooth = filters.gaussian(small, sigma=1.0, preserve_range=True)
        mask = _walk(smooth, small_prompt)
        if mask.shape != image.shape:
            mask = transform.resize(mask.astype(np.float32), image.shape, order=1) > 0.5
        return BackendOutput(mask=mask, score=_contrast_score(image, mask),
                             model="random-walker (scikit-image)")


def _disk_seeds(shape: tuple[int, int], points: np.ndarray, radius: float) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    seeds = np.zeros(shape, bool)
    for x, y in points:
        seeds |= (xx - x) ** 2 + (yy - y) ** 2 <= radius ** 2
    return seeds


def _walk(image: np.ndarray, prompt: Prompt) -> np.ndarray:
    h, w = image.shape
    labels = np.zeros((h, w), np.int32)
    radius = max(1.0, min(h, w) / 96)
    if prompt.box is not None:
        x0, y0, x1, y1 = prompt.box
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        inside = np.zeros((h, w), bool)
        inside[int(np.floor(y0)): int(np.ceil(y1)) + 1, int(np.floor(x0)): int(np.ceil(x1)) + 1] = True
        border = inside & ~ndi.binary_erosion(inside, iterations=1)
        labels[~inside | border] = 2
        core_r = max(radius, 0.12 * min(x1 - x0, y1 - y0))
        labels[_disk_seeds((h, w), np.array([[cx, cy]]), core_r) & inside] = 1
    else:
        region = _grow(image, prompt.positive_points)
        ring = ndi.binary_dilation(region, iterations=max(2, round(radius * 2))) & ~region
        labels[ring] = 2
        labels[ndi.binary_erosion(region, iterations=1)] = 1
    if len(prompt.points):
        labels[_disk_seeds((h, w), prompt.positive_points, radius)] = 1
        labels[_disk_seeds((h, w), prompt.negative_points, radius)] = 2
    if not (labels == 1).any() or not (labels == 2).any():
        return labels == 1
    spread = float(np.std(image)) or 1.0
    with warnings.catch_warnings():  # it warns about tolerance-level probability overshoot
        warnings.simplefilter("ignore", UserWarning)
        walked = segmentation.random_walker(image / spread, labels, beta=250, mode="cg_j", tol=1e-3)
    mask = walked == 1
    return _keep_prompted_components(mask, prompt)


def _grow(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Flood from each positive point with a tolerance that stops before the region leaks."""
    h, w = image.shape
    region = np.zeros((h, w), bool)
    noise = max(float(np.median(np.abs(filters.sobel(image)))), 1e-3)
    for x, y in points:
        seed = (int(round(y)), int(round(x)))
        previous = None
        for tol in np.linspace(2, 20, 10) * noise:
            grown = segmentation.flood(image, seed, tolerance=float(tol))
            if previous is not None and grown.sum() > 2.5 * max(previous.sum(), 1) and grown.sum() > 0.05 * h * w:
                break
            previous = grown
            if grown.sum() > 0.5 * h * w:
                break
        region |= previous if previous is not None else np.zeros((h, w), bool)
    return ndi.binary_closing(region, structure=morphology.disk(1))


def _keep_prompted_components(mask: np.ndarray, prompt: Prompt) -> np.ndarray:
    """Drop islands that touch no positive point (or, for a box, keep the largest one)."""
    labelled = measure.label(mask)
    if labelled.max() <= 1:
        return mask
    keep = set()
    for x, y in prompt.positive_points:
        value = labelled[min(int(round(y)), mask.shape[0] - 1), min(int(round(x)), mask.shape[1] - 1)]
        if value:
            keep.add(int(value))
    if not keep:
        sizes = np.bincount(labelled.ravel())
        sizes[0] = 0
        keep.add(int(sizes.argmax()))
    return np.isin(labelled, list(keep))


def _contrast_score(image: np.ndarray, mask: np.ndarray) -> float:
    """How distinct the mask is from a ring around it, squashed to [0, 1]."""
    if mask.sum() < 4 or (~mask).sum() < 4:
        return 0.0
    ring = ndi.binary_dilation(mask, iterations=max(2, round(min(image.shape) / 64))) & ~mask
    if ring.sum() < 4:
        return 0.0
    inside, outside = image[mask], image[ring]
    separation = abs(float(inside.mean() - outside.mean())) / (float(inside.std() + outside.std()) + 1e-6)
    return float(np.clip(separation / 2.0, 0.0, 1.0))
