"""Instructions hidden in retrieved documents, DICOM tags or tool outputs.

Text from those places is data, never instructions. `detect_injection` flags text that
tries to instruct the assistant; `neutralize` also removes those lines so they never
reach the LLM, keeping the rest of the document usable as evidence.
"""

from __future__ import annotations

import re

from tools.schemas import Flag

_PATTERNS = [
    r"\b(?:ignore|disregard|forget|override|bypass|skip)\b(?:\s+\w+){0,4}?\s+(?:instructions?|prompts?|rules?|"
    r"guidelines?|guardrails?|polic(?:y|ies)|system message|directions?|context)\b",
    r"\b(?:new|updated|real|actual|hidden|secret) (?:system )?(?:instructions?|prompt|rules?)\s*[:\-]",
    r"\byou are (?:now|no longer)\b", r"\b(?:act|behave|respond|pretend) (?:as|like) (?:if )?(?:you are |an? )?",
    r"\b(?:system|developer|assistant)\s*(?:prompt|message|mode)\s*[:\-]", r"\bjailbreak\w*\b", r"\bDAN mode\b",
    r"\bdeveloper mode\b", r"<\|?(?:im_start|im_end|system|endoftext|eot_id|start_header_id)\|?>", r"\[/?INST\]",
    r"^\s*#{2,}\s*(?:system|instruction|assistant)\b", r"\b(?:reveal|print|show|repeat|output) (?:your|the) "
    r"(?:system )?(?:prompt|instructions|hidden rules)\b",
    r"\b(?:call|run|invoke|execute|use) the (?:\w+ )?(?:tool|function)\b", r"\b(?:call|run|invoke|execute) (?:the )?"
    r"(?:generate_images|edit_image|segment_image|rewrite_report|search_knowledge|describe_image)\b",
    r"\bdo not (?:tell|inform|warn|mention (?:this )?to) the (?:user|patient|doctor|clinician)\b",
    r"\b(?:tell|inform) the (?:user|patient) (?:that )?(?:they|he|she) (?:ha(?:ve|s)|is|are)\b",
    r"\b(?:always|must) (?:answer|respond|say|reply)\b(?:\s+\w+){0,6}?\s+(?:regardless|no matter)\b",
    r"\bmark (?:this|the output|it) as (?:confirmed|reviewed|approved)\b", r"\bskip (?:the )?(?:review|expert)\b",
]
_INJECTION_RE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE | re.MULTILINE)


def detect_injection(text: str, *, origin: str = "text") -> Flag | None:
    """An `injection` flag quoting the first instruction-like passage, else None."""
    match = _INJECTION_RE.search(text or "")
    if match is None:
        return None
    start = max(0, match.start() - 40)
    excerpt = (text[start:match.end() + 40]).replace("\n", " ").strip()
    return Flag(type="injection", detail=f"Instruction-like text in {origin} was ignored: \"{excerpt}\"")


def neutralize(text: str, *, origin: str = "text") -> tuple[str, list[Flag]]:
    """The text without its instruction-like lines (or sentences), and a flag when any were removed."""
    if not text or _INJECTION_RE.search(text) is None:
        return text or "", []
    flag = detect_injection(text, origin=origin)
    kept = []
    for line in text.splitlines(keepends=True):
        if _INJECTION_RE.search(line) is None:
            kept.append(line)
            continue
        sentences = re.split(r"(?<=[.!?])\s+", line)
        clean = [s for s in sentences if s.strip() and _INJECTION_RE.search(s) is None]
        if clean:
            kept.append(" ".join(clean) + ("\n" if line.endswith("\n") else ""))
        else:
            kept.append("[instruction removed]\n" if line.endswith("\n") else "[instruction removed]")
    return "".join(kept), [flag] if flag else []
