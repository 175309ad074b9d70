"""Argument and result schemas for knowledge search (kept import-light for the catalogue)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tools.schemas import ToolArgs, ToolResult


class SearchKnowledgeArgs(ToolArgs):
    """Search the knowledge base."""

    query: str = Field(description="What to look up.")
    k: int = Field(default=5, ge=1, le=50, description="How many snippets to return.")


class SearchKnowledgeResult(ToolResult):
    """Snippets relevant enough to cite (possibly none), each a `Snippet.to_dict()`."""

    query: str = ""
    snippets: list[dict[str, Any]] = Field(default_factory=list)
