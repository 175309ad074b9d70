"""The chat handler without a server: batching of streamed text and failures kept off the page."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from ui.panels import chat


def _run(monkeypatch: pytest.MonkeyPatch, events: Any) -> list[tuple]:
    import agent.conversation

    monkeypatch.setattr(agent.conversation, "stream_turn", lambda *a, **k: events())
    return list(chat.respond({"text": "hello", "files": []}, [], "browser-t", None))


def test_a_crash_inside_the_turn_becomes_a_message_and_a_finished_status(monkeypatch: pytest.MonkeyPatch) -> None:
    def events() -> Iterator[dict[str, Any]]:
        yield {"type": "plan", "tool": None, "args": {}}
        raise KeyError("boom")

    outputs = _run(monkeypatch, events)
    history, status = outputs[-1][0], outputs[-1][-1]
    assert history[-1]["role"] == "assistant" and "server log" in history[-1]["content"]
    assert "Traceback" not in history[-1]["content"] and "data-state='done'" in status


def test_tokens_are_batched_but_the_final_answer_is_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    def events() -> Iterator[dict[str, Any]]:
        for _ in range(500):
            yield {"type": "token", "text": "a"}
        yield {"type": "final", "answer": "a" * 500, "citations": [], "flags": []}

    outputs = _run(monkeypatch, events)
    assert len(outputs) < 50, "a redraw per token would send the conversation 500 times"
    history, status = outputs[-1][0], outputs[-1][-1]
    assert history[-1]["content"] == "a" * 500 and "Answered at" in status
