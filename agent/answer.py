"""Answering a question from the knowledge base, with numbered citations, or saying there is none.

Retrieved snippets are fenced as untrusted data; the model answers citing [1], [2], ... The
citations returned are the snippets actually cited, renumbered in order of first use, and the
answer's markers are rewritten to match. When retrieval finds nothing above the relevance
threshold the answer says so plainly and the model is not asked to guess.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from agent.prompts import load_prompt
from agent.text_input import clean_text
from tools.schemas import Flag

ANSWER_MAX_TOKENS = 320
_MARKER = re.compile(r"\[(\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\]")


@dataclass
class Answer:
    answer: str
    citations: list[dict[str, str]] = field(default_factory=list)  # {"source", "title"} (+ "text" for the UI)
    flags: list[Flag] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.answer,
                "citations": [{"source": c["source"], "title": c["title"]} for c in self.citations],
                "flags": [f.model_dump() for f in self.flags]}


def _field(snippet: Any, name: str) -> str:
    return str(snippet.get(name, "") if isinstance(snippet, dict) else getattr(snippet, name, ""))


SNIPPETS_IN_PROMPT = 4  # each one costs ~200 tokens of prompt processing on a CPU
SNIPPET_CHARS = 700


def for_prompt(snippets: list[Any]) -> list[Any]:
    """The best few snippets, each cut to a length a small CPU model reads in seconds."""
    out = []
    for snippet in list(snippets)[:SNIPPETS_IN_PROMPT]:
        text = _field(snippet, "text")
        if len(text) > SNIPPET_CHARS:
            cut = text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
            snippet = {**snippet, "text": cut} if isinstance(snippet, dict) else dataclasses.replace(snippet, text=cut)
        out.append(snippet)
    return out


def fence(snippets: list[Any]) -> str:
    """Snippets as numbered UNTRUSTED DATA blocks (the knowledge base's own fencing)."""
    from knowledge.fencing import fence_snippets

    return fence_snippets(snippets, notice=True)


def answer_messages(question: str, snippets: list[Any]) -> list[dict[str, str]]:
    user = load_prompt("answer_question").replace("{question}", question).replace("{snippets}", fence(snippets))
    return [{"role": "system", "content": load_prompt("answer")}, {"role": "user", "content": user}]


def resolve_citations(text: str, snippets: list[Any]) -> tuple[str, list[dict[str, str]], list[Flag]]:
    """Renumber the cited snippets 1..m in order of first use; flag markers that point nowhere."""
    order: list[int] = []
    invalid: set[int] = set()
    for match in _MARKER.finditer(text):
        for number in re.split(r"\s*[,;]\s*", match.group(1)):
            n = int(number)
            if 1 <= n <= len(snippets):
                if n not in order:
                    order.append(n)
            else:
                invalid.add(n)
    new_number = {old: i for i, old in enumerate(order, 1)}

    def rewrite(match: re.Match[str]) -> str:
        kept = [new_number[int(n)] for n in re.split(r"\s*[,;]\s*", match.group(1)) if int(n) in new_number]
        return "".join(f"[{n}]" for n in kept)

    text = _MARKER.sub(rewrite, text).strip()
    citations = [{"source": _field(snippets[n - 1], "source"), "title": _field(snippets[n - 1], "title"),
                  "text": _field(snippets[n - 1], "text")} for n in order]
    flags: list[Flag] = []
    if invalid:
        flags.append(Flag(type="ungrounded", detail=f"The answer cited source number(s) {sorted(invalid)} "
                                                     "that were not retrieved; those markers were removed."))
    if snippets and not order:
        flags.append(Flag(type="ungrounded", detail="The answer does not cite any retrieved source; "
                                                    "check it against the sources before relying on it."))
    return text, citations, flags


def guardrail_flags(answer: str, snippets: list[Any], tool_outputs: list[dict[str, Any]] | None = None) -> list[Flag]:
    """Flags from the guardrails' answer check (grounding against snippets and tool outputs, scope),
    and an `injection` flag for each snippet or tool output that holds instruction-like text."""
    flags = injection_flags(snippets, tool_outputs)
    try:
        from agent import guardrails
    except ImportError:
        return flags
    check: Callable[..., Any] | None = getattr(guardrails, "check_answer", None)
    if check is None:
        return flags
    found = check(answer, snippets, tool_outputs or [])
    return flags + [f if isinstance(f, Flag) else Flag.model_validate(f) for f in (found or [])]


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a tool output (nested dicts and lists), where an instruction could hide."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def injection_flags(snippets: list[Any], tool_outputs: list[Any] | None = None) -> list[Flag]:
    """An `injection` flag for every prompt snippet or tool output holding instruction-like text.

    Why every one, not only those cited or marked at ingestion: the model read all of them, so
    an instruction in an uncited snippet, in a document ingested before the marker existed, or
    in a tool's output could still have steered the answer; the user must be told.
    """
    from agent.guardrails import detect_injection

    flags: list[Flag] = []
    for snippet in snippets:
        source = _field(snippet, "source")
        if _field(snippet, "instruction_like") == "True":
            flags.append(Flag(type="injection", detail=f"Source {source} contains instruction-like text; "
                                                       "it was treated as data."))
            continue
        found = detect_injection(_field(snippet, "text"), origin=f"source {source}")
        if found is not None:
            flags.append(found)
    for number, output in enumerate(tool_outputs or [], start=1):
        tool = output.get("tool", f"#{number}") if isinstance(output, dict) else f"#{number}"
        found = next((f for f in (detect_injection(t, origin=f"the output of tool {tool}")
                                  for t in _strings(output)) if f is not None), None)
        if found is not None:
            flags.append(found)
    return flags


def _retrieve(question: str, k: int) -> list[Any]:
    from knowledge.retriever import retrieve

    return list(retrieve(question, k=k))


def stream_answer(question: str, k: int = 5, *, llm: Any | None = None) -> Iterator[str | Answer]:
    """Yield answer text as it is generated, then the final Answer (citations resolved)."""
    from agent.llm.runtime import get_llm

    question = clean_text(question, what="question")
    from agent.guardrails import check_scope, mask_phi

    refusal = check_scope(question)
    if refusal is not None:  # a diagnosis or treatment request: redirected, never sent to the model
        yield refusal.detail
        yield Answer(refusal.detail, [], [refusal])
        return
    question, phi_flags = mask_phi(question)
    snippets = for_prompt(_retrieve(question, k))
    if not snippets:
        text = load_prompt("no_sources")
        yield text
        yield Answer(text, [], [])
        return
    llm = llm or get_llm()
    parts: list[str] = []
    for piece in llm.stream(answer_messages(question, snippets), max_tokens=ANSWER_MAX_TOKENS, temperature=0.0):
        parts.append(piece)
        yield piece
    text, citations, flags = resolve_citations("".join(parts), snippets)
    flags += guardrail_flags(text, snippets) + phi_flags
    yield Answer(text, citations, flags)


def answer_question(question: str, k: int = 5, *, llm: Any | None = None) -> Answer:
    """The cited answer to `question` (see module docstring)."""
    final: Answer | None = None
    for item in stream_answer(question, k, llm=llm):
        if isinstance(item, Answer):
            final = item
    assert final is not None
    return final
