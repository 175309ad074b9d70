"""Conversation memory that survives restarts: a LangGraph checkpointer, one thread per session.

SQLite in the data directory by default; PostgreSQL when `settings.store.database_url` is a
postgresql:// URL (the `postgres` extra: psycopg and langgraph-checkpoint-postgres).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from agent.errors import ModelUnavailableError

_savers: dict[str, Any] = {}
_lock = threading.Lock()


def conversations_path(data_dir: Path) -> Path:
    return Path(data_dir) / "conversations.sqlite3"


def _sqlite_saver(path: Path) -> Any:
    from langgraph.checkpoint.sqlite import SqliteSaver

    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    saver = SqliteSaver(conn)
    saver.setup()
    return saver


def _postgres_saver(url: str) -> Any:
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import Connection
        from psycopg.rows import dict_row
    except ImportError as exc:
        raise ModelUnavailableError(
            "store.database_url points at PostgreSQL, but the PostgreSQL packages are not installed.",
            "pip install 'radagent[postgres]' (psycopg, langgraph-checkpoint-postgres), or unset store.database_url.",
        ) from exc
    try:
        conn = Connection.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
    except Exception as exc:  # psycopg.OperationalError and friends
        raise ModelUnavailableError(f"Cannot connect to the conversation database: {exc}",
                                    "Check store.database_url and that PostgreSQL is running.") from exc
    saver = PostgresSaver(conn)
    saver.setup()
    return saver


def get_checkpointer(settings: Any | None = None) -> Any:
    """The process-wide checkpointer for the configured store (opened once per location)."""
    if settings is None:
        from agent.settings import get_settings

        settings = get_settings()
    url = settings.store.database_url
    if url and url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        key, factory = url, lambda: _postgres_saver(url.replace("postgresql+psycopg://", "postgresql://"))
    else:
        path = conversations_path(settings.data_dir)
        key, factory = str(path), lambda: _sqlite_saver(path)
    with _lock:
        if key not in _savers:
            _savers[key] = factory()
        return _savers[key]


def forget_checkpointers() -> None:
    """Close cached connections (tests simulate a restart with this)."""
    with _lock:
        for saver in _savers.values():
            conn = getattr(saver, "conn", None)
            try:
                if conn is not None:
                    conn.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        _savers.clear()
