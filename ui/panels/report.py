"""Report rewrite panel: the plain-language version with its flags highlighted, grades and glossary."""

from __future__ import annotations

from typing import Any

import gradio as gr

from agent.errors import RadagentError
from tools.registry import run_tool
from ui.context import acting_as, badge, error_html
from ui.identity import identify


def _highlight(text: str, flags: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """Mark the sentences a flag quotes; unquoted flags are listed beside the text instead."""
    import re

    sentences = re.split(r"(?<=[.!?])\s+", text)
    spans: list[tuple[str, str | None]] = []
    for sentence in sentences:
        label = next((f["type"] for f in flags if f.get("detail") and _quotes(f["detail"], sentence)), None)
        spans.append((sentence + " ", label))
    return spans


def _quotes(detail: str, sentence: str) -> bool:
    import re

    quoted = re.findall(r"['\"“‘](.+?)['\"”’]", detail)
    return any(q.strip().lower() in sentence.lower() for q in quoted if len(q.strip()) > 2)


def rewrite(report: str, grade: float, browser_id: str, request: gr.Request,
            progress: gr.Progress = gr.Progress()) -> tuple[Any, str, list[list[str]], str, dict[str, Any]]:
    ident = identify(request, browser_id)
    progress(0.05, desc="Rewriting with the local model (this takes a little while on a CPU)")
    try:
        with acting_as(ident):
            result = run_tool("rewrite_report", {"report": report, "target_grade": grade},
                              user=ident.user).model_dump(mode="json")
    except RadagentError as err:
        return None, error_html(err.message, err.hint), [], "", {}
    flags = result.get("flags", [])
    summary = (f"Reading grade: original <b>{result.get('original_grade', float('nan')):.1f}</b> → "
               f"rewrite <b>{result.get('grade', float('nan')):.1f}</b> (target {grade:.0f}) ")
    summary += badge(f"review: {result.get('review')}", result.get("review", "pending"))
    summary += "".join(badge(f"{f['type']}: {f['detail']}", f["type"]) for f in flags) or badge("no fidelity flags", "confirmed")
    glossary = [[g.get("term", ""), g.get("meaning", "")] for g in result.get("glossary", [])]
    questions = "\n".join(f"- {q}" for q in result.get("questions", []))
    return _highlight(result.get("text", ""), flags), summary, glossary, questions, result


def build(browser_id: gr.BrowserState) -> None:
    with gr.Row():
        with gr.Column():
            report = gr.Textbox(label="Radiology report", lines=14, elem_id="report-input",
                                placeholder="Paste the report text here.")
            grade = gr.Slider(3, 12, value=7, step=1, label="Target reading grade")
            go = gr.Button("Rewrite for the patient", variant="primary", elem_id="report-rewrite")
        with gr.Column():
            summary = gr.HTML(elem_id="report-summary")
            text = gr.HighlightedText(label="Plain-language version (flagged sentences highlighted)",
                                      combine_adjacent=True, elem_id="report-output")
            glossary = gr.Dataframe(headers=["term", "meaning"], label="Glossary", interactive=False)
            questions = gr.Markdown(label="Questions to ask your doctor")
            details = gr.JSON(label="Details", visible=True)
    go.click(rewrite, [report, grade, browser_id], [text, summary, glossary, questions, details], api_name="rewrite")
