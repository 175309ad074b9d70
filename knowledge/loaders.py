"""Turn a file (markdown, text, PDF, HTML) into markdown-like text plus metadata, or say why not.

Every loader returns text in one shape, headings as `#` lines, so that one chunker serves all
formats. A file that cannot be indexed raises `SkipFile` with a reason a person can act on;
the caller reports it and carries on with the rest of the batch.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

MARKDOWN_SUFFIXES = {".md", ".markdown"}
TEXT_SUFFIXES = {".txt", ".text"}
PDF_SUFFIXES = {".pdf"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES | TEXT_SUFFIXES | PDF_SUFFIXES | HTML_SUFFIXES

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


class SkipFile(Exception):
    """The file is not indexed; `reason` says why in words a user understands."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class LoadedDocument:
    """A document ready for chunking: markdown-like text, a title and citation metadata."""

    text: str
    title: str
    kind: str  # "markdown", "text", "pdf", "html"
    metadata: dict[str, Any] = field(default_factory=dict)  # topic, reference, card_id


def check_size(path: Path, max_file_mb: float) -> int:
    """The file's size in bytes; refuses missing, unreadable, empty and oversized files up front."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SkipFile(f"cannot be read ({exc.strerror or exc})") from exc
    if size == 0:
        raise SkipFile("is empty")
    if size > max_file_mb * 1024 * 1024:
        raise SkipFile(f"is too large ({size / 1024 / 1024:.1f} MB; the limit is {max_file_mb:g} MB, "
                       "knowledge.max_file_mb in the settings)")
    return size


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SkipFile(f"cannot be read ({exc.strerror or exc})") from exc


def load_document(path: Path, data: bytes) -> LoadedDocument:
    """Parse `data` (the bytes of `path`) according to the file's suffix."""
    suffix = path.suffix.lower()
    loader = _LOADERS.get(suffix)
    if loader is None:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise SkipFile(f"has an unsupported file type '{suffix or path.name}' (supported: {supported})")
    doc = loader(path, data)
    doc.text = _normalise_whitespace(doc.text)
    if not _strip_headings(doc.text).strip():
        raise SkipFile("has no text to index" + (" (a scanned PDF needs OCR first)" if doc.kind == "pdf" else ""))
    return doc


def _decode_text(data: bytes) -> str:
    """UTF-8 (or UTF-16 with a BOM) text; anything that looks binary is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise SkipFile("looks like a binary file, not text") from exc
    if b"\x00" in data[:8192]:
        raise SkipFile("looks like a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    sample = text[:8192]
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    if sample and control / len(sample) > 0.05:
        raise SkipFile("looks like a binary file, not text")
    return text


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """YAML front matter (`---` ... `---`) and the body; malformed front matter stays in the body."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}, text
    if not isinstance(meta, dict):
        return {}, text
    return meta, text[match.end():]


def _first_heading(text: str) -> str:
    for line in text.splitlines():
        match = _HEADING.match(line.strip())
        if match:
            return match.group(2).strip()
    return ""


def _load_markdown(path: Path, data: bytes) -> LoadedDocument:
    meta, body = split_front_matter(_decode_text(data))
    title = str(meta.get("title") or "").strip() or _first_heading(body) or path.stem
    metadata = {
        "topic": _as_text(meta.get("topic")),
        "reference": _as_text(meta.get("source") or meta.get("reference")),
        "card_id": _as_text(meta.get("id")),
    }
    return LoadedDocument(body, title, "markdown", metadata)


def _load_text(path: Path, data: bytes) -> LoadedDocument:
    return LoadedDocument(_decode_text(data), path.stem, "text", {})


def _load_pdf(path: Path, data: bytes) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise SkipFile("is not a valid PDF (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise SkipFile("is an encrypted PDF; save an unencrypted copy and add that")
        pages = [(page.extract_text() or "") for page in reader.pages]
        info_title = (reader.metadata.title if reader.metadata else None) or ""
    except SkipFile:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise SkipFile(f"is a PDF that cannot be parsed ({exc})") from exc
    parts = [f"## Page {n}\n\n{text.strip()}" for n, text in enumerate(pages, start=1) if text.strip()]
    title = str(info_title).strip() or path.stem
    return LoadedDocument("\n\n".join(parts), title, "pdf", {"pages": len(pages)})


_BLOCK_TAGS = ["p", "li", "div", "section", "article", "tr", "br", "pre", "blockquote", "table",
               "ul", "ol", "dd", "dt", "figcaption", "header", "main"]


def _load_html(path: Path, data: bytes) -> LoadedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode_text(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "svg", "nav", "footer", "iframe"]):
        tag.decompose()
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    if title_tag:
        title_tag.decompose()
    for level in range(1, 7):
        for tag in soup.find_all(f"h{level}"):
            heading = " ".join(tag.get_text(" ", strip=True).split())
            tag.replace_with(f"\n\n{'#' * level} {heading}\n\n" if heading else "\n\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    text = soup.get_text()
    lines = [" ".join(line.split()) for line in text.splitlines()]
    body = "\n".join(lines)
    title = title or _first_heading(body) or path.stem
    return LoadedDocument(body, title, "html", {})


_LOADERS: dict[str, Callable[[Path, bytes], LoadedDocument]] = {
    **{s: _load_markdown for s in MARKDOWN_SUFFIXES},
    **{s: _load_text for s in TEXT_SUFFIXES},
    **{s: _load_pdf for s in PDF_SUFFIXES},
    **{s: _load_html for s in HTML_SUFFIXES},
}


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value).strip()


def _normalise_whitespace(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _strip_headings(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not _HEADING.match(line.strip()))
