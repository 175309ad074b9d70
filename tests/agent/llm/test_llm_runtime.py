"""The llama.cpp runtime: chat, streaming, constrained JSON, and reuse of the static prefix's KV state."""

from __future__ import annotations

import json

import pytest

from agent.errors import InvalidInputError
from agent.llm.runtime import LlamaCppLLM
from agent.llm.models import ensure_model

pytestmark = pytest.mark.llm

STATIC = {"role": "system", "content": "You are radagent, a careful assistant for medical imaging. "
          "Answer briefly and never invent measurements. " * 12}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> LlamaCppLLM:
    return LlamaCppLLM(ensure_model("smollm2-135m"), n_ctx=2048, n_threads=2, seed=0,
                       prefix_cache_dir=tmp_path_factory.mktemp("kv"))


def test_static_prefix_is_not_re_evaluated_on_turn_two(small):
    small.chat([STATIC, {"role": "user", "content": "What is a CT scan?"}], max_tokens=8)
    first = small.last_stats
    small.chat([STATIC, {"role": "user", "content": "And what is an MRI scan?"}], max_tokens=8)
    second = small.last_stats
    assert first.prompt_tokens > 200
    assert second.prompt_tokens > 200
    # Turn 2 evaluates only its own suffix, not the ~200-token system prompt again.
    assert second.prompt_tokens_evaluated < 0.15 * second.prompt_tokens


def test_prefix_survives_an_unrelated_prompt_in_between(small):
    small.chat([STATIC, {"role": "user", "content": "Define PET."}], max_tokens=4)
    other = {"role": "system", "content": "A different system prompt about something else entirely. " * 10}
    small.chat([other, {"role": "user", "content": "hi"}], max_tokens=4)
    small.chat([STATIC, {"role": "user", "content": "Define SPECT."}], max_tokens=4)
    stats = small.last_stats
    assert stats.restored_snapshot
    assert stats.prompt_tokens_evaluated < 0.15 * stats.prompt_tokens


def test_persisted_prefix_is_loaded_by_a_new_instance(small, tmp_path):
    fresh_static = {"role": "system", "content": "Persisted prefix test. " * 40}
    assert small.prefill([fresh_static], persist=True) > 100
    again = LlamaCppLLM(small.model_path, n_ctx=2048, n_threads=2, seed=0,
                        prefix_cache_dir=small._prefix_cache_dir)
    assert again.prefill([fresh_static], persist=True) == 0  # read from disk, nothing evaluated
    again.chat([fresh_static, {"role": "user", "content": "ok?"}], max_tokens=4)
    assert again.last_stats.prompt_tokens_evaluated < 20


def test_stream_yields_the_same_text_as_chat(small):
    messages = [STATIC, {"role": "user", "content": "Say hello."}]
    assert "".join(small.stream(messages, max_tokens=12)) == small.chat(messages, max_tokens=12)


def test_json_schema_constrains_output(small):
    schema = {"type": "object", "properties": {"tool": {"enum": ["segment_image", "denoise_image"]},
                                               "n": {"type": "integer"}}, "required": ["tool", "n"]}
    out = small.chat([{"role": "user", "content": "Pick a tool and a number."}], max_tokens=40,
                     json_schema=schema)
    data = json.loads(out)
    assert data["tool"] in {"segment_image", "denoise_image"} and isinstance(data["n"], int)


def test_too_long_conversation_is_a_clear_error(small):
    with pytest.raises(InvalidInputError, match="too long"):
        small.chat([{"role": "user", "content": "word " * 5000}], max_tokens=8)


def test_info_reports_threads_and_model(small):
    info = small.info()
    assert info["backend"] == "llama_cpp" and info["n_threads"] == 2
    assert info["model_path"].endswith(".gguf")
