"""Retrieval: nearest chunks by embedding, a small title/keyword boost, and a calibrated cut-off.

`search()` returns the top k whatever their relevance (for `radagent kb search`); `retrieve()`
returns only snippets whose score clears `RELEVANCE_THRESHOLD`, so an off-topic question gets no
snippets and the agent can say the knowledge base has no answer instead of citing noise.
"""

from __future__ import annotations

import re
from typing import Any

from agent.errors import InvalidInputError
from knowledge.store import Hit, KnowledgeStore, open_store
from knowledge.types import Snippet

# Calibrated by `python -m knowledge.calibrate` on tests/data/rag_questions.jsonl: the best score of
# each question's expected card (positives) against the best score of off-topic questions
# (knowledge/calibration_negatives.txt). The threshold sits between the lowest positives and the
# highest negatives, chosen to keep nearly every positive while rejecting every negative; the
# script prints both distributions and the recommended value. Re-run it when the corpus, the
# embedding model, the chunker or the boost changes.
RELEVANCE_THRESHOLD = 0.32

# Hybrid boost: a query term that also appears in a chunk's title or heading path (e.g. "DDIM"
# in "DDIM: denoising diffusion implicit models") adds this much per matched term, capped.
TITLE_TERM_BOOST = 0.04
MAX_BOOST = 0.12
CANDIDATES_PER_RESULT = 4  # neighbours fetched per requested result, re-ranked after the boost
MIN_CANDIDATES = 20
MAX_K = 50
# At most this many chunks of one source in a result list: a long card otherwise fills the top k
# with near-duplicates and crowds out the second card a comparison question needs.
MAX_PER_SOURCE = 2

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-+]*")
_STOPWORDS = frozenset("""
a an and are as at be been but by can could did do does for from had has have how i if in into is it
its me my no not of on or our so than that the their them then there these they this to was we were
what when where which while who why will with would you your about between versus vs more most less
than use used using make makes made get gets work works done better faster slower other than
""".split())


def _terms(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if w.lower() not in _STOPWORDS and len(w) > 1}


def keyword_boost(query_terms: set[str], metadata: dict[str, Any]) -> float:
    """Bonus for query terms found in the chunk's title or heading path (not its body: the embedding
    already covers the body, and titles name what a card is about)."""
    if not query_terms:
        return 0.0
    label = f"{metadata.get('title', '')} {metadata.get('headings', '')} {metadata.get('source', '')}"
    matched = query_terms & _terms(label.replace("_", " "))
    return min(MAX_BOOST, TITLE_TERM_BOOST * len(matched))


def _to_snippet(hit: Hit, score: float) -> Snippet:
    meta = hit.metadata
    return Snippet(
        text=hit.text,
        source=str(meta.get("source", "")),
        title=str(meta.get("title", "")),
        score=round(float(score), 4),
        chunk_id=hit.chunk_id,
        topic=str(meta.get("topic", "")),
        reference=str(meta.get("reference", "")),
        instruction_like=bool(meta.get("instruction_like", False)),
    )


def _validate(query: str, k: int) -> str:
    query = (query or "").strip()
    if not query:
        raise InvalidInputError("The search query is empty.", "Ask a question or give a few keywords.")
    if not 1 <= k <= MAX_K:
        raise InvalidInputError(f"k must be between 1 and {MAX_K} (got {k}).", "Use -k 5 for a typical search.")
    return query


def search(query: str, k: int = 5, store: KnowledgeStore | None = None, boost: bool = True,
           max_per_source: int | None = MAX_PER_SOURCE) -> list[Snippet]:
    """The k best-scoring chunks, best first, whatever their relevance. Score = cosine similarity
    of the query and chunk embeddings plus the title/keyword boost; at most `max_per_source`
    chunks per source (None: no cap)."""
    from knowledge.embeddings import embed_query

    query = _validate(query, k)
    store = store or open_store()
    hits = store.query(embed_query(query), max(MIN_CANDIDATES, k * CANDIDATES_PER_RESULT))
    terms = _terms(query) if boost else set()
    scored = [(hit.similarity + keyword_boost(terms, hit.metadata), hit) for hit in hits]
    scored.sort(key=lambda pair: pair[0], reverse=True)
    picked: list[Snippet] = []
    per_source: dict[str, int] = {}
    for score, hit in scored:
        source = str(hit.metadata.get("source", ""))
        if max_per_source is not None and per_source.get(source, 0) >= max_per_source:
            continue
        per_source[source] = per_source.get(source, 0) + 1
        picked.append(_to_snippet(hit, score))
        if len(picked) == k:
            break
    return picked


def retrieve(query: str, k: int = 5, store: KnowledgeStore | None = None,
             threshold: float | None = None) -> list[Snippet]:
    """Up to k snippets relevant enough to cite (score >= the calibrated threshold); [] when nothing is."""
    cut = RELEVANCE_THRESHOLD if threshold is None else threshold
    return [s for s in search(query, k, store=store) if s.score >= cut]
