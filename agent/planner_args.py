"""Arguments read straight from the request text, where the wording leaves no doubt.

A 1.5B model routes well but copies numbers carelessly: it drops a stated count ("four"), puts a
measurement ("12 mm") into the seed, or forgets the finding to condition on. These functions read
such values deterministically; the planner prefers them over the model's guess whenever they
find something, and uses the model's value only when the text is silent.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

DOMAIN_TERMS_FILE = Path(__file__).with_name("domain_terms.txt")

NUMBER_WORDS = {"one": 1, "single": 1, "a": 1, "an": 1, "two": 2, "pair": 2, "couple": 2, "three": 3,
                "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
                "eleven": 11, "twelve": 12, "dozen": 12, "sixteen": 16, "twenty": 20}
_COUNT = r"(\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
_UNIT = r"(?:mm|cm|millimet\w*|centimet\w*)"
# Things a generator makes, as people name them.
_PICTURES = (r"(?:images?|imgs?|samples?|x-?rays?|radiographs?|cxrs?|scans?|slices?|pictures?|examples?|"
             r"cases?|studies|films?|outputs?)")
# "four chest images", "8 synthetic chest x-rays", "two DDIM images" (a few words in between,
# none of them a number or a unit).
_COUNT_BEFORE_NOUN = re.compile(
    rf"\b{_COUNT}\s+(?:(?!{_UNIT}\b)(?!\d)[a-z][\w\-]*\s+){{0,3}}?{_PICTURES}\b", re.IGNORECASE)
_COUNT_AFTER_VERB = re.compile(
    rf"\b(?:generate|gen|make|create|sample|synthesi[sz]e|produce|draw|give me)\s+(?:me\s+)?(\d+)\b(?!\s*{_UNIT})",
    re.IGNORECASE)
_SEED = re.compile(r"\bseed\s*(?:=|:|of|number|no\.?|#)?\s*(\d+)\b", re.IGNORECASE)
_STEPS = re.compile(r"\b(\d+)\s*(?:sampling\s+|denoising\s+|diffusion\s+|ddim\s+|ddpm\s+)?steps?\b|"
                    r"\bsteps?\s*(?:=|:|of)?\s*(\d+)\b", re.IGNORECASE)
_MEASURE = re.compile(rf"\d+(?:\.\d+)?\s*{_UNIT}\b", re.IGNORECASE)

# Words that introduce what the images should show, and where that description ends.
_CONDITION_START = re.compile(
    r"\b(?:with|w/|showing|show|shows|having|containing|featuring|depicting|of|that (?:show|have|has|contain)s?)\s+",
    re.IGNORECASE)
_CONDITION_END = re.compile(
    r"\s*(?:[,;.!?]|\busing\b|\bvia\b|\bfrom\b|\bwith (?:the|a|an)?\s*(?:vae|gan|ddpm|ddim|diffusion|variational)\b|"
    r"\bwith \d+\b|\bin \d+\b|\bseed\b|\bfor\b|\band (?:use|save)\b|$)", re.IGNORECASE)
# Words that say how or of what to generate but name no finding ("with the gan", "of the chest").
_NOT_FINDINGS = frozenset(
    "the a an some any vae gan ddpm ddim diffusion model models variational autoencoder auto encoder generator "
    "synthetic fake new realistic random image images img imgs sample samples scan scans slice slices x ray rays "
    "xray xrays x-ray x-rays radiograph radiographs cxr ct mr mri chest chests lung lungs thorax thoracic data "
    "patient patients adult adults training demo example examples".split())
_LEADING_FILLER = re.compile(r"^(?:(?:a|an|the|some|what|how|would|might)\s+)+", re.IGNORECASE)
_TRAILING_FILLER = re.compile(r"\s+(?:(?:might|would|could|will) )?(?:look|looks) like$|\s+(?:please|pls)$|"
                              r"\s+(?:patients?|adults?|subjects?|people|cases?)$", re.IGNORECASE)
_SIDED = re.compile(r"\b(right|left)-(sided|side)\b", re.IGNORECASE)

_GROW = re.compile(r"\b(bigger|larger|enlarge\w*|grow\w*|increase\w*|more|worse|add\w*|insert\w*|"
                   r"expand\w*|worsen\w*|progress\w*)\b", re.IGNORECASE)
_SHRINK = re.compile(r"\b(smaller|shrink\w*|reduce\w*|decrease\w*|less|milder|remove\w*|delete\w*|"
                     r"erase\w*|without|take \w+ out|get rid|improv\w*|regress\w*|lighter)\b", re.IGNORECASE)


_GENERATORS = (("vae", re.compile(r"\b(vae|variational auto-?encoder|auto-?encoder)\b", re.IGNORECASE)),
               ("gan", re.compile(r"\b(gan|adversarial)\b", re.IGNORECASE)),
               ("ddpm", re.compile(r"\bddpm\b", re.IGNORECASE)),
               ("ddim", re.compile(r"\bddim\b", re.IGNORECASE)))
_TOP_K = re.compile(r"\btop[\s\-]*(\d+)\b|\b(\d+)\s+(?:results?|snippets?|sources?|papers?|references?|hits?)\b",
                    re.IGNORECASE)
# An edit attribute named outright; the first that matches wins, so naming "severity" or "size"
# beats the verbs ("increase severity" is a severity edit, not an added lesion).
_ATTRIBUTES = (("severity", re.compile(r"\b(severity|severe|milder|mild|worse|disease)\b", re.IGNORECASE)),
               ("lesion_size", re.compile(r"\b(size|sized|bigger|larger|smaller|enlarg\w*|shrink\w*|grow\w*)\b",
                                          re.IGNORECASE)),
               ("lesion_presence", re.compile(r"\b(remov\w*|add|adds|adding|insert\w*|without|delet\w*|eras\w*|"
                                              r"take \w+ out|get rid)\b", re.IGNORECASE)))
_LOW_DOSE = re.compile(r"\b(low[\s\-]?dose|ldct|noisy|noise|grainy)\b", re.IGNORECASE)


def named_generator(text: str) -> str | None:
    """The generator the request names, when it names exactly one ("with the VAE", "ddpm samples")."""
    named = [name for name, pattern in _GENERATORS if pattern.search(text)]
    return named[0] if len(named) == 1 else None


def result_count(text: str) -> int | None:
    """How many search results the request asks for ("top 3", "5 papers")."""
    match = _TOP_K.search(text)
    return int(match.group(1) or match.group(2)) if match else None


def named_attribute(text: str) -> str | None:
    """The edit attribute the request names or implies (severity, lesion size, lesion presence)."""
    return next((name for name, pattern in _ATTRIBUTES if pattern.search(text)), None)


_AS_MODALITY = re.compile(r"\b(?:as|into|to)\s+(?:an?\s+)?(?:synthetic\s+|pseudo-?\s*)?(ct|mr|mri)\b(?!\s*(?:scan|image)s\b)",
                          re.IGNORECASE)


def target_modality(text: str) -> str | None:
    """The modality an image should become ("what would this look like as a CT"), if the text says."""
    match = _AS_MODALITY.search(text)
    if not match:
        return None
    return "MR" if match.group(1).lower() in {"mr", "mri"} else "CT"


_HEALTHY = re.compile(r"\b(healthy|normal|lesion-free|nodule-free|disease-free)\b", re.IGNORECASE)
_STRUCTURE = re.compile(
    r"\b((?:(?:left|right|upper|lower|l|r)\s+){0,2}(?:lungs?|heart|liver|kidneys?|spleen|aorta|spine|vertebra|"
    r"brain|ventricles?|bladder|prostate|pancreas|stomach|bones?|ribs?|trachea|nodules?|lesions?|mass|tumou?r|"
    r"effusion|pneumothorax))\b", re.IGNORECASE)


def named_structure(text: str) -> str | None:
    """The structure a segmentation request names ("the left lung", "the nodule"), if any."""
    match = _STRUCTURE.search(text)
    if not match:
        return None
    words = match.group(1).lower().split()
    sides = {"l": "left", "r": "right"}
    return " ".join(sides.get(w, w) for w in words)


def mentions_low_dose(text: str) -> bool:
    return bool(_LOW_DOSE.search(text))


def _as_count(token: str) -> int | None:
    token = token.lower()
    if token.isdigit():
        return int(token)
    return NUMBER_WORDS.get(token)


def image_count(text: str) -> int | None:
    """How many images the request asks for, when it says so ("four chest images", "make 3")."""
    for pattern in (_COUNT_BEFORE_NOUN, _COUNT_AFTER_VERB):
        match = pattern.search(text)
        if match:
            count = _as_count(match.group(1))
            if count:
                return count
    return None


def explicit_seed(text: str) -> int | None:
    """The seed, only when the request writes "seed N"."""
    match = _SEED.search(text)
    return int(match.group(1)) if match else None


def explicit_steps(text: str) -> int | None:
    """The sampling steps, only when the request writes "N steps" / "steps N"."""
    match = _STEPS.search(_SEED.sub(" ", text))
    if not match:
        return None
    return int(match.group(1) or match.group(2))


def measurement_numbers(text: str) -> set[float]:
    """Numbers that are sizes ("12 mm", "1.5 cm"): never a count, seed or step number."""
    return {float(re.match(r"\d+(?:\.\d+)?", m.group(0)).group(0)) for m in _MEASURE.finditer(text)}


def tidy_condition(condition: str) -> str:
    """A condition in the words the generators read ("right-sided nodule" -> "right sided nodule")."""
    return " ".join(_SIDED.sub(r"\1 \2", condition).split())


def condition_phrase(text: str) -> str | None:
    """What the images should show, as the request words it ("with a right-sided nodule")."""
    for start in _CONDITION_START.finditer(text):
        rest = text[start.end():]
        end = _CONDITION_END.search(rest)
        phrase = rest[: end.start()] if end else rest
        phrase = _TRAILING_FILLER.sub("", _LEADING_FILLER.sub("", phrase.strip())).strip()
        if names_a_finding(phrase):
            return tidy_condition(phrase)
    healthy = _HEALTHY.search(text)  # "a single healthy chest image"
    return healthy.group(1).lower() if healthy else None


def names_a_finding(phrase: str) -> bool:
    """Whether a phrase says what the images should show, beyond the generator and the body part."""
    words = re.findall(r"[a-z][a-z\-]*", phrase.lower())
    return any(w not in _NOT_FINDINGS for w in words)


def edit_direction(text: str) -> int | None:
    """+1 for growing/adding/worsening, -1 for shrinking/removing/easing, None when unclear."""
    grow, shrink = bool(_GROW.search(text)), bool(_SHRINK.search(text))
    if grow == shrink:
        return None
    return 1 if grow else -1


@lru_cache(maxsize=1)
def domain_terms() -> tuple[frozenset[str], tuple[str, ...]]:
    """(single-word terms, multi-word phrases) from domain_terms.txt."""
    words, phrases = set(), []
    for line in DOMAIN_TERMS_FILE.read_text().splitlines():
        term = line.strip().lower()
        if not term or term.startswith("#"):
            continue
        if " " in term:
            phrases.append(term)
        else:
            words.add(term)
    return frozenset(words), tuple(phrases)


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def mentions_domain(text: str) -> bool:
    """Whether the request names anything from medical imaging, medicine or machine learning."""
    words, phrases = domain_terms()
    lowered = text.lower()
    tokens = re.findall(r"[a-z0-9][a-z0-9\-]*", lowered)
    candidates = set(tokens) | {_singular(t) for t in tokens}
    candidates |= {part for t in tokens if "-" in t for part in t.split("-")}
    if candidates & words:
        return True
    return any(re.search(rf"\b{re.escape(p)}s?\b", lowered) for p in phrases)
