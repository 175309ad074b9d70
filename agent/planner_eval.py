"""Scoring planner decisions against labelled requests (tests/data/routing.jsonl).

Routing is right when the tool matches (None for "no tool"). Arguments are right when every
labelled argument matches: numbers and enums exactly, image references exactly, and free text
(queries, targets, conditions, questions, report excerpts) when most of the labelled content
words appear in what the planner produced. A case may also list `absent` arguments the request
gives no value for (an invented seed is wrong even when every labelled argument is right).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROUTING_FILE = Path(__file__).resolve().parents[1] / "tests" / "data" / "routing.jsonl"
FREE_TEXT = {"query", "condition", "question", "attribute", "target", "report"}
_STOP = frozenset("a an the of in on at to for and or with is are be what how does do vs versus btw "
                  "this that it its my me please pls".split())
_SYNONYMS = {"tumor": "tumour", "lungs": "lung", "mri": "mr"}


def _words(text: str) -> set[str]:
    out = set()
    for w in re.findall(r"[a-z0-9]+", text.lower().replace("_", " ")):
        if w in _STOP:
            continue
        w = _SYNONYMS.get(w, w)
        w = w[:-1] if len(w) > 3 and w.endswith("s") else w
        out.add(w[:5])  # a crude stem: memorize/memorization, evaluate/evaluation
    return out


def value_matches(key: str, expected: Any, got: Any) -> bool:
    if got is None:
        return False
    if key in FREE_TEXT and isinstance(expected, str):
        want, have = _words(expected), _words(str(got))
        if not want:
            return True
        return len(want & have) / len(want) >= 0.6
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        try:
            return abs(float(got) - float(expected)) < 1e-6
        except (TypeError, ValueError):
            return False
    if isinstance(expected, list):
        return isinstance(got, (list, tuple)) and len(got) == len(expected) and all(
            value_matches("", e, g) for e, g in zip(expected, got))
    if isinstance(expected, str) and isinstance(got, str):
        return expected.strip().lower() == got.strip().lower()
    return expected == got


def args_match(expected: dict[str, Any], got: dict[str, Any]) -> bool:
    return all(value_matches(k, v, got.get(k)) for k, v in expected.items())


@dataclass
class RoutingScore:
    total: int = 0
    tool_correct: int = 0
    args_correct: int = 0  # among requests routed to the right tool
    args_total: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tool_accuracy(self) -> float:
        return self.tool_correct / self.total if self.total else 0.0

    @property
    def args_accuracy(self) -> float:
        return self.args_correct / self.args_total if self.args_total else 0.0

    def add(self, case: dict[str, Any], decision: dict[str, Any]) -> None:
        self.total += 1
        if decision.get("tool") != case["tool"]:
            self.errors.append({"q": case["q"], "want": case["tool"], "got": decision.get("tool"),
                                "args": decision.get("args")})
            return
        self.tool_correct += 1
        if case["tool"] is None:
            return
        self.args_total += 1
        got = decision.get("args") or {}
        if args_match(case.get("args") or {}, got) and not set(case.get("absent") or ()) & set(got):
            self.args_correct += 1
        else:
            self.errors.append({"q": case["q"], "want_args": case.get("args"), "got_args": decision.get("args")})


def load_cases(path: Path = ROUTING_FILE) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
