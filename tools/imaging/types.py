"""The in-memory shape of a loaded image, shared by every tool."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

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
    # Display: the stored window (centre, width) in the units of `pixels`, a VOI LUT
    # (first mapped value, table) indexing the stored values, and whether MONOCHROME1 was inverted
    # (then `value_range` (low, high) maps pixels back to stored values: low + high - pixels).
    window: tuple[float, float] | None = None
    voi_lut: tuple[float, np.ndarray] | None = None
    inverted: bool = False
    value_range: tuple[float, float] | None = None
    slice_spacing_mm: float | None = None  # distance between slices of a volume
    kind: str = "dicom"  # dicom, series, nifti, raster (PNG/JPEG), npz
    # Builds `metadata` on first access: de-identifying a header costs more than decoding a
    # small image, and many callers only want the pixels.
    metadata_factory: Callable[[], dict[str, Any]] | None = field(default=None, repr=False, compare=False)

    @property
    def frames(self) -> int:
        """Slices or frames: 1 for a single image."""
        return int(self.pixels.shape[0]) if self.is_volume or self.pixels.ndim == 4 else 1

    @property
    def is_volume(self) -> bool:
        return self.pixels.ndim == 3 and self.pixels.shape[-1] != 3

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.pixels.shape)


def _get_metadata(self: LoadedImage) -> dict[str, Any]:
    data = self.__dict__.get("_metadata")
    factory = self.__dict__.get("metadata_factory")
    if factory is not None:
        self.__dict__["metadata_factory"] = None
        built = factory()
        built.update(data or {})  # keys set by the loader win over the header's
        data = built
        self.__dict__["_metadata"] = data
    if data is None:
        data = self.__dict__["_metadata"] = {}
    return data


def _set_metadata(self: LoadedImage, value: dict[str, Any]) -> None:
    self.__dict__["_metadata"] = value


# `metadata` stays an ordinary constructor field; reading it runs the factory once.
LoadedImage.metadata = property(_get_metadata, _set_metadata)  # type: ignore[assignment]
