"""The curated corpus: every card is well formed, cited, in range, and the evaluation set points at real cards.

A card is `knowledge/corpus/<id>.md`: YAML front matter (id = file stem, title, topic, source = the
primary work with authors, venue, year and DOI/arXiv/URL, review = the review the corpus follows),
then 150-400 words in original wording with `##` subheadings. Key terms belong in the title and
first paragraph, which retrieval weighs most. Every card should be the target of a question in
`tests/data/rag_questions.jsonl` (cards that must be in the top 5 for that question).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = REPO_ROOT / "knowledge" / "corpus"
QUESTIONS_PATH = REPO_ROOT / "tests" / "data" / "rag_questions.jsonl"
# The review the corpus is built on; cards must paraphrase it, never copy it.
REVIEW_PATH = REPO_ROOT.parent / "shared" / "seed" / "000_9c9e0b6ad5d644da.txt"

MIN_CARDS = 60
MIN_WORDS, MAX_WORDS = 150, 400
MIN_QUESTIONS = 90
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.S)
REQUIRED_FIELDS = ("id", "title", "topic", "source", "review")
TOPICS = {
    "overview", "vae", "gan", "diffusion", "llm", "vlm", "segmentation", "foundation-models",
    "clinical-applications", "inversion", "synthetic-data", "pitfalls", "patient-communication",
    "oversight",
}
# Each alternative group must be mentioned by at least one card (case-insensitive).
REQUIRED_TERMS = [
    ("ELBO", "evidence lower bound"), ("reparameterization",), ("CVAE",), ("VAEAC",),
    ("β-TCVAE", "beta-TCVAE"), ("NVAE",), ("VRNN",), ("DCGAN",), ("pix2pix",), ("PGGAN",),
    ("StyleGAN2",), ("StyleGAN3",), ("CycleGAN",), ("StarGAN",), ("mode collapse",),
    ("DDPM",), ("DDIM",), ("eta = 0",), ("score-based",), ("latent diffusion",), ("inpainting",),
    ("self-attention",), ("GPT",), ("BERT",), ("masked language",), ("few-shot",), ("RLHF",),
    ("VQA", "visual question answering"), ("visual grounding",), ("CLIP",), ("ALIGN",),
    ("image-text retrieval",), ("SAM",), ("MedSAM",), ("SAM-Med2D",), ("LLaVA-Med",),
    ("Med-PaLM",), ("Med-PaLM M",), ("MedGemma",), ("BiomedCLIP",), ("low-dose CT",),
    ("compressed sensing",), ("data consistency", "data-consistency"), ("synthetic CT",),
    ("attenuation correction",), ("missing sequence", "missing MRI sequence"), ("registration",),
    ("anomaly detection",), ("Alzheimer",), ("GAN inversion",), ("InterFaceGAN",),
    ("DDIM inversion",), ("HIPAA",), ("GDPR",), ("de-identification", "de-identified"),
    ("SMOTE",), ("DECAF",), ("synthetic control arm",), ("memorisation", "memorization"),
    ("FID", "Frechet Inception Distance"), ("precision and recall",), ("Turing test",),
    ("checkerboard",), ("hallucination",), ("bias",), ("interpretability",),
    ("Flesch-Kincaid",), ("6th to 8th grade",), ("plain language",), ("human-in-the-loop",),
    ("AI Act",),
]


def _cards() -> dict[str, tuple[dict, str]]:
    cards = {}
    for path in sorted(CORPUS_DIR.glob("*.md")):
        if path.name.startswith((".", "_")) or path.name.lower() == "readme.md":
            continue  # not cards: the indexer skips them too
        match = FRONT_MATTER.match(path.read_text(encoding="utf-8"))
        assert match, f"{path.name}: no YAML front matter between --- lines"
        meta = yaml.safe_load(match.group(1))
        assert isinstance(meta, dict), f"{path.name}: front matter is not a mapping"
        cards[path.stem] = (meta, match.group(2))
    return cards


def _questions() -> list[dict]:
    lines = QUESTIONS_PATH.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _words(text: str) -> list[str]:
    return re.findall(r"\S+", text)


def test_corpus_has_enough_cards():
    assert len(_cards()) >= MIN_CARDS


def test_every_card_has_complete_front_matter_matching_its_file_name():
    for stem, (meta, _) in _cards().items():
        assert KEBAB.match(stem), f"{stem}: file name is not kebab-case"
        for field in REQUIRED_FIELDS:
            value = meta.get(field)
            assert isinstance(value, str) and value.strip(), f"{stem}: missing or empty {field!r}"
        assert meta["id"] == stem, f"{stem}: id {meta['id']!r} differs from the file name"
        assert meta["topic"] in TOPICS, f"{stem}: unknown topic {meta['topic']!r}"


def test_card_ids_and_titles_are_unique():
    metas = [meta for meta, _ in _cards().values()]
    for field in ("id", "title"):
        dupes = [v for v, n in Counter(m[field] for m in metas).items() if n > 1]
        assert not dupes, f"duplicate {field}s: {dupes}"


def test_sources_look_like_citations():
    """A source names authors or a body, a year, and a venue, DOI, arXiv id or URL."""
    for stem, (meta, _) in _cards().items():
        source = meta["source"]
        assert re.search(r"\b(19|20)\d\d\b", source), f"{stem}: source has no year"
        assert len(source) >= 40, f"{stem}: source too short to identify the work"


def test_card_bodies_are_within_word_limits_and_structured():
    for stem, (_, body) in _cards().items():
        n = len(_words(body))
        assert MIN_WORDS <= n <= MAX_WORDS, f"{stem}: {n} words, expected {MIN_WORDS}-{MAX_WORDS}"
        assert re.search(r"^## ", body, re.M), f"{stem}: no ## subheading"


def test_required_terms_are_covered():
    text = "\n".join(meta["title"] + "\n" + body for meta, body in _cards().values()).lower()
    missing = [group for group in REQUIRED_TERMS if not any(term.lower() in text for term in group)]
    assert not missing, f"terms no card mentions: {missing}"


def test_every_topic_has_cards():
    counts = Counter(meta["topic"] for meta, _ in _cards().values())
    assert set(counts) == TOPICS, f"topics without cards: {TOPICS - set(counts)}"


def test_questions_are_well_formed_and_point_at_existing_cards():
    cards = _cards()
    questions = _questions()
    assert len(questions) >= MIN_QUESTIONS
    for row in questions:
        assert set(row) == {"q", "cards", "topic"}, row
        assert isinstance(row["q"], str) and len(row["q"].split()) >= 3, row
        assert row["cards"] and all(isinstance(c, str) for c in row["cards"]), row
        unknown = [c for c in row["cards"] if c not in cards]
        assert not unknown, f"{row['q']!r} expects unknown cards {unknown}"
        assert row["topic"] in TOPICS, row
    dupes = [q for q, n in Counter(r["q"].lower() for r in questions).items() if n > 1]
    assert not dupes, f"duplicate questions: {dupes}"


def test_questions_cover_every_topic():
    asked = {row["topic"] for row in _questions()}
    assert asked == TOPICS, f"topics without questions: {TOPICS - asked}"


def test_required_evaluation_questions_are_present():
    by_question = {row["q"].lower(): set(row["cards"]) for row in _questions()}
    assert {"ddim", "ddpm"} <= by_question["what is the difference between ddpm and ddim?"]
    assert "ddim" in by_question["why is ddim faster than ddpm"]
    assert "mode-collapse" in by_question["what is mode collapse?"]


@pytest.mark.skipif(not REVIEW_PATH.exists(), reason="the source review is not available here")
def test_cards_do_not_copy_the_review():
    """No card shares a run of 12 consecutive words with the review (names and titles are shorter)."""
    n = 12
    review = re.findall(r"[a-z0-9]+", REVIEW_PATH.read_text(encoding="utf-8").lower())
    shingles = {tuple(review[i:i + n]) for i in range(len(review) - n + 1)}
    for stem, (_, body) in _cards().items():
        tokens = re.findall(r"[a-z0-9]+", body.lower())
        copied = [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)
                  if tuple(tokens[i:i + n]) in shingles]
        assert not copied, f"{stem} copies the review: {copied[0]!r}"


def test_every_card_is_the_target_of_some_question():
    targeted = {card for row in _questions() for card in row["cards"]}
    untested = sorted(set(_cards()) - targeted)
    assert not untested, f"cards no evaluation question targets: {untested}"
