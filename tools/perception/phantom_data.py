"""Training and evaluation data for the perception models, drawn from the seeded phantom splits.

Chest radiographs (CR-like) and head slices (the same anatomy as CT in HU and as MR) are mapped
to model intensities exactly as real images are at inference (`normalize_for_model`), so what
the models learn transfers to the tool's input path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tools.perception.preprocess import normalize_for_model

CHEST_STRUCTURES = ("left_lung", "right_lung", "lungs", "heart", "mediastinum", "nodule", "effusion")
# The skull is left out: a thin ring whose box is the brain's box, it taught box prompts to confuse the two.
HEAD_STRUCTURES = ("brain", "ventricles", "lesion")
MIN_AREA_PX = 6


@dataclass
class SegmentationSet:
    """Images (N, S, S) in [0, 1]; masks (M, S, S) each belonging to image `owner[m]` and named `names[m]`."""

    images: np.ndarray
    masks: np.ndarray
    owner: np.ndarray
    names: list[str]
    families: list[str] = field(default_factory=list)
    spacing_mm: list[tuple[float, float]] = field(default_factory=list)


def chest_masks(phantom) -> dict[str, np.ndarray]:
    masks = {k: np.asarray(v, bool) for k, v in phantom.masks.items() if k != "ribs"}
    masks["lungs"] = masks["left_lung"] | masks["right_lung"]
    return masks


def build_segmentation_set(split: str, n_chest: int, n_head: int, size: int = 128, seed: int = 0) -> SegmentationSet:
    """Every non-trivial structure of every phantom; each head phantom gives a CT and an MR image."""
    from tools.phantoms.dataset import phantom_split

    images: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    owner: list[int] = []
    names: list[str] = []
    families: list[str] = []
    spacing: list[tuple[float, float]] = []

    def add(image: np.ndarray, structures: dict[str, np.ndarray], family: str, sp) -> None:
        index = len(images)
        images.append(image.astype(np.float32))
        families.append(family)
        spacing.append(tuple(sp))
        for name, mask in structures.items():
            if mask.sum() >= MIN_AREA_PX:
                masks.append(mask)
                owner.append(index)
                names.append(name)

    if n_chest:
        for p in phantom_split("chest", split, n_chest, size=size, seed=seed):
            add(normalize_for_model(p.image, "CR"), chest_masks(p), "chest", p.spacing_mm)
    if n_head:
        for p in phantom_split("head", split, n_head, size=size, seed=seed):
            structures = {k: np.asarray(p.masks[k], bool) for k in HEAD_STRUCTURES}
            add(normalize_for_model(p.ct_hu, "CT"), structures, "head", p.spacing_mm)
            add(normalize_for_model(p.mr, "MR"), structures, "head", p.spacing_mm)
    return SegmentationSet(np.stack(images), np.stack(masks), np.asarray(owner), names, families, spacing)
