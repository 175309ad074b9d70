"""Server mode: the same ingestion and retrieval against a real `chroma run` server process."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from local_server import free_port, serving

from agent.errors import ModelUnavailableError


def _chroma_cli() -> str:
    candidate = Path(sys.executable).with_name("chroma")
    found = str(candidate) if candidate.exists() else shutil.which("chroma")
    if not found:
        pytest.fail("the `chroma` CLI (shipped with chromadb) is not installed next to this Python")
    return found


@pytest.fixture
def chroma_server(tmp_path: Path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [_chroma_cli(), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(tmp_path / "server-data")]
    with serving(command, f"{url}/api/v2/heartbeat", tmp_path / "chroma.log", name="chroma server", timeout=60.0):
        yield url


def _use_server(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    from agent.settings import get_settings

    monkeypatch.setenv("RADAGENT_KNOWLEDGE__CHROMA_URL", url)
    get_settings.cache_clear()


def test_ingest_and_retrieve_through_a_chroma_server(chroma_server: str, cards: Path,
                                                     monkeypatch: pytest.MonkeyPatch, isolated_data_dir: Path) -> None:
    from knowledge.ingest import index_curated_corpus
    from knowledge.retriever import retrieve
    from knowledge.store import open_store

    _use_server(monkeypatch, chroma_server)
    store = open_store()
    assert store.location == chroma_server
    assert type(store.client).__name__ != "PersistentClient"
    report = index_curated_corpus(echo=None, progress=False, corpus_dir=cards)
    assert len(report.added) == 3 and store.count() == report.chunks_written
    assert retrieve("why is DDIM faster than DDPM", k=3)[0].source == "ddim_sampling"
    assert retrieve("best pizza recipe") == []
    # Incremental against the server too, and nothing was written to the embedded store.
    assert index_curated_corpus(echo=None, progress=False, corpus_dir=cards).chunks_written == 0
    assert not (isolated_data_dir / "chroma").exists()


def test_the_langchain_view_reads_the_same_collection(chroma_server: str, cards: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge.ingest import index_curated_corpus
    from knowledge.store import as_langchain_vectorstore

    _use_server(monkeypatch, chroma_server)
    index_curated_corpus(echo=None, progress=False, corpus_dir=cards)
    docs = as_langchain_vectorstore().similarity_search("promptable segmentation with a box", k=1)
    assert docs[0].metadata["source"] == "segmentation_sam"


def test_an_unreachable_server_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge.store import open_store

    _use_server(monkeypatch, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ModelUnavailableError, match="cannot be reached"):
        open_store()
