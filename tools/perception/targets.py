"""Named structures ("left lung", "heart", "nodule") turned into prompts the segmenter can take.

The localiser CNN's coarse segmentation head localises each anatomical structure; its largest
confident component becomes a box. A lesion comes from the per-region lesion classifier: the box
around its heat blob plus its peak as a positive point. Sides are the
PATIENT's: on a frontal radiograph or an axial slice in radiological display, the patient's left
is on the image right, and the localiser was trained with masks named that way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from agent.errors import InvalidInputError, NotFoundError
from tools.perception.findings import CHANNELS, IMAGE_SIZE, FindingsPrediction
from tools.perception.preprocess import Letterbox
from tools.perception.prompting import Prompt

# user words -> (canonical label, localiser channels)
SYNONYMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "left lung": ("left lung", ("left_lung",)),
    "right lung": ("right lung", ("right_lung",)),
    "lungs": ("lungs", ("left_lung", "right_lung")),
    "both lungs": ("lungs", ("left_lung", "right_lung")),
    "lung fields": ("lungs", ("left_lung", "right_lung")),
    "lung": ("lungs", ("left_lung", "right_lung")),
    "heart": ("heart", ("heart",)),
    "cardiac silhouette": ("heart", ("heart",)),
    "nodule": ("nodule", ("lesion",)),
    "lesion": ("lesion", ("lesion",)),
    "mass": ("lesion", ("lesion",)),
    "tumour": ("lesion", ("lesion",)),
    "tumor": ("lesion", ("lesion",)),
    "brain": ("brain", ("brain",)),
    "ventricles": ("ventricles", ("ventricles",)),
    "ventricle": ("ventricles", ("ventricles",)),
}
THRESHOLD = 0.5
STRIDE = 4  # the localiser's heatmaps are at 1/4 of its input


@dataclass
class TargetPrompt:
    label: str
    prompt: Prompt
    confidence: float  # the localiser's peak probability for the structure
    source: str


def canonical_target(text: str) -> tuple[str, tuple[str, ...]]:
    key = " ".join(text.lower().replace("_", " ").replace("the ", " ").split())
    key = key.removesuffix(" field").strip()
    if key in SYNONYMS:
        return SYNONYMS[key]
    for word, value in SYNONYMS.items():  # "the left lung field", "pulmonary nodule"
        if key.endswith(word):
            return value
    names = sorted({label for label, _ in SYNONYMS.values()})
    raise InvalidInputError(f"Unknown target '{text}'.",
                            f"Named targets: {', '.join(names)}; or give a point or a box instead.")


def is_lesion_target(target: str) -> bool:
    return canonical_target(target)[1] == ("lesion",)


def locate_lesion(target: str, analysis, height: int, width: int) -> TargetPrompt:
    """A point on the most likely lesion and a box around its heat blob (with some margin)."""
    label, _ = canonical_target(target)
    best = analysis.best_lesion
    if best is None or best.prob < 0.5:
        prob = 0.0 if best is None else best.prob
        raise NotFoundError(
            f"The lesion classifier found no {label} in this image (highest probability {prob:.2f}).",
            "If you see one, give a point (--point x,y) or a box (--box x0,y0,x1,y1) on it.",
        )
    x0, y0, x1, y1 = best.blob_box
    pad_x, pad_y = 0.5 * (x1 - x0), 0.5 * (y1 - y0)
    box = np.array([max(x0 - pad_x, 0), max(y0 - pad_y, 0), min(x1 + pad_x, width - 1), min(y1 + pad_y, height - 1)],
                   np.float32)
    px, py = best.peak_xy
    point = np.array([[min(max(px, 0), width - 1), min(max(py, 0), height - 1)]], np.float32)
    return TargetPrompt(label=label, prompt=Prompt(point, np.ones(1, np.int64), box), confidence=best.prob,
                        source=f"point and box from the lesion classifier (lesion_cnn, probability {best.prob:.2f}, "
                               f"patient's {best.side} side)")


def locate_target(target: str, prediction: FindingsPrediction, height: int, width: int) -> TargetPrompt:
    """A box for an anatomical `target` on an image of `height` x `width` pixels."""
    label, channels = canonical_target(target)
    if channels == ("lesion",):
        raise InvalidInputError(f"'{target}' is a lesion: use locate_lesion.", "")
    maps = np.stack([prediction.heatmaps[CHANNELS.index(c)] for c in channels])
    region = np.zeros(maps.shape[1:], bool)
    peak = 0.0
    for heat in maps:
        component = _largest_confident_component(heat)
        if component is not None:
            region |= component
            peak = max(peak, float(heat[component].max()))
    if not region.any():
        best = float(maps.max())
        raise NotFoundError(
            f"The structure localiser did not find the {label} in this image (highest probability {best:.2f}).",
            "Give a box (--box x0,y0,x1,y1) or a point (--point x,y) on the structure instead.",
        )
    letterbox = Letterbox(height, width, IMAGE_SIZE)
    rows, cols = np.nonzero(region)
    # Heatmap cell (i, j) covers model pixels [j*4, j*4+4): map its edges back to image pixels.
    x0, x1 = cols.min() * STRIDE, (cols.max() + 1) * STRIDE
    y0, y1 = rows.min() * STRIDE, (rows.max() + 1) * STRIDE
    scale = letterbox.scale
    box = np.array([x0 / scale, y0 / scale, x1 / scale, y1 / scale], np.float32)
    box[[0, 2]] = np.clip(box[[0, 2]], 0, width - 1)
    box[[1, 3]] = np.clip(box[[1, 3]], 0, height - 1)
    return TargetPrompt(label=label, prompt=Prompt(box=box), confidence=peak,
                        source=f"box from the structure localiser (findings_cnn, peak probability {peak:.2f})")


def _largest_confident_component(heat: np.ndarray) -> np.ndarray | None:
    labelled, count = ndi.label(heat >= THRESHOLD)
    if count == 0:
        return None
    sizes = ndi.sum_labels(np.ones_like(heat), labelled, index=np.arange(1, count + 1))
    return labelled == (int(np.argmax(sizes)) + 1)
