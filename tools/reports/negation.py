"""NegEx-style negation and uncertainty scoping for one sentence.

A pre-trigger ("no", "without", "there is no sign of") negates the findings that follow it up
to a scope terminator ("but", "however", ";", a new clause); a post-trigger ("is not seen",
"was ruled out") negates the findings before it back to the clause start. Pseudo-triggers
("no change", "not only", "cannot exclude") are consumed first so they do not negate.
Uncertainty works the same way with its own triggers ("possible", "cannot exclude").
"""

from __future__ import annotations

import re
from typing import Literal

Polarity = Literal["present", "absent", "uncertain"]

_PSEUDO = (
    r"no (?:significant |interval |appreciable |real |major )?(?:change|increase|decrease|growth|difference)s?"
    r"(?! (?:was|were|is|are|has been) (?:seen|found|identified|detected))",
    r"not (?:significantly )?(?:changed|increased|decreased|grown(?! into| through| beyond| outside| out)|larger|smaller|bigger)",
    r"not only", r"not necessarily", r"without (?:significant |interval )?change", r"no longer",
    r"has not changed", r"have not changed", r"did not change", r"hasn't changed", r"haven't changed",
    r"no other (?:change)",
    # advice about a finding, not its absence ("no follow-up is needed for the cyst")
    r"no (?:further |more |routine )?(?:follow-?up|imaging|treatment|action|scans?)(?: (?:is|was|are))? (?:required|needed|necessary|recommended|advised)", r"gram[- ]negative", r"not been (?:changed|altered)",
    # "likely not cancer" denies more than it hedges; the "not" stays to negate
    r"(?:most |very )?(?:likely|probably)(?= not\b)",
    # statements about a finding's nature, not its presence ("it is not yet clear what the spot is")
    r"not (?:yet )?(?:clear|known|certain|sure)(?: (?:right now|yet|at (?:this|the moment)|for now))? (?:what|exactly what|why)", r"cannot (?:yet )?tell (?:yet )?what",
    r"can't (?:yet )?tell what", r"indeterminate",
    # lay forms of a finding that contain a negating word themselves
    r"not fully (?:inflated|expanded|open(?:ed)?(?: up)?|filled with air|aerated)",
    # what hid a structure is there: "veins not well visualised due to oedema", "could not see them because of the swelling"
    r"not (?:well |clearly |fully |adequately )?(?:visuali[sz]ed|seen|assessed|imaged)(?: \w+)? (?:due to|because of|owing to)",
    r"(?:could not|couldn't|can't|cannot|did not|didn't|was not able to) (?:see|assess|view)\b[^.;]{0,60}?\b(?:because of|due to)",
    r"(?:not|isn't|aren't|can't|cannot|can not|unable to) (?:draining|emptying|drain|empty)(?: (?:well|properly|freely|fully|completely|normally))?", r"non-?(?:cancerous|displaced|obstructing|obstructive|enhancing)",
    # how the study was done, not what it found ("CT without contrast shows a 4 mm nodule")
    r"(?:with and |and )?(?:without|w/o) (?:(?:the |a |any |iv |intravenous |oral )?(?:contrast|dye|gadolinium|sedation|"
    r"an(?:a)?esthe\w*|injection)(?: dye| agent| medium| material| injection)?)",
    r"non-?contrast(?:ed)?", r"un-?enhanced", r"no (?:iv |intravenous |oral )?(?:contrast|dye|gadolinium)(?: was)? (?:given|used|injected)",
    r"not (?:been )?(?:given|used|injected) (?:contrast|dye)",
)

_UNCERTAIN_PRE = (
    r"cannot (?:be )?(?:entirely |completely |fully )?(?:exclude[ds]?|rule[ds]? out)",
    r"can ?not (?:entirely |completely |fully )?(?:exclude|rule out)",
    r"can't (?:entirely |completely |fully )?(?:exclude|rule out|be sure)",
    r"could not (?:entirely |completely |fully )?(?:exclude|rule out)",
    r"not (?:entirely |completely |fully )?(?:possible to )?(?:exclude[ds]?|ruled out)",
    r"possible", r"possibly", r"probable", r"probably", r"likely", r"unlikely", r"may", r"might", r"could(?! not\b)",
    r"suspicious (?:for|of)", r"suggestive of", r"suggests?", r"concerning for", r"questionable",
    r"equivocal", r"presumed", r"presumably", r"consistent with", r"compatible with", r"to suggest", r"that suggests?", r"(?:that|which) (?:would|might|could) suggest", r"suggesting",
    r"in keeping with", r"differential (?:diagnosis )?includes?", r"worrisome for", r"suspected",
    r"uncertain", r"not sure", r"perhaps", r"query", r"appears? to be", r"seems? to be", r"maybe",
    r"a chance of", r"raises? the possibility", r"cannot be certain", r"not certain", r"unclear",
    r"not (?:yet )?(?:clear|known|certain|sure) (?:whether|if)", r"raises? (?:the )?concern (?:for|of|about)",
    r"concern for", r"worrying for", r"cannot tell (?:whether|if)", r"can't tell (?:whether|if)",
    r"(?:one|a|another) possibility", r"potential(?:ly)?", r"worr(?:y|ied) (?:about|that)", r"(?:are|is|am) worried", r"thought to be",
    r"believed to be", r"favou?r(?:s|ed)?", r"hard to (?:say|tell|be sure)", r"(?:can't|cannot|can not) be sure",
    r"not (?:entirely |completely |yet )?(?:sure|certain|definite|confirmed)", r"may represent", r"might represent",
    r"could represent", r"would fit with", r"looks? like it (?:could|may|might)", r"it is not known whether",
    r"can be (?:seen|found) (?:with|in)", r"looks? (?:a lot |most )?like", r"sounds? like", r"can be (?:a )?signs? of", r"can (?:mean|suggest)",
    # what a test may miss: "a CT scan cannot always show a stroke in its first hours"
    r"(?:cannot|can ?not|can't|does not|doesn't|do not|don't|will not|won't) always (?:show|see|detect|find|pick up|spot|rule out)",
    r"(?:does|do|did) not (?:necessarily |definitely |always )?mean (?:that )?(?:you|it|there|this)"
    r"(?: (?:definitely|certainly|really))? (?:have|has|is|are)",
)
_UNCERTAIN_POST = (
    r"(?:cannot|can ?not|can't|could not) (?:be )?(?:entirely |completely |fully )?(?:excluded|ruled out)",
    r"(?:is|are) not (?:entirely |completely |fully )?(?:excluded|ruled out)",
    r"(?:is|are) (?:possible|likely|suspected|not excluded|questioned)", r"\?",
)
# Hedges like "consistent with" / "in keeping with" are how reports state a diagnosis; they
# do not make the finding uncertain for a patient, so they are pseudo-uncertain.
_PSEUDO_UNCERTAIN = {r"consistent with", r"compatible with", r"in keeping with", r"appears? to be",
                     r"seems? to be", r"to suggest", r"that suggests?", r"(?:that|which) (?:would|might|could) suggest"}

_NEG_PRE = (
    r"there (?:is|are|was|were) no(?: evidence| sign| signs| indication)?(?: of)?",
    r"no (?:evidence|sign|signs|indication|suggestion|findings?|features?|radiographic evidence|"
    r"ct evidence|mri evidence|sonographic evidence) (?:of|for|to suggest)",
    r"no (?:definite|obvious|significant|acute|visible|focal|discrete|suspicious|new|other|further|"
    r"measurable|residual|large|gross)",
    r"negative for", r"resolution of", r"free of", r"free from", r"absence of", r"absent", r"without", r"w/o", r"not", r"no", r"nor",
    r"neither", r"never", r"none", r"nothing", r"none of (?:the|these|those|them|your)", r"neither of (?:the|these|those|them|your)", r"rather than", r"clear of", r"did not (?:see|find|show|detect|identify|reveal)",
    r"does not (?:show|have|contain|demonstrate|reveal)", r"do not (?:see|show|have)", r"didn't (?:see|find|show)",
    r"doesn't (?:show|have)", r"don't (?:see|have)", r"not (?:see|find|show)", r"nothing (?:to suggest|that looks like)",
    r"ruled out", r"excluded", r"there (?:is|are) nothing", r"cannot see", r"can't see", r"could not (?:see|find)",
    r"shows? no", r"showed no", r"has no", r"have no", r"with no", r"isn't", r"aren't", r"wasn't", r"weren't",
    r"(?:has|have|had|does|do|did|would|could)n't", r"(?:has|have|had) not", r"(?:was|were|is|are) not",
    r"no signs? (?:of|that)", r"no hint of", r"no trace of",
)
_NEG_POST = (
    r"(?:is|are|was|were|has been|have been) (?:not |no longer )?(?:seen|identified|visualized|visualised|"
    r"demonstrated|present|detected|evident|appreciated)",
    r"(?:is|are|was|were|has been|have been) (?:ruled out|excluded|absent|resolved)",
    r"not (?:seen|identified|visualized|visualised|demonstrated|present|detected|evident|appreciated)",
    r"(?:is|are|was|were) (?:not )?(?:there|found|visible)", r"(?:has|have) (?:resolved|gone|cleared|disappeared)",
    r"ruled out", r"excluded", r"(?:is|are|was|were) negative", r"negative(?! for)",
    r"(?:is|are|was|were|has|have) (?:now |since |completely )?(?:gone|resolved|cleared)(?: up| away)?",
)
# Post phrases must contain a negating word to negate ("is seen" is affirmative).
_NEG_WORD = re.compile(r"\b(not|no|absent|ruled out|excluded|resolved|gone|cleared|disappeared|negative)\b")

_TERMINATORS = re.compile(
    r"\b(?:but|however|although|though|whereas|while|except|apart from|aside from|other than|yet|"
    r"instead|nevertheless|(?<!may )(?<!might )(?<!could )(?<!can )(?<!would )still|although|which|who|whose|so that)\b|[;:!?\u2022]|\s[-\u2013\u2014]\s|"
    r",\s+(?:and\s+|but\s+|so\s+)?(?:there|the|a|an|this|it|its|these|those|we|your|you|they|one)\b|"
    r"\b(?:and|so)\s+(?:there|the|this|it|its|these|those|we|your|you|they)\b|"
    r",\s+and\s+[a-z]+\s+(?:is|are|was|were|has|have|had|flows?|looks?|seems?|moves?|runs?|drains?)\b|"
    r"\.\s", re.IGNORECASE)


def _alternation(items: tuple[str, ...] | set[str]) -> re.Pattern[str]:
    ordered = sorted(items, key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(ordered) + r")(?![\w'])", re.IGNORECASE)


_PSEUDO_RE = _alternation(_PSEUDO + tuple(_PSEUDO_UNCERTAIN))
_UNC_PRE_RE = _alternation(tuple(t for t in _UNCERTAIN_PRE if t not in _PSEUDO_UNCERTAIN))
_UNC_POST_RE = re.compile(r"(?:" + "|".join(_UNCERTAIN_POST) + r")", re.IGNORECASE)
_NEG_PRE_RE = _alternation(_NEG_PRE)
_NEG_POST_RE = _alternation(_NEG_POST)

MAX_SCOPE_WORDS = 15
_QUANTIFIER_RE = re.compile(r"none|neither|nothing", re.IGNORECASE)


def _mask(sentence: str, pattern: re.Pattern[str]) -> str:
    """Blank matched spans with spaces so later patterns cannot fire inside them (offsets kept)."""
    return pattern.sub(lambda m: " " * len(m.group(0)), sentence)


def _clause_end(text: str, start: int) -> int:
    m = _TERMINATORS.search(text, start)
    end = m.start() if m else len(text)
    words = list(re.finditer(r"\S+", text[start:end]))
    if len(words) > MAX_SCOPE_WORDS:
        end = start + words[MAX_SCOPE_WORDS - 1].end()
    return end


def _clause_start(text: str, end: int) -> int:
    last = 0
    for m in _TERMINATORS.finditer(text, 0, end):
        last = m.end()
    words = list(re.finditer(r"\S+", text[last:end]))
    if len(words) > MAX_SCOPE_WORDS:
        last = last + words[-MAX_SCOPE_WORDS].start()
    return last


# A check the report asks for ("to check that the infection has gone") is not a statement.
_HYPOTHETICAL_RE = re.compile(r"\b(?:to|and) (?:check|make sure|confirm|see|find out|ensure) (?:that|whether|if)\b.*$",
                              re.IGNORECASE)


# Between two findings negated by one trigger there must be a list connector: "no effusion,
# pneumothorax or consolidation" negates all three; "no bleeding into the stroke area" only one.
_LIST_GAP_RE = re.compile(r"^[\s,/(]*(?:(?:\w+[\s,]+){0,3}?(?:or|nor|and|and/or)\b[\s\w]*|[\s,/(]*(?:\w+\s+){0,2})[\s(]*$",
                          re.IGNORECASE)


_NOUN_PHRASE_JOIN_RE = re.compile(r"^\s+(?:of|from|with|containing)(?:\s+(?:the|a|an|some|any))?(?:\s+(?:old|new|recent|fresh|tiny|small))?\s+$",
                                  re.IGNORECASE)


def _cut_at_non_list(span: tuple[int, int], text: str, findings: list[tuple[int, int]]) -> tuple[int, int]:
    """Shorten a pre-trigger scope after the first finding not joined to the previous by a list."""
    start, end = span
    inside = sorted(f for f in findings if start <= f[0] < end)
    for prev, cur in zip(inside, inside[1:]):
        gap = text[prev[1]:cur[0]]
        if not gap.strip(" -"):  # one noun phrase: "no enhancing lesions"
            continue
        if re.search(r"\b(?:to|(?:that|which) (?:would|might|could)) (?:suggest|indicate|mean)\b|\bsuggest(?:ing|ive of)\b",
                     gap, re.IGNORECASE):
            continue  # "no filling defect to suggest embolism", "no lump that would suggest cancer" deny both
        if re.match(r"^\s*(?:that|which)\s+(?:[\w-]+\s+){0,1}$", gap, re.IGNORECASE):
            continue  # "no spots that light up": the relative clause says what is denied
        if re.match(r"^\s*[—–]\s*$", gap) or re.match(r"^[^()]{0,40}\((?:\s*[\w'-]+){0,2}\s*$", gap):  # a gloss in brackets: "no scarring of the liver (cirrhosis)"
            continue
        if _NOUN_PHRASE_JOIN_RE.match(gap):  # one noun phrase: "no patch of infection"
            continue
        if not _LIST_GAP_RE.match(gap) or ("," not in gap and "/" not in gap and not re.search(r"\b(or|nor|and)\b", gap)):
            return (start, prev[1])
    return span


def scopes(sentence: str, findings: list[tuple[int, int]] | None = None) -> tuple[
        list[tuple[int, int]], list[tuple[int, int]]]:
    """Character spans of the sentence that are negated, and those that are uncertain.

    `findings` (spans of finding mentions) lets a negation stop at the first finding that is
    not part of a list.
    """
    work = _mask(_mask(sentence, _HYPOTHETICAL_RE), _PSEUDO_RE)
    uncertain: list[tuple[int, int]] = []
    for m in _UNC_POST_RE.finditer(work):
        uncertain.append((_clause_start(work, m.start()), _clause_end(work, m.end())))  # "it is likely to be X"
    work = _mask(work, _UNC_POST_RE)
    for m in _UNC_PRE_RE.finditer(work):
        uncertain.append((m.start(), _clause_end(work, m.end())))
    work = _mask(work, _UNC_PRE_RE)
    negated: list[tuple[int, int]] = []
    for m in _NEG_POST_RE.finditer(work):
        if _NEG_WORD.search(m.group(0).lower()):
            start = _clause_start(work, m.start())
            comma = work.rfind(",", start, m.start())
            if comma >= 0 and re.search(r"\w", work[comma:m.start()]) and not any(
                    comma < f_start < m.start() for f_start, _ in (findings or [])):
                start = comma + 1  # "left hydronephrosis, cause not identified": the cause is what is not seen
            negated.append((start, m.end()))
    work = _mask(work, _NEG_POST_RE)
    for m in _NEG_PRE_RE.finditer(work):
        # The span starts at the trigger, so a lay phrase with the trigger inside it
        # ("the kidney is not swollen") is negated too.
        span = (m.start(), _clause_end(work, m.end()))
        if m.group(0).lower().endswith("that") or work[m.end():m.end() + 6].lower().startswith(" that "):
            # "no sign that the aneurysm has burst": the subject stands; its predicate is denied
            verb = re.search(r"\b(?:has|have|had|is|are|was|were|will|can|could|does|do|did)\b", work[m.end():span[1]])
            if verb and not _RETURN_RE.match(work, m.end() + verb.end()):
                span = (m.end() + verb.start(), span[1])
        elif _SEE_SIGNS_THAT_RE.match(work[m.end():]):
            # "we did not see signs that the clots are straining your heart": the predicate is denied
            verb = re.search(r"\b(?:has|have|had|is|are|was|were|will|can|could|does|do|did)\b",
                             work[m.end():span[1]])
            if verb:
                negated.append((m.end() + verb.start(), span[1]))
                continue
        if _QUANTIFIER_RE.match(m.group(0)):  # "none of the spots lit up": the whole clause is denied
            negated.append(span)
        else:
            negated.append(_cut_at_non_list(span, sentence, findings or []))
    return negated, uncertain


# "no sign that the cancer has come back": a finding coming back is the finding itself, denied.
_RETURN_RE = re.compile(r"\s+(?:\w+\s+)?(?:come back|came back|coming back|returned|returning|recurred|recurring|"
                        r"grown back|growing back|regrown)\b", re.IGNORECASE)
_SEE_SIGNS_THAT_RE = re.compile(r"\s+(?:(?:see|find|show)\s+)?(?:any\s+)?(?:signs?|evidence)\s+that\s", re.IGNORECASE)


def polarity_at(start: int, end: int, negated: list[tuple[int, int]], uncertain: list[tuple[int, int]]) -> Polarity:
    """Polarity of a mention at [start, end): uncertain wins over negated (a "cannot exclude").

    A mention is in a scope when they overlap, so a trigger inside a gapped lay phrase counts.
    """
    inside = lambda spans: any(s < end and start < e for s, e in spans)  # noqa: E731
    if inside(uncertain):
        return "uncertain"
    if inside(negated):
        return "absent"
    return "present"
