"""Calibration of the checker's embedding fallback on the development rewrite pairs.

Why: the fallback decides that a sentence the lexicon could not read is a paraphrase of a
finding. Set too low it hides a real omission or addition; set too high it is useless. The
development pairs give both kinds of sentence pairs, labelled by the lexicon's own pairing:
- paraphrases: a finding's sentence in the original and the rewrite sentence the lexicon
  paired with it, in faithful rewrites;
- non-paraphrases: the sentence of a finding a rewrite really dropped (or added) and the
  closest sentence of the other text that passes the checker's agreement rule (stance, side,
  numbers, finding), in labelled omission/addition
  pairs; and a finding's sentence against same-stance sentences of rewrites of other reports.
The threshold is the lowest one at which at most `max_false_match` (default none) of the
non-paraphrases would be taken as paraphrases (hiding an error is the costly mistake).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "rewrite_pairs.jsonl"


@dataclass(frozen=True)
class FallbackCalibration:
    """The chosen threshold and what it does on the calibration sentence pairs."""

    threshold: float
    paraphrase_recall: float
    false_match_rate: float
    paraphrases: int
    non_paraphrases: int


def development_pairs(path: Path = DEFAULT_DATA) -> list[dict]:
    """Rewrite pairs of the development splits only; held-out splits are never calibrated on."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [p for p in rows if not p.get("split", "dev").startswith("heldout")]


def _best(sources: list, candidates: list[str]) -> float | None:
    """Best cosine over the (source statement, candidate) pairs the checker would accept apart from
    the threshold (same agreement rule: stance, side, numbers, finding); 0.0 when none agrees."""
    from agent.guardrails import embeddings
    from tools.reports.checker import _agrees

    if not sources or not candidates:
        return None
    sims = embeddings.similarity([s.sentence for s in sources], candidates)
    scores = [float(sims[i, j]) for i in range(len(sources)) for j in range(len(candidates))
              if _agrees(sources[i], candidates[j])]
    return max(scores) if scores else 0.0


def labelled_similarities(pairs: list[dict]) -> list[tuple[bool, float]]:
    """(is a paraphrase, best same-stance cosine similarity) for each calibration sentence pair."""
    from tools.reports.checker import _pair_concepts, _unexplained
    from tools.reports.statements import extract

    rows: list[tuple[bool, float]] = []
    rewrites_by_original: dict[str, list[str]] = {}
    for p in pairs:
        if not p["errors"]:
            rewrites_by_original.setdefault(p["original"], []).append(p["rewrite"])
    for p in pairs:
        orig, rew = extract(p["original"]), extract(p["rewrite"])
        paired, omitted, added = _pair_concepts(orig, rew, use_embeddings=False)
        kind = p["errors"][0]["type"] if p["errors"] else None
        if kind is None:
            for concept, partners in paired.items():
                score = _best([s for s in orig.statements if s.concept == concept],
                              [s.sentence for s in rew.statements if s.concept in partners])
                if score is not None:
                    rows.append((True, score))
            others = [r for o, rs in rewrites_by_original.items() if o != p["original"] for r in rs[:1]]
            for concept in sorted(paired)[:2]:
                sources = [s for s in orig.statements if s.concept == concept][:1]
                for other in others[::7]:
                    score = _best(sources, [s.sentence for s in extract(other).statements
                                            if not (s.concept in paired[concept])])
                    if score is not None:
                        rows.append((False, score))
        elif kind == "omission":
            known = set().union(*paired.values()) if paired else set()
            for concept in omitted:
                score = _best([s for s in orig.statements if s.concept == concept],
                              _unexplained(rew.sentences, rew, known))
                if score is not None:
                    rows.append((False, score))
        elif kind == "addition":
            for concept in added:
                score = _best([s for s in rew.statements if s.concept == concept],
                              _unexplained(orig.sentences, orig, orig.concepts() - omitted))
                if score is not None:
                    rows.append((False, score))
    return rows


def calibrate(rows: list[tuple[bool, float]], max_false_match: float = 0.0) -> FallbackCalibration:
    """Lowest threshold (0.01 steps) whose false-match rate is at most `max_false_match`."""
    positives = np.array([s for ok, s in rows if ok])
    negatives = np.array([s for ok, s in rows if not ok])
    for step in range(30, 100):
        threshold = step / 100
        false_match = float((negatives >= threshold).mean()) if negatives.size else 0.0
        if false_match <= max_false_match:
            recall = float((positives >= threshold).mean()) if positives.size else 0.0
            return FallbackCalibration(threshold, recall, false_match,
                                       int(positives.size), int(negatives.size))
    return FallbackCalibration(1.0, 0.0, 0.0, int(positives.size), int(negatives.size))


if __name__ == "__main__":
    result = calibrate(labelled_similarities(development_pairs()))
    print(result)
