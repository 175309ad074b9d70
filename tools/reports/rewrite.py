"""`rewrite_report`: a patient-friendly rewrite, checked against the original, retried once.

The LLM writes; it does not judge. PHI is masked and instruction-like lines are removed
before the report reaches it; the deterministic checker compares its rewrite with the
(masked) report; when anything is flagged the model gets one retry with the flags as
feedback, and whatever remains flagged is returned and shown. The glossary comes from a
curated list, plus model entries whose term is actually in the report.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agent.errors import ModelUnavailableError
from agent.prompts import load_prompt
from tools.reports.checker import CheckResult, check_rewrite
from tools.reports.glossary import glossary_for
from tools.reports.plain_terms import plain_terms
from tools.reports.report_input import validate_report
from tools.reports.schemas import GlossaryEntry, RewriteReportArgs, RewriteResult
from tools.schemas import Flag

FIDELITY = ("omission", "addition", "negation", "laterality", "measurement")
MAX_QUESTIONS = 3

REWRITE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "text": {"type": "string"},
        "glossary": {"type": "array", "maxItems": 5, "items": {
            "type": "object", "properties": {"term": {"type": "string"}, "meaning": {"type": "string"}},
            "required": ["term", "meaning"]}},
        "questions": {"type": "array", "maxItems": MAX_QUESTIONS, "items": {"type": "string"}},
    },
    "required": ["text", "glossary", "questions"],
}


def _max_tokens(report: str) -> int:
    """Room for a rewrite about 1.6 times the report's length plus glossary and questions."""
    return int(min(1400, 220 + len(report) / 4 * 1.6))


def _parse(raw: str) -> dict[str, Any]:
    """The model's JSON; a reply that is plain text is taken as the rewrite itself."""
    raw = (raw or "").strip()
    match = re.search(r"\{.*\}", raw, re.DOTALL)
    if match:
        try:
            data = json.loads(match.group(0))
            if isinstance(data, dict) and isinstance(data.get("text"), str):
                return data
        except ValueError:
            pass
    return {"text": re.sub(r"^```\w*|```$", "", raw).strip(), "glossary": [], "questions": []}


def _score(result: CheckResult) -> tuple[int, float]:
    """Fewer fidelity flags first, then the lower reading grade."""
    return (sum(f.type in FIDELITY for f in result.flags), result.grade)


def _llm():  # type: ignore[no-untyped-def]
    try:
        from agent.llm.runtime import get_llm
    except ImportError as exc:  # pragma: no cover - the runtime ships with the agent
        raise ModelUnavailableError("The language model runtime is not installed.",
                                    "Run `radagent setup` to prepare the local model.") from exc
    return get_llm()


def rewrite_report(args: RewriteReportArgs) -> RewriteResult:
    """Rewrite a report in plain language at the target reading grade, checked for fidelity."""
    from agent.guardrails.injection import neutralize
    from agent.guardrails.phi import mask_phi

    report = validate_report(args.report)
    masked, guard_flags = mask_phi(report)
    masked, injection_flags = neutralize(masked, origin="the report")
    guard_flags += injection_flags
    grade = args.target_grade
    system = load_prompt("rewrite_report").replace("{grade}", f"{grade:g}")
    user = load_prompt("rewrite_report_user").replace("{report}", masked)
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    llm = _llm()
    raw = llm.chat(messages, max_tokens=_max_tokens(masked), temperature=0.0, json_schema=REWRITE_SCHEMA)
    draft = _parse(raw)
    check = check_rewrite(masked, draft["text"], grade)
    attempts = 1
    if check.flags:
        feedback = "\n".join(f"- {f.type}: {f.detail}" for f in check.flags)
        retry = messages + [
            {"role": "assistant", "content": raw},
            {"role": "user", "content": load_prompt("rewrite_report_retry").replace("{flags}", feedback)
                                                                          .replace("{grade}", f"{grade:g}")},
        ]
        raw2 = llm.chat(retry, max_tokens=_max_tokens(masked), temperature=0.0, json_schema=REWRITE_SCHEMA)
        draft2 = _parse(raw2)
        check2 = check_rewrite(masked, draft2["text"], grade)
        attempts = 2
        if _score(check2) <= _score(check):
            draft, check = draft2, check2
    simpler = plain_terms(draft["text"])  # jargon left in place: swap in lay phrases the checker knows
    if simpler != draft["text"]:
        simpler_check = check_rewrite(masked, simpler, grade)
        if _score(simpler_check) <= _score(check):
            draft, check = {**draft, "text": simpler}, simpler_check
    glossary = glossary_for(masked, [g for g in draft.get("glossary", []) if isinstance(g, dict)])
    questions = [str(q).strip() for q in draft.get("questions", []) if str(q).strip()][:MAX_QUESTIONS]
    if not questions:
        questions = [line.strip("- ").strip() for line in load_prompt("rewrite_questions").splitlines()
                     if line.strip().startswith("-")][:MAX_QUESTIONS]
    flags: list[Flag] = guard_flags + check.flags
    fidelity = [f for f in check.flags if f.type in FIDELITY]
    summary = (f"Plain-language rewrite at reading grade {check.grade:.1f} (report: {check.original_grade:.1f}, "
               f"target {grade:g}). " + (f"{len(fidelity)} possible fidelity problem(s) flagged: compare with the "
                                          "original before relying on it." if fidelity else
                                          "No dropped or changed findings were detected."))
    return RewriteResult(summary=summary, text=draft["text"].strip(), grade=check.grade,
                         original_grade=check.original_grade, target_grade=grade,
                         glossary=[GlossaryEntry(**g) for g in glossary], questions=questions,
                         flags=flags, attempts=attempts)
