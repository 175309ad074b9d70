"""Checks on free text before it reaches the language model: empty, oversized or binary input.

A 100 kB paste or a binary blob would fill the context and stall a CPU model for minutes, so
such input is refused with a message saying what is wrong instead of being sent.
"""

from __future__ import annotations

import re
import unicodedata

from agent.errors import InvalidInputError

MAX_REQUEST_CHARS = 8_000  # about 2,000 tokens: a long report fits, a whole document does not

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str | bytes | None, *, what: str = "request", limit: int = MAX_REQUEST_CHARS) -> str:
    """The text, stripped and normalised, or InvalidInputError saying why it cannot be used."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInputError(f"The {what} is not UTF-8 text.", "Type or paste plain text.") from None
    text = unicodedata.normalize("NFC", text or "")
    if not text.strip():
        raise InvalidInputError(f"The {what} is empty.", "Type what you would like radagent to do.")
    odd = len(_CONTROL.findall(text)) + text.count("\ufffd")
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text)
    if odd > 8 or odd > 0.02 * len(text) or printable < 0.9 * len(text):
        raise InvalidInputError(f"The {what} looks like binary data, not text.",
                                "Type or paste plain text; attach images as files instead.")
    if len(text) > limit:
        raise InvalidInputError(
            f"The {what} is too long ({len(text):,} characters; the limit is {limit:,}).",
            "Shorten it, or add long documents to the knowledge base with `radagent kb add`.")
    return _CONTROL.sub("", text).strip()
