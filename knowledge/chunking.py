"""Split markdown-like text into overlapping chunks that keep their heading path as context.

Headings split first, then paragraphs, then sentences, then words: a chunk never cuts a
sentence when it can avoid it. Consecutive small sections are packed together up to the chunk
size, so a card of short sections does not turn into many tiny, context-poor vectors. Each chunk's
text starts with its heading path ("Title > Section > Subsection") because the embedding of a
bare paragraph often lacks the subject its heading names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=\S)")

# Bump when the chunking changes so that every source is re-chunked on the next ingest.
CHUNKER_VERSION = 2
PATH_SEPARATOR = " > "


@dataclass(frozen=True)
class Chunk:
    """One indexed unit: `text` (context line + body) is what gets embedded and shown."""

    text: str
    body: str
    headings: tuple[str, ...]
    index: int


@dataclass
class _Section:
    path: tuple[str, ...]
    heading_line: str  # the markdown heading that opened the section ("" for text before any heading)
    body: str


def parse_sections(text: str) -> list[_Section]:
    """Sections in document order, each with the stack of headings above it."""
    sections: list[_Section] = []
    stack: list[tuple[int, str]] = []
    heading_line = ""
    lines: list[str] = []
    in_fence = False

    def close() -> None:
        body = "\n".join(lines).strip()
        if body or heading_line:
            sections.append(_Section(tuple(t for _, t in stack), heading_line, body))

    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line.strip())
        if match:
            close()
            level, title = len(match.group(1)), match.group(2).strip()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            heading_line = line.strip()
            lines = []
        else:
            lines.append(line)
    close()
    return [s for s in sections if s.body]


_SEPARATORS: tuple[tuple[str | None, str], ...] = (
    (r"\n\s*\n", "\n\n"),  # paragraphs
    (r"\n", "\n"),  # lines
    (None, " "),  # sentences
    (r"\s+", " "),  # words
)


def _recursive_split(text: str, size: int, overlap: int, level: int = 0) -> list[str]:
    """Pieces of at most `size` characters: paragraphs, else sentences, else words, else characters.

    Parts of one level are packed back together with that level's separator, so sentences of one
    paragraph stay in one line of text and paragraphs keep their blank line.
    """
    if len(text) <= size:
        return [text]
    for depth in range(level, len(_SEPARATORS)):
        pattern, joiner = _SEPARATORS[depth]
        parts = _SENTENCE_END.split(text) if pattern is None else re.split(pattern, text)
        parts = [p.strip() for p in parts if p.strip()]
        if len(parts) > 1:
            pieces: list[str] = []
            for part in parts:
                pieces.extend(_recursive_split(part, size, overlap, depth + 1))
            return _pack(pieces, size, overlap, joiner)
    step = max(1, size - overlap)
    return [text[i:i + size] for i in range(0, len(text), step)]


def _tail(text: str, overlap: int) -> str:
    """The last ~`overlap` characters of a chunk, starting at a sentence or word boundary."""
    if overlap <= 0 or len(text) <= overlap:
        return text if overlap > 0 else ""
    window = text[-overlap:]
    sentence = _SENTENCE_END.search(window)
    if sentence and sentence.end() < len(window) - 20:
        return window[sentence.end():]
    space = window.find(" ")
    return window[space + 1:] if 0 <= space < len(window) - 1 else window


def _pack(pieces: list[str], size: int, overlap: int, joiner: str) -> list[str]:
    """Greedy packing of pieces into chunks of at most `size` characters, with a textual overlap."""
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{joiner}{piece}" if current else piece
        if len(candidate) <= size or not current:
            current = candidate
            continue
        chunks.append(current)
        tail = _tail(current, overlap)
        current = f"{tail} {piece}" if tail and len(tail) + 1 + len(piece) <= size else piece
    if current:
        chunks.append(current)
    return chunks


def _common_prefix(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    prefix = paths[0]
    for path in paths[1:]:
        n = 0
        while n < min(len(prefix), len(path)) and prefix[n] == path[n]:
            n += 1
        prefix = prefix[:n]
    return prefix


def chunk_text(text: str, title: str = "", chunk_size: int = 800, chunk_overlap: int = 120) -> list[Chunk]:
    """Chunks of about `chunk_size` characters of body, each prefixed with its heading path."""
    if chunk_size < 100:
        raise ValueError("chunk_size must be at least 100 characters")
    overlap = max(0, min(chunk_overlap, chunk_size // 2))
    groups: list[tuple[tuple[str, ...], str]] = []  # (heading path, body)
    pending: list[_Section] = []

    def flush_pending() -> None:
        if not pending:
            return
        if len(pending) == 1:
            groups.append((pending[0].path, pending[0].body))
        else:
            prefix = _common_prefix([s.path for s in pending])
            parts = []
            for section in pending:
                show_heading = section.heading_line and len(section.path) > len(prefix)
                parts.append(f"{section.heading_line}\n{section.body}" if show_heading else section.body)
            groups.append((prefix, "\n\n".join(parts)))
        pending.clear()

    pending_len = 0
    for section in parse_sections(text):
        if len(section.body) > chunk_size:
            flush_pending()
            pending_len = 0
            for body in _recursive_split(section.body, chunk_size, overlap):
                groups.append((section.path, body))
            continue
        added = len(section.body) + len(section.heading_line) + 3
        if pending and pending_len + added > chunk_size:
            flush_pending()
            pending_len = 0
        pending.append(section)
        pending_len += added
    flush_pending()

    chunks: list[Chunk] = []
    for path, body in groups:
        context = _context_line(title, path)
        chunks.append(Chunk(f"{context}\n\n{body}" if context else body, body, path, len(chunks)))
    return chunks


def _context_line(title: str, path: tuple[str, ...]) -> str:
    parts = list(path)
    if title and (not parts or parts[0].strip().lower() != title.strip().lower()):
        parts.insert(0, title)
    return PATH_SEPARATOR.join(p for p in parts if p)
