from __future__ import annotations

import sqlite3

import pytest

from agent import review
from agent.errors import AccessDeniedError, InvalidInputError
from agent.settings import get_settings


def test_pending_item_needs_an_expert_and_is_audited() -> None:
    rid = review.submit(tool="segment_image", args={"image": "img-1"}, result={"area_px": 10}, user="ana")
    assert review.get_review(rid)["status"] == "pending"
    with pytest.raises(AccessDeniedError):
        review.decide(rid, decision="confirmed", user="bob", role="viewer")
    item = review.decide(rid, decision="confirmed", user="dr-lee", role="expert", comment="ok")
    assert item["status"] == "confirmed" and item["decided_by"] == "dr-lee"
    with pytest.raises(InvalidInputError):
        review.decide(rid, decision="rejected", user="dr-lee", role="expert")
    actions = [e["action"] for e in review.audit_entries()]
    assert "review_submitted" in actions and "review_confirmed" in actions


def test_audit_log_is_append_only() -> None:
    review.audit(actor="x", action="test", target=None, detail={"a": 1})
    conn = sqlite3.connect(get_settings().database_path)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("DELETE FROM audit")
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("UPDATE audit SET actor = 'y'")


def test_export_refuses_pending_and_writes_confirmed(tmp_path) -> None:  # noqa: ANN001
    import json

    from agent.errors import ReviewRequiredError

    rid = review.submit(tool="rewrite_report", args={"report": "x"}, result={"text": "y"}, user="ana")
    with pytest.raises(ReviewRequiredError):
        review.export_review(rid, tmp_path / "out.json", user="ana")
    assert not (tmp_path / "out.json").exists()
    review.decide(rid, decision="confirmed", user="dr-lee", role="expert")
    path = review.export_review(rid, tmp_path / "out.json", user="ana")
    data = json.loads(path.read_text())
    assert data["confirmed_by"] == "dr-lee" and data["result"] == {"text": "y"}
    actions = [e["action"] for e in review.audit_entries()]
    assert "export_refused" in actions and "review_exported" in actions


def test_stored_role_overrides_what_a_door_claims() -> None:
    review.set_role("mallory", "viewer", by="dr-lee", by_role="expert")
    rid = review.submit(tool="segment_image", args={}, result={}, user="ana")
    with pytest.raises(AccessDeniedError):
        review.decide(rid, decision="confirmed", user="mallory", role="expert")
    with pytest.raises(AccessDeniedError):
        review.set_role("ana", "expert", by="ana", by_role="viewer")


def test_high_impact_call_waits_for_an_expert_and_approval_is_used_once() -> None:
    from agent.errors import ReviewRequiredError

    args = {"model": "ddpm", "n": 2, "seed": 1}
    with pytest.raises(ReviewRequiredError) as info:
        review.require_approval("generate_images", args, user="ana", role="viewer")
    action_id = info.value.message.split("(request ")[1].rstrip(").")
    assert review.get_action(action_id)["status"] == "pending"
    with pytest.raises(AccessDeniedError):
        review.decide_action(action_id, approve=True, user="ana", role="viewer")
    review.decide_action(action_id, approve=True, user="dr-lee", role="expert", comment="ok for teaching")
    assert review.require_approval("generate_images", args, user="ana") == action_id
    with pytest.raises(ReviewRequiredError):  # used once
        review.require_approval("generate_images", args, user="ana")
    with pytest.raises(ReviewRequiredError):  # other arguments need their own approval
        review.require_approval("generate_images", {**args, "n": 64}, user="ana")
    actions = [e["action"] for e in review.audit_entries()]
    assert {"action_requested", "action_approved", "action_used"} <= set(actions)


def test_cli_rewrite_stays_pending_until_an_expert_confirms(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    import json

    from typer.testing import CliRunner

    from agent.cli import app
    from agent.llm import runtime

    class Fake:
        def chat(self, messages, **kwargs):  # noqa: ANN001, ANN003
            return json.dumps({"text": "There is no collapsed lung.", "glossary": [], "questions": []})

    monkeypatch.setattr(runtime, "get_llm", lambda: Fake())
    report = tmp_path / "r.txt"
    report.write_text("No pneumothorax.")
    runner = CliRunner()
    out = runner.invoke(app, ["rewrite", "--report", str(report), "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["review"] == "pending" and "grade" in result and "text" in result
    rid = result["review_id"]
    refused = runner.invoke(app, ["review", "export", rid, "--out", str(tmp_path / "x.json")])
    assert refused.exit_code == 2 and not (tmp_path / "x.json").exists()
    denied = runner.invoke(app, ["review", "confirm", rid])  # default role: viewer
    assert denied.exit_code == 2
    monkeypatch.setenv("RADAGENT_ROLE", "expert")
    get_settings.cache_clear()
    assert runner.invoke(app, ["review", "confirm", rid, "--comment", "checked"]).exit_code == 0
    assert runner.invoke(app, ["review", "export", rid, "--out", str(tmp_path / "x.json")]).exit_code == 0
    log = json.loads(runner.invoke(app, ["audit", "--json"]).stdout)
    assert {"review_submitted", "review_confirmed", "review_exported"} <= {e["action"] for e in log}


def test_cli_high_impact_tool_needs_approval_before_it_runs() -> None:
    from agent.errors import ReviewRequiredError
    from tools.registry import run_tool

    with pytest.raises(ReviewRequiredError, match="review approve act-"):
        run_tool("generate_images", {"model": "ddpm", "n": 1, "seed": 0}, user="ana", require_approval=True)
    assert review.list_actions("pending")[0]["tool"] == "generate_images"


def test_review_queue_and_audit_log_on_postgres(postgres_url, monkeypatch) -> None:  # noqa: ANN001
    import psycopg

    monkeypatch.setenv("RADAGENT_STORE__DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    rid = review.submit(tool="segment_image", args={"image": "img-1"}, result={"area_px": 10}, user="ana")
    with pytest.raises(AccessDeniedError):
        review.decide(rid, decision="confirmed", user="ana", role="viewer")
    review.decide(rid, decision="confirmed", user="dr-lee", role="expert")
    assert review.get_review(rid)["decided_by"] == "dr-lee"
    assert not get_settings().database_path.exists()  # nothing went to SQLite
    assert {"review_submitted", "review_confirmed"} <= {e["action"] for e in review.audit_entries()}
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        with pytest.raises(psycopg.Error):
            conn.execute("DELETE FROM audit")
