"""Checks a report before it is rewritten: empty, too large, pasted HTML/RTF, another language.

Why here and not in the LLM: a 200 kB paste would stall a CPU model for minutes, HTML markup
would be rewritten as words, and a German report would come back as an English text that the
checker cannot compare. Each case gets a message saying what is wrong and what to do.
"""

from __future__ import annotations

import re

from agent.errors import InvalidInputError

MAX_REPORT_BYTES = 200_000
MAX_REPORT_CHARS = 12_000  # about 3,000 tokens: the context of the default model

_STOPWORDS = {
    "english": set("the of and a an in is are was were with no not there to for on at by from be as this that it "
                   "or seen noted which has have without left right both small large mild moderate normal".split()),
    "german": set("der die das und ist nicht ein eine mit im den dem des kein keine links rechts auf zu von bei "
                  "sich wird sind zur zum beidseits unauffällig".split()),
    "french": set("le la les et est une un des du de pas avec dans sur au aux gauche droite ni sans ce cette "
                  "il elle sont pour".split()),
    "spanish": set("el la los las y es un una del de con en sin no se izquierdo derecho derecha izquierda por "
                   "para que son al".split()),
    "italian": set("il lo la gli le e è un una del della di con nel nella senza non sinistro destro sinistra "
                   "destra per che sono al".split()),
    "dutch": set("de het een en is van met in geen niet links rechts op bij zijn voor aan te".split()),
    "portuguese": set("o a os as e é um uma do da de com em sem não esquerdo direito esquerda direita por "
                      "para que são no na".split()),
}
_HTML_RE = re.compile(r"<\s*(?:html|body|div|p|br|span|table|tr|td|b|i|strong|em|font|head|style|script|ul|li)\b[^>]*>",
                      re.IGNORECASE)
_RTF_RE = re.compile(r"^\s*\{\\rtf", re.IGNORECASE)


def strip_html(text: str) -> str:
    """Visible text of pasted HTML, one line per block element."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "head"]):
        tag.decompose()
    for tag in soup(["p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table"]):
        tag.append("\n")
    text = re.sub(r"[ \t]+", " ", soup.get_text(""))
    return re.sub(r"\n\s*\n+", "\n", text).strip()


def strip_rtf(text: str) -> str:
    """Plain text of simple RTF: paragraph marks become newlines, control words and groups go."""
    text = re.sub(r"\{\\\*[^{}]*\}", "", text)
    text = re.sub(r"\{\\(?:fonttbl|colortbl|stylesheet|info)(?:[^{}]|\{[^{}]*\})*\}", "", text)
    text = re.sub(r"\\(?:par|line)\b ?", "\n", text)
    text = re.sub(r"\\'([0-9a-fA-F]{2})", lambda m: bytes.fromhex(m.group(1)).decode("latin-1"), text)
    text = re.sub(r"\\[a-zA-Z]+-?\d* ?", "", text)
    text = text.replace("\\{", "{").replace("\\}", "}").replace("{", "").replace("}", "")
    return re.sub(r"[ \t]+", " ", re.sub(r"\n{3,}", "\n\n", text)).strip()


def detect_language(text: str) -> str:
    """The likeliest language by stop-word share ("english" when nothing else clearly wins)."""
    words = re.findall(r"[a-zà-ÿäöüß]+", text.lower())
    if not words:
        return "english"
    scores = {lang: sum(w in stops for w in words) / len(words) for lang, stops in _STOPWORDS.items()}
    best = max(scores, key=lambda k: scores[k])
    if best != "english" and scores[best] >= 0.12 and scores[best] > 1.5 * scores["english"]:
        return best
    return "english"


def validate_report(report: str | None) -> str:
    """The report as clean plain text, or InvalidInputError saying why it cannot be rewritten."""
    if report is None or not str(report).strip():
        raise InvalidInputError("There is no report to rewrite.", "Paste the report text or pass --report FILE.")
    text = str(report)
    size = len(text.encode("utf-8", "ignore"))
    if size > MAX_REPORT_BYTES:
        raise InvalidInputError(f"The report is {size // 1000} kB; up to {MAX_REPORT_BYTES // 1000} kB is accepted.",
                                "Pass a single report, not a document or an export of many reports.")
    if _RTF_RE.search(text):
        text = strip_rtf(text)
    elif _HTML_RE.search(text):
        text = strip_html(text)
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text).strip()
    if not re.search(r"[^\W\d_]{2,}", text):
        raise InvalidInputError("The report has no readable text.", "Paste the report's text, not a file's bytes.")
    letters = re.findall(r"[^\W\d_]", text)
    latin = sum(1 for ch in letters if ch.isascii() or "\u00c0" <= ch <= "\u024f")
    if letters and latin < 0.8 * len(letters):
        raise InvalidInputError("The report does not appear to be in English.",
                                "radagent rewrites English reports; ask for an English version of the report.")
    language = detect_language(text)
    if language != "english":
        raise InvalidInputError(f"The report appears to be in {language.title()}, not English.",
                                "radagent rewrites English reports; ask for an English version of the report.")
    if len(text) > MAX_REPORT_CHARS:
        raise InvalidInputError(f"The report is too long to rewrite in one go ({len(text):,} characters; "
                                f"the limit is {MAX_REPORT_CHARS:,}).", "Rewrite the findings and impression sections.")
    return text
