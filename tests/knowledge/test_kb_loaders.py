"""Loading each supported format into markdown-like text, and refusing what cannot be indexed."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_helpers import CARDS_DIR, write_pdf
from knowledge.loaders import SkipFile, check_size, load_document, split_front_matter


def load(path: Path):
    return load_document(path, path.read_bytes())


def test_markdown_front_matter_becomes_metadata() -> None:
    doc = load(CARDS_DIR / "ddim_sampling.md")
    assert doc.title == "DDIM: denoising diffusion implicit models"
    assert doc.metadata["topic"] == "generative-models"
    assert "ICLR 2021" in doc.metadata["reference"]
    assert not doc.text.startswith("---")
    assert "## Why it is faster" in doc.text


def test_markdown_without_front_matter_takes_first_heading_as_title(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("Intro line.\n\n# Contrast agents\n\nGadolinium is used in MRI.\n")
    assert load(path).title == "Contrast agents"


def test_malformed_front_matter_stays_in_the_body() -> None:
    meta, body = split_front_matter("---\ntitle: [unclosed\n---\nBody text.\n")
    assert meta == {}
    assert "Body text." in body


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "protocol.txt"
    path.write_text("Scan the chest at low dose.\n\nReconstruct with a soft kernel.\n", encoding="utf-8")
    doc = load(path)
    assert doc.kind == "text" and doc.title == "protocol"
    assert "soft kernel" in doc.text


def test_pdf_pages_become_sections(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "contrast.pdf", [["Gadolinium contrast agents are used in MRI."],
                                                ["Kidney function is checked before injection."]],
                     title="Contrast safety")
    doc = load(path)
    assert doc.kind == "pdf" and doc.title == "Contrast safety"
    assert "## Page 1" in doc.text and "## Page 2" in doc.text
    assert "Kidney function is checked" in doc.text


def test_html_headings_kept_and_scripts_dropped(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("<html><head><title>MRI safety</title><script>var secret = 1;</script></head><body>"
                    "<nav>Home | About</nav><h1>MRI safety</h1><p>Metal implants must be screened.</p>"
                    "<h2>Projectiles</h2><p>Ferromagnetic objects can become <b>projectiles</b>.</p></body></html>")
    doc = load(path)
    assert doc.title == "MRI safety"
    assert "# MRI safety" in doc.text and "## Projectiles" in doc.text
    assert "can become projectiles" in doc.text
    assert "secret" not in doc.text and "Home | About" not in doc.text


@pytest.mark.parametrize("name,data,reason", [
    ("empty.md", b"", "is empty"),
    ("blob.txt", bytes(range(256)) * 8, "binary"),
    ("image.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "unsupported file type"),
    ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "cannot be parsed"),
    ("fake.pdf", b"hello, I am text", "not a valid PDF"),
    ("only-headings.md", b"---\ntitle: x\n---\n# Heading\n## Another\n", "no text"),
])
def test_bad_files_are_refused_with_a_reason(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(SkipFile) as err:
        check_size(path, max_file_mb=50)
        load(path)
    assert reason in err.value.reason


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * 2_000_000)
    with pytest.raises(SkipFile, match="too large"):
        check_size(path, max_file_mb=1)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SkipFile, match="cannot be read"):
        check_size(tmp_path / "nope.md", max_file_mb=1)
