"""A scripted stand-in for the language model, so agent logic is tested without loading weights."""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator

import pytest

from agent.llm.runtime import LLM, CallStats, set_llm


class FakeLLM(LLM):
    """Answers planner calls (those with a json_schema) with `route(request)`, others with `reply`."""

    def __init__(self, route: Callable[[str], Any] | None = None, reply: str | Callable[[list], str] = "OK.") -> None:
        self.route = route or (lambda request: {"tool": None, "args": {}})
        self.reply = reply
        self.calls: list[dict[str, Any]] = []

    def stream(self, messages, *, max_tokens=None, temperature=None, json_schema=None, grammar=None,
               stop=None) -> Iterator[str]:
        self.calls.append({"messages": messages, "json_schema": json_schema})
        if json_schema is not None:
            request = messages[-1]["content"].split("Request: ", 1)[-1]
            out = self.route(request)
            text = out if isinstance(out, str) else json.dumps(out)
        else:
            text = self.reply(messages) if callable(self.reply) else self.reply
        self.last_stats = CallStats(prompt_tokens=10, completion_tokens=len(text.split()))
        words = text.split(" ")
        for i, word in enumerate(words):
            yield word if i == len(words) - 1 else word + " "

    def info(self) -> dict[str, Any]:
        return {"backend": "fake"}


@pytest.fixture
def fake_llm():
    """Install a FakeLLM as the process-wide model; returns a setter for its behaviour."""
    created: list[FakeLLM] = []

    def install(route=None, reply="OK.") -> FakeLLM:
        llm = FakeLLM(route, reply)
        set_llm(llm)
        created.append(llm)
        return llm

    yield install
    set_llm(None)


def _postgres_bin() -> "Path | None":
    """The folder holding initdb/pg_ctl: Debian's versioned layout, or whatever PATH has."""
    import shutil
    from pathlib import Path

    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).resolve().parent if on_path else None


@pytest.fixture
def postgres_url(tmp_path):  # noqa: ANN001, ANN201
    """A throw-away PostgreSQL server on a Unix socket, when this machine has one installed."""
    import os
    import pwd
    import shutil
    import subprocess

    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    pytest.importorskip("psycopg", reason="the optional psycopg driver is not installed")
    import tempfile
    from pathlib import Path

    root = Path(tempfile.mkdtemp(prefix="radagent-pg-"))  # pytest's tmp dirs are private to this user
    os.chmod(root, 0o755)
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server")
        shutil.chown(root, "postgres")
        run_as = ["su", "postgres", "-s", "/bin/sh", "-c"]
    port = 54000 + os.getpid() % 1000

    def sh(cmd: str) -> None:
        subprocess.run(run_as + [cmd] if run_as else ["sh", "-c", cmd], check=True, capture_output=True, timeout=120)

    sh(f"{bindir}/initdb -D {root}/data -A trust -U postgres")
    sh(f"{bindir}/pg_ctl -D {root}/data -o \"-p {port} -k {root} -c listen_addresses=''\" -l {root}/log -w start")
    try:
        yield f"postgresql://postgres@/postgres?host={root}&port={port}"
    finally:
        sh(f"{bindir}/pg_ctl -D {root}/data -m fast stop")
        shutil.rmtree(root, ignore_errors=True)
