"""Argument schemas for segmentation and description (kept import-light for the catalogue)."""

from __future__ import annotations

from pydantic import Field

from tools.schemas import ToolArgs


class SegmentImageArgs(ToolArgs):
    """Promptable segmentation: give a point, points, a box or a named target."""

    image: str = Field(description="Image id from the workspace (e.g. img-1) or a file path.")
    point: tuple[float, float] | None = Field(default=None, description="(x, y) pixel inside the structure.")
    points: list[tuple[float, float]] | None = Field(default=None, description="Several (x, y) prompts.")
    labels: list[int] | None = Field(default=None, description="1 positive / 0 negative for each of points.")
    box: tuple[float, float, float, float] | None = Field(default=None, description="(x0, y0, x1, y1) box around the structure.")
    target: str | None = Field(default=None, description="Named structure, e.g. 'left lung', 'heart', 'nodule'.")


class DescribeImageArgs(ToolArgs):
    """Describe an image or answer a question about it from measured facts."""

    image: str = Field(description="Image id from the workspace (e.g. img-1) or a file path.")
    question: str = Field(default="", description="Optional question about the image.")
