"""A real radagent page on a free loopback port, started as the user would start it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Iterator

import pytest
from local_server import free_port, serving

USERS = [
    {"name": "tech", "password": "tech-pass", "role": "viewer"},
    {"name": "dr-lee", "password": "expert-pass", "role": "expert"},
]


@pytest.fixture(scope="module")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """`radagent ui` in a subprocess with two logins: a viewer and an expert."""
    data_dir = tmp_path_factory.mktemp("ui-data")
    port = free_port()
    env = {**os.environ, "RADAGENT_DATA_DIR": str(data_dir), "RADAGENT_UI__USERS": json.dumps(USERS),
           "RADAGENT_UI__PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    env.pop("RADAGENT_CONFIG", None)
    url = f"http://127.0.0.1:{port}"
    with serving([sys.executable, "-m", "agent.cli", "ui"], url + "/", data_dir / "ui.log", name="radagent ui",
                 timeout=180.0, env=env, cwd=Path(__file__).resolve().parents[2]):
        yield {"url": url, "data_dir": data_dir, "users": USERS, "log": data_dir / "ui.log"}
