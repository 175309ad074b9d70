"""Argument schemas for report rewriting (kept import-light for the catalogue)."""

from __future__ import annotations

from pydantic import Field

from tools.schemas import ToolArgs


class RewriteReportArgs(ToolArgs):
    """Rewrite a radiology report in plain language."""

    report: str = Field(description="The radiology report text to rewrite.")
    target_grade: float = Field(default=7.0, ge=3.0, le=16.0, description="Target reading grade level.")
