"""Chunking: headings first, bounded sizes, overlap, heading path kept as context."""

from __future__ import annotations

from knowledge.chunking import chunk_text, parse_sections

LONG = " ".join(f"Sentence number {i} explains how the sampler skips timesteps." for i in range(60))


def test_heading_path_prefixes_every_chunk() -> None:
    text = f"# Diffusion\nIntro.\n\n## Sampling\n{LONG}\n"
    chunks = chunk_text(text, title="Diffusion models", chunk_size=400, chunk_overlap=60)
    assert len(chunks) > 2
    for chunk in chunks[1:]:
        assert chunk.text.startswith("Diffusion models > Diffusion > Sampling\n\n")
        assert chunk.headings == ("Diffusion", "Sampling")


def test_title_equal_to_first_heading_is_not_repeated() -> None:
    chunks = chunk_text("# DDIM\nDDIM samples fast.\n", title="DDIM")
    assert chunks[0].text == "DDIM\n\nDDIM samples fast."


def test_bodies_respect_the_size_limit_and_cover_the_text() -> None:
    chunks = chunk_text(f"# A\n{LONG}\n\n{LONG}\n", chunk_size=300, chunk_overlap=50)
    assert all(len(c.body) <= 300 for c in chunks)
    joined = " ".join(c.body for c in chunks)
    for i in (0, 17, 59):
        assert f"Sentence number {i} " in joined
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_consecutive_chunks_overlap() -> None:
    chunks = chunk_text(f"# A\n{LONG}\n", chunk_size=300, chunk_overlap=80)
    for prev, nxt in zip(chunks, chunks[1:]):
        first_sentence = nxt.body.split(".")[0]
        assert first_sentence in prev.body


def test_small_sections_are_packed_together_with_their_headings() -> None:
    text = "# Card\n## Source\nSong et al. 2021.\n\n## Limits\nFew steps lose detail.\n"
    chunks = chunk_text(text, title="Card", chunk_size=800)
    assert len(chunks) == 1
    assert "## Source" in chunks[0].body and "## Limits" in chunks[0].body


def test_hash_lines_inside_code_fences_are_not_headings() -> None:
    sections = parse_sections("# Real\n```\n# not a heading\n```\nText.\n")
    assert [s.path for s in sections] == [("Real",)]


def test_a_word_longer_than_the_chunk_is_still_split() -> None:
    chunks = chunk_text("x" * 1000, chunk_size=200, chunk_overlap=20)
    assert all(len(c.body) <= 200 for c in chunks)
    assert sum(len(c.body) for c in chunks) >= 1000
