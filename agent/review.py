"""The review queue and the append-only audit log.

Outputs that could inform care enter the queue as `pending`; only an expert confirms or
rejects them. Every tool run and every decision is appended to the audit log. SQLite in
the data directory by default, committed per write so a crash loses nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

from agent.errors import (AccessDeniedError, InvalidInputError, ModelUnavailableError, NotFoundError,
                          ReviewRequiredError)
from agent.settings import get_settings

ROLES = ("viewer", "expert")

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
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('viewer', 'expert')), updated REAL NOT NULL,
    updated_by TEXT
);
CREATE TABLE IF NOT EXISTS actions (
    id TEXT PRIMARY KEY, created REAL NOT NULL, tool TEXT NOT NULL, args TEXT NOT NULL, args_sha256 TEXT NOT NULL,
    user TEXT, status TEXT NOT NULL, decided_by TEXT, decided_at REAL, comment TEXT, used_at REAL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
"""


_PG_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    id TEXT PRIMARY KEY, created DOUBLE PRECISION NOT NULL, tool TEXT NOT NULL, "user" TEXT,
    args TEXT NOT NULL, result TEXT NOT NULL, status TEXT NOT NULL,
    decided_by TEXT, decided_at DOUBLE PRECISION, comment TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    seq BIGSERIAL PRIMARY KEY, ts DOUBLE PRECISION NOT NULL, actor TEXT, action TEXT NOT NULL,
    target TEXT, detail TEXT NOT NULL, digest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('viewer', 'expert')),
    updated DOUBLE PRECISION NOT NULL, updated_by TEXT
);
CREATE TABLE IF NOT EXISTS actions (
    id TEXT PRIMARY KEY, created DOUBLE PRECISION NOT NULL, tool TEXT NOT NULL, args TEXT NOT NULL,
    args_sha256 TEXT NOT NULL, "user" TEXT, status TEXT NOT NULL, decided_by TEXT,
    decided_at DOUBLE PRECISION, comment TEXT, used_at DOUBLE PRECISION
);
CREATE OR REPLACE FUNCTION radagent_audit_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'audit log is append-only'; END; $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_append_only ON audit;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION radagent_audit_append_only();
"""


class _PostgresConnection:
    """The few sqlite3.Connection methods this module uses, over psycopg (autocommit per write).

    `?` placeholders become `%s` and the reserved column name `user` is quoted, so the same
    statements serve both stores.
    """

    def __init__(self, url: str) -> None:
        import psycopg
        from psycopg.rows import dict_row

        self._conn = psycopg.connect(url, row_factory=dict_row, autocommit=True)

    @staticmethod
    def _sql(query: str) -> str:
        query = re.sub(r"(?<![\w\"])user(?![\w\"])", '"user"', query)
        return query.replace("?", "%s")

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        return self._conn.execute(self._sql(query), params)

    def __enter__(self) -> "_PostgresConnection":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def close(self) -> None:
        self._conn.close()


_PG_READY: set[str] = set()


def _connect() -> Any:
    """SQLite in the data directory (WAL, committed per write), or PostgreSQL when
    `store.database_url` names one (needs the optional `psycopg` package)."""
    settings = get_settings()
    url = settings.store.database_url
    if url and url.startswith(("postgresql://", "postgres://")):
        try:
            conn = _PostgresConnection(url)
        except ImportError:
            raise ModelUnavailableError("The review store is set to PostgreSQL but psycopg is not installed.",
                                        "Install it with `pip install 'radagent[postgres]'`, or unset "
                                        "RADAGENT_STORE__DATABASE_URL to use SQLite.") from None
        if url not in _PG_READY:
            conn._conn.execute(_PG_SCHEMA)
            _PG_READY.add(url)
        return conn
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


def _require_expert(user: str, role: str, what: str) -> None:
    if role_of(user, role) != "expert":
        raise AccessDeniedError(
            f"User '{user}' has role '{role_of(user, role)}'; only an expert can {what}.",
            "Sign in with an expert account (RADAGENT_ROLE=expert for the CLI).",
        )


def decide(review_id: str, *, decision: str, user: str, role: str, comment: str = "") -> dict[str, Any]:
    """Confirm or reject a pending item; only the expert role may."""
    if decision not in ("confirmed", "rejected"):
        raise InvalidInputError(f"Unknown decision '{decision}'.", "Use confirm or reject.")
    _require_expert(user, role, f"{decision[:-2]} findings")
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


# --- users and roles -------------------------------------------------------------------------
# The CLI takes its identity from settings (RADAGENT_USER / RADAGENT_ROLE); the UI passes its
# signed-in user and role. A role stored here for a user overrides what a door claims, so an
# expert can demote an account without touching its configuration.

def role_of(user: str | None, claimed: str = "viewer") -> str:
    """The user's stored role, else the role the door claims for them."""
    if user:
        with closing(_connect()) as conn:
            row = conn.execute("SELECT role FROM users WHERE name = ?", (user,)).fetchone()
        if row is not None:
            return str(row["role"])
    return claimed if claimed in ROLES else "viewer"


def set_role(name: str, role: str, *, by: str, by_role: str) -> dict[str, Any]:
    """Record a user's role; only an expert may grant or change roles."""
    if role not in ROLES:
        raise InvalidInputError(f"Unknown role '{role}'.", f"Use one of: {', '.join(ROLES)}.")
    _require_expert(by, by_role, "change roles")
    with closing(_connect()) as conn, conn:
        conn.execute("INSERT INTO users (name, role, updated, updated_by) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT(name) DO UPDATE SET role = excluded.role, updated = excluded.updated, "
                     "updated_by = excluded.updated_by", (name, role, time.time(), by))
    audit(actor=by, action="role_set", target=name, detail={"role": role})
    return {"name": name, "role": role}


def list_users() -> list[dict[str, Any]]:
    with closing(_connect()) as conn:
        return [dict(r) for r in conn.execute("SELECT * FROM users ORDER BY name").fetchall()]


# --- export ----------------------------------------------------------------------------------

def export_review(review_id: str, out: str | Path, *, user: str | None) -> Path:
    """Write a confirmed item (result, decision, who and when) as JSON; pending or rejected
    items are refused, because nothing may leave the system as final before an expert confirms."""
    item = get_review(review_id)
    if item["status"] != "confirmed":
        audit(actor=user, action="export_refused", target=review_id, detail={"status": item["status"]})
        raise ReviewRequiredError(
            f"Review item '{review_id}' is {item['status']}; only confirmed outputs can be exported.",
            "An expert must confirm it first: `radagent review confirm " + review_id + "` (RADAGENT_ROLE=expert).")
    path = Path(out).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"id": item["id"], "tool": item["tool"], "status": item["status"], "requested_by": item["user"],
               "confirmed_by": item["decided_by"], "confirmed_at": item["decided_at"], "comment": item["comment"],
               "args": json.loads(item["args"]), "result": json.loads(item["result"]),
               "result_sha256": _digest(json.loads(item["result"]))}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    audit(actor=user, action="review_exported", target=review_id,
          detail={"path": str(path), "result_sha256": payload["result_sha256"]})
    return path


# --- actions that need approval before they run ----------------------------------------------
# High-impact tools (catalogue `confirm_before_run`) run only once an expert approved that exact
# call (tool + arguments); an approval is used once.

def request_action(tool: str, args: dict[str, Any], user: str | None) -> str:
    """Queue a call for expert approval and return its id (an existing pending request is reused)."""
    digest = _digest(args)
    with closing(_connect()) as conn, conn:
        row = conn.execute("SELECT id FROM actions WHERE tool = ? AND args_sha256 = ? AND status = 'pending'",
                           (tool, digest)).fetchone()
        if row is not None:
            return str(row["id"])
        action_id = f"act-{uuid.uuid4().hex[:10]}"
        conn.execute("INSERT INTO actions (id, created, tool, args, args_sha256, user, status) "
                     "VALUES (?, ?, ?, ?, ?, ?, 'pending')",
                     (action_id, time.time(), tool, json.dumps(args, default=str), digest, user))
    audit(actor=user, action="action_requested", target=action_id, detail={"tool": tool, "args_sha256": digest})
    return action_id


def get_action(action_id: str) -> dict[str, Any]:
    with closing(_connect()) as conn:
        row = conn.execute("SELECT * FROM actions WHERE id = ?", (action_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"No pending action '{action_id}'.", "List them with `radagent review actions`.")
    return dict(row)


def list_actions(status: str | None = None) -> list[dict[str, Any]]:
    with closing(_connect()) as conn:
        query = "SELECT * FROM actions" + (" WHERE status = ?" if status else "") + " ORDER BY created"
        return [dict(r) for r in conn.execute(query, (status,) if status else ()).fetchall()]


def decide_action(action_id: str, *, approve: bool, user: str, role: str, comment: str = "") -> dict[str, Any]:
    """Approve or deny a requested call; only an expert may."""
    _require_expert(user, role, "approve or deny actions")
    item = get_action(action_id)
    if item["status"] != "pending":
        raise InvalidInputError(f"Action '{action_id}' is already {item['status']}.", "")
    status = "approved" if approve else "denied"
    with closing(_connect()) as conn, conn:
        conn.execute("UPDATE actions SET status = ?, decided_by = ?, decided_at = ?, comment = ? WHERE id = ?",
                     (status, user, time.time(), comment, action_id))
    audit(actor=user, action=f"action_{status}", target=action_id,
          detail={"tool": item["tool"], "args_sha256": item["args_sha256"], "comment": comment})
    return get_action(action_id)


def require_approval(tool: str, args: dict[str, Any], *, user: str | None, role: str = "viewer") -> str:
    """Use an expert's approval of exactly this call, or queue a request and raise
    ReviewRequiredError naming it. An expert's own request counts as approved (and is logged)."""
    digest = _digest(args)
    with closing(_connect()) as conn, conn:
        row = conn.execute("SELECT id FROM actions WHERE tool = ? AND args_sha256 = ? AND status = 'approved' "
                           "AND used_at IS NULL ORDER BY decided_at LIMIT 1", (tool, digest)).fetchone()
        if row is not None:
            conn.execute("UPDATE actions SET used_at = ? WHERE id = ?", (time.time(), row["id"]))
    if row is not None:
        audit(actor=user, action="action_used", target=row["id"], detail={"tool": tool, "args_sha256": digest})
        return str(row["id"])
    if user and role_of(user, role) == "expert":
        action_id = request_action(tool, args, user)
        decide_action(action_id, approve=True, user=user, role="expert", comment="requested by an expert")
        return require_approval(tool, args, user=user, role=role)
    action_id = request_action(tool, args, user)
    raise ReviewRequiredError(
        f"'{tool}' is a high-impact tool and needs an expert's approval before it runs (request {action_id}).",
        f"An expert approves with `radagent review approve {action_id}`; then run the same command again.",
        action_id=action_id)
