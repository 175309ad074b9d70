"""Bringing a user's image into the generators' space (64 px, [-1, 1]) and changes back to its own grid.

The models were trained on chest radiograph phantoms, so other modalities are refused, and images
of another size are resampled with a warning flag; edits are mapped back onto the original pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from agent.errors import InvalidInputError
from tools.schemas import Flag

MODEL_SIZE = 64
ACCEPTED_MODALITIES = ("CR", "DX", "OT", "SC", "")  # radiographs, or plain pictures of unknown modality
MIN_SIDE = 32
MAX_ASPECT = 1.3


@dataclass
class Prepared:
    """The model-space image plus what is needed to map a change back onto the original."""

    x: torch.Tensor  # (1, 1, 64, 64) in [-1, 1]
    original: np.ndarray  # (H, W) float32, the source pixels
    lo: float
    hi: float
    flags: list[Flag] = field(default_factory=list)

    def delta_to_original(self, delta: torch.Tensor) -> np.ndarray:
        """A model-space change (1, 1, 64, 64) -> the same change on the original grid and scale."""
        h, w = self.original.shape
        up = F.interpolate(delta.float(), size=(h, w), mode="bilinear", align_corners=False)[0, 0].numpy()
        return up / 2.0 * (self.hi - self.lo)

    def to_original(self, image: torch.Tensor) -> np.ndarray:
        """A model-space image (1, 1, 64, 64) -> the original grid and intensity scale."""
        h, w = self.original.shape
        up = F.interpolate(image.float(), size=(h, w), mode="bilinear", align_corners=False)[0, 0].numpy()
        return ((up + 1.0) / 2.0 * (self.hi - self.lo) + self.lo).astype(np.float32)


def prepare(loaded, tool: str) -> Prepared:
    """Check and convert a LoadedImage; refuse what the chest models cannot interpret."""
    modality = (loaded.modality or "").upper()
    if modality not in ACCEPTED_MODALITIES:
        raise InvalidInputError(
            f"{tool} works on chest radiographs; this image is {modality}.",
            "Use a chest radiograph (CR/DX) or a PNG of one; the generators were trained on chest X-ray phantoms.")
    pixels = np.asarray(loaded.pixels, dtype=np.float32)
    flags: list[Flag] = []
    if pixels.ndim == 3 and pixels.shape[-1] in (3, 4):
        pixels = pixels[..., :3].mean(-1)
        flags.append(Flag(type="warning", detail="Colour image converted to grayscale."))
    if pixels.ndim != 2:
        raise InvalidInputError(f"{tool} needs a single 2D image; got shape {tuple(pixels.shape)}.",
                                "Pick one radiograph, not a series or volume.")
    h, w = pixels.shape
    if min(h, w) < MIN_SIDE or max(h, w) / min(h, w) > MAX_ASPECT:
        raise InvalidInputError(
            f"{tool} cannot use a {h}x{w} image.",
            f"Give a roughly square chest radiograph of at least {MIN_SIDE}x{MIN_SIDE} pixels "
            f"(aspect ratio up to {MAX_ASPECT}).")
    if not np.isfinite(pixels).all():
        raise InvalidInputError("The image contains non-finite pixel values.", "Check the file.")
    lo, hi = float(pixels.min()), float(pixels.max())
    if hi - lo < 1e-6:
        raise InvalidInputError("The image is blank (a single intensity).", "Give an image with content.")
    unit = torch.from_numpy((pixels - lo) / (hi - lo))[None, None]
    if (h, w) != (MODEL_SIZE, MODEL_SIZE):
        flags.append(Flag(type="warning", detail=f"Resampled from {h}x{w} to {MODEL_SIZE}x{MODEL_SIZE} px for the "
                                                 "model; the result is mapped back to the original size."))
        unit = F.interpolate(unit, size=(MODEL_SIZE, MODEL_SIZE), mode="area" if min(h, w) >= MODEL_SIZE else "bilinear")
    return Prepared(x=(unit * 2.0 - 1.0).clamp(-1, 1), original=pixels, lo=lo, hi=hi, flags=flags)
