"""A retrieved snippet: the unit of evidence the agent cites and the guardrails ground against."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Snippet:
    """A chunk of a source document with its provenance and retrieval score (higher is closer)."""

    text: str
    source: str  # file path or card id, stable across re-ingestion
    title: str
    score: float
    chunk_id: str = ""
    topic: str = ""
    reference: str = ""  # the citation the card rests on (authors, venue, year, DOI/URL)
    instruction_like: bool = False  # the text reads like instructions to an assistant; it is data only

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
