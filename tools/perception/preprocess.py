"""Getting any loaded image into the segmenter's frame and its masks back out.

Models see a single-channel image scaled to [0, 1] by robust percentiles (so a 15-bit CR, a CT
in HU and a phantom in [0, 1] all look alike), resized so the longest side is the model size and
zero-padded to a square, as SAM does. Masks are mapped back by undoing the padding and resizing
the logits to the original size, so a huge image gets a full-resolution mask.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from agent.errors import InvalidInputError


def to_grayscale_2d(pixels: np.ndarray, slice_index: int | None = None) -> tuple[np.ndarray, list[str]]:
    """One 2-D float image from (H, W), (H, W, 3) or (S, H, W); a volume gives its middle slice."""
    warnings: list[str] = []
    arr = np.asarray(pixels, dtype=np.float32)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4) and arr.shape[0] > 4:
        arr = arr[..., :3].mean(axis=-1)
    elif arr.ndim == 3:
        if slice_index is None:
            slice_index = arr.shape[0] // 2
            warnings.append(f"The image is a volume of {arr.shape[0]} slices; slice {slice_index} was used.")
        if not 0 <= slice_index < arr.shape[0]:
            raise InvalidInputError(f"Slice {slice_index} does not exist.", f"Use 0..{arr.shape[0] - 1}.")
        arr = arr[slice_index]
    elif arr.ndim != 2:
        raise InvalidInputError(f"Cannot segment an image of shape {arr.shape}.", "Give a 2-D image or a volume.")
    if min(arr.shape) < 8:
        raise InvalidInputError(f"The image ({arr.shape[1]} x {arr.shape[0]}) is too small to segment.",
                                "Give an image of at least 8 x 8 pixels.")
    return arr, warnings


def normalize_intensity(image: np.ndarray, low_pct: float = 0.5, high_pct: float = 99.5) -> np.ndarray:
    """Scale to [0, 1] between robust percentiles; constant images become all zeros."""
    arr = np.nan_to_num(np.asarray(image, np.float32))
    lo, hi = np.percentile(arr, [low_pct, high_pct])
    if hi - lo < 1e-6:
        return np.zeros_like(arr)
    return np.clip((arr - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def pixel_hash(image: np.ndarray) -> str:
    """A key for the embedding cache: the same pixels give the same key."""
    arr = np.ascontiguousarray(image, dtype=np.float32)
    digest = hashlib.sha256(arr.tobytes())
    digest.update(str(arr.shape).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Letterbox:
    """How an (H, W) image was placed in the model's square input: scale, then pad bottom/right."""

    height: int
    width: int
    size: int

    @property
    def scale(self) -> float:
        return self.size / max(self.height, self.width)

    @property
    def resized(self) -> tuple[int, int]:
        return (max(1, round(self.height * self.scale)), max(1, round(self.width * self.scale)))

    def to_model(self, image: np.ndarray) -> torch.Tensor:
        """(1, 1, size, size) tensor of the image resized (area-averaged when shrinking) and padded."""
        tensor = torch.from_numpy(np.ascontiguousarray(image, np.float32))[None, None]
        h, w = self.resized
        mode = "area" if self.scale < 1 else "bilinear"
        kwargs = {} if mode == "area" else {"align_corners": False}
        tensor = F.interpolate(tensor, size=(h, w), mode=mode, **kwargs)
        return F.pad(tensor, (0, self.size - w, 0, self.size - h))

    def logits_to_image(self, logits: torch.Tensor) -> np.ndarray:
        """Model-frame logits (h', w') covering the padded square -> (H, W) logits of the original."""
        logits = logits.float().reshape(1, 1, *logits.shape[-2:])
        logits = F.interpolate(logits, size=(self.size, self.size), mode="bilinear", align_corners=False)
        h, w = self.resized
        logits = logits[..., :h, :w]
        logits = F.interpolate(logits, size=(self.height, self.width), mode="bilinear", align_corners=False)
        return logits[0, 0].numpy()


CT_WINDOW_HU = (-160.0, 240.0)  # level 40, width 400: soft tissue grey, lung black, bone white


def normalize_for_model(image: np.ndarray, modality: str | None) -> np.ndarray:
    """The intensity mapping every perception model is trained and run with.

    CT in HU gets a fixed soft-tissue window (HU mean the same thing in every scanner); other
    modalities have arbitrary scales, so they get robust percentiles.
    """
    if (modality or "").upper() == "CT":
        lo, hi = CT_WINDOW_HU
        return np.clip((np.asarray(image, np.float32) - lo) / (hi - lo), 0.0, 1.0)
    return normalize_intensity(image)
