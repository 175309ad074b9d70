"""Argument schemas for the imaging data tools (kept import-light for the catalogue)."""

from __future__ import annotations

from pydantic import Field

from tools.schemas import ToolArgs


class ImageInfoArgs(ToolArgs):
    """Show de-identified metadata of an image."""

    image: str = Field(description="Image id from the workspace (e.g. img-1) or a file path.")
