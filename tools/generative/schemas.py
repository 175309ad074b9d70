"""Argument schemas for the generative tools (kept import-light for the catalogue)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tools.schemas import ToolArgs


class GenerateImagesArgs(ToolArgs):
    """Generate synthetic images from a trained generator."""

    model: Literal["vae", "gan", "ddpm", "ddim"] = Field(default="ddim", description="Generator to sample from.")
    condition: str = Field(default="", description="Free-text condition, e.g. 'nodule in right lung, 12 mm'; empty for unconditional.")
    n: int = Field(default=4, ge=1, description="Number of images.")
    seed: int = Field(default=0, description="Random seed; the same seed gives the same images.")
    steps: int | None = Field(default=None, ge=1, description="Sampling steps for diffusion models (DDIM default 50, DDPM 1000).")
    out_dir: str | None = Field(default=None, description="Folder for the images (default: the outputs folder).")


class EditImageArgs(ToolArgs):
    """Edit an image along an attribute direction in latent space."""

    image: str = Field(description="Image id from the workspace (e.g. img-1) or a file path.")
    attribute: str = Field(description="Attribute to change, e.g. 'lesion_size', 'lesion_presence', 'severity'.")
    strength: float = Field(default=1.0, description="How far to move; negative values shrink or remove.")
    local: bool = Field(default=True, description="Keep the edit local: blend the change in only where it happened.")
    side: Literal["left", "right"] | None = Field(default=None, description="Patient side for adding a lesion to an image without one.")
    out: str | None = Field(default=None, description="Where to write the edited image (PNG path); default: the outputs folder.")


class DetectAnomalyArgs(ToolArgs):
    """Map where a generative model cannot reconstruct the image."""

    image: str = Field(description="Image id from the workspace (e.g. img-1) or a file path.")
    out: str | None = Field(default=None, description="Where to write the anomaly map (PNG path); default: the outputs folder.")
