"""Argument and result schemas for segmentation and description (import-light: pydantic only)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tools.schemas import ToolArgs, ToolResult


class SegmentImageArgs(ToolArgs):
    """Promptable segmentation: give a point, points, a box or a named target."""

    image: str = Field(description="Image id from the workspace (e.g. img-1) or a file path.")
    point: tuple[float, float] | None = Field(default=None, description="(x, y) pixel inside the structure.")
    points: list[tuple[float, float]] | None = Field(default=None, description="Several (x, y) prompts.")
    labels: list[int] | None = Field(default=None, description="1 positive / 0 negative for each of points.")
    box: tuple[float, float, float, float] | None = Field(default=None, description="(x0, y0, x1, y1) box around the structure.")
    target: str | None = Field(default=None, description="Named structure, e.g. 'left lung', 'heart', 'nodule'.")
    backend: Literal["default", "classical", "sam", "medsam"] | None = Field(
        default=None, description="Segmenter: the embedded default, the classical baseline, or a configured SAM/SAM 2/MedSAM checkpoint.")
    checkpoint: str | None = Field(default=None, description="Path to a SAM/SAM 2/MedSAM checkpoint (folder or .pth) for backend sam/medsam.")
    slice_index: int | None = Field(default=None, description="Slice of a volume to segment (default: the middle one).")
    out: str | None = Field(default=None, description="Where to write the mask PNG (default: the outputs folder).")


class SegmentImageResult(ToolResult):
    """A mask with its measurements; the DICOM SEG and overlay are marked SYNTHETIC/derived."""

    mask: str = ""
    dicom: str | None = None
    overlay: str | None = None
    area_px: int = 0
    area_mm2: float | None = None
    score: float = 0.0
    backend: str = ""
    model: str = ""
    label: str = ""
    prompt: dict = Field(default_factory=dict)
    prompt_source: str = ""
    image_size: tuple[int, int] = (0, 0)  # (width, height)
    bbox: tuple[int, int, int, int] | None = None  # (x0, y0, x1, y1) of the mask
    centroid: tuple[float, float] | None = None  # (x, y)


class DescribeImageArgs(ToolArgs):
    """Describe an image or answer a question about it from measured facts."""

    image: str = Field(description="Image id from the workspace (e.g. img-1) or a file path.")
    question: str = Field(default="", description="Optional question about the image.")
    backend: Literal["facts", "vlm"] | None = Field(
        default=None, description="'facts' (default): measured facts worded by the LLM; 'vlm': also ask a configured multimodal model.")
    vlm_model: str | None = Field(default=None, description="Multimodal GGUF path (backend vlm).")
    vlm_mmproj: str | None = Field(default=None, description="Its projector (mmproj) GGUF path.")


class Fact(BaseModel):
    """One measured statement; `source` names what measured it, so any wording can be traced back."""

    id: str
    statement: str
    value: float | str | bool | None = None
    unit: str = ""
    source: str = ""


class DescribeImageResult(ToolResult):
    facts: list[Fact] = Field(default_factory=list)
    text: str = ""  # the answer shown to the user (LLM-worded when available)
    facts_text: str = ""  # the deterministic facts-only wording
    worded_by: Literal["llm", "facts", "vlm"] = "facts"
    question: str = ""
    vlm_text: str | None = None
