"""A summary of what the knowledge store holds, for `radagent kb stats`."""

from __future__ import annotations

from typing import Any

from knowledge.store import open_store


def knowledge_stats() -> dict[str, Any]:
    """Counts per origin, every source with its chunk count, and any source left half-indexed."""
    from knowledge.embeddings import model_path

    store = open_store()
    manifest = store.manifest_entries()
    chunk_counts = store.chunk_sources()
    sources = []
    for source, entry in sorted(manifest.items()):
        sources.append({"source": source, "title": entry.get("title", ""), "origin": entry.get("origin", ""),
                        "kind": entry.get("kind", ""), "chunks": chunk_counts.get(source, 0),
                        "instruction_like": bool(entry.get("instruction_like", False))})
    incomplete = sorted(s for s, n in chunk_counts.items()
                        if s not in manifest or int(manifest[s].get("chunks", -1)) != n)
    curated = sum(1 for e in manifest.values() if e.get("origin") == "curated")
    total = store.count()
    summary = (f"{total} chunks from {len(manifest)} sources ({curated} curated, {len(manifest) - curated} added) "
               f"in {store.location} [{store.collection_name}].")
    if incomplete:
        summary += f" {len(incomplete)} source(s) are half-indexed: run `radagent kb reindex`."
    return {"summary": summary, "chunks": total, "sources_total": len(manifest), "curated_sources": curated,
            "user_sources": len(manifest) - curated, "store": store.location,
            "collection": store.collection_name, "embedding_model": str(model_path()),
            "incomplete": incomplete, "sources": sources}
