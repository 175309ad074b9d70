"""The in-memory shape of a loaded image, shared by every tool."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class LoadedImage:
    """Pixels plus what a tool needs to interpret and measure them.

    `pixels` is float32: (H, W) for a single grayscale image, (S, H, W) for a series or
    multi-frame, (H, W, 3) for RGB. CT is in Hounsfield units (rescale applied); other
    modalities are in their stored intensity scale, MONOCHROME1 already inverted.
    `metadata` is de-identified and safe to put in a prompt.
    """

    pixels: np.ndarray
    modality: str  # DICOM modality code: CT, MR, CR, DX, US, OT (PNG/JPEG), ...
    spacing_mm: tuple[float, float] | None  # (row, column) pixel spacing
    source_path: Path
    source_uid: str | None = None  # SOP Instance UID of the original, for provenance
    image_id: str | None = None  # workspace id (img-1), when it came through the workspace
    slice_positions: list[float] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def is_volume(self) -> bool:
        return self.pixels.ndim == 3 and self.pixels.shape[-1] != 3

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.pixels.shape)
