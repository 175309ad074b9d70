"""Argument schemas for the restoration tools (kept import-light for the catalogue)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tools.schemas import ToolArgs


class DenoiseImageArgs(ToolArgs):
    """Denoise a low-dose CT image."""

    image: str = Field(description="Image id from the workspace (e.g. img-1) or a file path.")
    strength: float = Field(default=1.0, ge=0.0, le=1.0, description="Blend of denoised output (1 = fully denoised).")
    simulate_dose: float | None = Field(
        default=None,
        description="Simulate a scan at this fraction of the full dose (0.05-1.0) from the image first, then denoise "
                    "it; quality is then measured against the noise-free simulated reference.")
    seed: int = Field(default=0, description="Seed of the simulated quantum noise (used with simulate_dose).")
    out: str | None = Field(default=None, description="Optional file path for the denoised PNG; the DICOM goes beside it.")


class ReconstructMRIArgs(ToolArgs):
    """Reconstruct MRI from undersampled k-space."""

    image: str = Field(description="Image id from the workspace (e.g. img-1) or a file path. A .npy/.npz complex "
                                   "k-space array is reconstructed directly.")
    acceleration: int = Field(default=4, description="Undersampling factor, e.g. 4 or 8.")
    mask_type: Literal["equispaced", "random"] = Field(default="equispaced", description="Column mask used to simulate the undersampling.")
    mask_seed: int = Field(default=0, description="Seed of the sampling mask (fixed so results are reproducible).")
    kspace: str | None = Field(default=None, description="Path to a measured k-space (.npy complex, or .npz with 'kspace' and optional 'mask').")
    out: str | None = Field(default=None, description="Optional file path for the reconstructed PNG.")


class TranslateModalityArgs(ToolArgs):
    """Translate an image to another modality."""

    image: str = Field(description="Image id from the workspace (e.g. img-1) or a file path.")
    target_modality: Literal["CT", "MR"] = Field(default="CT", description="Modality to synthesize.")
    reference: str | None = Field(default=None, description="Optional true image of the target modality in the same "
                                                           "geometry; when given, the error against it is reported.")
    out: str | None = Field(default=None, description="Optional file path for the translated PNG.")
