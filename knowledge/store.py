"""The vector store: a Chroma collection of chunks plus a manifest collection of indexed sources.

`open_store()` is the one factory: embedded Chroma (`PersistentClient` at `settings.chroma_path`)
by default, a Chroma server (`HttpClient`) when `knowledge.chroma_url` is set. Collections are
opened with `embedding_function=None`, so Chroma can never fall back to its default embedding
function (which downloads a model): vectors always come from `knowledge.embeddings`.

The manifest lives in the same Chroma (not in a local file) so that a server-backed store is
consistent for every client. A source's manifest entry is written only after all of its chunks
are, which is what makes an interrupted ingest recoverable.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable
from urllib.parse import urlparse

from agent.errors import InvalidInputError, ModelUnavailableError

if TYPE_CHECKING:
    from agent.settings import Settings

MANIFEST_SUFFIX = "-manifest"
_MANIFEST_VECTOR = [1.0]  # the manifest is looked up by id only; Chroma still wants a vector
_lock = threading.Lock()
_stores: dict[tuple[str, str], "KnowledgeStore"] = {}


@dataclass(frozen=True)
class Hit:
    """A raw nearest-neighbour result: `similarity` is cosine similarity (1 = same direction)."""

    chunk_id: str
    text: str
    metadata: dict[str, Any]
    similarity: float


class KnowledgeStore:
    """Chunks and the per-source manifest in one Chroma database."""

    def __init__(self, client: Any, collection: str, location: str) -> None:
        self.client = client
        self.location = location
        self.collection_name = collection
        self.chunks = client.get_or_create_collection(
            name=collection,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"purpose": "radagent knowledge chunks"},
        )
        self.manifest = client.get_or_create_collection(
            name=collection + MANIFEST_SUFFIX,
            embedding_function=None,
            metadata={"purpose": "radagent indexed sources"},
        )
        try:
            self.max_batch = int(client.get_max_batch_size())
        except Exception:  # noqa: BLE001 - older servers do not report it
            self.max_batch = 1000

    # Chunks
    def add_chunks(self, ids: list[str], texts: list[str], embeddings: list[list[float]],
                   metadatas: list[dict[str, Any]]) -> None:
        """Upsert chunks in the largest batches Chroma accepts (deterministic ids make retries idempotent)."""
        step = max(1, self.max_batch)
        for i in range(0, len(ids), step):
            self.chunks.upsert(ids=ids[i:i + step], documents=texts[i:i + step],
                               embeddings=embeddings[i:i + step], metadatas=metadatas[i:i + step])

    def delete_source_chunks(self, source: str) -> None:
        self.chunks.delete(where={"source": source})

    def chunk_ids_of(self, source: str) -> list[str]:
        return list(self.chunks.get(where={"source": source}, include=[])["ids"])

    def count(self) -> int:
        return self.chunks.count()

    def chunk_sources(self) -> dict[str, int]:
        """Every source that has chunks, with its chunk count (scans metadata in pages)."""
        counts: dict[str, int] = {}
        total = self.chunks.count()
        page = 5000
        for offset in range(0, total, page):
            got = self.chunks.get(include=["metadatas"], limit=page, offset=offset)
            for meta in got["metadatas"] or []:
                source = str((meta or {}).get("source", ""))
                counts[source] = counts.get(source, 0) + 1
        return counts

    def query(self, embedding: list[float], n: int) -> list[Hit]:
        total = self.chunks.count()
        if total == 0:
            return []
        res = self.chunks.query(query_embeddings=[embedding], n_results=min(n, total),
                                include=["documents", "metadatas", "distances"])
        hits = []
        for cid, text, meta, dist in zip(res["ids"][0], res["documents"][0], res["metadatas"][0],
                                         res["distances"][0]):
            hits.append(Hit(cid, text or "", dict(meta or {}), 1.0 - float(dist)))
        return hits

    # Manifest
    def manifest_entry(self, source: str) -> dict[str, Any] | None:
        got = self.manifest.get(ids=[source], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else None

    def manifest_entries(self) -> dict[str, dict[str, Any]]:
        got = self.manifest.get(include=["metadatas"])
        return {sid: dict(meta or {}) for sid, meta in zip(got["ids"], got["metadatas"] or [])}

    def set_manifest(self, source: str, entry: dict[str, Any]) -> None:
        clean = {k: v for k, v in entry.items() if v is not None and v != ""}
        self.manifest.upsert(ids=[source], embeddings=[_MANIFEST_VECTOR], metadatas=[clean])

    def delete_manifest(self, source: str) -> None:
        self.manifest.delete(ids=[source])

    def remove_source(self, source: str) -> int:
        """Forget a source: manifest first (so a crash in between reads as 'not indexed'), then chunks."""
        n = len(self.chunk_ids_of(source))
        known = self.manifest_entry(source) is not None
        if not n and not known:
            return -1
        self.delete_manifest(source)
        self.delete_source_chunks(source)
        return n

    def reset(self) -> None:
        """Drop both collections and recreate them empty."""
        for name in (self.collection_name, self.collection_name + MANIFEST_SUFFIX):
            try:
                self.client.delete_collection(name)
            except Exception:  # noqa: BLE001 - missing collection
                pass
        self.__init__(self.client, self.collection_name, self.location)  # type: ignore[misc]

    def sources(self) -> Iterable[str]:
        return self.manifest_entries().keys()


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def _http_client(url: str) -> Any:
    import chromadb

    parsed = urlparse(url if "://" in url else f"http://{url}")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidInputError(f"knowledge.chroma_url '{url}' is not an http(s) URL.",
                                "Use a URL like http://127.0.0.1:8000")
    ssl = parsed.scheme == "https"
    port = parsed.port or (443 if ssl else 8000)
    try:
        client = chromadb.HttpClient(host=parsed.hostname, port=port, ssl=ssl, settings=_chroma_settings())
        client.heartbeat()
    except Exception as exc:  # noqa: BLE001 - connection errors come in many types
        raise ModelUnavailableError(
            f"The Chroma server at {url} cannot be reached ({exc.__class__.__name__}).",
            "Start it (chroma run --host 127.0.0.1 --port 8000 --path DIR) or unset knowledge.chroma_url "
            "to use the embedded store.",
        ) from exc
    return client


def open_store(settings: "Settings | None" = None) -> KnowledgeStore:
    """The process-wide store for these settings: a Chroma server if configured, else embedded."""
    if settings is None:
        from agent.settings import get_settings

        settings = get_settings()
    url = settings.knowledge.chroma_url
    location = url if url else str(settings.chroma_path)
    key = (location, settings.knowledge.collection)
    with _lock:
        store = _stores.get(key)
        if store is None:
            if url:
                client = _http_client(url)
            else:
                import chromadb

                settings.chroma_path.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(settings.chroma_path), settings=_chroma_settings())
            store = KnowledgeStore(client, settings.knowledge.collection, location)
            _stores[key] = store
        return store


def forget_stores() -> None:
    """Drop cached store handles (a server restarted, or a test moved the data dir)."""
    with _lock:
        _stores.clear()


def as_langchain_vectorstore(settings: "Settings | None" = None) -> Any:
    """The same collection as a `langchain_chroma.Chroma`, for LangChain retrievers and chains."""
    from langchain_chroma import Chroma

    from knowledge.embeddings import langchain_embeddings

    store = open_store(settings)
    return Chroma(client=store.client, collection_name=store.collection_name,
                  embedding_function=langchain_embeddings())
