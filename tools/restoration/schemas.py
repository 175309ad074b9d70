"""Argument schemas for the restoration tools (kept import-light for the catalogue)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tools.schemas import ToolArgs


class DenoiseImageArgs(ToolArgs):
    """Denoise a low-dose CT image."""

    image: str = Field(description="Image id from the workspace (e.g. img-1) or a file path.")
    strength: float = Field(default=1.0, ge=0.0, le=1.0, description="Blend of denoised output (1 = fully denoised).")


class ReconstructMRIArgs(ToolArgs):
    """Reconstruct MRI from undersampled k-space."""

    image: str = Field(description="Image id from the workspace (e.g. img-1) or a file path.")
    acceleration: int = Field(default=4, description="Undersampling factor, e.g. 4 or 8.")


class TranslateModalityArgs(ToolArgs):
    """Translate an image to another modality."""

    image: str = Field(description="Image id from the workspace (e.g. img-1) or a file path.")
    target_modality: Literal["CT", "MR"] = Field(default="CT", description="Modality to synthesize.")
