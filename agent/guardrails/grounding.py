"""Does each factual sentence of an answer trace to a retrieved snippet or a tool output?

Four checks, cheapest first, none of them asking the LLM: every number in the claim must
occur in the evidence; every named entity (acronyms, capitalised names) must occur in the
evidence; the claim must not reverse the evidence sentence closest to it (an antonym or a
negation, see `contradiction`); and it must be semantically close (MiniLM cosine similarity)
to some evidence sentence. A claim failing any check is flagged `ungrounded` with the sentence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

from agent.guardrails.contradiction import contradiction
from tools.schemas import Flag

# Support score a claim needs with its closest evidence unit: the higher of MiniLM cosine
# similarity and content-word containment. Calibrated on tests/data/grounding.jsonl (43
# items, 141 labelled claims, 55 unsupported) by `agent.guardrails.calibration.calibrate()`,
# which sweeps 0.30-0.90 and keeps the F1-best cut-off for the `ungrounded` flag after the
# number, entity and side checks: 0.63 gave precision 0.98, recall 0.89 in-sample
# (two-fold cross-validated figures are in `radagent bench --only guardrails`).
GROUNDING_THRESHOLD = 0.63

_CITATION_RE = re.compile(r"\[\d{1,2}(?:\s*[,;]\s*\d{1,2})*\]")
_NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])|(?<![\w.])\d+(?=[a-zA-Z%°²³×x])")
_ENTITY_RE = re.compile(r"\b(?:[A-Z][a-z]+(?:[A-Z][a-zA-Z]+)+|[A-Z]{2,}[a-z]?\d*|[A-Z][a-zA-Z]*-[A-Za-z0-9-]+|"
                        r"(?<=\s)[A-Z][a-z]{2,})\b")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n+")
_NON_FACTUAL_RE = re.compile(
    r"^(?:hi|hello|thanks|thank you|sure|of course|i (?:can|could|will|would|am|'m|don't|do not|cannot)|"
    r"let me|please|you (?:can|could|may|might|should)|feel free|if you|would you|do you|note that|"
    r"this (?:is not|isn't) (?:medical advice|a diagnosis)|i'm not able|as an ai|sources?:|references?:)\b",
    re.IGNORECASE)
# Capitalised words that are not names: sentence starters, units, modalities everyone writes.
_COMMON_CAPS = {
    "The", "This", "That", "These", "Those", "It", "Its", "A", "An", "In", "On", "At", "For", "With", "By", "As",
    "If", "When", "While", "Both", "Each", "Some", "Many", "Most", "One", "Two", "Three", "Four", "Five", "Yes",
    "No", "Not", "And", "But", "Or", "So", "Such", "Also", "However", "Because", "After", "Before", "Then", "There",
    "Here", "They", "We", "You", "He", "She", "His", "Her", "Their", "Our", "Your", "I", "SYNTHETIC", "NOTE",
    "Using", "Like", "Unlike", "Sampling", "Training", "Generated", "Four", "Denoising", "Registration",
}


@dataclass(frozen=True)
class ClaimCheck:
    """The verdict on one claim, with the evidence similarity it reached (for calibration)."""

    claim: str
    supported: bool
    similarity: float
    reason: str


def split_claims(answer: str) -> list[str]:
    """Factual sentences of an answer; greetings, offers and questions are not claims."""
    text = _CITATION_RE.sub("", answer or "")
    sentences = [s.strip(" -•*\t") for s in _SENTENCE_RE.split(text)]
    claims = []
    for s in sentences:
        words = re.findall(r"[A-Za-z]+", s)
        if len(words) < 3 or s.endswith("?") or _NON_FACTUAL_RE.match(s):
            continue
        claims.append(s)
    return claims


def _flatten(value: Any, prefix: str = "") -> Iterable[str]:
    """Tool outputs as "key: value" lines, so "area_px: 15320" is evidence for "15320 pixels"."""
    if isinstance(value, dict):
        for key, val in value.items():
            yield from _flatten(val, f"{prefix}{key} " if not prefix else f"{prefix}{key} ")
    elif isinstance(value, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in value):
            yield f"{prefix.replace('_', ' ')}: {', '.join(str(v) for v in value)}"
        else:
            for v in value:
                yield from _flatten(v, prefix)
    else:
        yield f"{prefix.replace('_', ' ')}: {value}".strip()


def _evidence_units(snippets: list[Any], tool_outputs: list[dict[str, Any]]) -> list[str]:
    units: list[str] = []
    for snippet in snippets:
        text = snippet.get("text", "") if isinstance(snippet, dict) else getattr(snippet, "text", "")
        sentences = [s.strip() for s in _SENTENCE_RE.split(text) if s.strip()]
        units.extend(sentences)
        units.extend(f"{a} {b}" for a, b in zip(sentences, sentences[1:]))  # claims that merge two sentences
    for output in tool_outputs:
        if isinstance(output, str):
            try:
                output = json.loads(output)
            except ValueError:
                units.append(output)
                continue
        units.extend(line for line in _flatten(output) if len(line) > 3)
        summary = output.get("summary") if isinstance(output, dict) else None
        if summary:
            units.extend(s.strip() for s in _SENTENCE_RE.split(str(summary)) if s.strip())
    return units


def _numbers(text: str) -> list[tuple[str, float]]:
    out = []
    for token in _NUMBER_RE.findall(text):
        try:
            out.append((token, float(token.replace(",", ""))))
        except ValueError:
            continue
    return out


_WORD_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "twelve": 12, "hundred": 100, "thousand": 1000, "million": 1e6, "billion": 1e9}


def _number_supported(token: str, value: float, evidence_numbers: set[float]) -> bool:
    """Exact, or the evidence rounded to the claim's precision ("0.9" for 0.91, "34" for 34.2),
    never a rounding that moves the value by more than 5% ("1" is not 0.68)."""
    decimals = len(token.split(".")[1]) if "." in token else 0
    return any(abs(value - e) < 1e-9 or (round(e, decimals) == value and abs(value - e) <= 0.05 * max(abs(e), 1e-9))
               for e in evidence_numbers)


_STOP = set("""a an the of in on at to for with by from as is are was were be been being it its this that these
those and or but not no can could may might will would should has have had do does did than then there their
which who what when where how into onto about over under after before such also very more most much many""".split())


def _stems(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {re.sub(r"(?:ing|ed|es|s)$", "", w) if len(w) > 4 else w for w in words if w not in _STOP and len(w) > 1}


def _containment(claim: str, unit: str) -> float:
    """Share of the claim's content words that the evidence unit contains."""
    words = _stems(claim)
    return len(words & _stems(unit)) / len(words) if words else 0.0


def _acronym_in(entity: str, evidence_text: str) -> bool:
    """"GAN" or "LLMs" is supported by "generative adversarial network(s)" / "large language models"."""
    letters = re.sub(r"s$", "", entity)
    if not letters.isupper() or not 2 <= len(letters) <= 6:
        return False
    words = re.findall(r"[A-Za-z]+", evidence_text)
    initials = "".join(w[0].upper() for w in words)
    return letters in initials


_SIDE_RE = re.compile(r"\b(left|right)\b", re.IGNORECASE)


def check_claim(claim: str, evidence: list[str], evidence_text: str, evidence_numbers: set[float],
                threshold: float = GROUNDING_THRESHOLD) -> ClaimCheck:
    """Numbers, then entities, then semantic similarity; the first failing check decides."""
    for token, value in _numbers(claim):
        if not _number_supported(token, value, evidence_numbers):
            return ClaimCheck(claim, False, 0.0, f"the number {token} is not in the sources or tool outputs")
    lowered = evidence_text.lower()
    for entity in set(_ENTITY_RE.findall(claim)) - _COMMON_CAPS:
        singular = re.sub(r"s$", "", entity)
        if entity.lower() not in lowered and singular.lower() not in lowered and not _acronym_in(entity, evidence_text):
            return ClaimCheck(claim, False, 0.0, f"'{entity}' is not named in the sources or tool outputs")
    for side in {m.lower() for m in _SIDE_RE.findall(claim)}:
        if not re.search(rf"\b{side}\b", lowered):
            return ClaimCheck(claim, False, 0.0, f"the side '{side}' is not in the sources or tool outputs")
    if not evidence:
        return ClaimCheck(claim, False, 0.0, "there are no sources or tool outputs to support it")
    from agent.guardrails import embeddings

    # Support is the closer of meaning (MiniLM cosine) and wording (content-word containment):
    # MiniLM under-rates short factual paraphrases of long evidence sentences.
    cosine = embeddings.similarity([claim], evidence)[0]
    scores = [max(float(c), _containment(claim, unit)) for c, unit in zip(cosine, evidence)]
    best = max(range(len(evidence)), key=scores.__getitem__)
    similarity = float(scores[best])
    # The closest evidence sentence decides polarity: a claim that reverses it is not grounded,
    # however similar the two read.
    conflict = contradiction(claim, evidence[best])
    if conflict is not None:
        return ClaimCheck(claim, False, similarity, f"{conflict} (\"{evidence[best][:120]}\")")
    if similarity < threshold:
        return ClaimCheck(claim, False, similarity,
                          f"no source or tool output says this (closest similarity {similarity:.2f})")
    return ClaimCheck(claim, True, similarity, "")


def check_claims(answer: str, snippets: list[Any], tool_outputs: list[dict[str, Any]],
                 threshold: float = GROUNDING_THRESHOLD) -> list[ClaimCheck]:
    evidence = _evidence_units(snippets, tool_outputs)
    evidence_text = "\n".join(evidence)
    numbers = {value for _, value in _numbers(evidence_text)}
    for word, value in _WORD_NUMBERS.items():
        if re.search(rf"\b{word}\b", evidence_text, re.IGNORECASE):
            numbers.add(float(value))
    return [check_claim(c, evidence, evidence_text, numbers, threshold) for c in split_claims(answer)]


def check_answer(answer: str, snippets: list[Any], tool_outputs: list[dict[str, Any]]) -> list[Flag]:
    """One `ungrounded` flag per factual sentence that no snippet or tool output supports."""
    return [Flag(type="ungrounded", detail=f"\"{c.claim}\": {c.reason}.")
            for c in check_claims(answer, snippets, tool_outputs) if not c.supported]
