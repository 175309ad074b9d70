"""Masking of protected health information in free text before it reaches the LLM.

Why rules: an LLM must never see PHI, so masking cannot depend on one. Names with a title
or a label ("Mr John Smith", "Patient: Jane Doe"), dates of birth and other full dates,
record numbers, phone numbers, emails and street addresses are replaced by typed
placeholders ("[NAME]", "[DATE]", ...), each counted in one `phi` flag.
"""

from __future__ import annotations

import re
from collections import Counter

from tools.schemas import Flag

_NAME = r"(?:[A-Z]\.|[A-Z][a-zA-Z'\-]+)(?:\s+[A-Z](?:\.|(?=\s)))?(?:\s+[A-Z][a-zA-Z'\-]+){0,2}"
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_DATE = (r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH +
         r",?\s+\d{4}|" + _MONTH + r"\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})")

# (kind, pattern); the first group, when present, is the part to mask.
_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("DOB", re.compile(r"\b(?:DOB|D\.O\.B\.?|date of birth|born(?: on)?)\s*[:\-]?\s*(" + _DATE + r")", re.IGNORECASE)),
    ("ID", re.compile(r"\b(?:MRN|medical record (?:number|no\.?)|record (?:number|no\.?)|hospital (?:number|no\.?)|"
                      r"patient ID|NHS (?:number|no\.?)|accession(?: number| no\.?)?|SSN|social security(?: number)?|"
                      r"ID)\s*[:#\-]?\s*([A-Z0-9][A-Z0-9\-]{3,})\b", re.IGNORECASE)),
    ("PHONE", re.compile(r"(?<![\w.])(?:\+?\d{1,3}[\s.\-]?)?(?:\(\d{2,5}\)\s*|\d{2,5}[\s.\-])\d{3,4}[\s.\-]\d{3,4}(?![\w.])")),
    ("ADDRESS", re.compile(r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|"
                           r"Boulevard|Blvd|Court|Ct|Way|Place|Pl|Close|Crescent|Terrace|Square)\b\.?(?:,\s*[A-Z][a-z]+)*"
                           r"(?:,?\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?|,?\s*[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})?")),
    ("POSTCODE", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b")),
    ("NAME", re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Sir|Dame)\.?\s+(" + _NAME + r")")),
    ("NAME", re.compile(r"\b(?:patient(?: name)?|name|pt|surname|first name|referr(?:er|ing (?:physician|doctor|clinician))|"
                        r"reported by|dictated by|signed by|verified by|radiologist)\s*[:\-]\s*(" + _NAME + r")",
                        re.IGNORECASE)),
    ("DATE", re.compile(r"\b(" + _DATE + r")\b", re.IGNORECASE)),
]


def mask_phi(text: str) -> tuple[str, list[Flag]]:
    """(masked text, [one `phi` flag listing what was masked]) — an empty list when nothing was."""
    if not text:
        return text or "", []
    counts: Counter[str] = Counter()
    masked = text
    for kind, pattern in _RULES:
        placeholder = "[NAME]" if kind == "NAME" else "[DATE]" if kind in ("DOB", "DATE") else f"[{kind}]"

        def replace(match: re.Match[str], kind: str = kind, placeholder: str = placeholder) -> str:
            counts[kind] += 1
            if match.groups() and match.group(1):
                start, end = match.span(1)
                whole_start = match.start()
                return match.group(0)[: start - whole_start] + placeholder + match.group(0)[end - whole_start:]
            return placeholder

        masked = pattern.sub(replace, masked)
    if not counts:
        return masked, []
    summary = ", ".join(f"{n} {kind.lower()}" for kind, n in sorted(counts.items()))
    return masked, [Flag(type="phi", detail=f"Masked personal data before it reached the language model: {summary}.")]
