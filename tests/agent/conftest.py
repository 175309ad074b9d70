"""A scripted stand-in for the language model, so agent logic is tested without loading weights."""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator

import pytest

from agent.llm.runtime import LLM, CallStats, set_llm


class FakeLLM(LLM):
    """Answers planner calls (those with a json_schema) with `route(request)`, others with `reply`."""

    def __init__(self, route: Callable[[str], Any] | None = None, reply: str | Callable[[list], str] = "OK.") -> None:
        self.route = route or (lambda request: {"tool": None, "args": {}})
        self.reply = reply
        self.calls: list[dict[str, Any]] = []

    def stream(self, messages, *, max_tokens=None, temperature=None, json_schema=None, grammar=None,
               stop=None) -> Iterator[str]:
        self.calls.append({"messages": messages, "json_schema": json_schema})
        if json_schema is not None:
            request = messages[-1]["content"].split("Request: ", 1)[-1]
            out = self.route(request)
            text = out if isinstance(out, str) else json.dumps(out)
        else:
            text = self.reply(messages) if callable(self.reply) else self.reply
        self.last_stats = CallStats(prompt_tokens=10, completion_tokens=len(text.split()))
        words = text.split(" ")
        for i, word in enumerate(words):
            yield word if i == len(words) - 1 else word + " "

    def info(self) -> dict[str, Any]:
        return {"backend": "fake"}


@pytest.fixture
def fake_llm():
    """Install a FakeLLM as the process-wide model; returns a setter for its behaviour."""
    created: list[FakeLLM] = []

    def install(route=None, reply="OK.") -> FakeLLM:
        llm = FakeLLM(route, reply)
        set_llm(llm)
        created.append(llm)
        return llm

    yield install
    set_llm(None)
