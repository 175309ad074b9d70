"""A deterministic plain-words pass over a rewrite that still reads above the target grade.

Small local models often leave the jargon in place. Swapping a term for the lay phrase the
fidelity lexicon already equates with it ("pleural effusion" -> "fluid around the lung")
lowers the reading grade without changing a fact; the checker re-verifies the result, and the
glossary keeps the medical word next to its meaning.
"""

from __future__ import annotations

import re

# Longest first; each lay phrase is one the checker's lexicon maps to the same finding.
REPLACEMENTS: tuple[tuple[str, str], ...] = (
    (r"(small|moderate|large|mild|trace) (left|right) pleural effusions?", r"a \1 amount of fluid around the \2 lung"),
    (r"bilateral (small|moderate|large|mild|trace) pleural effusions", r"a \1 amount of fluid around both lungs"),
    (r"(small|moderate|large|mild|trace) (?:bilateral )?pleural effusions", r"a \1 amount of fluid around both lungs"),
    (r"(small|moderate|large|mild|trace) pleural effusion", r"a \1 amount of fluid around the lung"),
    (r"there is no (mediastinal or hilar )?lymphadenopathy", r"there are no enlarged lymph nodes"),
    (r"solid nodule", "solid spot"),
    (r"mediastinal or hilar lymphadenopathy", "enlarged lymph nodes in the middle of the chest"),
    (r"pleural effusions?", "fluid around the lung"),
    (r"pericardial effusion", "fluid around the heart"),
    (r"pneumothora(?:x|ces)", "collapsed lung"),
    (r"lymphadenopathy", "enlarged lymph nodes"),
    (r"cardiomegaly", "an enlarged heart"),
    (r"centrilobular emphysema", "emphysema (damage to the air sacs)"),
    (r"consolidation", "an area of lung filled with fluid or infection"),
    (r"atelectasis", "a partly collapsed area of lung"),
    (r"renal calcul(?:us|i)", "kidney stone"),
    (r"hydronephrosis", "swelling of the kidney"),
    (r"hepatomegaly", "an enlarged liver"), (r"splenomegaly", "an enlarged spleen"),
    (r"haemorrhage|hemorrhage", "bleeding"), (r"nodules", "small spots"), (r"nodule", "small spot"),
    (r"right lower lobe", "lower part of the right lung"), (r"left lower lobe", "lower part of the left lung"),
    (r"right upper lobe", "upper part of the right lung"), (r"left upper lobe", "upper part of the left lung"),
    (r"right middle lobe", "middle part of the right lung"),
    (r"is (?:noted|observed|identified|demonstrated|seen)", "is seen"),
    (r"is present", "is there"),
)
_COMPILED = [(re.compile(rf"(?<![\w-]){p}(?![\w-])", re.IGNORECASE), r) for p, r in REPLACEMENTS]


def plain_terms(text: str) -> str:
    """The text with listed medical terms replaced by their lay phrases (case kept at sentence start)."""
    def swap(replacement: str):  # type: ignore[no-untyped-def]
        def inner(match: re.Match[str]) -> str:
            word = match.group(0)
            out = match.expand(replacement).lower()
            return out[:1].upper() + out[1:] if word[:1].isupper() else out
        return inner

    for pattern, replacement in _COMPILED:
        text = pattern.sub(swap(replacement), text)
    text = re.sub(r"\b([Aa]) (an?) ", lambda m: m.group(2).capitalize() + " " if m.group(1) == "A" else m.group(2) + " ",
                  text)
    return text
