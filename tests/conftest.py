"""Shared fixtures: every test gets its own data directory, so nothing touches the user's."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.settings import Settings, get_settings

# The assembled LLMs are large; tests share the user's model cache instead of re-assembling.
SHARED_MODEL_DIR = Settings().model_dir


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = tmp_path / "radagent-data"
    monkeypatch.setenv("RADAGENT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("RADAGENT_MODEL_DIR", str(SHARED_MODEL_DIR))
    monkeypatch.delenv("RADAGENT_CONFIG", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    get_settings.cache_clear()
    yield data_dir
    get_settings.cache_clear()
