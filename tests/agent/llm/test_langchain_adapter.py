"""The LangChain chat model forwards to the shared LLM (one model in memory for everyone)."""

from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage

from agent.llm.langchain_adapter import get_chat_model


def test_invoke_and_stream_use_the_shared_llm(fake_llm):
    llm = fake_llm(reply="Hello there.")
    model = get_chat_model(max_tokens=16)
    out = model.invoke([SystemMessage(content="Be brief."), HumanMessage(content="hi")])
    assert out.content == "Hello there."
    assert llm.calls[0]["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert "".join(chunk.content for chunk in model.stream("hi")) == "Hello there."
