from __future__ import annotations

from pathlib import Path

import pytest

from agent.settings import Settings, get_settings


def test_env_overrides_nested_and_top_level(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RADAGENT_LLM__BACKEND", "openai")
    monkeypatch.setenv("RADAGENT_LLM__N_THREADS", "3")
    monkeypatch.setenv("RADAGENT_DATA_DIR", str(tmp_path / "d"))
    s = Settings()
    assert s.llm.backend == "openai"
    assert s.llm.n_threads == 3
    assert s.data_dir == tmp_path / "d"
    assert s.model_dir == tmp_path / "d" / "models" or s.model_dir is not None


def test_toml_file_is_read_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "radagent.toml"
    cfg.write_text('[llm]\nmodel = "smollm2-135m"\nn_ctx = 2048\n[knowledge]\nchroma_url = "http://127.0.0.1:8000"\n')
    monkeypatch.setenv("RADAGENT_CONFIG", str(cfg))
    monkeypatch.setenv("RADAGENT_LLM__N_CTX", "1024")
    s = Settings()
    assert s.llm.model == "smollm2-135m"
    assert s.llm.n_ctx == 1024
    assert s.knowledge.chroma_url == "http://127.0.0.1:8000"


def test_defaults_are_offline_and_loopback() -> None:
    s = get_settings()
    assert s.llm.backend == "llama_cpp"
    assert s.ui.host == "127.0.0.1"
    assert s.knowledge.chroma_url is None
    assert s.store.database_url is None
    assert s.llm.n_threads >= 1
