"""The agent graph with a scripted model and stand-in tools: trace, errors, approval and memory."""

from __future__ import annotations

import textwrap

import pytest

from agent.graph import Agent, langchain_tools
from agent.memory import _sqlite_saver
from tools.registry import TOOLS, ToolSpec

FAKE_TOOLS = textwrap.dedent('''
    from agent.errors import InvalidInputError
    from tools.schemas import ToolResult

    CALLS = []

    def info(args):
        CALLS.append(("info", args.image))
        return ToolResult(summary=f"{args.image}: CT, 512 x 512, spacing 0.7 mm")

    def broken(args):
        raise InvalidInputError("The image is a PDF, not an image.", "Upload DICOM, NIfTI or PNG.")

    def generate(args):
        CALLS.append(("generate", args.n))
        return ToolResult(summary=f"Generated {args.n} SYNTHETIC images")
''')


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    (tmp_path / "fake_radagent_tools.py").write_text(FAKE_TOOLS)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    module = importlib.import_module("fake_radagent_tools")
    module.CALLS.clear()

    def use(name, func, **flags):
        spec = TOOLS[name]
        monkeypatch.setitem(TOOLS, name, ToolSpec(name, spec.description, spec.args_path,
                                                  f"fake_radagent_tools:{func}", **flags))
    return use, module


@pytest.fixture
def agent(tmp_path):
    return Agent(checkpointer=_sqlite_saver(tmp_path / "conv.sqlite3"))


def _route(table):
    def route(request):
        for key, decision in table.items():
            if key in request:
                return decision
        return {"tool": None, "args": {}}
    return route


def test_tool_turn_streams_a_trace_and_fences_the_output(agent, fake_llm, fake_tools):
    use, module = fake_tools
    use("image_info", "info")
    llm = fake_llm(_route({"spacing": {"tool": "image_info", "args": {}}}), reply="It is a CT, 512 x 512.")
    events = list(agent.stream_turn("s1", "what is the spacing of img-1?"))
    kinds = [e["type"] for e in events]
    assert kinds[:3] == ["plan", "tool_start", "tool"] and kinds[-1] == "final" and "token" in kinds
    tool = events[2]
    assert tool["ok"] and tool["name"] == "image_info" and tool["args"] == {"image": "img-1"}
    assert tool["seconds"] >= 0 and "spacing 0.7 mm" in tool["summary"]
    final = events[-1]
    assert final["answer"] == "It is a CT, 512 x 512."
    assert final["trace"][0]["name"] == "image_info"
    assert module.CALLS == [("info", "img-1")]
    answer_prompt = llm.calls[-1]["messages"][-1]["content"]
    assert "UNTRUSTED TOOL OUTPUT (image_info)" in answer_prompt and "spacing 0.7 mm" in answer_prompt


def test_tool_error_is_a_result_the_model_reads(agent, fake_llm, fake_tools):
    use, _ = fake_tools
    use("image_info", "broken")
    llm = fake_llm(_route({"info": {"tool": "image_info", "args": {}}}), reply="That file is not an image.")
    final = agent.run_turn("s2", "info on img-1")
    assert final["trace"][0]["ok"] is False and "PDF" in final["trace"][0]["error"]
    assert "PDF" in llm.calls[-1]["messages"][-1]["content"]
    assert final["answer"] == "That file is not an image."


def test_unbuilt_tool_says_it_is_not_available(agent, fake_llm, monkeypatch):
    spec = TOOLS["detect_anomaly"]
    monkeypatch.setitem(TOOLS, "detect_anomaly", ToolSpec("detect_anomaly", spec.description, spec.args_path,
                                                          "tools.not_built_yet_module:detect"))
    fake_llm(_route({"anomal": {"tool": "detect_anomaly", "args": {}}}), reply="Not available.")
    events = list(agent.stream_turn("s3", "find anomalies in img-1"))
    tool = next(e for e in events if e["type"] == "tool")
    assert tool["ok"] is False and "not available yet" in tool["error"]


def test_missing_image_is_asked_for_without_running(agent, fake_llm, fake_tools):
    use, module = fake_tools
    use("image_info", "info")
    llm = fake_llm(_route({"spacing": {"tool": "image_info", "args": {}}}))
    final = agent.run_turn("s4", "what is the spacing?")
    assert "Attach an image" in final["answer"] and module.CALLS == []
    assert all(call["json_schema"] is not None for call in llm.calls)  # no answer call was needed


def test_high_impact_tool_waits_for_an_expert(agent, fake_llm, fake_tools):
    use, module = fake_tools
    use("generate_images", "generate", confirm_before_run=True)
    fake_llm(_route({"generate": {"tool": "generate_images", "args": {"n": 2}}}), reply="Done.")
    first = agent.run_turn("s5", "generate 2 images", role="viewer")
    assert "reply \"yes\"" in first["answer"] and module.CALLS == []
    refused = agent.run_turn("s5", "yes", role="viewer")
    assert "expert" in refused["answer"] and module.CALLS == []
    agent.run_turn("s5", "generate 2 images", role="expert")
    approved = agent.run_turn("s5", "yes", role="expert")
    assert module.CALLS == [("generate", 2)] and approved["trace"][0]["name"] == "generate_images"


def test_a_viewers_yes_queues_the_call_for_an_expert_and_the_approval_lets_it_run(agent, fake_llm, fake_tools):
    from agent import review

    use, module = fake_tools
    use("generate_images", "generate", confirm_before_run=True)
    fake_llm(_route({"generate": {"tool": "generate_images", "args": {"n": 3}}}), reply="Done.")
    agent.run_turn("s7", "generate 3 images", user="tech", role="viewer")
    queued = agent.run_turn("s7", "yes", user="tech", role="viewer")
    [action] = review.list_actions("pending")
    assert action["id"] in queued["answer"] and action["user"] == "tech" and module.CALLS == []

    review.decide_action(action["id"], approve=True, user="dr-lee", role="expert")
    agent.run_turn("s7", "generate 3 images", user="tech", role="viewer")
    ran = agent.run_turn("s7", "yes", user="tech", role="viewer")
    assert module.CALLS == [("generate", 3)] and ran["trace"][0]["name"] == "generate_images"
    assert [e["action"] for e in review.audit_entries()].count("action_used") == 1

    agent.run_turn("s7", "generate 3 images", user="tech", role="viewer")
    agent.run_turn("s7", "yes", user="tech", role="viewer")
    assert module.CALLS == [("generate", 3)], "an approval is used once"


def test_the_approval_question_survives_a_restart_and_no_cancels(tmp_path, fake_llm, fake_tools):
    use, module = fake_tools
    use("generate_images", "generate", confirm_before_run=True)
    fake_llm(_route({"generate": {"tool": "generate_images", "args": {"n": 2}}}), reply="Done.")
    Agent(checkpointer=_sqlite_saver(tmp_path / "conv.sqlite3")).run_turn("s8", "generate 2 images", role="expert")
    restarted = Agent(checkpointer=_sqlite_saver(tmp_path / "conv.sqlite3"))
    cancelled = restarted.run_turn("s8", "no", role="expert")
    assert "Cancelled" in cancelled["answer"] and module.CALLS == []
    restarted.run_turn("s8", "generate 2 images", role="expert")
    ran = restarted.run_turn("s8", "yes", role="expert")
    assert module.CALLS == [("generate", 2)] and ran["trace"][0]["name"] == "generate_images"


def test_a_new_request_replaces_the_unanswered_question(agent, fake_llm, fake_tools):
    use, module = fake_tools
    use("generate_images", "generate", confirm_before_run=True)
    use("image_info", "info")
    fake_llm(_route({"generate": {"tool": "generate_images", "args": {"n": 2}},
                     "spacing": {"tool": "image_info", "args": {"image": "img-1"}}}), reply="Done.")
    agent.run_turn("s9", "generate 2 images", role="expert")
    other = agent.run_turn("s9", "what is the spacing of img-1?", role="expert")
    assert module.CALLS == [("info", "img-1")] and other["trace"][0]["name"] == "image_info"
    after = agent.run_turn("s9", "yes", role="expert")
    assert module.CALLS == [("info", "img-1")] and after["trace"] == [], "the old question is gone"


def test_knowledge_turn_returns_citations(agent, fake_llm, fake_tools, monkeypatch):
    import knowledge.retriever
    from knowledge.types import Snippet

    monkeypatch.setattr(knowledge.retriever, "retrieve", lambda q, k=5, **kw: [
        Snippet(text="DDIM is a deterministic sampler.", source="cards/ddim.md", title="DDIM", score=0.9)])
    fake_llm(_route({"DDIM": {"tool": "search_knowledge", "args": {"query": "DDIM"}}}),
             reply="DDIM samples deterministically [1].")
    final = agent.run_turn("s6", "what is DDIM?")
    assert final["citations"] == [{"source": "cards/ddim.md", "title": "DDIM", "text": "DDIM is a deterministic sampler."}]


def test_memory_survives_a_restart(tmp_path, fake_llm):
    path = tmp_path / "memory.sqlite3"
    llm = fake_llm(reply="Nice to meet you, Ada.")
    first = Agent(checkpointer=_sqlite_saver(path))
    first.run_turn("ada", "hi, my name is Ada")
    first.checkpointer.conn.close()
    del first
    second = Agent(checkpointer=_sqlite_saver(path))  # a new process would do exactly this
    llm.reply = "Your name is Ada."
    second.run_turn("ada", "what is my name?")
    history = llm.calls[-1]["messages"]
    assert {"role": "user", "content": "hi, my name is Ada"} in history
    assert {"role": "assistant", "content": "Nice to meet you, Ada."} in history
    assert [m.content for m in second.messages("ada")][-1] == "Your name is Ada."
    assert second.messages("someone-else") == []


def test_catalogue_is_exposed_as_langchain_tools():
    tools = langchain_tools()
    assert sorted(t.name for t in tools) == sorted(TOOLS)
    segment = next(t for t in tools if t.name == "segment_image")
    assert segment.description == TOOLS["segment_image"].description
    assert "target" in segment.args


def test_checked_rewrite_is_shown_verbatim(agent, fake_llm, tmp_path, monkeypatch):
    (tmp_path / "fake_rewrite_tool.py").write_text(textwrap.dedent('''
        from tools.schemas import ToolResult

        class RewriteResult(ToolResult):
            text: str
            grade: float

        def rewrite(args):
            return RewriteResult(summary="Rewritten", text="You have a small spot on the lung.", grade=5.2)
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = TOOLS["rewrite_report"]
    monkeypatch.setitem(TOOLS, "rewrite_report", ToolSpec("rewrite_report", spec.description, spec.args_path,
                                                          "fake_rewrite_tool:rewrite", informs_care=True))
    llm = fake_llm(_route({"patient": {"tool": "rewrite_report", "args": {}}}), reply="A paraphrase.")
    final = agent.run_turn("s7", "rewrite for my patient: IMPRESSION: 4 mm nodule in the right upper lobe, stable.")
    assert final["answer"].startswith("You have a small spot on the lung.") and "5.2" in final["answer"]
    assert final["review"] == "pending"
    assert all(call["json_schema"] is not None for call in llm.calls)


def test_treatment_request_is_redirected_and_phi_is_masked(agent, fake_llm):
    llm = fake_llm(reply="Hello.")
    final = agent.run_turn("s8", "prescribe me antibiotics")
    assert [f["type"] for f in final["flags"]] == ["scope"] and llm.calls == []
    agent.run_turn("s8", "Mr John Smith, DOB 01/02/1950, says hello")
    assert "John" not in str(llm.calls) and "phi" in str(agent.run_turn("s8", "Mrs Jane Doe, DOB 02/03/1961, here")["flags"])
    assert all("John" not in str(m.content) and "Jane" not in str(m.content) for m in agent.messages("s8"))
