"""Retrieval evaluation on the curated questions: recall@k by card, and score distributions.

`tests/data/rag_questions.jsonl` holds `{"q": ..., "cards": [card stems]}` lines. A curated card's
source is its file stem, so a snippet counts for a question when its source is one of the cards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from knowledge.types import Snippet

REPO_ROOT = Path(__file__).resolve().parents[1]
QUESTIONS_PATH = REPO_ROOT / "tests" / "data" / "rag_questions.jsonl"
NEGATIVES_PATH = Path(__file__).resolve().parent / "calibration_negatives.txt"


@dataclass(frozen=True)
class Question:
    q: str
    cards: tuple[str, ...]


def load_questions(path: Path = QUESTIONS_PATH) -> list[Question]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            row = json.loads(line)
            out.append(Question(row["q"], tuple(row["cards"])))
    return out


def load_negatives(path: Path = NEGATIVES_PATH) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


@dataclass
class RecallResult:
    recall: float  # mean fraction of each question's expected cards found in the top k
    hit_rate: float  # fraction of questions with at least one expected card in the top k
    misses: list[tuple[str, tuple[str, ...], list[str]]]  # (question, expected, retrieved sources)


def recall_at_k(questions: list[Question], search: Callable[[str, int], list[Snippet]], k: int = 5) -> RecallResult:
    total = hits = 0.0
    misses = []
    for question in questions:
        sources = [s.source for s in search(question.q, k)]
        found = set(question.cards) & set(sources)
        total += len(found) / len(question.cards)
        hits += 1.0 if found else 0.0
        if len(found) < len(question.cards):
            misses.append((question.q, question.cards, sources))
    n = max(1, len(questions))
    return RecallResult(total / n, hits / n, misses)


def positive_scores(questions: list[Question], search: Callable[[str, int], list[Snippet]], k: int = 5) -> list[float]:
    """For each question, the best score of a snippet from one of its expected cards (if retrieved)."""
    scores = []
    for question in questions:
        best = [s.score for s in search(question.q, k) if s.source in question.cards]
        if best:
            scores.append(max(best))
    return scores


def negative_scores(queries: list[str], search: Callable[[str, int], list[Snippet]]) -> list[float]:
    """For each off-topic query, the best score of anything in the store."""
    scores = []
    for query in queries:
        top = search(query, 1)
        scores.append(top[0].score if top else float("-inf"))
    return scores
