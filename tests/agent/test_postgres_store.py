"""The whole store on PostgreSQL (`store.database_url`): review queue, audit log and conversation
memory in one throw-away server, as a multi-user deployment would run them.

Skipped, saying why, where no PostgreSQL server binaries or driver packages are installed.
"""

from __future__ import annotations

import pytest

from agent import review
from agent.errors import AccessDeniedError
from agent.graph import Agent
from agent.memory import forget_checkpointers, get_checkpointer
from agent.settings import get_settings


@pytest.fixture
def on_postgres(postgres_url, monkeypatch):  # noqa: ANN001, ANN201
    pytest.importorskip("langgraph.checkpoint.postgres",
                        reason="langgraph-checkpoint-postgres is not installed: pip install -e '.[postgres]'")
    monkeypatch.setenv("RADAGENT_STORE__DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    forget_checkpointers()
    yield postgres_url
    forget_checkpointers()


def _tables(url: str) -> set[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        return {name for (name,) in rows}


def test_conversation_memory_survives_a_restart_on_postgres(on_postgres, fake_llm):
    llm = fake_llm(reply="Nice to meet you, Ada.")
    saver = get_checkpointer()
    assert type(saver).__name__ == "PostgresSaver"
    Agent().run_turn("ada", "hi, my name is Ada")
    forget_checkpointers()  # what a restart does: every connection closed, nothing kept in memory

    llm.reply = "Your name is Ada."
    again = Agent()
    assert again.checkpointer is not saver
    again.run_turn("ada", "what is my name?")
    assert {"role": "user", "content": "hi, my name is Ada"} in llm.calls[-1]["messages"]
    assert [m.content for m in again.messages("ada")][-1] == "Your name is Ada."
    assert again.messages("someone-else") == []
    assert not (get_settings().data_dir / "conversations.sqlite3").exists()  # nothing went to SQLite


def test_review_audit_and_memory_share_one_postgres_database(on_postgres, fake_llm):
    fake_llm(reply="Noted.")
    Agent().run_turn("s1", "hello")
    rid = review.submit(tool="segment_image", args={"image": "img-1"}, result={"area_px": 10}, user="ana")
    assert [r["id"] for r in review.list_reviews("pending")] == [rid]
    with pytest.raises(AccessDeniedError):
        review.decide(rid, decision="confirmed", user="ana", role="viewer")
    review.decide(rid, decision="confirmed", user="dr-lee", role="expert")
    assert review.get_review(rid)["status"] == "confirmed"
    actions = [e["action"] for e in review.audit_entries()]
    assert {"review_submitted", "review_confirmed"} <= set(actions)
    tables = _tables(on_postgres)
    assert {"checkpoints", "audit"} <= tables and any("review" in t for t in tables)
    assert not get_settings().database_path.exists()
