"""Start a real server process on a free loopback port for a test, and always stop it.

The UI, the OpenAI-compatible LLM backend and the Chroma server are each tested against the
real process a user would run; they share how it is started, awaited and stopped.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import pytest


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else ""


@contextmanager
def serving(command: Sequence[str], ready_url: str, log: Path, *, name: str, timeout: float = 120.0,
            env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Iterator[subprocess.Popen]:
    """Run `command` until `ready_url` answers 200, yield the process, then stop it.

    A process that exits early or never answers fails the test with the end of its log, which
    is where the reason is.
    """
    with log.open("w") as out:
        proc = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT,
                                env=dict(env) if env is not None else None, cwd=cwd)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}:\n{_tail(log)}")
            try:
                with urllib.request.urlopen(ready_url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer {ready_url} within {timeout:.0f} s:\n{_tail(log)}")
            time.sleep(0.3)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
