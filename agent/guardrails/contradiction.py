"""Does a claim say the opposite of the evidence sentence closest to it?

Why a separate check: similarity scores cannot see polarity. "DDIM is stochastic" sits as close
to "DDIM is fully deterministic" as a faithful paraphrase does, so a claim that negates its own
source would pass as grounded. Two deterministic tests against the closest evidence sentence:
- an antonym swap: the claim uses one word of an opposing pair and the evidence the other
  ("deterministic"/"stochastic", "faster"/"slower", "paired"/"unpaired");
- a negation mismatch: a content word both share is negated in one only ("needs no
  retraining" vs "requires retraining").
"""

from __future__ import annotations

import re

# Opposing words; each pair is tried in both directions. Kept to pairs whose swap reverses a
# technical statement, not ones that merely differ in degree.
ANTONYMS: tuple[tuple[str, str], ...] = (
    ("deterministic", "stochastic"), ("deterministic", "random"), ("faster", "slower"), ("fast", "slow"),
    ("paired", "unpaired"), ("supervised", "unsupervised"), ("supervised", "self-supervised"),
    ("shared", "separate"), ("larger", "smaller"), ("large", "small"), ("increase", "decrease"),
    ("increases", "decreases"), ("increased", "decreased"), ("raises", "lowers"), ("raise", "lower"),
    ("rises", "falls"), ("higher", "lower"), ("more", "fewer"), ("widely", "rarely"), ("common", "rare"),
    ("compresses", "expands"), ("compressed", "expanded"), ("cheap", "expensive"), ("cheaper", "costlier"),
    ("linear", "nonlinear"), ("conditional", "unconditional"), ("lossless", "lossy"), ("encoder", "decoder"),
    ("before", "after"), ("easier", "harder"), ("always", "never"), ("adds", "removes"), ("add", "remove"),
    ("stable", "unstable"), ("reliable", "unreliable"), ("explicit", "implicit"), ("global", "local"),
    ("forward", "reverse"), ("same", "different"), ("identical", "different"), ("true", "false"),
    ("better", "worse"), ("improves", "worsens"), ("reduces", "increases"), ("reduce", "increase"),
    ("sharper", "blurrier"), ("sharp", "smooth"), ("less", "more"), ("many", "few"), ("most", "least"),
    ("safe", "unsafe"), ("accurate", "inaccurate"), ("visible", "invisible"), ("inside", "outside"),
    ("allowed", "forbidden"), ("required", "optional"), ("success", "failure"), ("strong", "weak"),
    ("keeps", "stops"), ("continues", "stops"), ("starts", "stops"), ("gains", "loses"), ("include", "exclude"),
)
_OPPOSITE: dict[str, set[str]] = {}
for _a, _b in ANTONYMS:
    _OPPOSITE.setdefault(_a, set()).add(_b)
    _OPPOSITE.setdefault(_b, set()).add(_a)

# Negating words; contrastive phrases ("instead of", "rather than") are not among them: they
# set one thing against another rather than deny what follows.
_NEGATORS = {"not", "no", "never", "none", "nothing", "neither", "nor", "without", "cannot", "unable", "lacks",
             "lack", "isn't", "aren't", "doesn't", "don't", "didn't", "can't", "won't", "wasn't", "weren't"}
_TOKEN_RE = re.compile(r"[a-z]+(?:['-][a-z]+)*")
_WORD_RE = re.compile(r"[a-z]+(?:-[a-z]+)*")
_STOP = set("""a an the of in on at to for with by from as is are was were be been being it its this that these
those and or but can could may might will would should has have had do does did than then there their which
who what when where how into onto about over under after before such also very one any""".split())
# A negator counts when one of the next few words is a content word both sentences share:
# "needs no retraining" negates "retraining"; a "no" elsewhere in a long source sentence does not.
NEGATION_WINDOW = 3


def _words(text: str) -> set[str]:
    return set(_WORD_RE.findall(text.lower()))


def _prefixed_opposite(word: str, others: set[str]) -> str | None:
    """"unpaired" against "pairs", "non-linear" against "linear": a negating prefix on a shared stem."""
    for prefix in ("non-", "non", "un"):
        if word.startswith(prefix) and len(word) - len(prefix) >= 4:
            base = _stem(word[len(prefix):])
            match = next((o for o in sorted(others) if _stem(o) == base), None)
            if match is not None:
                return match
    return None


def antonym_conflict(claim: str, evidence: str) -> tuple[str, str] | None:
    """(claim word, evidence word) of an opposing pair the two sentences split, else None."""
    c, e = _words(claim), _words(evidence)
    for word in sorted(c - e):
        for opposite in sorted(_OPPOSITE.get(word, ())):
            if opposite in e and opposite not in c:
                return word, opposite
        opposite = _prefixed_opposite(word, e - c)
        if opposite is not None:
            return word, opposite
    for word in sorted(e - c):
        opposite = _prefixed_opposite(word, c - e)
        if opposite is not None:
            return opposite, word
    return None


def _stem(word: str) -> str:
    return re.sub(r"(?:ing|ed|es|s)$", "", word) if len(word) > 4 else word


def _negated_words(text: str, shared: set[str]) -> set[str]:
    """Shared words within the window after a negator, not reaching past punctuation."""
    out = set()
    for clause in re.split(r"[,;:.()!?]|\s[-\u2013\u2014]\s", text.lower()):
        tokens = _TOKEN_RE.findall(clause)
        for i, token in enumerate(tokens):
            if token in _NEGATORS or token.endswith("n't"):
                out |= {_stem(t) for t in tokens[i + 1:i + 1 + NEGATION_WINDOW]} & shared
    return out


def negation_conflict(claim: str, evidence: str) -> bool:
    """A content word both sentences share is negated in one of them and not in the other."""
    claim_words = {_stem(w) for w in _TOKEN_RE.findall(claim.lower())} - _STOP - _NEGATORS
    shared = claim_words & {_stem(w) for w in _TOKEN_RE.findall(evidence.lower())}
    if not shared:
        return False
    return bool(_negated_words(claim, shared) ^ _negated_words(evidence, shared))


def contradiction(claim: str, evidence: str) -> str | None:
    """Why the claim contradicts this evidence sentence, or None."""
    pair = antonym_conflict(claim, evidence)
    if pair is not None:
        return f"it says '{pair[0]}' where a source says '{pair[1]}'"
    if negation_conflict(claim, evidence):
        return "it reverses a negation in a source"
    return None
