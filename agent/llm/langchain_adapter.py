"""`get_chat_model()`: the process-wide LLM as a LangChain chat model, for code built on LangChain.

It forwards to `get_llm()` (same weights, same KV prefix cache, same lock), so LangChain chains and
the agent never load the model twice. Tool binding is not offered: tool choice goes through
`agent.planner`, which constrains a small model far better than free-form tool calls.
"""

from __future__ import annotations

from typing import Any, Iterator

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}


def to_chat_messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
    return [{"role": _ROLES.get(m.type, "user"), "content": m.content if isinstance(m.content, str) else str(m.content)}
            for m in messages]


class RadagentChatModel(BaseChatModel):
    """LangChain view of `agent.llm.runtime.get_llm()`."""

    max_tokens: int | None = None
    temperature: float | None = None
    json_schema: dict | None = None

    @property
    def _llm_type(self) -> str:
        return "radagent-local"

    def _options(self, stop: list[str] | None) -> dict[str, Any]:
        return {"max_tokens": self.max_tokens, "temperature": self.temperature,
                "json_schema": self.json_schema, "stop": stop}

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        from agent.llm.runtime import get_llm

        text = get_llm().chat(to_chat_messages(messages), **self._options(stop))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        from agent.llm.runtime import get_llm

        for piece in get_llm().stream(to_chat_messages(messages), **self._options(stop)):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager is not None:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk


def get_chat_model(**options: Any) -> RadagentChatModel:
    """A LangChain chat model over the shared local LLM (options: max_tokens, temperature, json_schema)."""
    return RadagentChatModel(**options)
