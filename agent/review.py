"""The review queue and the append-only audit log.

Outputs that could inform care enter the queue as `pending`; only an expert confirms or
rejects them. Every tool run and every decision is appended to the audit log. SQLite in
the data directory by default, committed per write so a crash loses nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import uuid
from contextlib import closing
from typing import Any

from agent.errors import AccessDeniedError, InvalidInputError, NotFoundError
from agent.settings import get_settings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    id TEXT PRIMARY KEY, created REAL NOT NULL, tool TEXT NOT NULL, user TEXT,
    args TEXT NOT NULL, result TEXT NOT NULL, status TEXT NOT NULL,
    decided_by TEXT, decided_at REAL, comment TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, actor TEXT, action TEXT NOT NULL,
    target TEXT, detail TEXT NOT NULL, digest TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
"""


def _connect() -> sqlite3.Connection:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(settings.database_path, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(_SCHEMA)
    return conn


def _digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def audit(*, actor: str | None, action: str, target: str | None, detail: dict[str, Any]) -> None:
    """Append one event; the digest fingerprints what was decided or produced."""
    with closing(_connect()) as conn, conn:
        conn.execute(
            "INSERT INTO audit (ts, actor, action, target, detail, digest) VALUES (?, ?, ?, ?, ?, ?)",
            (time.time(), actor, action, target, json.dumps(detail, default=str), _digest(detail)),
        )


def submit(*, tool: str, args: dict[str, Any], result: dict[str, Any], user: str | None) -> str:
    """Queue a care-relevant output as pending and return its review id."""
    review_id = f"rev-{uuid.uuid4().hex[:10]}"
    with closing(_connect()) as conn, conn:
        conn.execute(
            "INSERT INTO reviews (id, created, tool, user, args, result, status) VALUES (?, ?, ?, ?, ?, ?, 'pending')",
            (review_id, time.time(), tool, user, json.dumps(args, default=str), json.dumps(result, default=str)),
        )
    audit(actor=user, action="review_submitted", target=review_id,
          detail={"tool": tool, "args_sha256": _digest(args), "result_sha256": _digest(result)})
    return review_id


def list_reviews(status: str | None = None) -> list[dict[str, Any]]:
    with closing(_connect()) as conn:
        query = "SELECT * FROM reviews" + (" WHERE status = ?" if status else "") + " ORDER BY created"
        rows = conn.execute(query, (status,) if status else ()).fetchall()
    return [dict(row) for row in rows]


def get_review(review_id: str) -> dict[str, Any]:
    with closing(_connect()) as conn:
        row = conn.execute("SELECT * FROM reviews WHERE id = ?", (review_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"No review item '{review_id}'.", "List them with `radagent review list`.")
    return dict(row)


def decide(review_id: str, *, decision: str, user: str, role: str, comment: str = "") -> dict[str, Any]:
    """Confirm or reject a pending item; only the expert role may."""
    if decision not in ("confirmed", "rejected"):
        raise InvalidInputError(f"Unknown decision '{decision}'.", "Use confirm or reject.")
    if role != "expert":
        raise AccessDeniedError(
            f"User '{user}' has role '{role}'; only an expert can {decision[:-2]} findings.",
            "Sign in with an expert account (RADAGENT_ROLE=expert for the CLI).",
        )
    item = get_review(review_id)
    if item["status"] != "pending":
        raise InvalidInputError(f"Review item '{review_id}' is already {item['status']}.", "")
    with closing(_connect()) as conn, conn:
        conn.execute(
            "UPDATE reviews SET status = ?, decided_by = ?, decided_at = ?, comment = ? WHERE id = ?",
            (decision, user, time.time(), comment, review_id),
        )
    audit(actor=user, action=f"review_{decision}", target=review_id,
          detail={"tool": item["tool"], "comment": comment, "result_sha256": _digest(json.loads(item["result"]))})
    return get_review(review_id)


def audit_entries(limit: int = 100) -> list[dict[str, Any]]:
    with closing(_connect()) as conn:
        rows = conn.execute("SELECT * FROM audit ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
    return [dict(row) for row in rows]
