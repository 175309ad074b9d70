"""Guardrails that do not rely on the LLM's judgement: grounding, scope, PHI masking, injection.

Each check returns `tools.schemas.Flag`s so every door shows them the same way:
- `check_answer(answer, snippets, tool_outputs)`: `ungrounded` sentences and `scope` violations
  (a diagnosis or treatment advice) in a drafted answer;
- `check_scope(request)`: a `scope` flag (with the redirect text) for requests to refuse;
- `mask_phi(text)`: text with PHI replaced before any LLM sees it, plus a `phi` flag;
- `detect_injection(text)` / `neutralize(text)`: instruction-like text in documents, DICOM tags
  or tool outputs, flagged (and removed) so it stays data.
Imports are lazy: `check_answer` loads the embedding model only when called.
"""

from __future__ import annotations

from typing import Any

from agent.guardrails.injection import detect_injection, neutralize
from agent.guardrails.phi import mask_phi
from agent.guardrails.scope import check_answer_scope, check_scope
from tools.schemas import Flag

__all__ = ["check_answer", "check_scope", "check_answer_scope", "mask_phi", "detect_injection", "neutralize"]


def check_answer(answer: str, snippets: list[Any], tool_outputs: list[dict[str, Any]] | None = None) -> list[Flag]:
    """Grounding flags for every unsupported factual sentence, plus scope flags."""
    from agent.guardrails.grounding import check_answer as grounding_check

    flags = check_answer_scope(answer)
    try:
        flags += grounding_check(answer, snippets, tool_outputs or [])
    except Exception as exc:  # noqa: BLE001 - a missing embedding model must not lose the answer
        flags.append(Flag(type="warning", detail=f"The grounding check could not run: {exc}"))
    return flags
