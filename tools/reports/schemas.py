"""Argument schemas for report rewriting (kept import-light for the catalogue)."""

from __future__ import annotations

from pydantic import Field

from tools.schemas import ToolArgs, ToolResult


class RewriteReportArgs(ToolArgs):
    """Rewrite a radiology report in plain language."""

    report: str = Field(description="The radiology report text to rewrite.")
    target_grade: float = Field(default=7.0, ge=3.0, le=16.0, description="Target reading grade level.")


class GlossaryEntry(ToolArgs):
    """A medical word from the report and its plain meaning."""

    term: str
    meaning: str


class RewriteResult(ToolResult):
    """The plain-language rewrite, its reading grade, a glossary and questions for the doctor.

    `flags` holds what the fidelity checker still found after one corrective retry.
    """

    text: str = ""
    grade: float = 0.0
    original_grade: float = 0.0
    target_grade: float = 7.0
    glossary: list[GlossaryEntry] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)
    attempts: int = 1
