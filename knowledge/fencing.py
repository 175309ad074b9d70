"""Wrap retrieved text in clearly delimited UNTRUSTED DATA blocks before it enters a prompt.

Documents are evidence, never instructions. Each snippet goes into a numbered block with its
source; anything inside the text (or the title and source, which come from documents too) that
imitates the delimiters is neutralised, so a document cannot close its own block and speak as
the system.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from knowledge.types import Snippet

OPEN = "<<<UNTRUSTED DATA"
CLOSE = "<<<END UNTRUSTED DATA"
NOTICE_PROMPT = Path(__file__).resolve().parents[1] / "prompts" / "knowledge_snippets_notice.txt"

_ANGLE_RUN = re.compile(r"<{2,}|>{2,}|\u00ab{2,}|\u00bb{2,}")
# The block markers used for untrusted text anywhere in prompts (documents and tool outputs).
_MARKER_WORDS = re.compile(r"(END[\s_-]*)?UNTRUSTED[\s_-]*(DATA|TOOL[\s_-]*OUTPUT)", re.IGNORECASE)
_CHAT_TOKENS = re.compile(r"<\|[^|>]{0,40}\|>")


def neutralise(text: str) -> str:
    """Make delimiter look-alikes inert: angle-bracket runs become single brackets, the marker words
    are replaced, and chat-template tokens lose their pipes."""
    text = _CHAT_TOKENS.sub(lambda m: m.group(0).replace("|", "¦"), text)
    text = _ANGLE_RUN.sub(lambda m: m.group(0)[0] + " ", text)
    return _MARKER_WORDS.sub("[marker removed]", text)


def _one_line(text: str) -> str:
    return " ".join(neutralise(str(text)).split())


def _field(snippet: Snippet | Mapping[str, Any], name: str) -> Any:
    return snippet.get(name, "") if isinstance(snippet, Mapping) else getattr(snippet, name, "")


def fence_snippets(snippets: Iterable[Snippet | Mapping[str, Any]], notice: bool = True) -> str:
    """Numbered [1], [2], ... blocks, each opened and closed with an UNTRUSTED DATA marker naming its source.

    Accepts `Snippet`s or their dicts. Returns "" for no snippets, so callers can test for evidence.
    """
    blocks = []
    for n, snippet in enumerate(snippets, start=1):
        source = _one_line(_field(snippet, "source")) or "unknown"
        title = _one_line(_field(snippet, "title"))
        reference = _one_line(_field(snippet, "reference"))
        header = f"{OPEN} [{n}] source: {source}"
        if title:
            header += f" | title: {title}"
        if reference:
            header += f" | reference: {reference}"
        if _field(snippet, "instruction_like"):
            header += " | warning: contains instruction-like text"
        body = neutralise(str(_field(snippet, "text"))).strip()
        blocks.append(f"{header}>>>\n{body}\n{CLOSE} [{n}]>>>")
    if not blocks:
        return ""
    text = "\n\n".join(blocks)
    if notice and NOTICE_PROMPT.is_file():
        text = NOTICE_PROMPT.read_text(encoding="utf-8").strip() + "\n\n" + text
    return text
