"""Requests the assistant must not answer as asked: a definitive diagnosis, or treatment advice.

Why patterns and a lexicon, not the LLM: the refusal must hold even when the model is
talked into answering. A request is redirected (to the clinician, or to what the assistant
can do: explain terms, rewrite a report, show measurements) with a `scope` flag.
"""

from __future__ import annotations

import re

from tools.schemas import Flag

_DIAGNOSIS = [
    r"\b(?:do|does|did) (?:i|he|she|my \w+|the patient|this patient) have\b",
    r"\b(?:am i|is (?:he|she|my \w+|the patient)) (?:sick|dying|going to die|ill)\b",
    r"\b(?:is|are) (?:it|this|that|these|the|my) ?(?:nodules?|mass(?:es)?|lesions?|spots?|lumps?|findings?|shadows?|growth)? (?:cancer|cancerous|malignant|benign|a tumou?r|serious|dangerous|fatal)\b",
    r"\b(?:diagnose|diagnosis for|give me (?:a|the) diagnosis|what(?:'s| is) (?:my|the|his|her) diagnosis)\b",
    r"\bwhat (?:disease|condition|illness) (?:do|does|have) (?:i|he|she)\b",
    r"\b(?:confirm|tell me) (?:that |whether |if )?(?:i|it|this|he|she) (?:have|has|is) (?:cancer|a tumou?r|pneumonia|covid|a stroke|a fracture)\b",
    r"\bhow long (?:do|will) (?:i|he|she) (?:have|live)\b", r"\bam i going to (?:die|be ok)\b",
    r"\bwhat stage is (?:my|the|his|her)\b", r"\brule out (?:cancer|malignancy) for me\b",
]
_TREATMENT = [
    r"\b(?:what|which) (?:medication|medicine|drug|pills?|antibiotics?|treatment|dose|dosage) should\b",
    r"\bshould (?:i|he|she|we|the patient) (?:take|start|stop|increase|decrease|double|skip|have|get|undergo) "
    r"(?:\w+ ){0,3}?(?:medication|medicine|drugs?|pills?|antibiotics?|steroids?|chemo\w*|surgery|an? operation|"
    r"radiotherapy|treatment|insulin|dose|mg|tablets?|aspirin|ibuprofen|warfarin|heparin|statins?|biopsy)\b",
    r"\b(?:prescribe|prescription for|recommend (?:a|me a|some) (?:drug|medication|medicine|treatment))\b",
    r"\bhow (?:much|many) (?:mg|milligrams?|tablets?|pills?|units?) of\b",
    r"\b(?:dose|dosage) of \w+ (?:for|should)\b", r"\bhow (?:should|do) (?:i|we) treat\b",
    r"\btreat(?:ment)? plan for (?:me|my|him|her|this patient)\b",
    r"\bdo (?:i|they) need (?:surgery|an operation|chemo\w*|antibiotics|radiotherapy)\b",
]
_DIAGNOSIS_RE = re.compile("|".join(_DIAGNOSIS), re.IGNORECASE)
_TREATMENT_RE = re.compile("|".join(_TREATMENT), re.IGNORECASE)

# Statements an answer must not make: a definitive diagnosis, or an instruction to treat.
_ANSWER_DIAGNOSIS_RE = re.compile(
    r"\byou (?:definitely |certainly )?(?:have|are suffering from|are diagnosed with) (?:a |an )?"
    r"(?:cancer|tumou?r|malignan\w+|pneumonia|stroke|fracture|lymphoma|carcinoma|metasta\w+)|"
    r"\b(?:this|it|the (?:nodule|mass|lesion)) (?:is|is definitely|is certainly) (?:cancer|malignant|benign)\b",
    re.IGNORECASE)
_ANSWER_TREATMENT_RE = re.compile(
    r"\byou should (?:take|start|stop|increase|decrease) (?:\w+ ){0,3}?(?:\d+\s*mg|medication|medicine|antibiotics?|"
    r"steroids?|tablets?|pills?|dose)|\btake \d+\s*(?:mg|tablets?|pills?)\b", re.IGNORECASE)

REDIRECT_DIAGNOSIS = ("I can't give a diagnosis. Only your doctor, who knows your history and can examine you, "
                      "can do that. I can explain the terms in your report or rewrite it in plain language.")
REDIRECT_TREATMENT = ("I can't give treatment or medication advice. Please ask your doctor or pharmacist. "
                      "I can explain what the report says and suggest questions to ask them.")


def check_scope(request: str) -> Flag | None:
    """A `scope` flag when the request asks for a diagnosis or treatment advice, else None."""
    text = request or ""
    if _TREATMENT_RE.search(text):
        return Flag(type="scope", detail=REDIRECT_TREATMENT)
    if _DIAGNOSIS_RE.search(text):
        return Flag(type="scope", detail=REDIRECT_DIAGNOSIS)
    return None


def check_answer_scope(answer: str) -> list[Flag]:
    """`scope` flags for sentences of a drafted answer that diagnose or prescribe."""
    flags = []
    for sentence in re.split(r"(?<=[.!?])\s+", answer or ""):
        if _ANSWER_DIAGNOSIS_RE.search(sentence):
            flags.append(Flag(type="scope", detail=f"States a diagnosis, which only a clinician may: \"{sentence.strip()}\""))
        elif _ANSWER_TREATMENT_RE.search(sentence):
            flags.append(Flag(type="scope", detail=f"Gives treatment advice: \"{sentence.strip()}\""))
    return flags
