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
