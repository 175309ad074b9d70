"""Chat panel: text plus uploads, streamed answers, citations, guardrail flags and the tool-call trace."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator

import gradio as gr

from agent.errors import RadagentError
from ui.context import acting_as, badge, error_html
from ui.identity import identify

STREAM_INTERVAL_S = 0.15  # at most about seven redraws a second while an answer streams
_turns_started = 0  # the first turn in a process also loads the model; the status says so


def _citations_markdown(citations: list[dict[str, Any]]) -> str:
    if not citations:
        return "_No sources cited for this answer._"
    parts = []
    for n, cite in enumerate(citations, 1):
        snippet = (cite.get("text") or "").strip()
        body = f"\n\n> {snippet[:600]}" if snippet else ""
        parts.append(f"<details><summary>[{n}] {cite.get('title') or cite.get('source')}</summary>\n\n"
                     f"`{cite.get('source')}`{body}\n\n</details>")
    return "\n".join(parts)


def _flags_html(flags: list[dict[str, Any]]) -> str:
    return "".join(badge(f"{f['type']}: {f['detail']}", f["type"]) for f in flags) or ""


def _attach(files: list[Any], ident) -> tuple[list[str], list[str]]:
    """Put uploads in the workspace; returns their ids and per-file error messages."""
    from tools.imaging.workspace import get_workspace

    ids, errors = [], []
    workspace = get_workspace(ident.session)
    for item in files or []:
        path = Path(item if isinstance(item, str) else item.get("path", ""))
        try:
            ids.append(workspace.add(path, trusted=True).id)  # a Gradio upload, not a user-typed path
        except RadagentError as err:
            errors.append(error_html(f"{path.name}: {err.message}", err.hint))
    return ids, errors


def _guarded(events: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The turn's events; an unexpected failure ends the turn with a message instead of a stack trace."""
    try:
        yield from events
    except RadagentError as err:
        yield {"type": "final", "answer": f"Could not finish this turn: {err.message} {err.hint}".strip()}
    except Exception as exc:  # noqa: BLE001 - the page must stay usable; details go to the server log
        import traceback

        traceback.print_exc()
        yield {"type": "final", "answer": f"Could not finish this turn ({type(exc).__name__}); the details are "
                                          "in the server log. The conversation so far is kept."}


def _status(text: str, state: str) -> str:
    return f"<span class='ra-banner' data-state='{state}'>{text}</span>"


def respond(message: dict[str, Any], history: list[dict[str, Any]], browser_id: str, request: gr.Request
            ) -> Iterator[tuple[list[dict[str, Any]], str, str, dict[str, Any], str]]:
    """One chat turn through the agent: stream the answer, then show its sources, flags and trace.

    The status line says what the agent is doing (planning, running a tool, answering) and, at the
    end, when the turn finished and how long it took.
    """
    from agent.conversation import stream_turn

    started = time.perf_counter()
    ident = identify(request, browser_id)
    text = (message or {}).get("text", "") or ""
    history = list(history or [])
    with acting_as(ident):
        ids, errors = _attach((message or {}).get("files", []), ident)
    if ids:
        text = (text + "\n" if text else "") + f"(attached: {', '.join(ids)})"
    history.append({"role": "user", "content": text or "(empty message)"})
    if errors:
        history.append({"role": "assistant", "content": "\n".join(errors)})
    if not text.strip():
        yield history, "", "", gr.MultimodalTextbox(value=None), _status("Nothing to answer: the message was empty.",
                                                                          "done")
        return
    global _turns_started
    first = _turns_started == 0
    _turns_started += 1
    status = _status("Loading the language model, then planning (first request since start)…" if first
                     else "Planning…", "working")
    yield history, "", "", gr.MultimodalTextbox(value=None), status
    last_sent = time.perf_counter()
    answer_index: int | None = None
    citations: list[dict[str, Any]] = []
    flags: list[dict[str, Any]] = []
    events = stream_turn(ident.session, text, user=ident.user, role=ident.role, image=ids[-1] if ids else None)
    for event in _guarded(events):
        kind = event.get("type")
        if kind == "plan" and event.get("tool"):
            status = _status(f"Running {event['tool']}…", "working")
        elif kind == "token":
            status = _status("Answering…", "working")
        if kind == "tool":
            outcome = "done" if event.get("ok", True) else "error"
            error = event.get("error") or {}
            if isinstance(error, dict):
                error = " ".join(part for part in (error.get("message"), error.get("hint")) if part)
            detail = event.get("summary") or str(error)
            args = ", ".join(f"{k}={v!r}" for k, v in (event.get("args") or {}).items())
            history.append({"role": "assistant", "content": f"`{event['name']}({args})`\n\n{detail}",
                            "metadata": {"title": f"🛠 {event['name']}" + ("" if outcome == "done" else " (failed)"),
                                         "status": "done", "duration": round(float(event.get("seconds", 0.0)), 2)}})
            for artifact in event.get("artifacts", []):
                if artifact.get("kind") in ("png", "overlay", "comparison", "image") and Path(artifact["path"]).is_file():
                    history.append({"role": "assistant", "content": gr.Image(artifact["path"])})
        elif kind == "token":
            if answer_index is None:
                history.append({"role": "assistant", "content": ""})
                answer_index = len(history) - 1
            history[answer_index]["content"] += event.get("text", "")
        elif kind == "final":
            citations = event.get("citations", [])
            flags = event.get("flags", [])
            if answer_index is None:
                history.append({"role": "assistant", "content": event.get("answer", "")})
                answer_index = len(history) - 1
            else:
                history[answer_index]["content"] = event.get("answer", history[answer_index]["content"])
            if event.get("review") == "pending":
                history[answer_index]["content"] += "\n\n" + badge("review: pending", "pending")
            status = _status(f"Answered at {time.strftime('%H:%M:%S')} in {time.perf_counter() - started:.1f} s.",
                             "done")
        # Tokens arrive faster than a page can usefully redraw; sending the whole conversation per
        # token costs the browser and the server CPU the model needs, so text is batched.
        now = time.perf_counter()
        if kind == "token" and now - last_sent < STREAM_INTERVAL_S:
            continue
        last_sent = now
        if kind == "final":
            yield history, _citations_markdown(citations), _flags_html(flags), gr.skip(), status
        else:
            yield history, gr.skip(), gr.skip(), gr.skip(), status


def load_history(browser_id: str, request: gr.Request) -> list[dict[str, Any]]:
    """The persisted conversation of this user or browser, so a reload keeps it."""
    from agent.conversation import history_messages

    ident = identify(request, browser_id)
    return history_messages(ident.session)


def build(browser_id: gr.BrowserState) -> dict[str, Any]:
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(label="radagent", height=520, elem_id="chatbot",
                                 placeholder="Ask about generative AI in imaging, upload a study and ask for a "
                                             "segmentation, or paste a report to rewrite.")
            box = gr.MultimodalTextbox(placeholder="Type a request; attach DICOM, PNG, NIfTI or ZIP files",
                                       file_count="multiple", elem_id="chat-input",
                                       file_types=[".dcm", ".png", ".jpg", ".jpeg", ".nii", ".gz", ".zip", ".npz"])
        with gr.Column(scale=1, min_width=260):
            turn_status = gr.HTML(elem_id="chat-status")
            flags = gr.HTML(label="Guardrail flags", elem_id="chat-flags")
            with gr.Accordion("Sources", open=True):
                citations = gr.Markdown(elem_id="chat-citations")
    box.submit(respond, [box, chatbot, browser_id], [chatbot, citations, flags, box, turn_status],
               api_name="chat")
    return {"refresh": (load_history, [browser_id], chatbot)}
