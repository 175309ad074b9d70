"""Deterministic fidelity check of a patient-friendly rewrite against its original report.

Why not ask the LLM: LLM error checkers miss a sizeable share of inserted errors, and a
small local model is the one making them. Here both texts are reduced to statements
(finding, side, polarity, measurements, comparisons, recommendations) by a lexicon and
NegEx-style rules, and the statement sets are compared. Sentence embeddings are used only
as a fallback to match a finding phrased in words the lexicon does not list.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from tools.reports import lexicon, readability
from tools.reports.statements import Extraction, Measurement, Statement, extract, extract_measurements
from tools.schemas import Flag

# Cosine similarity above which an unexplained sentence is taken as a paraphrase of a finding
# the lexicon did not recognise. Calibrated on the development pairs
# (tools/reports/fallback_calibration.py): the lowest value at which no sentence of a labelled
# omission or addition, nor any sentence from another report, passes as a paraphrase once the
# agreement rule (`_agrees`: stance, side, numbers, finding) also holds; on the long dev6 to
# dev16 reports some wrong sentences score up to 0.94, so it accepts almost no paraphrase and
# the lexicon rules carry the weight. A fallback must not hide an omission or an addition.
FALLBACK_SIMILARITY = 0.95
MAX_CHECK_CHARS = 50_000  # far above any report; bounds the worst case to a few seconds

_POLARITY_WORDS = {"present": "present", "absent": "absent (negated)", "uncertain": "possible (uncertain)"}


@dataclass
class CheckResult:
    """Flags, reading grades, and the statements both texts were reduced to (for explanations)."""

    flags: list[Flag]
    grade: float
    original_grade: float
    original_statements: list[Statement] = field(default_factory=list)
    rewrite_statements: list[Statement] = field(default_factory=list)
    original_measurements: list[Measurement] = field(default_factory=list)
    rewrite_measurements: list[Measurement] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"flags": [f.model_dump() for f in self.flags], "grade": self.grade,
                "original_grade": self.original_grade}


def _describe_sides(sides: frozenset[str]) -> str:
    if sides == {"left", "right"}:
        return "both sides"
    return "/".join(sorted(sides)) or "no side"


def _fmt_measure(m: Measurement) -> str:
    return m.raw


def _unexplained(sentences: list[str], extraction: Extraction, known: set[str]) -> list[str]:
    """Sentences whose findings (if any) are not already matched to the other text."""
    by_sentence = _concepts_by_sentence(extraction)
    return [sent for i, sent in enumerate(sentences) if not (by_sentence.get(i, set()) & known)]


_NORMAL_OR_NEGATED_RE = re.compile(
    r"\b(no|not|without|(?<!than )normal|unremarkable|clear|negative|absent|none|nothing|intact|patent)\b|n't\b",
    re.IGNORECASE)


def _same_stance(source: str, candidate: str) -> bool:
    """Embeddings ignore negation: "Spleen normal" sits next to "The spleen is enlarged". A
    paraphrase must agree on whether it states something normal/absent."""
    return bool(_NORMAL_OR_NEGATED_RE.search(source)) == bool(_NORMAL_OR_NEGATED_RE.search(candidate))


def _agrees(source: Statement, candidate: str) -> bool:
    """Whether a candidate sentence could restate the source finding, beyond embedding similarity.

    Cosine similarity ignores what matters most here: "a small cyst on the left ovary" sits close
    to "both ovaries are normal". So a fallback match must also agree on stance (the finding's own
    polarity: present vs normal/absent), on side, on numbers, and must not name a different
    finding; similarity never hides a new finding, a side or a number.
    """
    stance = source.polarity == "absent" if source.polarity != "uncertain" else None
    if stance is not None and stance != bool(_NORMAL_OR_NEGATED_RE.search(candidate)):
        return False
    if stance is None and not _same_stance(source.sentence, candidate):
        return False
    source_sides, candidate_sides = _sentence_sides(source.sentence), _sentence_sides(candidate)
    if source_sides and candidate_sides and source_sides != candidate_sides:
        return False
    source_numbers, candidate_numbers = extract_measurements(source.sentence), extract_measurements(candidate)
    if source_numbers and candidate_numbers and not all(
            any(m.matches(c) for c in candidate_numbers) for m in source_numbers):
        return False
    named = {m.concept for m in lexicon.find_findings(candidate)}
    return not named or any(lexicon.related(source.concept, c) for c in named)


def _fallback_match(sources: list[Statement], candidates: list[str], use_embeddings: bool) -> int | None:
    """Index of the candidate sentence that paraphrases any source statement's sentence, or None."""
    if not use_embeddings or not sources or not candidates:
        return None
    try:
        from agent.guardrails import embeddings

        sims = embeddings.similarity([s.sentence for s in sources], candidates)
    except Exception:  # noqa: BLE001 - the fallback is optional; the lexicon decision stands
        return None
    for j in [int(k) for k in sims.max(axis=0).argsort()[::-1]]:
        i = int(sims[:, j].argmax())
        if float(sims[i, j]) < FALLBACK_SIMILARITY:
            return None
        if _agrees(sources[i], candidates[j]):
            return j
    return None


def _glosses(rew: Extraction, matched: set[str]) -> set[str]:
    """Rewrite concepts that only ever sit in a sentence beside a related, matched concept: a lay
    gloss ("a slipped disc, a kind of wear and tear"). Said in a sentence of its own, a related
    concept is a finding of its own ("There is also wear and tear in the small joints")."""
    out = set()
    for concept in rew.concepts() - matched:
        own = [s for s in rew.statements if s.concept == concept]
        if all(any(o.sentence_index in _explained_sentences(rew, s.sentence_index) and o.concept in matched
                   and lexicon.related(o.concept, concept) for o in rew.statements) for s in own):
            out.add(concept)
    return out


# "These results fit with pyloric stenosis. This is when the muscle ... blocks milk from leaving
# the stomach": a sentence opening like this explains the finding of the one before.
_DEFINING_OPENER_RE = re.compile(r"(?:this|that|it) (?:is|means) (?:when|where|a condition|a kind|a type|what happens)\b|"
                                 r"(?:this|that|it)(?:'s| is) (?:a |an )?(?:common |usual |typical |early )?signs? of\b",
                                 re.IGNORECASE)


def _explained_sentences(ex: Extraction, index: int) -> set[int]:
    """The sentence itself, and the one before when this one defines what that one named."""
    if index and _DEFINING_OPENER_RE.match(ex.sentences[index]):
        return {index, index - 1}
    return {index}


# Descriptive concepts: "bigger than normal", "thickened" describe the finding they sit beside.
_DESCRIPTIVE = frozenset({"dilatation", "thickening"})


def _descriptions(rew: Extraction, added: set[str], matched: set[str]) -> set[str]:
    """Added descriptive concepts whose every mention shares a sentence with a matched finding."""
    out = set()
    for concept in added & _DESCRIPTIVE:
        own = [s for s in rew.statements if s.concept == concept]
        if all(any(o.sentence_index == s.sentence_index and o.concept in matched for o in rew.statements) for s in own):
            out.add(concept)
    return out


def _same_place(orig: Extraction, rew: Extraction, where: set[int]) -> set[int]:
    """Rewrite sentences about the same organ on the same side as the given report sentences
    ("No suspicious enhancement in the left breast." / "Left breast: there are no suspicious areas.")."""
    out = set()
    for i in where:
        o_sides, o_anatomy = orig.sentence_sides[i], orig.sentence_anatomy[i]
        if not o_sides or not o_anatomy:
            continue
        out |= {j for j, (sides, anatomy) in enumerate(zip(rew.sentence_sides, rew.sentence_anatomy))
                if sides == o_sides and o_anatomy & anatomy}
    return out


# Single lay words that describe how something looks rather than name a finding.
_DESCRIPTIVE_WORDS = frozenset("""swollen swelling thick thickened thicker thickening narrow narrowed narrower narrowing
enlarged enlargement bigger larger wider widened worn spot spots patch patches patchy shadow shadows hazy cloudy stretched
dilated bulging""".split())


def _describing(surface: str) -> bool:
    word = re.sub(r"\s+than\s+(?:normal|usual|expected|before|it should be|they should be)$", "", surface.lower().strip())
    return word in _DESCRIPTIVE_WORDS


def _lay_descriptions(orig: Extraction, rew: Extraction, added: set[str], matched: set[str]) -> set[str]:
    """Added concepts met only as one describing word ("swollen", "narrowed", "a spot") in a
    sentence about an organ the report discusses, or beside a finding it shares: the rewrite
    describes what the report found ("the gap between the bones is narrower" for joint space
    loss, "the veins are swollen, like varicose veins"). A new finding named as such ("a fatty
    liver", "a clot") is still an addition."""
    o_anatomy = frozenset().union(*orig.sentence_anatomy)
    beside = {s.sentence_index for s in rew.statements if s.concept in matched}

    def named_back(s: Statement) -> bool:
        """"The kidney is a bit swollen. The swelling is mild.": the word opens the next sentence."""
        opener = re.match(r"\s*(?:the|this|that)\s+", s.sentence, re.IGNORECASE)
        return bool(opener) and opener.end() == s.start and s.sentence_index - 1 in beside and not s.anatomy
    out = set()
    for concept in added:
        own = [s for s in rew.statements if s.concept == concept]
        if own and all(_describing(s.surface) and (s.anatomy & o_anatomy or s.sentence_index in beside or named_back(s))
                       for s in own):
            out.add(concept)
    return out


_STOPWORDS = frozenset("""the a an and or of in on at to is are was were be been your you it its this that these those
there with for as by from no not nothing none any look looks looked seem seems normal fine all right healthy intact
unremarkable clear both each other which who also""".split())


def _content_words(sentence: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{3,}", sentence.lower()) if w not in _STOPWORDS}


def _spare_denials(orig: Extraction, rew: Extraction) -> Counter:
    """The rewrite's unread denials left once each of the report's own unread denials has taken
    the rewrite sentence that restates it ("Seminal vesicles are normal." / "The glands behind
    the prostate (seminal vesicles) look normal."): only the rest can stand for a dropped one."""
    budget = Counter(rew.unread_denials)
    for i in orig.unread_denials:
        words = _content_words(orig.sentences[i])
        best = max((j for j in budget if budget[j] > 0),
                   key=lambda j: len(words & _content_words(rew.sentences[j])), default=None)
        if best is not None and len(words & _content_words(rew.sentences[best])) >= (2 if len(words) >= 4 else 1):
            budget[best] -= 1
    return budget


def _denied_as_related(concept: str, skip: set[str], orig: Extraction, rew: Extraction) -> bool:
    """Whether the rewrite denies a related finding the report itself never denies: that denial
    restates this one ("no filling defect" -> "nothing is blocking the drainage system"). An
    umbrella sign goes with its conclusion even when the report denies both ("No filling defect.
    No pulmonary embolism." -> "there is no clot")."""
    denied_by_report = set() if concept in lexicon.GENERIC else {
        s.concept for s in orig.statements if s.polarity == "absent"}
    return any(r.polarity == "absent" and r.concept not in skip and r.concept not in denied_by_report
               and lexicon.related(r.concept, concept) for r in rew.statements)


_TO_SUGGEST_RE = re.compile(r"\bto (?:suggest|indicate)\b|\bsuggest(?:ing|ive of)\b", re.IGNORECASE)


def _sign_of_kept_denial(concept: str, sources: list[Statement], orig: Extraction, rew: Extraction,
                         pairs: dict[str, set[str]]) -> bool:
    """"No periaortic stranding or haematoma to suggest leak or rupture" -> "no sign at all of it
    leaking or bursting": the denied signs go with the denied conclusion the rewrite keeps."""
    for s in sources:
        trigger = _TO_SUGGEST_RE.search(s.sentence, s.end)
        if not trigger:
            continue
        concluded = {o.concept for o in orig.statements if o.sentence_index == s.sentence_index
                     and o.start >= trigger.end() and o.polarity == "absent"}
        if any(r.polarity == "absent" and r.concept in pairs.get(c, set()) for c in concluded for r in rew.statements):
            return True
    return False


_POINTING_BACK_OPENER_RE = re.compile(r"^(?:it|they|these|this|those|both|the same)\b", re.IGNORECASE)


def _told_on(ex: Extraction, region: set[int]) -> set[int]:
    """The sentence after each one in the region, and the run of sentences after that which
    open by pointing back ("small pouches in its wall. These pouches are common. They are not
    inflamed."): they go on telling about the same finding."""
    out = set()
    for i in region:
        j = i + 1
        out.add(j)
        while j + 1 < len(ex.sentences) and _POINTING_BACK_OPENER_RE.match(ex.sentences[j + 1].strip()):
            j += 1
            out.add(j)
    return out


def _denied_in_other_words(orig: Extraction, rew: Extraction, omitted: set[str],
                           pairs: dict[str, set[str]]) -> set[str]:
    """Dropped denials that the rewrite restates in words the lexicon cannot read.

    "Sigmoid diverticulosis without diverticulitis" -> "There are small pouches in the colon.
    There is no sign that they are inflamed." The rewrite keeps the sentence's other finding
    and, there or in the next sentence, denies something the lexicon does not read. Each such
    denial accounts for one dropped denial of the same report sentence. A report sentence that
    only denies ("No pneumothorax.") has nothing to anchor it, so dropping it is still flagged.
    """
    explained: set[str] = set()
    budget = _spare_denials(orig, rew)
    for c in sorted(omitted):
        sources = [s for s in orig.statements if s.concept == c]
        if not sources or any(s.polarity != "absent" for s in sources):
            continue
        if _denied_as_related(c, {c}, orig, rew):
            explained.add(c)  # "no filling defect" told as "nothing is blocking the drainage system"
            continue
        if _sign_of_kept_denial(c, sources, orig, rew, pairs):
            explained.add(c)
            continue
        where = {s.sentence_index for s in sources}
        siblings = {s.concept for s in orig.statements if s.sentence_index in where and s.concept != c}
        partners = set().union(*(pairs.get(k, set()) for k in siblings)) if siblings else set()
        region = {s.sentence_index for s in rew.statements if s.concept in partners}
        region |= _told_on(rew, region) | _same_place(orig, rew, where) | _naming_same(orig, rew, where)
        spare = next((i for i in sorted(region) if budget[i] > 0), None)
        if spare is not None:
            budget[spare] -= 1
            explained.add(c)
    # Umbrella denials last, from what the placed ones left over.
    for c in sorted((omitted - explained) & lexicon.GENERIC):  # "no urothelial lesion" -> "nothing else was seen"
        sources = [s for s in orig.statements if s.concept == c]
        if sources and all(s.polarity == "absent" for s in sources) and sum(budget.values()) > 0:
            budget[next(i for i in sorted(budget) if budget[i] > 0)] -= 1
            explained.add(c)
    return explained


def _in_brackets(sentence: str, start: int) -> bool:
    before = sentence[:start]
    return before.count("(") > before.count(")")


def _bracket_glosses(rew: Extraction, added: set[str], matched: set[str]) -> set[str]:
    """Added concepts first met explaining another term in brackets.

    Lay rewrites gloss terms in brackets: "lymph nodes (small infection-fighting glands)",
    "a sinus infection (acute sinusitis)". A mention inside brackets, or one followed at once by
    a bracketed finding the rewrite shares with the report, explains a word; it is no new finding.
    """
    out = set()
    for concept in added:
        own = [s for s in rew.statements if s.concept == concept]
        def glossed(s: Statement) -> bool:
            if s.start < 0:
                return False
            if _in_brackets(s.sentence, s.start):  # glossing a finding named just before the bracket
                opening = s.sentence.rfind("(", 0, s.start)
                return any(o.concept in matched and o.sentence_index == s.sentence_index
                           and opening - 60 <= o.end <= opening for o in rew.statements)
            # the bracket may close the noun phrase the mention opens: "swelling of the fluid sac
            # that cushions the shoulder (bursitis)"
            after = s.sentence[s.end:]
            bracket = re.match(r"[^().;:]{0,80}?\(([^()]*)\)", after)
            if not bracket:
                return False
            opening = s.end + bracket.start(1)
            return not any(s.end <= o.start < opening - 1 for o in rew.statements
                           if o is not s and o.sentence_index == s.sentence_index) and any(
                o.concept in matched and o.sentence_index == s.sentence_index and opening <= o.start < s.end + bracket.end()
                for o in rew.statements)
        if own and glossed(min(own, key=lambda s: (s.sentence_index, s.start))):
            out.add(concept)  # later mentions refer back to the glossed one ("the left breast lump")
    return out


_SCORE_RE = re.compile(r"\b(?:pi|bi|ti|li|o)-?rads\b|\bbosniak\b|\bgleason\b|\bscore\b", re.IGNORECASE)
_DEFINITION_RE = re.compile(r"\b(?:which|this|that) means\b|\bmeaning\b|\bi\.e\.|\bthat is,", re.IGNORECASE)


def _defined(rew: Extraction, added: set[str], matched: set[str]) -> set[str]:
    """Added concepts met only in the definition of a kept finding: "acute appendicitis, which
    means a sudden swelling and infection of the appendix"."""
    def inside_definition(s: Statement) -> bool:
        for m in _DEFINITION_RE.finditer(s.sentence):
            if m.end() <= s.start and (any(o.sentence_index == s.sentence_index and o.concept in matched
                                           and o.end <= m.start() for o in rew.statements)
                                       or _SCORE_RE.search(s.sentence, 0, m.start())):
                return True  # "... PI-RADS 4, which means a significant cancer is likely": what the score means
        return False
    out = set()
    for concept in added:
        own = sorted((s for s in rew.statements if s.concept == concept), key=lambda s: (s.sentence_index, s.start))
        if own and own[0].polarity != "absent" and inside_definition(own[0]):
            out.add(concept)  # later mentions ("the two new spots") refer back to the defined word
    return out


def _only_denied(rew: Extraction, added: set[str]) -> set[str]:
    """Added concepts the rewrite only ever denies ("it is not pressing on the nerves", "usually
    not cancer"). A denial adds no finding; it restates a normal the report gave in words the
    lexicon does not read, or explains one. A denial that contradicts the report is a paired
    concept and is checked as a negation."""
    return {c for c in added if all(s.polarity == "absent" for s in rew.statements if s.concept == c)}


def _sentence_sides(sentence: str) -> frozenset[str]:
    found = lexicon.find_sides(sentence)
    return frozenset().union(*(side for _, side in found)) if found else frozenset()


def _pair_by_measurement(orig: Extraction, rew: Extraction, omitted: set[str], added: set[str],
                         pairs: dict[str, set[str]]) -> None:
    """Pair what is left unexplained through a shared measurement (updates the sets in place).

    A measurement belongs to one finding, so the rewrite sentence that keeps "5 cm" and the side
    restates the original sentence that gave it ("complete rupture of the right Achilles tendon
    5 cm above its insertion" -> "your right Achilles tendon has snapped ... 5 cm above the heel"),
    whatever words it uses. The rewrite sentence may name no finding the lexicon knows, or only
    ones that are unexplained; a sentence that keeps a matched finding beside the measurement
    has not restated a dropped one (that would hide "4.5 cm cyst with a small rupture" -> "4.5 cm
    cyst"). A changed number breaks the anchor, and is flagged as a measurement anyway.
    """
    matched = set().union(*pairs.values()) if pairs else set()
    o_by_sentence = _concepts_by_sentence(orig)
    r_by_sentence = _concepts_by_sentence(rew)
    for i, o_sentence in enumerate(orig.sentences):
        o_numbers = orig.sentence_measurements[i]
        if not o_numbers:
            continue
        o_concepts = o_by_sentence.get(i, set())
        for j, r_sentence in enumerate(rew.sentences):
            if not any(m.matches(r) for m in o_numbers for r in rew.sentence_measurements[j]):
                continue
            if not _same_stance(o_sentence, r_sentence):
                continue
            o_sides, r_sides = orig.sentence_sides[i], rew.sentence_sides[j]
            if o_sides and r_sides and o_sides != r_sides:
                continue
            r_concepts = r_by_sentence.get(j, set())
            if r_concepts & matched or not (o_concepts <= omitted | set(pairs)):
                continue
            dropped = o_concepts & omitted
            if not r_concepts - added and dropped:  # nothing the lexicon reads: a pure lay restatement
                omitted -= dropped
            elif r_concepts <= added and not (o_concepts - omitted):  # lay names of the unread/dropped
                for c in dropped:
                    pairs.setdefault(c, set()).update(r_concepts)
                omitted -= dropped
                added -= r_concepts


def _concepts_by_sentence(ex: Extraction) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for s in ex.statements:
        out.setdefault(s.sentence_index, set()).add(s.concept)
    return out


# Words a lay phrase shares with many findings; a shared stem among them says nothing.
_COMMON_WORDS = frozenset("""a an the of in on at to for with and or by from into onto around about near next
there is are was were be been has have had this that these those it its your you some any small large little big
fluid flow flows air blood water area areas spot spots patch patches tissue part parts side sides growth lump thing bit wall
mild severe moderate slight very more less than normal clear intact patent away well""".split())


def _stems(surface: str) -> set[str]:
    words = re.findall(r"[a-z]+", surface.lower())
    return {w for w in words if len(w) >= 3 and w not in _COMMON_WORDS and not lexicon.find_anatomy(w)}


def _pair_by_word_stem(orig: Extraction, rew: Extraction, omitted: set[str], added: set[str],
                       pairs: dict[str, set[str]]) -> None:
    """Pair a dropped finding with an unexplained rewrite one that shares its word ("bladder wall
    thickened" -> "thick bladder wall"), or let a sentence the lexicon cannot read explain it
    ("fat stranding" -> "the fatty tissue around it shows it too"): the rewrite kept the
    report's own word and only the phrase around it is new. Anatomy and everyday words are not
    stems, so "fluid" or "lung" alone never pairs two findings."""
    for c in sorted(omitted):
        o_stems = set().union(*(_stems(s.surface) for s in orig.statements if s.concept == c))
        for e in sorted(added):
            r_stems = set().union(*(_stems(s.surface) for s in rew.statements if s.concept == e))
            if _share_stem(o_stems, r_stems):
                pairs.setdefault(c, set()).add(e)
                omitted.discard(c)
                added.discard(e)
                break
    matched = set().union(*pairs.values()) if pairs else set()
    for c in sorted(omitted):
        sources = [s for s in orig.statements if s.concept == c]
        o_stems = set().union(*(_stems(s.surface) for s in sources))
        for sentence in _unexplained(rew.sentences, rew, matched):
            if _share_stem(o_stems, _stems(sentence)) and any(_same_stance(s.sentence, sentence) for s in sources):
                omitted.discard(c)
                break


def _share_stem(a_words: set[str], b_words: set[str]) -> bool:
    return any(a.startswith(b) or b.startswith(a) for a in a_words for b in b_words)


_SLASH_RE = re.compile(r"\s*/\s*")


def _slash_alternatives(orig: Extraction, omitted: set[str]) -> set[str]:
    """Dropped concepts the report only names as one of two words for one thing, joined by a
    slash ("scalp swelling/haematoma"), whose other word the rewrite keeps."""
    def joined(s: Statement) -> bool:
        return s.start >= 0 and any(
            o.sentence_index == s.sentence_index and o.concept not in omitted and o.start >= 0
            and (_SLASH_RE.fullmatch(s.sentence[o.end:s.start]) or _SLASH_RE.fullmatch(s.sentence[s.end:o.start]))
            for o in orig.statements if o is not s)
    out = set()
    for c in omitted:
        own = [s for s in orig.statements if s.concept == c]
        if own and all(joined(s) for s in own):
            out.add(c)
    return out


def _named_in_parts(concept: str, rew: Extraction) -> bool:
    """A "thyroid nodule" told as "a nodule" in a rewrite about the thyroid."""
    organ, _, finding = concept.rpartition(" ")
    return bool(organ) and finding in rew.concepts() and any(organ in anatomy for anatomy in rew.sentence_anatomy)


def _one_finding(orig: Extraction, rew: Extraction, concept: str, candidates: list[str]) -> list[str]:
    """The lay words that can all express one report finding.

    Lay words for one finding sit together ("a spot (lesion)"); one that only ever stands in
    sentences of its own is a finding of its own: "spots in the brain" and, later, "a small cyst
    in the pineal gland" both relate to "lesion", but only one of them restates it. Of words
    that never meet, the one sharing most with the report's sentences (numbers, sides,
    words) is kept.
    """
    if len(candidates) < 2:
        return candidates
    sentences = {e: {s.sentence_index for s in rew.statements if s.concept == e} for e in candidates}
    groups: list[set[str]] = []
    for e in candidates:
        joined = [g for g in groups if any(sentences[e] & sentences[x] for x in g)]
        merged = set().union({e}, *joined)
        groups = [g for g in groups if g not in joined] + [merged]
    if len(groups) == 1:
        return candidates
    o_sentences = {s.sentence_index for s in orig.statements if s.concept == concept}
    o_words = set().union(*(_content_words(orig.sentences[i]) for i in o_sentences))
    o_numbers = [m for i in o_sentences for m in orig.sentence_measurements[i]]
    o_sides = frozenset().union(*(orig.sentence_sides[i] for i in o_sentences))

    def anchor(group: set[str]) -> int:
        best = 0
        for i in set().union(*(sentences[e] for e in group)):
            score = len(o_words & _content_words(rew.sentences[i]))
            score += 3 * sum(any(m.matches(r) for m in o_numbers) for r in rew.sentence_measurements[i])
            score += 2 * len(o_sides & rew.sentence_sides[i])
            best = max(best, score)
        return best
    return sorted(max(groups, key=lambda g: (anchor(g), -min(min(sentences[e]) for e in g))))


def _pair_concepts(orig: Extraction, rew: Extraction, use_embeddings: bool) -> tuple[
        dict[str, set[str]], set[str], set[str]]:
    """Map each original concept to the rewrite concepts that express it.

    A rewrite concept that is not in the original but is a lay variant of one that is
    ("lump" for "mass") is pooled with it. Returns (pairs, omitted originals, added rewrites).
    """
    o_concepts, r_concepts = orig.concepts(), rew.concepts()
    extra = r_concepts - o_concepts
    pairs: dict[str, set[str]] = {c: {c} for c in o_concepts & r_concepts}
    pol = lambda ex, c: {s.polarity for s in ex.statements if s.concept == c}  # noqa: E731
    unassigned_related: set[str] = set()
    # Give each lay variant to one original concept: first one the rewrite does not name
    # itself (a substitution), else one whose missing polarity the variant supplies.
    def anatomy(ex: Extraction, c: str) -> frozenset[str]:
        found = [_organs(ex, s) for s in ex.statements if s.concept == c]
        return frozenset().union(*found) if found else frozenset()

    def near(c: str, e: str) -> bool:
        """Related terms about the same organ: "mass in the liver" is no lay word for a lung nodule."""
        a, b = anatomy(orig, c), anatomy(rew, e)
        return lexicon.related(c, e) and (not a or not b or bool(a & b))

    proposals: dict[str, list[str]] = {}
    for e in sorted(extra):
        best, best_score = None, 0.0
        for c in sorted(o_concepts):
            if not near(c, e):
                continue
            if c not in r_concepts:
                score = 2.0
            elif pol(rew, e) <= (pol(orig, c) - pol(rew, c)):
                score = 1.0
            else:
                score = 0.0
            if score and pol(rew, e) & pol(orig, c):
                score += 0.5  # a lay word for the finding said the same way ("no lump" for "no mass")
            if score > best_score:
                best, best_score = c, score
        if best is not None:
            proposals.setdefault(best, []).append(e)
        elif any(near(c, e) for c in o_concepts):
            unassigned_related.add(e)
    for c, candidates in proposals.items():
        for e in _one_finding(orig, rew, c, candidates):
            pairs.setdefault(c, set()).add(e)
    covered = {c for c in o_concepts - set(pairs) if any(near(c, r) for r in extra)}
    matched_rewrite = set().union(*pairs.values()) if pairs else set()
    omitted = o_concepts - set(pairs) - covered
    omitted = {c for c in omitted if not _named_in_parts(c, rew)}
    omitted -= _slash_alternatives(orig, omitted)
    kept = o_concepts - omitted
    for c in sorted(omitted & lexicon.GENERIC):
        where = {s.sentence_index for s in orig.statements if s.concept == c}
        if any(s.concept in kept and s.sentence_index in where for s in orig.statements if s.concept != c):
            omitted.discard(c)
    added = extra - matched_rewrite - (unassigned_related & _glosses(rew, matched_rewrite))
    added -= _descriptions(rew, added, matched_rewrite)
    added -= _lay_descriptions(orig, rew, added, matched_rewrite)
    added -= _only_denied(rew, added)
    added -= _bracket_glosses(rew, added, matched_rewrite)
    added -= _defined(rew, added, matched_rewrite)
    _pair_by_measurement(orig, rew, omitted, added, pairs)
    _pair_by_word_stem(orig, rew, omitted, added, pairs)
    omitted -= _denied_in_other_words(orig, rew, omitted, pairs)
    # Embedding fallback for what the lexicon left unexplained on either side.
    for c in sorted(omitted):
        sources = [s for s in orig.statements if s.concept == c]
        candidates = _unexplained(rew.sentences, rew, matched_rewrite)
        if _fallback_match(sources, candidates, use_embeddings) is not None:
            omitted.discard(c)
    # One report sentence accounts for one added finding: "stomach distended with fluid" may be
    # "the stomach is swollen with fluid", not also "loose fluid in the belly".
    used: set[str] = set()
    for e in sorted(added):
        sources = [s for s in rew.statements if s.concept == e]
        candidates = [c for c in _unexplained(orig.sentences, orig, o_concepts - omitted) if c not in used]
        hit = _fallback_match(sources, candidates, use_embeddings)
        if hit is not None:
            used.add(candidates[hit])
            added.discard(e)
    return pairs, omitted, added


def _sides(statements: list[Statement], polarity: str) -> frozenset[str]:
    chosen = [s.sides for s in statements if s.polarity == polarity]
    return frozenset().union(*chosen) if chosen else frozenset()


def _softened(o_st: list[Statement], r_st: list[Statement]) -> list[Statement]:
    """The rewrite's statements with a softened stance read as the original's.

    A report states a diagnosis ("consistent with an adenoma"); a lay rewrite often hedges it
    ("most likely a harmless growth") or mentions it in advice ("your doctor may talk to you
    about the gallstones"). Softening a stated finding loses nothing the patient must know;
    hardening a possible one ("possible metastasis" -> "the cancer has spread") and any flip
    between present and absent are what the negation check is for.
    """
    if not any(s.polarity == "present" for s in o_st):
        return r_st
    return [replace(s, polarity="present") if s.polarity == "uncertain" else s for s in r_st]


def _denial_restated(concept: str, partners: set[str], orig: Extraction, rew: Extraction) -> bool:
    """Whether the report's denials of a finding the rewrite affirms elsewhere are restated in
    the rewrite's own words at the same place ("no suspicious enhancement in the left breast" ->
    "left breast: there are no suspicious areas")."""
    where = {s.sentence_index for s in orig.statements if s.concept == concept and s.polarity == "absent"}
    region = _same_place(orig, rew, where)
    if any(i in region for i in rew.unread_denials):
        return True
    return bool(_naming_same(orig, rew, where))


def _naming_same(orig: Extraction, rew: Extraction, where: set[int]) -> set[int]:
    """The rewrite's unread denials that name what the given report sentences name: "Remaining
    bones intact." -> "All the other bones in your hand are fine."."""
    named = set().union(*(_content_words(orig.sentences[i]) for i in where)) if where else set()
    return {j for j in rew.unread_denials if named & _content_words(rew.sentences[j])}


def _measured_in_other_words(o_st: list[Statement], orig: Extraction, rew: Extraction) -> bool:
    """Whether a rewrite sentence that names no finding keeps the measurement of a stated one
    ("a 6 mm filling defect in the duct" -> "there is a 6 mm object inside the duct")."""
    read = {s.sentence_index for s in rew.statements}
    for s in o_st:
        numbers = orig.sentence_measurements[s.sentence_index] if s.polarity == "present" else []
        for j, r_numbers in enumerate(rew.sentence_measurements):
            if numbers and r_numbers and j not in read and _same_stance(s.sentence, rew.sentences[j]) \
                    and all(any(m.matches(r) for m in numbers) for r in r_numbers):
                return True
    return False


_BACK_REFERENCE_RE = re.compile(r"\b(?:the|this|that|these|those|its|their)\s+(?:[\w-]+\s+){0,2}$", re.IGNORECASE)


def _organs(ex: Extraction, s: Statement) -> frozenset[str]:
    """A statement's organs; "It is swollen" speaks of the organ of the sentence before."""
    if s.anatomy or not s.sentence_index or not re.match(r"(?:it|this|they|these|its)\b", s.sentence, re.IGNORECASE):
        return s.anatomy
    return ex.sentence_anatomy[s.sentence_index - 1]


def _on_its_own_sides(concept: str, o_st: list[Statement], r_st: list[Statement], orig: Extraction) -> list[Statement]:
    """Leave out lay mentions placed only where a related report finding lies and this one does not:
    "a new spot in your right breast" restates the right breast mass, not the left breast focus."""
    own = frozenset().union(*(s.sides for s in o_st)) if o_st else frozenset()
    def elsewhere(s: Statement) -> bool:
        if s.concept == concept or not s.sides or not own or s.sides & own:
            return False
        return any(o.concept != concept and lexicon.related(o.concept, s.concept) and s.sides <= o.sides
                   for o in orig.statements)
    kept = [s for s in r_st if not elsewhere(s)]
    return kept or r_st


def _about_the_same_organ(o_st: list[Statement], r_st: list[Statement], rew: Extraction) -> list[Statement]:
    """A lay word that stands for several report findings counts only where it speaks of the same
    organ: "the appendix is swollen" restates the dilated appendix, "neither kidney is swollen"
    the absent hydronephrosis."""
    organs = frozenset().union(*(s.anatomy for s in o_st)) if o_st else frozenset()
    if not organs or any(s.concept == o_st[0].concept for s in r_st):
        return r_st
    kept = [s for s in r_st if not (spoken_of := _organs(rew, s)) or spoken_of & organs]
    return kept or r_st


def _placed_with_another_finding(o_st: list[Statement], r_st: list[Statement], orig: Extraction,
                                 rew: Extraction) -> list[Statement]:
    """Leave out mentions in an organ this finding is never stated for, where the report states a
    related one: "a small spot in your liver has grown" restates the liver lesion, not the
    denied lung nodules."""
    organs = frozenset().union(*(s.anatomy for s in o_st)) if o_st else frozenset()
    if not organs:
        return r_st
    concept = o_st[0].concept

    def elsewhere(s: Statement) -> bool:
        spoken_of = _organs(rew, s)
        return bool(spoken_of) and not spoken_of & organs and any(
            o.concept != concept and o.polarity == s.polarity and lexicon.related(o.concept, s.concept) and spoken_of & o.anatomy
            for o in orig.statements)
    kept = [s for s in r_st if not elsewhere(s)]
    return kept or r_st


def _affirmed_where_denied(o_st: list[Statement], r_st: list[Statement], orig: Extraction, rew: Extraction) -> bool:
    """Whether a rewrite sentence affirming the finding names what a report denial of it names
    ("No thrombus is seen in the gastrocnemius or soleal veins" / "A clot was also seen in the
    muscle veins of the calf")."""
    denied = [_content_words(orig.sentences[s.sentence_index]) for s in o_st if s.polarity == "absent"]
    affirmed = [_content_words(rew.sentences[s.sentence_index]) for s in r_st if s.polarity == "present"]
    return any(len(d & a) >= 2 for d in denied for a in affirmed)


def _affirmed_nearest_a_denial(o_st: list[Statement], r_st: list[Statement], orig: Extraction, rew: Extraction) -> bool:
    """Whether a rewrite sentence affirming the finding shares more words with a report sentence
    denying it than with any report sentence affirming it: "popliteal vein fully compressible.
    No proximal DVT." -> "a blood clot in the deep vein behind your left knee (popliteal vein)"."""
    def words(ex: Extraction, s: Statement) -> set[str]:
        return _content_words(ex.sentences[s.sentence_index]) - _content_words(s.surface) - {"left", "right"}
    denied = [words(orig, s) for s in o_st if s.polarity == "absent"]
    affirmed = [words(orig, s) for s in o_st if s.polarity != "absent"]
    denying_sentences = {r.sentence_index for r in r_st if r.polarity == "absent"}
    for r in r_st:
        if r.polarity != "present" or r.sign or r.sentence_index in denying_sentences:
            continue  # a sentence that also denies it ("no clot where it splits (a 'saddle' clot)") is no flip
        told = words(rew, r)
        near_denial = max((len(told & d) for d in denied), default=0)
        near_affirmation = max((len(told & a) for a in affirmed), default=0)
        if near_denial >= 2 and near_denial > near_affirmation:
            return True
    return False


def _points_back(s: Statement, earlier: Iterable[int]) -> bool:
    """Whether an affirmed mention points back ("the tear", "this cyst") to one stated in an
    earlier sentence."""
    return s.polarity == "present" and s.start >= 0 and any(i < s.sentence_index for i in earlier) \
        and bool(_BACK_REFERENCE_RE.search(s.sentence[:s.start]))


def _without_back_references(statements: list[Statement]) -> list[Statement]:
    """Drop affirmed mentions that point back to one stated earlier ("... most likely a simple
    cyst. The kidney cyst is a chance finding."): they take the earlier stance, not a new one."""
    out: list[Statement] = []
    stated: list[tuple[int, frozenset[str]]] = []
    for s in sorted(statements, key=lambda s: (s.sentence_index, s.start)):
        back = _points_back(s, [i for i, sides in stated if not s.sides or sides == s.sides])
        if s.polarity in ("present", "uncertain"):
            stated.append((s.sentence_index, s.sides))
        if not back:
            out.append(s)
    return out


def _assertions(statements: list[Statement]) -> Counter:
    """How many sentences state the finding each way. A mention pointing back to one already
    stated ("a tear in the cushion. The tear reaches its underside") states nothing new."""
    seen: set[int] = set()
    counted: set[tuple[int, str]] = set()
    for s in sorted(statements, key=lambda s: (s.sentence_index, s.start)):
        if s.sign and s.polarity == "present":
            continue  # "these veins could not be squeezed flat" is the sign of a clot stated beside it
        back = _points_back(s, seen)
        if s.polarity == "present":
            seen.add(s.sentence_index)
        if not back:
            counted.add((s.sentence_index, s.polarity))
    return Counter(polarity for _, polarity in counted)


def _compare_paired(concept: str, partners: set[str], orig: Extraction, rew: Extraction) -> list[Flag]:
    flags: list[Flag] = []
    o_st = [s for s in orig.statements if s.concept == concept]
    if {"present", "uncertain"} <= {s.polarity for s in o_st}:
        # "suggestive of steatosis ... IMPRESSION: Hepatic steatosis": the report settles its own hedge
        o_st = [replace(s, polarity="present") if s.polarity == "uncertain" else s for s in o_st]
    r_st = _softened(o_st, _without_back_references(_placed_with_another_finding(o_st, _about_the_same_organ(
        o_st, [s for s in rew.statements if s.concept in partners], rew), orig, rew)))
    o_pol = {s.polarity for s in o_st}
    r_pol = {s.polarity for s in r_st}
    if "present" in o_pol - r_pol and _measured_in_other_words(o_st, orig, rew):
        r_pol.add("present")
    extra_pol, missing_pol = r_pol - o_pol, o_pol - r_pol
    related_denial = any(o.polarity == "absent" and o.concept != concept and lexicon.related(o.concept, concept)
                         for o in orig.statements)
    if extra_pol == {"absent"} and not missing_pol and (orig.unread_denials or related_denial):
        # Everything the report says of it is kept; the extra denial restates one the report
        # makes in words the lexicon does not read ("no neural compromise" -> "it is not
        # pressing on any nerves"), as an added denial would (`_only_denied`).
        extra_pol = set()
    o_count, r_count = _assertions(o_st), _assertions(r_st)
    if not extra_pol and not missing_pol and ((r_count["present"] > o_count["present"]
                                               and r_count["absent"] < o_count["absent"]
                                               and _affirmed_where_denied(o_st, r_st, orig, rew))
                                              or _affirmed_nearest_a_denial(o_st, r_st, orig, rew)):
        # Same stances, but a denial became one more affirmation ("no clot in the calf muscle
        # veins" -> "a clot was also seen in the muscle veins of the calf").
        flags.append(Flag(type="negation",
                          detail=f"'{concept}': a statement that it is absent appears as present in the rewrite."))
    if extra_pol:
        said = ", ".join(_POLARITY_WORDS[p] for p in sorted(o_pol))
        now = ", ".join(_POLARITY_WORDS[p] for p in sorted(extra_pol))
        flags.append(Flag(type="negation",
                          detail=f"'{concept}' is {said} in the original but {now} in the rewrite."))
    elif missing_pol == {"absent"} and (_denial_restated(concept, partners, orig, rew)
                                        or (concept in lexicon.GENERIC and sum(_spare_denials(orig, rew).values()) > 0)
                                        or _denied_as_related(concept, partners, orig, rew)):
        # an umbrella denial ("no suspicious lesion") is often told as "nothing worrying was seen"
        pass
    elif missing_pol:
        lost = ", ".join(_POLARITY_WORDS[p] for p in sorted(missing_pol))
        flipped = [p for p in r_pol if r_count[p] > o_count[p]] if sum(r_count.values()) >= sum(o_count.values()) else []
        if flipped:  # nothing was dropped, but a negated mention became an affirmed one
            flags.append(Flag(type="negation",
                              detail=f"The original's statement that '{concept}' is {lost} appears as "
                                     f"{_POLARITY_WORDS[flipped[0]]} in the rewrite."))
        else:
            flags.append(Flag(type="omission",
                              detail=f"The original's statement that '{concept}' is {lost} is missing from the rewrite."))
    # Sides are compared per polarity, so "left clot, right vein clear" is not the same as
    # "right clot, right vein clear". A side the finding's sentence does not state is
    # accepted when the other text states it elsewhere (a heading such as "LEFT WRIST").
    flags.extend(_severity_swap(concept, o_st, r_st))
    r_st = _on_its_own_sides(concept, o_st, r_st, orig)
    for polarity in sorted(o_pol & r_pol):
        o_sides, r_sides = _sides(o_st, polarity), _sides(r_st, polarity)
        if o_sides == r_sides:
            continue
        if not o_sides:
            own = [s for s in r_st if s.polarity == polarity]
            placed = frozenset().union(*(side for s in own for side in _single_sides(s.sentence)))
            both = frozenset({"left", "right"}) if any(len(s.sides) > 1 for s in own) else frozenset()
            wrong = (r_sides - orig.all_sides) & (placed | both)  # not "the right part of the liver"
            if wrong:
                flags.append(Flag(type="laterality",
                                  detail=f"'{concept}': the rewrite says {_describe_sides(r_sides)}, "
                                         "a side the original does not state."))
            continue
        if not r_sides:
            if not o_sides <= rew.all_sides:
                flags.append(Flag(type="laterality",
                                  detail=f"'{concept}': the side ({_describe_sides(o_sides)}) is missing in the rewrite."))
            continue
        if any(not s.sides for s in o_st if s.polarity == polarity) and r_sides - o_sides <= orig.all_sides \
                and o_sides <= r_sides:
            continue  # the report left a side unstated here that it names elsewhere (a heading)
        if any(not s.sides for s in r_st if s.polarity == polarity) and o_sides - r_sides <= rew.all_sides \
                and r_sides <= o_sides:
            continue  # the rewrite gives that side in a heading ("Left side: a little plaque ...")
        if r_sides < o_sides:  # one side's finding was left out, nothing was moved
            flags.append(Flag(type="omission",
                              detail=f"'{concept}' on the {_describe_sides(o_sides - r_sides)} side is missing "
                                     "from the rewrite."))
            continue
        flags.append(Flag(type="laterality",
                          detail=f"'{concept}': {_describe_sides(o_sides)} in the original, "
                                 f"{_describe_sides(r_sides)} in the rewrite."))
    return flags


# "the back right part of the liver" explains where a segment lies in a single organ; when the
# report gives no side at all, such a side is a description, not a side the report left out.
_SINGLE_ORGANS = r"(?:liver|uterus|womb|bladder|stomach|pancreas|prostate|abdomen|belly|tummy|pelvis|colon|bowel|heart)"
_SINGLE_ORGAN_PART_RE = re.compile(
    r"^[\s-]*(?:[\w-]+\s+){0,2}?(?:part|side|lobe|half|section|portion|segment|area|edge)s?\s+of\s+(?:the\s+|your\s+)?"
    + _SINGLE_ORGANS + r"\b", re.IGNORECASE)
# "the right pumping chamber is 0.8 times the size of the left one": heart chambers, not body sides
_HEART_CHAMBER_RE = re.compile(r"^[\s-]*(?:(?:pumping|lower|upper|heart)\s+)?(?:chambers?|ventricles?|atri(?:um|a)|one|side of (?:the|your) heart)\b",
                               re.IGNORECASE)
_PART_RE = re.compile(r"^[\s-]*(?:part|portion|section|segment|lobe)\b", re.IGNORECASE)
_SINGLE_ORGAN_RE = re.compile(r"\b" + _SINGLE_ORGANS + r"\b", re.IGNORECASE)


def _single_sides(sentence: str) -> list[frozenset[str]]:
    """Single sides a sentence names, leaving out those that only place something in one organ."""
    out = []
    for position, side in lexicon.find_sides(sentence):
        word_end = re.match(r"\w+", sentence[position:])
        after = sentence[position + (word_end.end() if word_end else 0):]
        within_one_organ = _SINGLE_ORGAN_PART_RE.match(after) or (_PART_RE.match(after) and _SINGLE_ORGAN_RE.search(sentence)) \
            or _HEART_CHAMBER_RE.match(after)
        if len(side) == 1 and not within_one_organ:
            out.append(side)
    return out


def _named_single_sides(ex: Extraction) -> frozenset[str]:
    found = [side for sentence in ex.sentences for side in _single_sides(sentence)]
    return frozenset().union(*found) if found else frozenset()


def _severity_by_side(statements: list[Statement]) -> dict[str, str]:
    """Side -> severity grade, from sentences that name one side and one grade."""
    out: dict[str, set[str]] = {}
    for s in statements:
        if s.polarity != "present" or len(s.sides) != 1:
            continue
        grades = lexicon.find_severities(s.sentence)
        if len(grades) == 1 and len(_sentence_sides(s.sentence)) == 1:
            out.setdefault(next(iter(s.sides)), set()).update(grades)
    return {side: next(iter(g)) for side, g in out.items() if len(g) == 1}


def _severity_swap(concept: str, o_st: list[Statement], r_st: list[Statement]) -> list[Flag]:
    """A finding on both sides whose severities trade places: "severe on the left, mild on the
    right" told as "severe on the right, mild on the left" keeps every finding and side."""
    o, r = _severity_by_side(o_st), _severity_by_side(r_st)
    if len(o) == 2 and len(r) == 2 and o["left"] != o["right"] and o["left"] == r["right"] and o["right"] == r["left"]:
        return [Flag(type="laterality", detail=f"'{concept}': {o['left']} on the left and {o['right']} on the right "
                                               f"in the original, the other way round in the rewrite.")]
    return []


def _measured_side_flags(orig: Extraction, rew: Extraction) -> list[Flag]:
    """A measurement ties a finding to its sentence, so when the one report sentence and the one
    rewrite sentence that give "1.2 cm" name opposite sides, the finding has changed sides, in
    whatever words the rewrite describes it ("filling defect in the right renal pelvis" ->
    "an area of soft tissue inside your left kidney")."""
    flags = []
    for m in orig.measurements:
        if m.dimension == "ratio":
            continue  # a ratio compares the two sides; its sentence names both
        o_idx = [i for i, found in enumerate(orig.sentence_measurements) if any(m.matches(x) for x in found)]
        r_idx = [j for j, found in enumerate(rew.sentence_measurements) if any(m.matches(x) for x in found)]
        # the same number may recur (findings and impression); its sentences must agree on a side
        o_named = {orig.sentence_sides[i] for i in o_idx if orig.sentence_sides[i]}
        r_named = {rew.sentence_sides[j] for j in r_idx if rew.sentence_sides[j]}
        if len(o_named) != 1 or len(r_named) != 1 or len(o_idx) > 2 or len(r_idx) > 2:
            continue
        o_sides, r_sides = next(iter(o_named)), next(iter(r_named))
        if not (o_sides & r_sides):
            flags.append(Flag(type="laterality", detail=f"The finding measured {m.raw} is on the "
                                                        f"{_describe_sides(o_sides)} in the original, the "
                                                        f"{_describe_sides(r_sides)} in the rewrite."))
    return flags


def _new_bone_flags(orig: Extraction, rew: Extraction) -> list[Flag]:
    """A fracture the rewrite places in a bone the original never names is a second fracture:
    "a break in the radius ... also a small break in the ulna" pairs with one fracture otherwise."""
    named = {m.concept for m in lexicon.find_mentions(" ".join(orig.sentences), lexicon.bone_patterns())}
    flags = []
    for s in rew.statements:
        if s.concept != "fracture" or s.polarity != "present":
            continue
        new = {m.concept for m in lexicon.find_mentions(s.sentence, lexicon.bone_patterns())} - named
        if new:
            flags.append(Flag(type="addition", detail=f"A fracture of the {', '.join(sorted(new))} is not in the "
                                                      f"original: \"{s.sentence[:160]}\""))
    return flags


# A ratio is often told without the word "ratio" ("0.8 between the two chambers"); only a
# ratio the rewrite states differently is an error.
_CHANGE_ONLY = frozenset({"ratio", "density"})


def _compare_measurements(orig: list[Measurement], rew: list[Measurement],
                          context: list[Measurement] | None = None,
                          rew_context: list[Measurement] | None = None) -> list[Flag]:
    """Changed, lost and new measurements. Ones from the reason for the scan ("cough for 3 days")
    or from a question or glossary line of the rewrite may be left out or added."""
    def in_context(m: Measurement, found: list[Measurement] | None) -> bool:
        return any(m.raw == c.raw and m.matches(c) for c in found or [])
    lost = [m for m in orig if not any(m.matches(r) for r in rew) and not in_context(m, context)]
    rew = [r for r in rew if not in_context(r, rew_context)]
    new = [r for r in rew if not any(r.matches(m) for m in orig)]
    flags: list[Flag] = []
    used: set[int] = set()
    for m in lost:
        partner = next((i for i, r in enumerate(new) if i not in used and r.dimension == m.dimension), None)
        if partner is not None:
            used.add(partner)
            flags.append(Flag(type="measurement",
                              detail=f"{_fmt_measure(m)} in the original became {_fmt_measure(new[partner])} in the rewrite."))
        elif m.dimension not in _CHANGE_ONLY:
            flags.append(Flag(type="measurement", detail=f"{_fmt_measure(m)} from the original is missing in the rewrite."))
    for i, r in enumerate(new):
        if i not in used and r.dimension != "time":  # "three weeks ago you twisted your knee": the story, not a finding
            flags.append(Flag(type="measurement", detail=f"{_fmt_measure(r)} in the rewrite is not in the original."))
    return flags


# Comparisons that tell the same direction of change: "progression with two new lesions" is
# kept by "two new spots since the last scan"; "resolved" by "smaller" is not a flip of "stable".
_SAME_DIRECTION = ({"increased", "new"}, {"decreased", "resolved"})


def _lost_comparisons(original: set[str], rewrite: set[str]) -> set[str]:
    lost = original - rewrite
    return {c for c in lost if not any(c in group and group & rewrite for group in _SAME_DIRECTION)}


_CONTRALATERAL_RE = re.compile(r"\b(?:contra-?lateral|opposite side|other side)\b", re.IGNORECASE)


def check_extractions(orig: Extraction, rew: Extraction, *, use_embeddings: bool = True) -> list[Flag]:
    """All fidelity flags (everything except readability) between two extractions."""
    flags: list[Flag] = []
    pairs, omitted, added = _pair_concepts(orig, rew, use_embeddings)
    for concept in sorted(omitted):
        example = next(s for s in orig.statements if s.concept == concept)
        flags.append(Flag(type="omission",
                          detail=f"'{concept}' ({_POLARITY_WORDS[example.polarity]}) from the original "
                                 f"is missing: \"{example.sentence[:160]}\""))
    for concept in sorted(added):
        example = next(s for s in rew.statements if s.concept == concept)
        flags.append(Flag(type="addition",
                          detail=f"'{example.surface}' ({_POLARITY_WORDS[example.polarity]}) is not in the original: "
                                 f"\"{example.sentence[:160]}\""))
    for concept, partners in sorted(pairs.items()):
        flags.extend(_compare_paired(concept, partners, orig, rew))
    flags.extend(_new_bone_flags(orig, rew))
    flags.extend(_measured_side_flags(orig, rew))
    # Only "left"/"right" themselves count here: "the areas on either side of the gland" names
    # paired anatomy, not a side the report left out.
    new_sides = _named_single_sides(rew) - orig.all_sides
    if _CONTRALATERAL_RE.search(" ".join(orig.sentences)):
        new_sides = frozenset()  # "contralateral CFV" names the other side without saying which
    if new_sides and not any(f.type == "laterality" for f in flags):
        flags.append(Flag(type="laterality",
                          detail=f"The rewrite mentions the {_describe_sides(new_sides)} side, which the original never does."))
    flags.extend(_compare_measurements(orig.measurements, rew.measurements, orig.context_measurements,
                                       rew.context_measurements))
    for comparison in sorted(_lost_comparisons(orig.temporal, rew.temporal)):
        flags.append(Flag(type="omission", detail=f"The comparison with the previous study ('{comparison}') is missing."))
    if orig.recommendations and not rew.recommendations:
        flags.append(Flag(type="omission",
                          detail=f"The recommendation is missing: \"{orig.recommendations[0][:160]}\""))
    return flags


def check_rewrite(original: str, rewrite: str, target_grade: float = 7.0, *,
                  use_embeddings: bool = True) -> CheckResult:
    """Compare a rewrite with its original; never raises on odd text (empty, HTML, huge)."""
    truncated = len(original or "") > MAX_CHECK_CHARS or len(rewrite or "") > MAX_CHECK_CHARS
    original = (original or "")[:MAX_CHECK_CHARS]
    rewrite = (rewrite or "")[:MAX_CHECK_CHARS]
    orig, rew = extract(original), extract(rewrite)
    flags = check_extractions(orig, rew, use_embeddings=use_embeddings)
    if truncated:
        flags.append(Flag(type="warning", detail=f"Only the first {MAX_CHECK_CHARS:,} characters were checked."))
    grade = readability.flesch_kincaid_grade(rewrite)
    if grade > target_grade:
        flags.append(Flag(type="readability",
                          detail=f"Reading grade {grade:.1f} is above the target {target_grade:.1f}."))
    unique: dict[tuple[str, str], Flag] = {(f.type, f.detail): f for f in flags}
    return CheckResult(flags=list(unique.values()), grade=grade,
                       original_grade=readability.flesch_kincaid_grade(original),
                       original_statements=orig.statements, rewrite_statements=rew.statements,
                       original_measurements=orig.measurements, rewrite_measurements=rew.measurements)
