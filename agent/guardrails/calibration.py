"""Calibration of the grounding threshold on the labelled claims in tests/data/grounding.jsonl.

Why a sweep rather than a guess: MiniLM similarities of true paraphrases and of unrelated
sentences overlap, and where the cut-off sits trades missed hallucinations against false
alarms; the data decide, and the result is reported with its precision and recall.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from agent.guardrails.grounding import _evidence_units, _numbers, _WORD_NUMBERS, check_claim

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "grounding.jsonl"


@dataclass(frozen=True)
class Calibration:
    """Best threshold and the precision/recall of the `ungrounded` flag at it."""

    threshold: float
    precision: float
    recall: float
    f1: float
    claims: int
    unsupported: int


def load_items(path: Path = DEFAULT_DATA) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def scored_claims(items: list[dict]) -> list[tuple[bool, bool, float]]:
    """(labelled supported, passed number/entity checks, similarity) per labelled claim."""
    import re

    rows = []
    for item in items:
        evidence = _evidence_units(item["snippets"], item["tool_outputs"])
        text = "\n".join(evidence)
        numbers = {v for _, v in _numbers(text)}
        numbers |= {float(v) for w, v in _WORD_NUMBERS.items() if re.search(rf"\b{w}\b", text, re.IGNORECASE)}
        for claim in item["claims"]:
            verdict = check_claim(claim["text"], evidence, text, numbers, threshold=-1.0)
            rows.append((claim["supported"], verdict.supported, verdict.similarity))
    return rows


def precision_recall(rows: list[tuple[bool, bool, float]], threshold: float) -> tuple[float, float]:
    """Of the `ungrounded` flag: precision (flags that are right) and recall (unsupported caught)."""
    flagged = [(label, (not passed) or sim < threshold) for label, passed, sim in rows]
    tp = sum(1 for label, flag in flagged if flag and not label)
    fp = sum(1 for label, flag in flagged if flag and label)
    fn = sum(1 for label, flag in flagged if not flag and not label)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def calibrate(items: list[dict] | None = None) -> Calibration:
    """The threshold in [0.30, 0.90] that maximises F1; ties go to the lower (fewer false alarms)."""
    rows = scored_claims(items if items is not None else load_items())
    best: Calibration | None = None
    for step in range(30, 91):
        threshold = step / 100
        p, r = precision_recall(rows, threshold)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        if best is None or f1 > best.f1 + 1e-9:
            best = Calibration(threshold, p, r, f1, len(rows), sum(1 for label, _, _ in rows if not label))
    assert best is not None
    return best


def cross_validated(items: list[dict] | None = None, folds: int = 2) -> tuple[float, float]:
    """Out-of-fold precision/recall: calibrate on the other folds, measure on the held-out one."""
    items = items if items is not None else load_items()
    tp = fp = fn = 0
    for k in range(folds):
        train = [it for i, it in enumerate(items) if i % folds != k]
        test_rows = scored_claims([it for i, it in enumerate(items) if i % folds == k])
        threshold = calibrate(train).threshold
        for label, passed, sim in test_rows:
            flag = (not passed) or sim < threshold
            tp += flag and not label
            fp += flag and label
            fn += (not flag) and not label
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)
