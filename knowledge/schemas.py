"""Argument schema for knowledge search (kept import-light for the catalogue)."""

from __future__ import annotations

from pydantic import Field

from tools.schemas import ToolArgs


class SearchKnowledgeArgs(ToolArgs):
    """Search the knowledge base."""

    query: str = Field(description="What to look up.")
    k: int = Field(default=5, ge=1, le=50, description="How many snippets to return.")
