"""Flesch-Kincaid grade computed offline with pyphen syllables.

textstat's English syllable counter fetches the CMU dictionary through nltk at run time,
which fails (or reaches the network) on an offline machine, so the formula is computed
here from pyphen's bundled hyphenation dictionary.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pyphen

_WORD_RE = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
_SENTENCE_END_RE = re.compile(r"[.!?]+(?=\s|$)|\n\s*\n|\n(?=\s*[-•*\d])")


@lru_cache(maxsize=1)
def _dictionary() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_US")


@lru_cache(maxsize=20000)
def syllables(word: str) -> int:
    """Syllables of one word: pyphen's hyphenation points, at least a vowel-group estimate."""
    word = word.lower()
    hyphenated = _dictionary().inserted(word).count("-") + 1
    vowel_groups = len(re.findall(r"[aeiouy]+", word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and vowel_groups > 1:
        vowel_groups -= 1
    return max(1, hyphenated, min(vowel_groups, hyphenated + 1))


def counts(text: str) -> tuple[int, int, int]:
    """(sentences, words, syllables) of a text; every text has at least one sentence."""
    words = _WORD_RE.findall(text or "")
    sentences = max(1, len([s for s in _SENTENCE_END_RE.split(text or "") if _WORD_RE.search(s)]))
    return sentences, len(words), sum(syllables(w) for w in words)


def flesch_kincaid_grade(text: str) -> float:
    """US school grade needed to read the text; 0.0 for text without words."""
    sentences, words, syl = counts(text)
    if words == 0:
        return 0.0
    grade = 0.39 * (words / sentences) + 11.8 * (syl / words) - 15.59
    return round(max(0.0, grade), 1)
