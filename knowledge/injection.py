"""Spot instruction-like text in documents so it can be flagged; such text is still stored as data.

Documents are evidence, never instructions. A chunk that reads like a prompt injection
("ignore previous instructions", "you are now ...") keeps its text unchanged in the store; its
metadata carries `instruction_like=True` so answers that cite it can be flagged.
"""

from __future__ import annotations

import re

_PATTERNS = [
    r"\b(ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(previous|prior|above|earlier|all|any|your|the)\b"
    r"[^.\n]{0,30}\b(instructions?|prompts?|rules|guidelines|directions|context)\b",
    r"\byou are (now|no longer)\b",
    r"\b(new|updated|real) (system )?instructions?\s*:",
    r"\bsystem prompt\b",
    r"\b(act|behave|respond) as (if you were |an? )?(unrestricted|jailbroken|dan|developer mode)\b",
    r"\bdo not (tell|inform|reveal to) the (user|clinician|patient)\b",
    r"^\s*(system|assistant)\s*:",
    r"<\|?(im_start|im_end|system|endoftext)\|?>",
    r"\b(call|run|invoke|execute) the (tool|function|command)\b",
]
_INSTRUCTION_LIKE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE | re.MULTILINE)


def looks_like_instructions(text: str) -> bool:
    """True when the text contains phrasing aimed at steering an assistant rather than informing a reader."""
    return bool(_INSTRUCTION_LIKE.search(text))
