"""The labelled rewrite pairs: their shape, balance, and the checker's detection rates on them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tools.reports.checker import check_rewrite

DATA = Path(__file__).resolve().parents[2] / "data" / "rewrite_pairs.jsonl"
FIDELITY = {"omission", "addition", "negation", "laterality", "measurement"}


@pytest.fixture(scope="module")
def pairs() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]


def test_set_is_balanced_across_modalities_and_error_types(pairs: list[dict]) -> None:
    assert len(pairs) >= 120
    assert {p["modality"] for p in pairs} == {"CT", "MR", "CR", "US"}
    faithful = [p for p in pairs if not p["errors"]]
    errored = [p for p in pairs if p["errors"]]
    assert abs(len(faithful) - len(errored)) <= len(pairs) * 0.1
    assert all(len(p["errors"]) == 1 for p in errored)
    counts = Counter(p["errors"][0]["type"] for p in errored if p.get("split") == "dev")
    assert set(counts) == FIDELITY and max(counts.values()) - min(counts.values()) <= 2
    assert {p.get("split") for p in pairs} >= {"dev", *(f"dev{i}" for i in range(3, 22)), "heldout19"}
    heldout = [p for p in pairs if p.get("split") == "heldout19"]
    assert len(heldout) >= 60 and {p["modality"] for p in heldout} == {"CT", "MR", "CR", "US"}
    assert {p["errors"][0]["type"] for p in heldout if p["errors"]} == FIDELITY


# Development splits whose failures have been worked through; the checker meets the targets on them.
AT_TARGET = ("dev", "dev2", "dev3", "dev4", "dev5")
STUDIED = tuple(f"dev{i}" for i in (*range(6, 20), 21))  # long reports in new voices, studied after one measurement


def _rates(pairs: list[dict]) -> tuple[float, float]:
    errored = [p for p in pairs if p["errors"]]
    faithful = [p for p in pairs if not p["errors"]]
    flagged = lambda p: bool({f.type for f in check_rewrite(p["original"], p["rewrite"], 99,  # noqa: E731
                                                            use_embeddings=False).flags} & FIDELITY)
    return (sum(map(flagged, errored)) / len(errored), sum(map(flagged, faithful)) / len(faithful))


def test_checker_detects_inserted_errors_and_spares_faithful_rewrites(pairs: list[dict]) -> None:
    """On the development splits (held-out splits are only measured, in `radagent bench`)."""
    detection, false_flags = _rates([p for p in pairs if p.get("split", "dev") in AT_TARGET])
    assert detection >= 0.95
    assert false_flags <= 0.05


def test_checker_on_the_split_still_being_studied_does_not_regress(pairs: list[dict]) -> None:
    """dev6 to dev19 and dev21 (long reports with rewrites in new voices, each measured once while
    unseen) are held near the targets; this guards what has been reached on them without the
    embedding fallback. dev20 is still under study and not held here yet."""
    detection, false_flags = _rates([p for p in pairs if p.get("split") in STUDIED])
    assert detection >= 0.95
    assert false_flags <= 0.10
