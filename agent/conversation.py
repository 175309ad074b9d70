"""The agent's front for the doors (UI, terminal chat): one call per chat turn, streamed.

`stream_turn(session, text, user=..., image=...)` yields events as they happen:
  {"type": "plan", "tool": NAME|None, "args": {...}}                      the decision
  {"type": "tool_start", "name", "args"}                                   a tool begins
  {"type": "tool", "name", "args", "ok", "seconds", "summary", "error", "hint",
   "artifacts", "flags", "review", "review_id", "result"}                  a tool finished
  {"type": "token", "text"}                                                answer text, streamed
  {"type": "final", "answer", "citations": [{"source","title","text"}], "flags",
   "review", "review_id", "trace": [{"name","args","seconds","ok","summary","error"}]}
`history_messages(session)` gives the saved conversation as chat messages.
"""

from __future__ import annotations

import threading
from typing import Any, Iterator

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

_agent: Any = None
_lock = threading.Lock()


def get_agent() -> Any:
    """The process-wide agent over the configured conversation store."""
    global _agent
    with _lock:
        if _agent is None:
            from agent.graph import Agent

            _agent = Agent()
        return _agent


def reset_agent() -> None:
    """Forget the agent (tests, or after the settings changed)."""
    global _agent
    with _lock:
        _agent = None


def stream_turn(session: str, text: str, *, user: str | None = None, image: str | None = None,
                role: str | None = None) -> Iterator[dict[str, Any]]:
    """One chat turn through the agent, streamed as events (see the module docstring)."""
    return get_agent().stream_turn(session, text, user=user, image=image, role=role)


def run_turn(session: str, text: str, **kwargs: Any) -> dict[str, Any]:
    """One chat turn, collected: the final event."""
    return get_agent().run_turn(session, text, **kwargs)


def history_messages(session: str) -> list[dict[str, Any]]:
    """The saved conversation as {"role", "content"} messages (tool calls as titled notes)."""
    out: list[dict[str, Any]] = []
    for message in get_agent().messages(session):
        if isinstance(message, HumanMessage):
            out.append({"role": "user", "content": str(message.content)})
        elif isinstance(message, ToolMessage):
            trace = message.additional_kwargs.get("trace", {})
            args = ", ".join(f"{k}={v!r}" for k, v in (trace.get("args") or {}).items())
            detail = trace.get("summary") or trace.get("error") or ""
            out.append({"role": "assistant", "content": f"`{message.name}({args})`\n\n{detail}",
                        "metadata": {"title": f"🛠 {message.name}", "status": "done",
                                     "duration": trace.get("seconds", 0.0)}})
        elif isinstance(message, AIMessage) and message.content and not message.tool_calls:
            out.append({"role": "assistant", "content": str(message.content)})
    return out
