"""Recompute `knowledge.retriever.RELEVANCE_THRESHOLD` from the curated questions.

    python -m knowledge.calibrate            # print the distributions and the recommended value
    python -m knowledge.calibrate --write    # also write it into knowledge/retriever.py

Positives: for each question in tests/data/rag_questions.jsonl, the best score of a snippet from
one of its expected cards. Negatives: for each off-topic question in
knowledge/calibration_negatives.txt, the best score of anything. The threshold is the one that
rejects every negative while keeping the most positives, placed in the middle of the widest gap
that does so, so that small shifts in either distribution do not flip results.
"""

from __future__ import annotations

import argparse
import re
import statistics
from pathlib import Path

RETRIEVER_PATH = Path(__file__).resolve().parent / "retriever.py"


def choose_threshold(positives: list[float], negatives: list[float]) -> float:
    """The cut that keeps the most positives with no negative above it, centred in its gap."""
    if not positives:
        raise ValueError("no positive scores: is the curated corpus indexed?")
    ceiling = max(negatives) if negatives else min(positives) - 0.1
    above = sorted(p for p in positives if p > ceiling)
    if not above:  # the distributions overlap completely; fall back to the negatives' ceiling
        return round(ceiling + 0.01, 2)
    return round((ceiling + above[0]) / 2, 2)


def _describe(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    if not ordered:
        return f"{name}: none"
    q = statistics.quantiles(ordered, n=10) if len(ordered) >= 2 else ordered
    return (f"{name}: n={len(ordered)} min={ordered[0]:.3f} p10={q[0]:.3f} median={statistics.median(ordered):.3f} "
            f"max={ordered[-1]:.3f}")


def calibrate(write: bool = False, k: int = 5) -> float:
    from knowledge.evaluation import load_negatives, load_questions, negative_scores, positive_scores
    from knowledge.ingest import index_curated_corpus
    from knowledge.retriever import RELEVANCE_THRESHOLD, search

    index_curated_corpus(echo=print, progress=True)
    questions = load_questions()
    positives = positive_scores(questions, search, k=k)
    negatives = negative_scores(load_negatives(), search)
    threshold = choose_threshold(positives, negatives)
    print(_describe("positives (expected card's best score)", positives))
    print(_describe("negatives (off-topic best score)", negatives))
    print(f"questions whose expected card is not in the top {k}: {len(questions) - len(positives)}")
    kept = sum(p >= threshold for p in positives) / max(1, len(positives))
    rejected = sum(n < threshold for n in negatives) / max(1, len(negatives))
    print(f"recommended threshold {threshold:.2f} (current {RELEVANCE_THRESHOLD:.2f}): keeps {kept:.0%} of "
          f"positives, rejects {rejected:.0%} of negatives")
    if write:
        text = RETRIEVER_PATH.read_text(encoding="utf-8")
        text = re.sub(r"^RELEVANCE_THRESHOLD = [0-9.]+", f"RELEVANCE_THRESHOLD = {threshold:.2f}", text,
                      count=1, flags=re.MULTILINE)
        RETRIEVER_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {RETRIEVER_PATH}")
    return threshold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the value into knowledge/retriever.py")
    parser.add_argument("-k", type=int, default=5, help="results per question considered")
    args = parser.parse_args()
    calibrate(write=args.write, k=args.k)


if __name__ == "__main__":
    main()
