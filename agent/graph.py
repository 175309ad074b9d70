"""The agent: a small LangGraph `StateGraph` (plan → run tool → answer) with persistent memory.

- plan: `agent.planner.plan` picks a catalogue tool (or none) with constrained decoding.
- tool: the chosen tool runs as a LangChain `StructuredTool` whose body is
  `tools.registry.run_tool` (validation, review queue, audit log). A `RadagentError` becomes a
  result the model reads, never a crashed turn.
- await_approval: a tool marked `confirm_before_run` (image edits, synthetic cohorts) is a
  human-in-the-loop interrupt. The turn asks, the graph pauses (checkpointed, so a restart keeps
  the question), and the user's next message resumes it: "yes" runs the tool if the user is an
  expert or an expert approved this exact call (`agent.review.require_approval`), otherwise the
  request is queued for an expert; "no" cancels; anything else is planned as a new request.
- answer: the reply streams token by token through LangGraph's custom stream; tool output and
  retrieved snippets enter the prompt fenced as untrusted data.

The conversation is checkpointed per session (thread id = session id) by `agent.memory`, so a
restarted process continues where it left off.
"""

from __future__ import annotations

import json
import re
import sys
import time
import traceback
from typing import Annotated, Any, Iterator, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langchain_core.tools import StructuredTool
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Command, interrupt

from agent.errors import RadagentError, ReviewRequiredError, ToolNotAvailableError
from agent.prompts import load_prompt
from tools.registry import TOOLS, ToolSpec

HISTORY_MESSAGES = 6  # earlier user/assistant messages the answer model sees
ANSWER_MAX_TOKENS = 320
TOOL_OUTPUT_CHARS = 1800
# Tools whose main text output is shown to the user as is, not retold by the model.
SHOWN_VERBATIM = {"rewrite_report": "text"}
_YES = re.compile(r"^\s*(y|yes|yep|yeah|ok(ay)?|sure|confirm(ed)?|approve[d]?|go( ahead)?|do it|run it)\b[\s.!]*$", re.I)
_NO = re.compile(r"^\s*(n|no|nope|cancel|stop|abort|don'?t|do not)\b", re.I)


def _keep_last(limit: int):
    def reducer(old: list[Any] | None, new: list[Any] | None) -> list[Any]:
        return ([*(old or []), *(new or [])])[-limit:]
    return reducer


class TurnState(TypedDict, total=False):
    """Conversation state (persisted) plus the fields of the turn being processed."""

    messages: Annotated[list[AnyMessage], add_messages]
    plans: Annotated[list[dict[str, str]], _keep_last(8)]  # planner history: request / decision JSON
    images: Annotated[list[str], _keep_last(20)]  # images this session talked about, latest last
    awaiting_approval: bool  # the turn asked whether to run a confirm_before_run tool
    # this turn
    session: str
    request: str
    image: str | None
    user: str | None
    role: str
    decision: dict[str, Any] | None
    tool_run: dict[str, Any] | None
    reply: str  # a fixed reply that needs no model (missing image, confirmation, ...)
    flags: list[dict[str, Any]]  # guardrail flags raised while planning this turn


# -- tools as LangChain tools ---------------------------------------------------------------

def langchain_tool(spec: ToolSpec, user: str | None = None) -> StructuredTool:
    """A catalogue tool as a LangChain tool: same args schema and description, body = run_tool."""
    from tools.registry import run_tool

    def call(**kwargs: Any) -> dict[str, Any]:
        return run_tool(spec.name, kwargs, user=user).model_dump(mode="json")

    return StructuredTool.from_function(func=call, name=spec.name, description=spec.description,
                                        args_schema=spec.args_model)


def langchain_tools(user: str | None = None) -> list[StructuredTool]:
    return [langchain_tool(spec, user) for spec in TOOLS.values()]


def execute(name: str, args: dict[str, Any], *, user: str | None, session: str | None) -> dict[str, Any]:
    """Run one tool call and describe it for the trace: name, args, seconds, ok, result or error."""
    from tools.imaging.workspace import current_session

    token = current_session.set(session) if session else None
    started = time.perf_counter()
    record: dict[str, Any] = {"name": name, "args": args, "ok": True, "result": None, "error": None}
    try:
        result = langchain_tool(TOOLS[name], user).invoke(args)
        record["result"] = result
    except ToolNotAvailableError as err:
        record.update(ok=False, error={**err.to_dict(), "message": f"The tool '{name}' is not available yet."})
    except RadagentError as err:
        record.update(ok=False, error=err.to_dict())
    except Exception as exc:  # noqa: BLE001 - a tool bug must not end the conversation
        traceback.print_exc(file=sys.stderr)
        record.update(ok=False, error={"error": "internal", "message": f"{name} failed: {type(exc).__name__}: {exc}",
                                       "hint": "This is a bug in the tool; the details are in the log."})
    finally:
        if token is not None:
            current_session.reset(token)
    record["seconds"] = round(time.perf_counter() - started, 3)
    return record


# -- prompts ---------------------------------------------------------------------------------

def fence_tool_output(name: str, payload: dict[str, Any]) -> str:
    """A tool's output as an UNTRUSTED TOOL OUTPUT block (its text may quote documents or tags)."""
    from knowledge.fencing import neutralise

    body = json.dumps(payload, ensure_ascii=False, default=str)
    if len(body) > TOOL_OUTPUT_CHARS:
        body = body[:TOOL_OUTPUT_CHARS] + " …(truncated)"
    return f"<<<UNTRUSTED TOOL OUTPUT ({name})\n{neutralise(body)}\n<<<END UNTRUSTED TOOL OUTPUT"


def _visible_result(result: dict[str, Any]) -> dict[str, Any]:
    """What the model needs from a result: no file paths or review bookkeeping."""
    hidden = {"artifacts", "review_id", "snippets"}
    return {k: v for k, v in result.items() if k not in hidden and v not in (None, "", [], {})}


def history_for_model(messages: list[AnyMessage]) -> list[dict[str, str]]:
    """Earlier turns as plain chat messages (tool traffic left out; answers kept)."""
    out: list[dict[str, str]] = []
    for message in messages:
        if isinstance(message, HumanMessage):
            out.append({"role": "user", "content": str(message.content)[:1500]})
        elif isinstance(message, AIMessage) and message.content and not message.tool_calls:
            out.append({"role": "assistant", "content": str(message.content)[:1500]})
    return out[-HISTORY_MESSAGES:]


# -- nodes -----------------------------------------------------------------------------------

def _emit(event: dict[str, Any]) -> None:
    try:
        get_stream_writer()(event)
    except RuntimeError:  # called outside a streaming run
        pass


def _latest_image(state: TurnState) -> str | None:
    if state.get("image"):
        return state["image"]
    if state.get("images"):
        return state["images"][-1]
    try:
        from tools.imaging.workspace import get_workspace

        entries = get_workspace(state.get("session") or "default").list()
        return entries[-1].id if entries else None
    except (RadagentError, OSError, ValueError):
        return None


def plan_node(state: TurnState) -> dict[str, Any]:
    from agent.guardrails import check_scope, mask_phi
    from agent.planner import decision_message, image_in_text, plan

    request = state["request"]
    masked, phi_flags = mask_phi(request)  # stored and shown to the model without PHI
    update: dict[str, Any] = {"messages": [HumanMessage(content=masked)], "decision": None,
                              "tool_run": None, "reply": "", "flags": [f.model_dump() for f in phi_flags],
                              "awaiting_approval": False,
                              "request": masked}  # what the answer model reads from here on
    refusal = check_scope(request)
    if refusal is not None:  # diagnosis or treatment for a patient: a fixed redirect, no model call
        update["reply"] = refusal.detail
        update["flags"].append(refusal.model_dump())
        return update
    named = image_in_text(request)
    if state.get("image") or named:
        update["images"] = [i for i in (state.get("image"), named) if i]
    image = state.get("image") or named or _latest_image(state)
    decision = plan(request, image=image, history=[
        {"role": "user" if i % 2 == 0 else "assistant", "content": text}
        for pair in state.get("plans") or [] for i, text in enumerate((pair["q"], pair["decision"]))])
    _emit({"type": "plan", "tool": decision.tool, "args": decision.args, "missing": decision.missing})
    update["plans"] = [{"q": masked, "decision": decision_message(decision)}]  # persisted: no PHI
    update["decision"] = {"tool": decision.tool, "args": decision.args, "missing": decision.missing}
    if decision.tool is None:
        return update
    if decision.missing:
        update["reply"] = load_prompt("missing_args").replace("{tool}", decision.tool).replace(
            "{missing}", ", ".join(decision.missing))
        return update
    if TOOLS[decision.tool].confirm_before_run:
        update["awaiting_approval"] = True
        update["reply"] = load_prompt("confirm_tool").replace("{tool}", decision.tool).replace(
            "{args}", json.dumps(decision.args, ensure_ascii=False))
    return update


def await_approval_node(state: TurnState) -> Command:
    """Pause until the user answers the approval question; the answer arrives as the resume value."""
    from agent.guardrails import mask_phi
    from agent.review import require_approval

    decision = dict(state.get("decision") or {})
    answer = interrupt({"tool": decision.get("tool"), "args": decision.get("args")})
    text, user, role = str(answer.get("text", "")), answer.get("user"), answer.get("role") or "viewer"
    turn = {"awaiting_approval": False, "user": user, "role": role, "tool_run": None, "flags": [], "reply": ""}
    if not (_YES.match(text) or _NO.match(text)):  # a new request replaces the unanswered question
        return Command(goto="plan", update={**turn, "request": text, "image": answer.get("image")})
    masked, _ = mask_phi(text)
    turn["messages"] = [HumanMessage(content=masked)]
    tool = decision["tool"]
    if _NO.match(text):
        return Command(goto="answer", update={**turn, "decision": {**decision, "confirmed": False},
                                              "reply": f"Cancelled: {tool} was not run."})
    try:
        action = require_approval(tool, decision.get("args") or {}, user=user, role=role)
    except ReviewRequiredError as err:
        reply = (load_prompt("needs_expert").replace("{tool}", tool)
                 .replace("{action}", err.action_id or "(see the review queue)"))
        return Command(goto="answer", update={**turn, "decision": {**decision, "confirmed": False}, "reply": reply})
    _emit({"type": "plan", "tool": tool, "args": decision.get("args"), "confirmed": True, "approval": action})
    return Command(goto="tool", update={**turn, "decision": {**decision, "confirmed": True}})


def _route_after_answer(state: TurnState) -> str:
    return "await_approval" if state.get("awaiting_approval") else END


def _route_after_plan(state: TurnState) -> str:
    decision = state.get("decision") or {}
    if state.get("reply") or not decision.get("tool"):
        return "answer"
    return "tool"


def tool_node(state: TurnState) -> dict[str, Any]:
    decision = state["decision"] or {}
    name, args = decision["tool"], dict(decision.get("args") or {})
    _emit({"type": "tool_start", "name": name, "args": args})
    record = execute(name, args, user=state.get("user"), session=state.get("session"))
    result = record.get("result") or {}
    event = {"type": "tool", "name": name, "args": args, "ok": record["ok"], "seconds": record["seconds"],
             "summary": result.get("summary", ""), "error": (record.get("error") or {}).get("message"),
             "hint": (record.get("error") or {}).get("hint"), "artifacts": result.get("artifacts", []),
             "flags": result.get("flags", []), "review": result.get("review"),
             "review_id": result.get("review_id"), "result": result or None}
    _emit(event)
    call_id = f"call_{abs(hash((name, json.dumps(args, sort_keys=True, default=str), time.time()))) % 10**10}"
    content = json.dumps(result if record["ok"] else record["error"], ensure_ascii=False, default=str)
    return {"tool_run": {k: v for k, v in event.items() if k != "type"},
            "messages": [AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}]),
                         ToolMessage(content=content[:20000], tool_call_id=call_id, name=name,
                                     additional_kwargs={"trace": {k: v for k, v in event.items()
                                                                  if k not in {"type", "result"}}})]}


def _answer_prompt(state: TurnState) -> tuple[list[dict[str, str]], list[Any]]:
    """Messages for the answering model, and the snippets its [n] markers refer to."""
    from agent.answer import fence, for_prompt

    request = state["request"]
    run = state.get("tool_run")
    history = history_for_model(state.get("messages", [])[:-1] if not run else
                                [m for m in state.get("messages", []) if not isinstance(m, ToolMessage)][:-2])
    snippets: list[Any] = []
    if run is None:
        user = request
    elif run["name"] == "search_knowledge" and run["ok"]:
        snippets = for_prompt((run.get("result") or {}).get("snippets") or [])
        user = load_prompt("knowledge_result").replace("{request}", request).replace("{snippets}", fence(snippets))
    else:
        payload = _visible_result(run["result"]) if run["ok"] else {"error": run["error"], "hint": run.get("hint")}
        review_note = ("The result is pending expert review; say so." if run.get("review") == "pending" else "")
        user = (load_prompt("tool_result").replace("{request}", request).replace("{tool}", run["name"])
                .replace("{output}", fence_tool_output(run["name"], payload)).replace("{review_note}", review_note))
    return [{"role": "system", "content": load_prompt("system_chat")}, *history,
            {"role": "user", "content": user}], snippets


def answer_node(state: TurnState) -> dict[str, Any]:
    from agent.answer import guardrail_flags, resolve_citations
    from agent.llm.runtime import get_llm

    run = state.get("tool_run")
    citations: list[dict[str, str]] = []
    flags: list[dict[str, Any]] = list(state.get("flags") or []) + list((run or {}).get("flags") or [])
    if state.get("reply"):
        text = state["reply"]
        _emit({"type": "token", "text": text})
    elif run and run["name"] == "search_knowledge" and run["ok"] and not (run.get("result") or {}).get("snippets"):
        text = load_prompt("no_sources")
        _emit({"type": "token", "text": text})
    elif run and run["ok"] and run["name"] in SHOWN_VERBATIM and (run.get("result") or {}).get(SHOWN_VERBATIM[run["name"]]):
        # A checked rewrite is shown as checked: a paraphrase by the chat model could change findings.
        result = run["result"]
        text = str(result[SHOWN_VERBATIM[run["name"]]]).strip()
        if isinstance(result.get("grade"), (int, float)):
            text += f"\n\n(Reading grade {result['grade']:.1f}.)"
        _emit({"type": "token", "text": text})
    else:
        messages, snippets = _answer_prompt(state)
        parts = []
        for piece in get_llm().stream(messages, max_tokens=ANSWER_MAX_TOKENS, temperature=0.0):
            parts.append(piece)
            _emit({"type": "token", "text": piece})
        text = "".join(parts).strip()
        if snippets:
            text, citations, cite_flags = resolve_citations(text, snippets)
            flags += [f.model_dump() for f in cite_flags]
        if snippets or run:
            flags += [f.model_dump() for f in guardrail_flags(
                text, snippets, [run["result"]] if run and run.get("result") else [])]
        else:
            from agent.guardrails import check_answer_scope

            flags += [f.model_dump() for f in check_answer_scope(text)]
    final = {"type": "final", "answer": text, "citations": citations, "flags": flags,
             "review": (run or {}).get("review"), "review_id": (run or {}).get("review_id"),
             "trace": [{k: run.get(k) for k in ("name", "args", "seconds", "ok", "summary", "error")}] if run else []}
    _emit(final)
    return {"messages": [AIMessage(content=text, additional_kwargs={"citations": citations, "flags": flags,
                                                                     "review": final["review"],
                                                                     "review_id": final["review_id"]})]}


def build_graph(checkpointer: Any | None = None) -> Any:
    """Compile the agent graph; pass a checkpointer for memory across turns and restarts."""
    graph = StateGraph(TurnState)
    graph.add_node("plan", plan_node)
    graph.add_node("tool", tool_node)
    graph.add_node("answer", answer_node)
    graph.add_node("await_approval", await_approval_node, destinations=("plan", "tool", "answer"))
    graph.add_edge(START, "plan")
    graph.add_conditional_edges("plan", _route_after_plan, {"tool": "tool", "answer": "answer"})
    graph.add_edge("tool", "answer")
    graph.add_conditional_edges("answer", _route_after_answer, {"await_approval": "await_approval", END: END})
    return graph.compile(checkpointer=checkpointer)


class Agent:
    """The compiled graph plus its memory; one per process is enough (see `get_agent`)."""

    def __init__(self, checkpointer: Any | None = None) -> None:
        if checkpointer is None:
            from agent.memory import get_checkpointer

            checkpointer = get_checkpointer()
        self.checkpointer = checkpointer
        self.graph = build_graph(checkpointer)

    def stream_turn(self, session: str, text: str, *, user: str | None = None, image: str | None = None,
                    role: str | None = None) -> Iterator[dict[str, Any]]:
        """Run one turn; yield plan / tool_start / tool / token / final events as they happen."""
        from agent.settings import get_settings
        from agent.text_input import clean_text

        settings = get_settings()
        request = clean_text(text)
        inputs: TurnState | Command = {"session": session, "request": request, "image": image,
                                       "user": user or settings.user, "role": role or settings.role}
        config = {"configurable": {"thread_id": session}}
        if self.graph.get_state(config).interrupts:  # this message answers the approval question
            inputs = Command(resume={"text": request, "image": image, "user": inputs["user"], "role": inputs["role"]})
        for event in self.graph.stream(inputs, config, stream_mode="custom"):
            yield event

    def run_turn(self, session: str, text: str, **kwargs: Any) -> dict[str, Any]:
        """One turn, collected: the final event (answer, citations, flags, trace)."""
        final: dict[str, Any] = {}
        for event in self.stream_turn(session, text, **kwargs):
            if event.get("type") == "final":
                final = event
        return final

    def messages(self, session: str) -> list[AnyMessage]:
        snapshot = self.graph.get_state({"configurable": {"thread_id": session}})
        return list((snapshot.values or {}).get("messages", []))
