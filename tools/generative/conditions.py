"""Free-text conditions ("nodule in right lung, 12 mm") -> the attribute classes the generators learn.

Every conditional generator here shares one class scheme, so a condition means the same thing to
the VAE, the GAN and the diffusion model:
  class 0          no lesion
  class 1 + 3*s + b  a nodule on side s (0 right, 1 left; PATIENT side) in size bucket b
                     (0 small < 15 mm, 1 medium 15-25 mm, 2 large > 25 mm: the phantoms' severity grades)
Unspecified parts of a condition (side, size) are drawn with the request's seed, so a condition
narrows the distribution instead of inventing a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from agent.errors import InvalidInputError

SIDES = ("right", "left")
SIZE_BUCKETS = ("small", "medium", "large")
BUCKET_EDGES_MM = (15.0, 25.0)  # small < 15 <= medium <= 25 < large, as the phantom severity grades
SIZE_RANGE_MM = (8.0, 32.0)  # nodule diameters the phantoms (and so the models) have seen
BUCKET_CENTRES_MM = (11.5, 20.0, 28.5)
NUM_CLASSES = 1 + len(SIDES) * len(SIZE_BUCKETS)

EXAMPLES = (
    "'' (unconditional)",
    "'normal' / 'no nodule'",
    "'nodule'",
    "'nodule in right lung'",
    "'left lung nodule, 12 mm'",
    "'large nodule in the left lung'",
)

_LESION_WORDS = {"nodule", "nodules", "lesion", "lesions", "mass", "masses", "tumor", "tumour", "spot", "opacity"}
_NEGATIVE_WORDS = {"no", "without", "normal", "healthy", "clear", "free", "absent", "negative"}
_SIZE_WORDS = {"small": 0, "tiny": 0, "little": 0, "medium": 1, "moderate": 1, "mid": 1,
               "large": 2, "big": 2, "huge": 2}
_FILLER = {"a", "an", "the", "in", "of", "on", "at", "with", "and", "lung", "lungs", "side", "sided",
           "chest", "pulmonary", "x", "ray", "xray", "radiograph", "cxr", "pa", "image", "images", "one",
           "single", "solitary", "diameter", "size", "sized", "measuring", "about", "approximately",
           "hemithorax", "field", "zone", "mm", "cm", "millimetre", "millimeter", "millimetres",
           "millimeters", "centimetre", "centimeter", "is", "are", "there", "that", "from", "lesion-free",
           "synthetic", "generate", "show", "showing", "patient", "patient's", "s", "upper", "lower", "mid-lung"}


@dataclass(frozen=True)
class Condition:
    """What a request asks for; None means 'any' (drawn from the training distribution)."""

    lesion_present: bool | None = None
    side: str | None = None
    size_bucket: int | None = None
    size_mm: float | None = None

    @property
    def is_unconditional(self) -> bool:
        return self.lesion_present is None

    def describe(self) -> str:
        if self.lesion_present is None:
            return "unconditional"
        if not self.lesion_present:
            return "no lesion"
        parts = ["nodule"]
        parts.append(f"{self.side} lung" if self.side else "either lung")
        if self.size_mm is not None:
            parts.append(f"{self.size_mm:g} mm ({SIZE_BUCKETS[self.size_bucket]})")  # type: ignore[index]
        elif self.size_bucket is not None:
            parts.append(SIZE_BUCKETS[self.size_bucket])
        return ", ".join(parts)


def _invalid(reason: str) -> InvalidInputError:
    return InvalidInputError(
        f"Unsupported condition: {reason}.",
        "The generators are trained on chest radiograph phantoms and understand lesion presence, "
        f"side (right/left, patient side) and size ({SIZE_RANGE_MM[0]:g}-{SIZE_RANGE_MM[1]:g} mm or "
        f"small/medium/large). Examples: {', '.join(EXAMPLES)}.",
    )


def bucket_of(size_mm: float) -> int:
    """The size bucket of a nodule diameter."""
    return 0 if size_mm < BUCKET_EDGES_MM[0] else (1 if size_mm <= BUCKET_EDGES_MM[1] else 2)


def parse_condition(text: str) -> Condition:
    """Read a free-text condition; anything outside the trained attributes is refused, not guessed."""
    raw = (text or "").strip().lower()
    if not raw:
        return Condition()
    size_mm: float | None = None
    for match in re.finditer(r"(\d+(?:\.\d+)?)\s*(mm|cm|millimet\w*|centimet\w*)", raw):
        value = float(match.group(1)) * (10.0 if match.group(2).startswith(("cm", "centi")) else 1.0)
        if size_mm is not None and abs(size_mm - value) > 1e-6:
            raise _invalid("more than one size given")
        size_mm = value
    words = re.findall(r"[a-z'\-]+|\d+(?:\.\d+)?", raw)
    lesion = negative = False
    side: str | None = None
    bucket: int | None = None
    for word in words:
        if re.fullmatch(r"\d+(?:\.\d+)?", word):
            continue
        if word in _LESION_WORDS:
            lesion = True
        elif word in _NEGATIVE_WORDS:
            negative = True
        elif word in SIDES:
            if side is not None and side != word:
                raise _invalid("both sides requested; the phantoms carry one nodule")
            side = word
        elif word in _SIZE_WORDS:
            bucket = _SIZE_WORDS[word]
        elif word not in _FILLER:
            raise _invalid(f"'{word}' is not an attribute the generators were trained on")
    if re.search(r"\d", raw) and size_mm is None:
        raise _invalid("a number without a unit; give sizes in mm or cm")
    if negative:
        if side or bucket is not None or size_mm is not None:
            raise _invalid("'no lesion' cannot also have a side or size")
        return Condition(lesion_present=False)
    if not (lesion or side or bucket is not None or size_mm is not None):
        raise _invalid(f"nothing in '{text}' names a supported attribute")
    if size_mm is not None:
        lo, hi = SIZE_RANGE_MM
        if not lo <= size_mm <= hi:
            raise _invalid(f"{size_mm:g} mm is outside the trained nodule range {lo:g}-{hi:g} mm")
        size_bucket = bucket_of(size_mm)
        if bucket is not None and bucket != size_bucket:
            raise _invalid(f"'{SIZE_BUCKETS[bucket]}' contradicts {size_mm:g} mm")
        bucket = size_bucket
    return Condition(lesion_present=True, side=side, size_bucket=bucket, size_mm=size_mm)


def class_index(lesion_present: bool, side: str | None = None, size_mm: float = 0.0) -> int:
    """The class of a labelled phantom."""
    if not lesion_present or side is None:
        return 0
    return 1 + SIDES.index(side) * len(SIZE_BUCKETS) + bucket_of(size_mm)


def class_parts(index: int) -> tuple[bool, str | None, int | None]:
    """(lesion present, side, size bucket) of a class index."""
    if index == 0:
        return False, None, None
    side, bucket = divmod(index - 1, len(SIZE_BUCKETS))
    return True, SIDES[side], bucket


def sample_classes(condition: Condition, n: int, rng: np.random.Generator,
                   prior: np.ndarray | None = None) -> np.ndarray:
    """Class indices for n samples: the asked parts fixed, the rest drawn from the training prior."""
    prior = np.full(NUM_CLASSES, 1.0 / NUM_CLASSES) if prior is None else np.asarray(prior, dtype=float)
    allowed = np.ones(NUM_CLASSES, dtype=bool)
    if condition.lesion_present is not None:
        for k in range(NUM_CLASSES):
            present, side, bucket = class_parts(k)
            ok = present == condition.lesion_present
            if condition.side is not None:
                ok &= side == condition.side
            if condition.size_bucket is not None:
                ok &= bucket == condition.size_bucket
            allowed[k] = ok
    weights = np.where(allowed, prior + 1e-9, 0.0)
    return rng.choice(NUM_CLASSES, size=n, p=weights / weights.sum())
