"""Clinical statements extracted from report text: findings with side, polarity and measurements.

Everything here is deterministic (regular expressions over a curated lexicon), so the same
text always yields the same statements and the checker never depends on an LLM's judgement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tools.reports import lexicon, negation

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def _word_numbers() -> dict[str, float]:
    """Spelled-out numbers a lay rewrite uses ("seven millimetres", "twenty-five per cent", "one and a half")."""
    words: dict[str, float] = {w: i for i, w in enumerate(_ONES)}
    for t, tens in enumerate(_TENS, start=2):
        words[tens] = 10 * t
        for unit in range(1, 10):
            for joiner in ("-", " "):
                words[f"{tens}{joiner}{_ONES[unit]}"] = 10 * t + unit
    words.update({f"{w} and a half": v + 0.5 for w, v in list(words.items()) if v <= 20})
    words.update({"a hundred": 100, "one hundred": 100, "half a": 0.5, "a half": 0.5, "a": 1, "an": 1,
                  "a couple of": 2, "a dozen": 12})
    return words


_WORD_NUMBERS = _word_numbers()
# unit -> (dimension, factor to the base unit of that dimension)
_UNITS: dict[str, tuple[str, float]] = {
    "mm": ("length", 1.0), "millimetre": ("length", 1.0), "millimeter": ("length", 1.0),
    "cm": ("length", 10.0), "centimetre": ("length", 10.0), "centimeter": ("length", 10.0),
    "m": ("length", 1000.0), "metre": ("length", 1000.0), "meter": ("length", 1000.0),
    "inch": ("length", 25.4), "inches": ("length", 25.4),
    "ml": ("volume", 1.0), "millilitre": ("volume", 1.0), "milliliter": ("volume", 1.0), "cc": ("volume", 1.0),
    "cm3": ("volume", 1.0), "l": ("volume", 1000.0), "litre": ("volume", 1000.0), "liter": ("volume", 1000.0),
    "hu": ("density", 1.0), "hounsfield units": ("density", 1.0),
    "%": ("percent", 1.0), "percent": ("percent", 1.0), "per cent": ("percent", 1.0),
    "day": ("time", 1.0), "week": ("time", 7.0), "month": ("time", 30.4375), "year": ("time", 365.25),
    "mmhg": ("pressure", 1.0), "cm/s": ("velocity", 1.0), "m/s": ("velocity", 100.0),
    "degree": ("angle", 1.0), "°": ("angle", 1.0),
}
_NUM = r"(?:\d+(?:[.,]\d+)?|\.\d+|" + "|".join(sorted((re.escape(w) for w in _WORD_NUMBERS), key=len, reverse=True)) + r")"
_UNIT = (r"(?:mm|millimet(?:re|er)s?|cm3|cm/s|cm|centimet(?:re|er)s?|m/s|met(?:re|er)s?|m|inch(?:es)?|ml|mls|"
         r"millilit(?:re|er)s?|cc|l|lit(?:re|er)s?|hounsfield units|hu|%|per ?cent|days?|weeks?|months?|years?|"
         r"mmhg|degrees?|°)")
# "3 x 4 x 5 cm", "3 cm x 4 cm", "6-12 months", "6 to 12 months", "5 mm"
_MEASURE_RE = re.compile(
    r"(?<![\w.])(" + _NUM + r")((?:\s*|-)" + _UNIT + r")?((?:\s*(?:x|×|by|-|–|to)\s*" + _NUM + r"(?:\s*" + _UNIT +
    r")?){0,2})(?(2)|(?:\s*|-)" + _UNIT + r")(?![\w])", re.IGNORECASE)
# Inside a matched measurement: digits anywhere ("3x4cm"), number words only as whole words (not the "a" of "year").
_ALL_NUM_RE = re.compile(r"\d+(?:[.,]\d+)?|\.\d+|(?<![A-Za-z])(?:" + "|".join(
    sorted((re.escape(w) for w in _WORD_NUMBERS), key=len, reverse=True)) + r")(?![A-Za-z])", re.IGNORECASE)
_UNIT_RE = re.compile(_UNIT + r"$", re.IGNORECASE)

TEMPORAL: dict[str, tuple[str, ...]] = {
    "increased": ("increas\\w*", "larger", "bigger", "grown", "grew", "growing", "enlarg\\w+", "progressed",
                  "progression",
                  "worse", "worsen\\w*", "more extensive", "expanded", "up from", "gone up",
                  "more than (?:on|at|in|before) (?:the|your) (?:last|previous|prior|earlier|old)", "worse than (?:before|last time)",
                  "(?:got|gotten|become|grown) (?:a (?:little|bit) |slightly |much )?(?:wider|thicker|longer)"),
    "decreased": ("decreas\\w*", "smaller", "shrunk", "shrank", "shrinking", "reduc\\w+", "improv\\w+",
                  "regress\\w*", "less extensive", "diminish\\w*", "better", "down from", "gone down",
                  "slowed", "dropped", "fallen", "fall in",
                  "(?:got|gotten|become) (?:a (?:little|bit) |slightly |much )?(?:narrower|thinner)",
                  "less than (?:on|at|in|before) (?:the|your) (?:last|previous|prior|earlier|old)"),
    "stable": ("stable", "unchanged", "same as", "no (?:significant |interval )?change", "not changed", "has not changed",
               "have not changed", "the same", "similar", "without (?:significant |interval )?change",
               "no (?:significant )?difference", "hasn't changed", "haven't changed", "did not change",
               "(?:has|have) not moved"),
    "new": ("new", "newly", "not (?:seen|present) (?:before|previously|on the (?:previous|prior|last))",
            "appeared", "wasn't there before", "was not there before", "not there before",
            "(?:wasn't|was not|weren't|were not) (?:there|seen|present|visible) on (?:your|the) (?:(?:last|previous|prior|earlier|old) "
            "(?:x-?rays?|scans?|ct|mri|ultrasound|images?|pictures?|films?)|(?:x-?rays?|scans?|ct|mri|ultrasound) from)"),
    "resolved": ("resolv\\w+", "gone", "cleared", "disappeared", "no longer", "(?:are|is|were|was|have been|has been) (?:out|removed|taken out)"),
}
# "increased"/"decreased" describe a change only when the sentence compares with an earlier study
# ("increased echogenicity" is a property, not a change).
_NEEDS_CUE = {"increased", "decreased"}
_COMPARISON_CUE_RE = re.compile(
    r"\b(since|prior|previous(?:ly)?|compared|comparison|before|last|earlier|ago|interval|now|than on|yesterday|"
    r"than it was|from \d|(?:in|from) (?:19|20)\d\d|progressed|progression|improv\w+|worse\w*)\b", re.IGNORECASE)
# Verbs that compare with before on their own: "so it has grown".
_COMPARATIVE_RE = re.compile(r"\b(?:has|have|had) (?:grown|shrunk|(?:got(?:ten)?|become|gone) (?:a (?:little|bit) |slightly |much )?"
                             r"(?:bigger|smaller|larger|wider|narrower|thicker|thinner|worse|better|down))\b",
                             re.IGNORECASE)
_CONDITIONAL_RE = re.compile(r"\b(?:if|unless|in case)\b[^.;:()]*", re.IGNORECASE)
_TEMPORAL_RE = [(k, re.compile(r"(?<![\w-])(?:" + "|".join(v) + r")(?![\w-])", re.IGNORECASE))
                for k, v in TEMPORAL.items()]
_RECOMMEND_RE = re.compile(
    r"\b(recommend\w*|suggest(?:ed|s)? (?:a |an |that )?(?:follow|repeat|further|correlation|referral|review)|"
    r"follow[- ]?up|repeat (?:ct|mri|mr|imaging|scan|ultrasound|x-ray|study|chest)|advis\w+|should (?:have|be)|"
    r"further (?:evaluation|assessment|imaging|investigation)|clinical correlation|correlat\w+ clinically|"
    r"referr\w+|refer\b|another (?:\w+ )?(?:scan|ct|mri|x-ray|ultrasound|test|look)|check (?:again|on)|next scan|"
    r"(?:scan|ct|mri|x-ray|ultrasound) again|in (?:\w+|\d+\s*(?:[-–]|to)\s*\d+) (?:days?|weeks?|months?|years?)|(?:it is|it's) a good idea to\b|should\b|needs? to\b|advice\b|further (?:scans?|tests?|imaging|checks?)\b|need(?:s|ed)?\b|required\b|"
    r"see (?:a|your) (?:specialist|doctor)|\bseeing (?:a|an|your|the) (?:[\w()-]+ ){0,6}?(?:specialist|doctor|surgeon|team|clinic)|"
    r"\b(?:asked|asking|ask) (?:the |a |your )?(?:[\w()-]+ ){0,3}?(?:team|doctor|surgeon|specialist)s? to (?:see|review|check)\b|"
    r"\b(?:will|would) (?:want|need|like) to see you\b|send(?:ing)? you to\b|refer(?:ring)? you\b|suggest\w* (?:that )?you\b|next steps?\b|the plan is\b|plan:|"
    r"(?:doctor|doctors|team|care team|specialist)s? (?:will|may|might|can|should) (?:want to )?(?:compare|check|decide|put|"
    r"discuss|talk|go over|look at|match|review|refer|arrange|order|consider|weigh)|"
    r"(?:compare|match|fit)\w* (?:\w+ ){0,4}(?:with|to|against) (?:your|how you|what you)|been (?:told|informed|shared))",
    re.IGNORECASE)
MAX_SENTENCE_CHARS = 600
# "AIR LEAK – There is no collapsed lung": a line's capitals label before a dash is a heading.
_CAPITALS_LABEL_RE = re.compile(r"(?m)^([ \t]*[A-Z][A-Z'’&/ ]{1,40}[A-Z])[ \t]+[–—-][ \t]+(?=\S)")
_SENTENCE_RE = re.compile(r"(?<=[.!])\s+|(?<=[^\s,(]\?)\s+|\n+|(?<=:)\s+(?=[A-Z])")


@dataclass(frozen=True)
class Measurement:
    """A value in a base unit (mm, ml, days, ...) with the text it came from."""

    dimension: str
    value: float
    raw: str

    def matches(self, other: "Measurement", rel_tol: float = 0.02) -> bool:
        if self.dimension != other.dimension:
            return False
        scale = max(abs(self.value), abs(other.value), 1e-9)
        tol = rel_tol if self.dimension != "time" else 0.1  # 12 weeks ~ 3 months
        return abs(self.value - other.value) <= tol * scale


@dataclass
class Statement:
    """One finding mention with everything the checker compares."""

    concept: str
    surface: str
    sentence: str
    sentence_index: int
    polarity: negation.Polarity
    sides: frozenset[str] = frozenset()
    anatomy: frozenset[str] = frozenset()
    start: int = -1  # the mention's span in its sentence
    end: int = -1
    sign: bool = False  # read from a word that states absence ("compressible", "intact"), not the finding's name


@dataclass
class Extraction:
    """Everything extracted from one text."""

    sentences: list[str]
    statements: list[Statement] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    context_measurements: list[Measurement] = field(default_factory=list)  # in the reason for the scan
    temporal: set[str] = field(default_factory=set)
    recommendations: list[str] = field(default_factory=list)
    all_sides: frozenset[str] = frozenset()
    # Sentence index of each denial that names no finding the lexicon reads ("nothing is out of
    # joint", "no filling defect"): evidence that a text denies something in its own words.
    unread_denials: list[int] = field(default_factory=list)
    # Per sentence, read once here because the checker compares sentences pairwise.
    sentence_sides: list[frozenset[str]] = field(default_factory=list)
    sentence_anatomy: list[frozenset[str]] = field(default_factory=list)
    sentence_measurements: list[list[Measurement]] = field(default_factory=list)

    def concepts(self) -> set[str]:
        return {s.concept for s in self.statements}


def split_sentences(text: str) -> list[str]:
    """Sentences and list items; headings such as "FINDINGS:" are split from what follows."""
    parts = [p.strip(" \t-•*") for p in _SENTENCE_RE.split(text or "")]
    out = []
    for part in parts:
        while len(part) > MAX_SENTENCE_CHARS:  # run-on text: bounded pieces keep the scan linear
            cut = part.rfind(" ", 0, MAX_SENTENCE_CHARS)
            cut = cut if cut > 0 else MAX_SENTENCE_CHARS
            out.append(part[:cut])
            part = part[cut:].strip()
        out.append(part)
    return [p for p in out if p and re.search(r"\w", p)]


def _to_number(token: str) -> float | None:
    token = token.strip().lower()
    if token in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[token])
    try:
        return float(token.replace(",", "."))
    except ValueError:
        return None


def _unit_key(unit: str) -> str:
    u = unit.strip().lower().replace(" ", "")
    if u in ("mls",):
        return "ml"
    if u in ("percent", "percent"):
        return "%"
    for key in sorted(_UNITS, key=len, reverse=True):
        k = key.replace(" ", "")
        if u == k or u == k + "s" or u == k + "es":
            return key
    if u.startswith("millimet"):
        return "mm"
    if u.startswith("centimet"):
        return "cm"
    if u.startswith("millilit"):
        return "ml"
    if u.startswith("lit"):
        return "l"
    if u.startswith("met"):
        return "m"
    if u.startswith("degree"):
        return "degree"
    return u


_AGE_BEFORE_RE = re.compile(r"\bage[d:]?\s*$", re.IGNORECASE)
_AGE_AFTER_RE = re.compile(r"[- ]old\b", re.IGNORECASE)
# "20+3 weeks" is obstetric shorthand for 20 weeks and 3 days; "20w0d" is 20 weeks exactly.
_GESTATION_RE = re.compile(r"\b(\d{1,2})\s*(?:\+\s*([0-6])\s*(?:weeks?|wks?)|w(?:ks?)?\s*\+?\s*([0-6])\s*d)\b", re.IGNORECASE)
_RATIO_RE = re.compile(r"\bratio\b(?:\s+(?:of|is|was|were|=|:|at|about|around|approximately|approx\.?)){0,2}\s*(\d+(?:\.\d+)?)(?![\w%])",
                       re.IGNORECASE)
_SUBCENTIMETRE_RE = re.compile(r"\bsub-?centimet(?:er|re)\b", re.IGNORECASE)
_GESTATION_BEFORE_RE = re.compile(r"\b(?:gestational|menstrual|fetal|foetal|sonographic)\s+age[d:]?\s*$", re.IGNORECASE)


def _gestation_in_words(m: re.Match[str]) -> str:
    days = m.group(2) or m.group(3)
    return f"{m.group(1)} weeks" + ("" if days == "0" else f" {days} days")


def extract_measurements(text: str) -> list[Measurement]:
    """Every number that carries a unit; "3 x 4 cm" gives two lengths, "6-12 months" two times."""
    out: list[Measurement] = []
    text = _GESTATION_RE.sub(_gestation_in_words, text or "")
    for m in _SUBCENTIMETRE_RE.finditer(text):
        out.append(Measurement("length", 10.0, m.group(0)))  # "subcentimetre" = "smaller than 1 cm"
    for m in _RATIO_RE.finditer(text):  # a ratio carries no unit, but "4.2" told as "2.4" is still wrong
        out.append(Measurement("ratio", float(m.group(1)), f"ratio {m.group(1)}"))
    for m in _MEASURE_RE.finditer(text):
        whole = m.group(0)
        if (_AGE_BEFORE_RE.search(text[max(0, m.start() - 8):m.start()])
                and not _GESTATION_BEFORE_RE.search(text[max(0, m.start() - 24):m.start()])) or _AGE_AFTER_RE.match(text[m.end():m.end() + 8]):
            continue  # the patient's age is not a measurement of a finding
        tail_unit = re.search(_UNIT + r"\s*$", whole, re.IGNORECASE)
        values = [(n.group(0), n.start()) for n in _ALL_NUM_RE.finditer(whole)]
        if not values:
            continue
        # Each number takes the next unit written after it ("3 cm x 4 mm"), else the final unit.
        units = [(u.group(0), u.start()) for u in re.finditer(r"(?<![\w])" + _UNIT + r"(?![\w])", whole, re.IGNORECASE)]
        for token, pos in values:
            if token.lower() in ("a", "an") and len(values) > 1:
                continue
            later = [u for u, upos in units if upos > pos]
            if re.fullmatch(r"(?:19|20)\d\d", token) and later and not re.match(r"\s*(?:-\s*)?" + _UNIT, whole[pos + 4:],
                                                                              re.IGNORECASE):
                continue  # "from 1.4 cm in June 2023 to 1.6 cm now": a year, not the start of a range
            unit = later[0] if later else (tail_unit.group(0) if tail_unit else None)
            if unit is None:
                continue
            key = _unit_key(unit)
            if key not in _UNITS or unit.strip() in ("M", "L", "F"):
                continue  # "24M", "3 L": age and sex, or a side, in report shorthand
            number = _to_number(token)
            if number is None:
                continue
            # "a" and "an" only count before time units ("in a year") to avoid "a m..." noise.
            if token.lower() in ("a", "an") and _UNITS[key][0] != "time":
                continue
            dimension, factor = _UNITS[key]
            out.append(Measurement(dimension, number * factor, f"{token} {unit.strip()}"))
    out.extend(_sizes_sharing_a_unit(text))
    return out


# "the right is 4.4 by 2.6 by 3 centimeters and the left is 4.2 by 2.5 by 2.9": a second size
# said without its unit takes the unit of the size just before it.
_BARE_SIZE_RE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?:\s*(?:x|×|by)\s*(\d+(?:\.\d+)?)){1,2}(?!\w|\.\d|\s*(?:x|×|by)\b)(?!\s*"
                           + _UNIT + r"\b)", re.IGNORECASE)
_LENGTH_UNIT_RE = re.compile(r"(?<![\w])(mm|millimet(?:re|er)s?|cm|centimet(?:re|er)s?)(?![\w])", re.IGNORECASE)


# "last March it was 4.1", "right 1.6 and left 1.5 centimeters": a decimal said without its unit
# takes the length unit said just before or just after it; scores and ratios keep none.
_BARE_DECIMAL_RE = re.compile(r"(?<![\w.])(\d+\.\d+)(?![\w.]|\s*(?:x|×|by)\b|\s*%|\s*" + _UNIT + r"\b)", re.IGNORECASE)
_NOT_A_SIZE_BEFORE_RE = re.compile(r"\b(?:ratio|index|score|grade|psv|edv|pi|ri|velocity|speed|rate|ti-?rads|bi-?rads|"
                                   r"rads|level|temperature|fever|ph)\b\W*(?:\w+\W+){0,2}$", re.IGNORECASE)


def _sizes_sharing_a_unit(text: str) -> list[Measurement]:
    out = []
    for m in _BARE_SIZE_RE.finditer(text):
        before = list(_LENGTH_UNIT_RE.finditer(text, max(0, m.start() - 120), m.start()))
        if not before:
            continue
        dimension, factor = _UNITS[_unit_key(before[-1].group(1))]
        for value in re.findall(r"\d+(?:\.\d+)?", m.group(0)):
            out.append(Measurement(dimension, float(value) * factor, f"{value} {before[-1].group(1)}"))
    for m in _BARE_DECIMAL_RE.finditer(text):
        if _NOT_A_SIZE_BEFORE_RE.search(text[max(0, m.start() - 30):m.start()]):
            continue
        pair = re.match(r"\s+(?:and|or|to)\s+(?:the\s+)?(?:left|right)?\s*\d+(?:\.\d+)?\s*" + r"(mm|millimet(?:re|er)s?|cm|"
                        r"centimet(?:re|er)s?)\b", text[m.end():], re.IGNORECASE)
        start = max(0, m.start() - 120)
        sentence_start = max([0] + [b.end() + start for b in re.finditer(r"[.;!?](?:\s|$)", text[start:m.start()])])
        before = list(_LENGTH_UNIT_RE.finditer(text, sentence_start, m.start()))
        unit = pair.group(1) if pair else (before[-1].group(1) if before else None)
        if unit is None:
            continue
        dimension, factor = _UNITS[_unit_key(unit)]
        out.append(Measurement(dimension, float(m.group(1)) * factor, f"{m.group(1)} {unit}"))
    return out


_CLAUSE_BREAK_RE = re.compile(r"[;:.]|\b(?:but|while|whereas|without|no|not)\b", re.IGNORECASE)


# Where a new clause starts: "the ratio of the right chamber to the left one is 0.8, and there is
# no strain on the right side of the heart" gives the strain only the right side.
_SIDE_CLAUSE_BREAK_RE = re.compile(
    r"[;:]|,?\s+but\b|,\s+(?:and\s+|so\s+)?(?:there|this|it|its|these|those|we|your|you|they)\b|"
    r"\b(?:and|but|while|whereas)\s+(?:there|this|it|its|these|those|we|your|you|they)\b", re.IGNORECASE)


_SIDE_HEADED_RE = re.compile(r"^\W*(?:(?:on|in|at|for) )?(?:the |your )?(?:left|right|both)\b", re.IGNORECASE)


def _attach_sides(sentence: str, mentions: list[lexicon.Mention]) -> list[frozenset[str]]:
    """Give each finding the side words of its own clause: before it back to the previous finding,
    else right after it ("effusion on the left")."""
    sides = lexicon.find_sides(sentence)
    result = []
    for i, mention in enumerate(mentions):
        prev_end = mentions[i - 1].end if i > 0 else 0
        next_start = mentions[i + 1].start if i + 1 < len(mentions) else len(sentence)
        breaks = list(_SIDE_CLAUSE_BREAK_RE.finditer(sentence, prev_end, mention.start))
        clause_start = breaks[-1].end() if breaks else prev_end
        before = [s for pos, s in sides if clause_start <= pos < mention.end]
        if not before and _SIDE_HEADED_RE.match(sentence):  # "On the left, there is mild plaque"
            before = [s for pos, s in sides if prev_end <= pos < mention.end]
        clause_cut = re.search(r"[;,.]|\band\b|\bwith\b|\bbut\b", sentence[mention.end:])
        limit = mention.end + clause_cut.start() if clause_cut else len(sentence)
        after = [s for pos, s in sides if mention.end <= pos < min(limit, mention.end + 100)]
        last_before = max((pos for pos, _ in sides if prev_end <= pos < mention.start), default=None)
        if after and last_before is not None and re.search(r",|\b(?:and|but)\b", sentence[last_before:mention.start]):
            chosen = after  # "patent on the left and obstructed on the right"
        else:
            chosen = before or after
        if not chosen and i > 0 and result and not _CLAUSE_BREAK_RE.search(sentence[prev_end:mention.start]):
            chosen = [result[-1]]  # "right calcified plaque": one noun phrase, one side
        result.append(frozenset().union(*chosen) if chosen else frozenset())
    return result


_WHY_SCAN = (r"why (?:you|your child|your baby) (?:had|needed|are having|were having|have had) (?:this|the|a|your) "
             r"(?:scan|test|x-?rays?|ultrasound|mri|ct(?: scan)?|exam\w*|study)")

# Why the scan was done or what it looked for is no finding: "checked the veins in both legs
# for blood clots", "because you have a higher risk of breast cancer", "to find the cause of".
_CONTEXT_RE = re.compile(
    r"\b(?:check(?:ed|s|ing)?|look(?:ed|s|ing)?|search(?:ed|es|ing)?|screen(?:ed|s|ing)?|assess(?:ed|ing)?|"
    r"evaluat(?:e|ed|ing)) (?:[\w'()-]+ ){0,8}?for (?:any |signs? of |possible |a |an )?|"
    r"\b(?:risk|history|suspicion) (?:of|for)\b|\bat (?:low|high|average|increased|higher|lower) risk\b|"
    r"\b(?:was|were) (?:done|performed|ordered|requested|taken) because\b|\bto (?:find|see|look for|check for|rule out|exclude) (?:out )?"
    r"(?:the )?(?:cause|reason|why|whether|if)\b|\b(?:indication|clinical|history|hx|comparison|technique|reason for (?:the )?(?:scan|study|exam))"
    r"\s*:|\b" + _WHY_SCAN + r"\s*:|"
    r"\b(?:works?|working|acts?|acting|behaves?) like\b|\b(?:a bit|a little|kind of|sort of|rather|just|much) like\b|"
    r"\bis like (?:a|an)\b|\bwhether\b|\b(?:prior|previous|earlier) (?:biops(?:y|ies)|surgery|operations?)\b|\bwe (?:were|are) (?:worried|concerned) about\b|\((?=[^()]*\bprotocol\))|\bwhere most\b|\bmost [a-z]+s (?:start|begin|grow|are|happen|occur)\b|"
    r"\b(?:come back|return|seek|call|go to|get help|contact)\b[^.;]{0,40}?\bif\b|\b(?:sometimes|often|usually) (?:this|it|that) (?:happens|is caused|is due)\b|(?<![\w?])\?(?=\s*[A-Za-z])|\bdoes(?: not|n't) (?:necessarily |always )?mean\b|\b(?:obscured|hidden|limited|covered) by (?:overlying )?(?:bowel )?gas\b|"
    r"\bbecause of (?:the |overlying )?(?:bowel )?gas\b|\b(?:for example|for instance|such as|e\.g\.)|"
    r"\b(?:a|an) (?:score of |grade of |rating of )?\d+(?:\s*(?:or|to|-)\s*\d+)? (?:means|would mean|indicates)\b|\bbecause (?:you|your (?:child|baby|doctor))\b (?:[\w'-]+ ){0,3}?(?:felt|noticed|found|reported|complained)\b|"
    r"\bto (?:make sure|check|confirm|see|find out|ensure)(?: that| whether| if)?\b|"
    r"\bcan (?:also )?(?:be )?(?:an? )?(?:early )?(?:signs?|symptoms?|causes?) of\b|"
    r"\b(?:is|are) (?:often|usually|commonly|sometimes|mostly|most often|typically) (?:caused|brought on|triggered) by\b|"
    r"\b(?:which|that) is how (?:we|the doctors?|the radiologists?) (?:can )?(?:tell|know|knew|could tell)\b|"
    # what tests can do and what happens to people in general: "Sometimes a break does not show
    # on an X-ray", "An MRI can find a hidden break", "a bone which often breaks when an ankle rolls";
    # fluid the body normally has: "a trace of normal fluid"
    r"^sometimes,? (?:an?|some|small|tiny) \b|\b(?:raises?|raising|increases?|increasing|lowers?|reduces?) (?:the |your )?(?:chance|risk|odds|likelihood) of\b|\b(?:which|that) (?:often|sometimes|usually|commonly) (?:gets? )?[\w-]+ (?:when|if|after)\b|"
    r"\b(?:dye|contrast)\b[^.;]{0,40}?\bto (?:light up|show up|highlight|make [\w ]{0,20}?show up)\b|"
    # the symptoms that brought the patient: "You had sharp chest pain that was worse when you breathed in"
    r"^(?:you|your (?:child|baby|son|daughter|mother|father|husband|wife))\s+(?:had|came in with|came to hospital with|"
    r"were having|have been having|noticed|felt|complained of)\b(?=[^.]*?\b(?:pain|ache|aching|fever|cough|short of breath|"
    r"breathless\w*|fall|fell|twist\w*|injur\w*)\b)|\bcan (?:sometimes|occasionally|rarely|often) \b|\bcan (?:also )?(?:come from|be caused by|be seen in|happen (?:in|with|after))\b|\b(?:this|it|which|that|an?|the) (?:mri|ct|scan|test|ultrasound|x-?ray)?\s?(?:scan |test )?"
    r"(?:can|could|will|would) (?:also )?(?:find|show|detect|pick up|spot)\b|"
    r"\b(?:physiologic(?:al)?(?: amounts? of)?|(?:a trace|a bit|a little|a touch|a small amount) of (?:normal|physiologic(?:al)?)) (?:free )?fluid\b|\bmakes? (?:it )?(?:[\w-]+ ){0,5}?(?:harder|more difficult|difficult|easier|hard) to (?:see|spot|detect|find)\b",
    re.IGNORECASE)


# Parts of a patient letter that explain words or list questions: they state no finding.
_ASIDE_HEADING_RE = re.compile(
    r"^(?:words (?:to know|explained)|glossary(?: of terms)?|key (?:terms|words)|terms(?: explained| used)?|"
    r"medical (?:terms|words)(?: explained)?|what (?:the|these|some) (?:words|terms) mean|"
    r"questions?(?: (?:to ask|for|you (?:may|might|could) (?:want to )?ask))?(?: (?:your|the) (?:doctor|care team|nurse|gp|"
    r"dentist|specialist|surgeon))?)\s*:?\s*$", re.IGNORECASE)
_HEADING_RE = re.compile(r"^[^.!?]{1,60}:\s*$")


def _titles_next(sentences: list[str], index: int, found: list[lexicon.Mention]) -> bool:
    """A short heading followed by a sentence that names a finding ("Blood clots:" / "We did not
    see any blood clots"; "Right swelling:" / "There is fluid above the right kneecap"). A
    heading the next sentence only describes ("Amniotic fluid:" / "Normal, AFI 14 cm") names the
    finding itself."""
    if not found or index + 1 >= len(sentences) or not _HEADING_RE.match(sentences[index]) \
            or len(sentences[index].split()) > 5:
        return False
    return bool(lexicon.find_findings(sentences[index + 1]))


def _aside_sentences(sentences: list[str]) -> set[int]:
    """Indices of sentences that ask a question or sit under a glossary or questions heading."""
    out, inside = set(), False
    for i, sentence in enumerate(sentences):
        if _ASIDE_HEADING_RE.match(sentence):
            inside = True
            out.add(i)
            continue
        if _HEADING_RE.match(sentence):
            inside = False
        if inside or sentence.rstrip().endswith("?"):
            out.add(i)
    return out


_HISTORY_RE = re.compile(r"(?:indication|clinical|history|hx|reason for|why (?:you|your))", re.IGNORECASE)
# "the meeting of cancer specialists", "the fracture clinic": a team named by what it treats
# (the brain's "memory centres" are no team).
_SPECIALTY_RE = re.compile(r"\b(?!memory\s+cent)([\w-]+)\s+(?=(?:specialists?|doctors?|surgeons?|teams?|clinics?|services?|nurses?|"
                           r"units?|cent(?:re|er)s?|experts?)\b)", re.IGNORECASE)
# "A meningioma is a growth of the covering of the brain": a sentence that defines a word.
_WORD_DEFINITION_RE = re.compile(r"^an? [\w-]+(?: [\w-]+)? (?:is|are)(?= (?:an?|the) )", re.IGNORECASE)
_GENERIC_DEFINITION_RE = re.compile(r"^an? [\w-]+ (?:that|which) [^.;]*?\b(?:is like|means|would mean|usually means|shows)\b",
                                    re.IGNORECASE)
# The labels a report puts before the reason for the scan.
_HISTORY_LABELS = (r"indications?|clinical(?: (?:history|information|indications?|details|notes?))?|history|hx|"
                   r"reason for (?:the )?(?:scan|study|exam(?:ination)?|referral)")
# A "Comparison:" heading is followed by the earlier study it names, which holds no finding.
_CONTEXT_HEADING_RE = re.compile(r"^(?:" + _HISTORY_LABELS + "|" + _WHY_SCAN + r"|comparisons?)\s*:?\s*$", re.IGNORECASE)


_HISTORY_LABEL_RE = re.compile(r"^(?:" + _HISTORY_LABELS + r")\s*:", re.IGNORECASE)

# "22M, cough and fever x 5 days.": a line opening with the patient's age and sex is the history,
# label or not (its own sentence only: the findings may follow on the same line).
_AGE_SEX_OPENER_RE = re.compile(r"^\W*\d{1,3}(?:(?-i:[MF])(?=[,:]|\s+(?:with|presenting|presents|complaining|c/o)\b)|"
                                r"\s*(?:yo|y/o|-?years?[- ]old|-?yr[- ]old)\b)", re.IGNORECASE)


def _history_sentences(text: str, sentences: list[str]) -> set[int]:
    """Sentences that tell why the scan was done: a "History:" line to its end ("History: 82F,
    fall. Right frontal scalp swelling."), or what follows a "History:" heading. A report
    written as one paragraph has no line ends, so there the label covers its own sentence only."""
    out: set[int] = set()
    position = 0  # where the previous sentence ended
    lines = "\n" in text.strip()
    for i, sentence in enumerate(sentences):
        start = text.find(sentence, position)
        if start < 0:
            start = position
        same_line = lines and i > 0 and "\n" not in text[position:start] and not _HEADING_RE.match(sentence)
        if _HISTORY_LABEL_RE.match(sentence) or (i and _CONTEXT_HEADING_RE.match(sentences[i - 1])) \
                or (same_line and i - 1 in out):
            out.add(i)
        position = start + len(sentence)
    return out | {i for i, sentence in enumerate(sentences) if _AGE_SEX_OPENER_RE.match(sentence)}



_LIKE_RE = re.compile(r",\s*(?:just |a bit |rather )?like\s+(?:an?\s+|the\s+)?", re.IGNORECASE)


def _analogy_spans(sentence: str, found: list[lexicon.Mention]) -> list[tuple[int, int]]:
    """", like pipes swelling behind a blockage": a comparison with everyday things, to the end of
    its clause. ", like varicose veins" compares with a finding and stays a mention."""
    spans = []
    for m in _LIKE_RE.finditer(sentence):
        if any(f.start == m.end() for f in found):
            continue
        end = re.search(r"[;]|\.(?!\d)|,\s+(?:and|but|which)\b|\bbut\b|\s[-–—]\s", sentence[m.end():])
        spans.append((m.start(), m.end() + end.start() if end else len(sentence)))
    return spans


def _context_spans(sentence: str) -> list[tuple[int, int]]:
    """Spans that state the reason for the study, to the end of their clause."""
    spans = []
    for m in _CONTEXT_RE.finditer(sentence):
        end = re.search(r"[;]|\.(?!\d)|,\s+(?:and|but|which)\b|\bbut\b", sentence[m.end():])
        spans.append((m.start(), m.end() + end.start() if end else len(sentence)))
    return spans


_DIRECT_DENIAL_RE = re.compile(r"\b(?:not|no)\s+(?:an?\s+)?$", re.IGNORECASE)


def _absence_mentions(sentence: str) -> list[lexicon.Mention]:
    """Words that state a finding is absent on their own ("ligament intact", "vein patent")."""
    out = []
    for concept, words in lexicon.ABSENCE_FORMS.items():
        for word in words:
            for m in re.finditer(r"(?<![\w-])" + word + r"(?![\w-])", sentence, re.IGNORECASE):
                out.append(lexicon.Mention(concept, m.start(), m.end(), m.group(0)))
    return out


# "normal" inside a matched phrase states the finding is absent, unless it is the yardstick of
# a comparison ("thicker than normal", "above normal").
_NORMAL_INSIDE_RE = re.compile(r"(?<!than )(?<!above )(?<!beyond )(?<!of )\b(?:normal|usual|healthy)\b", re.IGNORECASE)


# Words that call something normal without naming a finding: "the other bones are fine",
# "the ligaments are all right". Such a sentence denies findings the lexicon cannot name.
_NORMAL_WORD_RE = re.compile(r"\b(?:normal(?:ly)?|fine|all right|healthy|intact|unremarkable|preserved|maintained|"
                             r"(?<!not )(?<!un)clear(?! (?:what|whether|if|why|how))|"
                             r"as (?:it|they) should(?: be)?)\b",
                             re.IGNORECASE)


_CLAUSE_RE = re.compile(r",\s+(?:and|but)\s+|;\s*|\s+but\s+", re.IGNORECASE)


def _normal_clauses_unread(sentence: str, mentions: list[lexicon.Mention]) -> int:
    """How many clauses call something normal without naming a finding ("All the other bones
    look fine, and nothing is out of place": the first clause)."""
    start, count = 0, 0
    for end in [m.start() for m in _CLAUSE_RE.finditer(sentence)] + [len(sentence)]:
        clause_mentions = [m for m in mentions if start <= m.start < end]
        if not clause_mentions and _NORMAL_WORD_RE.search(sentence[start:end]):
            count += 1
        start = end
    return count


_PLACE_WORDS = frozenset({"spot", "area", "part", "patch"})


def _without_places(statements: list[Statement]) -> list[Statement]:
    """Drop a vague "spot" that only says where another finding is: in "one spot on the bladder
    wall is thicker than normal" the finding is the thickening, not a spot."""
    def place(s: Statement) -> bool:
        if s.surface.lower() not in _PLACE_WORDS:
            return False
        return any(o.sentence_index == s.sentence_index and o.concept in ("thickening", "dilatation") and o.start > s.end
                   and re.search(r"\b(?:is|are|was|were|looks?|appears?)\b", o.sentence[s.end:o.end], re.IGNORECASE)
                   for o in statements)
    return [s for s in statements if not place(s)]


_NORMAL_BEFORE_RE = re.compile(r"(?:^|[.;:,]\s*|\b(?:a|an|the|and|with)\s+)normal(?:[ -]sized?)?\s+(?:(?!tissue\b)[\w-]+\s+){0,1}$",
                               re.IGNORECASE)


# Findings that can describe another one as a modifier: "ruptured Baker's cyst", "displaced fragment".
_MODIFIER_CONCEPTS = frozenset({"rupture", "displacement", "enhancement", "calcification", "obstruction", "perforation"})


def _deny_modifiers_only(statements: list[Statement]) -> None:
    """"Ruptured Baker's cyst not seen" after "Baker's cyst, intact": the denial is of the
    rupture. A finding the report states elsewhere keeps its presence when only its modifier,
    written just before it, is denied."""
    affirmed = {s.concept for s in statements if s.polarity == "present"}
    for s in statements:
        if s.polarity != "absent" or s.concept not in affirmed or s.start < 0:
            continue
        if any(m.sentence_index == s.sentence_index and m.concept in _MODIFIER_CONCEPTS and m.polarity == "absent"
               and 0 <= s.start - m.end <= 12 for m in statements):
            s.polarity = "present"


def _glosses_share_stance(statements: list[Statement]) -> None:
    """"no pericholecystic fluid — fluid around the gallbladder —": a gloss set off by a dash or a
    bracket right after a term says what the term says."""
    ordered = sorted(statements, key=lambda s: (s.sentence_index, s.start))
    for first, second in zip(ordered, ordered[1:]):
        if first.sentence_index == second.sentence_index and first.end >= 0 and lexicon.related(first.concept, second.concept) \
                and _glossed_by(first.sentence[first.end:second.start]):
            second.polarity = first.polarity


def _glossed_by(between: str) -> bool:
    """Right after the term behind a dash or bracket, or closing its clause in brackets: "no blood
    clots in the vessels of your lungs (pulmonary embolism)"."""
    if re.search(r"\(\s*(?:no|not|without|possibl[ey]|probabl[ey]|likely)\b", between, re.IGNORECASE):
        return False  # "(no hydronephrosis)" says its own stance
    return bool(re.match(r"^\s*[—–(]\s*$", between) or re.match(r"^[^();,.]{0,80}\(\s*(?:[\w-]+\s+){0,2}$", between))


def _name_lay_words_by_their_gloss(statements: list[Statement]) -> None:
    """"the swelling (aneurysm) in your aorta", "the old swelling of the artery (the aneurysm sac)":
    a lay word followed at once, or after the organ it is of, by the term in brackets is that
    term, not a finding of its own kind."""
    named: dict[tuple[str, str], str] = {}
    for s in statements:
        bracket = re.match(r"(?:\s+(?:of|in) (?:the |your |its )?[\w-]+)?\s*\(\s*(?:the |an? )?", s.sentence[s.end:]) \
            if s.end >= 0 else None
        if not bracket:
            continue
        term = next((t for t in statements if t.sentence_index == s.sentence_index and t.start == s.end + bracket.end()
                     and re.match(r"\s*(?:[\w-]+\s*)?\)", s.sentence[t.end:])), None)
        if term is not None and term.concept != s.concept and term.polarity == s.polarity:
            named[(_singular(s.surface), s.concept)] = term.concept
    for s in statements:  # later, "the start of the swelling" and "one new spot" still mean the term
        s.concept = named.get((_singular(s.surface), s.concept), s.concept)


def _singular(surface: str) -> str:
    word = surface.lower().strip()
    if re.search(r"(?:ch|sh|ss|x)es$", word):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _hedge_glosses(statements: list[Statement]) -> None:
    """A hedge covers its own gloss: in "probably a haemangioma, a harmless cluster of blood
    vessels" both mentions are uncertain, though the comma ends the hedge's scope."""
    hedged = {(s.sentence_index, s.concept) for s in statements if s.polarity == "uncertain"}
    # "There is a 6 mm fluid-filled spot. This is probably a simple cyst.": the hedge in a
    # sentence that opens by pointing back covers the finding it points back to.
    pointing_back = {s.sentence_index for s in statements
                     if s.polarity == "uncertain" and re.match(r"(?:this|it|these|they)\b", s.sentence, re.IGNORECASE)}
    hedged |= {(i - 1, concept) for i, concept in list(hedged) if i in pointing_back}
    for s in statements:
        if s.polarity == "present" and (s.sentence_index, s.concept) in hedged:
            s.polarity = "uncertain"


def _blank(sentence: str, spans: list[tuple[int, int]]) -> str:
    """The sentence with the given spans blanked out, offsets kept."""
    return "".join(" " if any(a <= i < b for a, b in spans) else ch for i, ch in enumerate(sentence))


_JOINT_REPORT_RE = re.compile(r"\b(?:knee|hip|ankle|elbow|shoulder|wrist|joint|baker'?s|menisc\w*|patell\w*|bursa\w*)\b",
                              re.IGNORECASE)
_CHEST_REPORT_RE = re.compile(r"\b(?:lungs?|pleura\w*|chest|thora\w*|pulmonary|heart|pericardi\w*)\b", re.IGNORECASE)


def _bare_effusions_of_joints(text: str, statements: list[Statement]) -> None:
    """"Small effusion and Baker's cyst" in a knee report is fluid in the knee joint: a bare
    "effusion" belongs to the joint when the text never names the chest."""
    if not _JOINT_REPORT_RE.search(text) or _CHEST_REPORT_RE.search(text):
        return
    for s in statements:
        if s.concept == "pleural effusion" and re.fullmatch(r"effusions?", s.surface.strip(), re.IGNORECASE):
            s.concept = "effusion (joint)"


_CHANGE_BY_RE = re.compile(r"\b(?:grown|grew|increased|decreased|shrunk|shrank|gone (?:up|down)|risen|rose|fallen|fell|"
                           r"got(?:ten)? (?:bigger|smaller)) by (?:about |around |roughly |nearly |almost |just |another )?",
                           re.IGNORECASE)


def extract(text: str) -> Extraction:
    """Statements, measurements, comparisons and recommendations of a report or its rewrite."""
    text = _CAPITALS_LABEL_RE.sub(r"\1:\n", text or "")  # a capitals label on its own line, as a heading
    sentences = split_sentences(text)
    result = Extraction(sentences=sentences)
    asides = _aside_sentences(sentences)
    history_lines = _history_sentences(text, sentences)
    for index, sentence in enumerate(sentences):
        found = lexicon.find_findings(sentence)
        absent_words = [a for a in _absence_mentions(sentence)
                        if not any(a.start < m.end and m.start < a.end for m in found)]
        context = _context_spans(sentence) + _analogy_spans(sentence, found)
        context += [m.span(1) for m in _SPECIALTY_RE.finditer(sentence)]
        definition = _WORD_DEFINITION_RE.match(sentence)
        if definition:
            context.append((definition.end(), len(sentence)))  # "A meningioma is a growth of ...": what the word means
        if _GENERIC_DEFINITION_RE.match(sentence):
            context = [(0, len(sentence))]  # "A spot that lights up means active inflammation": no finding of this patient
        if index in history_lines:
            context = [(0, len(sentence))]  # "History: 82F, fall. Scalp swelling.": the reason for the scan
        if _titles_next(sentences, index, found):
            context = [(0, len(sentence))]  # "Blood clots:" titles what follows; the sentence says whether there are any
        if index in asides:
            context = [(0, len(sentence))]  # a glossary entry or a question to ask names no finding of the patient
        found = [m for m in found if not any(a <= m.start < b for a, b in context)]
        mentions = sorted(found + absent_words, key=lambda m: m.start)
        negated, uncertain = negation.scopes(sentence, [(m.start, m.end) for m in found])
        starts = sorted(start for start, _ in negated)
        for start, end in negated:  # each trigger up to the next one: "no inflammation around it and no bleeding"
            end = min([end] + [s for s in starts if s > start])
            if not any(m.start < end and start < m.end for m in mentions):
                result.unread_denials.append(index)
        if index not in result.unread_denials:
            result.unread_denials.extend([index] * _normal_clauses_unread(sentence, mentions))
        sides = _attach_sides(sentence, mentions)
        anatomy = frozenset(a.concept for a in lexicon.find_anatomy(sentence))
        named = lexicon.find_sides(sentence)
        result.sentence_sides.append(frozenset().union(*(side for _, side in named)) if named else frozenset())
        result.sentence_anatomy.append(anatomy)
        result.sentence_measurements.append(extract_measurements(sentence))
        # "it has grown by half a centimetre": a change worked out from two sizes the text gives
        for change in _CHANGE_BY_RE.finditer(sentence):
            amount = extract_measurements(sentence[change.end():change.end() + 40])
            if amount and amount[0].dimension == "length":
                result.context_measurements.append(amount[0])
        # the reason for the scan ("cough for 3 days", "6 weeks after surgery") measures no finding
        if context:
            kept = extract_measurements(_blank(sentence, context))
            result.context_measurements.extend(m for m in result.sentence_measurements[-1]
                                               if not any(m.matches(k) and m.raw == k.raw for k in kept))
        for mention, side in zip(mentions, sides):
            polarity = negation.polarity_at(mention.start, mention.end, negated, uncertain)
            if polarity == "uncertain" and _DIRECT_DENIAL_RE.search(sentence[max(0, mention.start - 12):mention.start]):
                polarity = "absent"  # "most likely harmless (not cancer)": the denial is the finding's own
            if mention in absent_words:  # "intact" is an absence; "not intact" a presence
                own_trigger = any(mention.start <= start < mention.end for start, _ in negated)  # "clear of the os"
                polarity = "present" if polarity == "absent" and not own_trigger else "absent"
            elif re.match(r"(?:non-?|un)(?:obstruct|displac|enhanc)", mention.surface, re.IGNORECASE):
                polarity = "absent"
            elif polarity == "uncertain" and mention.concept in ("displacement", "obstruction") and re.search(r"\b(?:has|have|had|is|are|was|were) not\b|n't\b", mention.surface):
                polarity = "absent"  # "a crack that has not moved cannot be ruled out": its own denial, as "undisplaced"
            elif polarity == "present" and _NORMAL_INSIDE_RE.search(mention.surface):
                polarity = "absent"  # "its wall is a normal thickness": the measure is named as normal
            elif polarity == "present" and mention.concept in lexicon.GENERIC and _NORMAL_BEFORE_RE.search(sentence[max(0, mention.start - 40):mention.start]):
                polarity = "absent"  # "Normal thymic shadow": the normal structure, not a finding
            result.statements.append(Statement(
                concept=mention.concept, surface=mention.surface, sentence=sentence, sentence_index=index,
                polarity=polarity, sides=side, anatomy=anatomy, start=mention.start, end=mention.end,
                sign=mention in absent_words,
            ))
        # the cue may open the list the change sits in ("Compared with your X-ray from June: - ...")
        # "repeat film only if no clinical improvement" and "pain, worse on standing" compare no scans
        history = [(a, b) for a, b in context if (a, b) == (0, len(sentence)) or _HISTORY_RE.match(sentence, a)]
        stated = _CONDITIONAL_RE.sub(" ", _blank(sentence, history))
        has_cue = bool(_COMPARISON_CUE_RE.search(stated)) or bool(index and _COMPARISON_CUE_RE.search(sentences[index - 1]))
        for key, pattern in _TEMPORAL_RE:
            if pattern.search(stated) and (has_cue or key not in _NEEDS_CUE or _COMPARATIVE_RE.search(stated)):
                result.temporal.add(key)
        if _RECOMMEND_RE.search(sentence) and index not in history_lines:  # "History: routine follow-up"
            result.recommendations.append(sentence)
    _hedge_glosses(result.statements)
    _bare_effusions_of_joints(text, result.statements)
    result.statements = _without_places(result.statements)
    _name_lay_words_by_their_gloss(result.statements)
    _glosses_share_stance(result.statements)
    _deny_modifiers_only(result.statements)
    result.measurements = extract_measurements(text)
    named = lexicon.find_sides(text)
    result.all_sides = frozenset().union(*(side for _, side in named)) if named else frozenset()
    return result
