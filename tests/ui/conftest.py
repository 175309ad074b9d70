"""A real radagent page on a free loopback port, started as the user would start it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

USERS = [
    {"name": "tech", "password": "tech-pass", "role": "viewer"},
    {"name": "dr-lee", "password": "expert-pass", "role": "expert"},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"radagent ui exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except Exception:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not come up")


@pytest.fixture(scope="module")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """`radagent ui` in a subprocess with two logins: a viewer and an expert."""
    data_dir = tmp_path_factory.mktemp("ui-data")
    port = free_port()
    env = {**os.environ, "RADAGENT_DATA_DIR": str(data_dir), "RADAGENT_UI__USERS": json.dumps(USERS),
           "RADAGENT_UI__PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    env.pop("RADAGENT_CONFIG", None)
    log = open(data_dir / "ui.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "ui"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            cwd=Path(__file__).resolve().parents[2])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/", proc)
        yield {"url": url, "data_dir": data_dir, "users": USERS, "log": data_dir / "ui.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
