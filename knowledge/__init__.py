"""The curated corpus, its ingestion and the vector store.

Entry points:
- `knowledge.retriever.retrieve(query, k=5)` -> snippets above the calibrated relevance threshold
  (empty when the knowledge base has no answer); `search(query, k)` -> top k regardless.
- `knowledge.fencing.fence_snippets(snippets)` -> the snippets as numbered UNTRUSTED DATA blocks.
- `knowledge.search.search_knowledge(args)` -> the catalogue tool.
- `knowledge.ingest.ingest_paths(paths)` / `index_curated_corpus()` -> incremental, crash-safe indexing.
- `knowledge.store.open_store(settings=None)` -> embedded Chroma, or a Chroma server when
  `knowledge.chroma_url` is set.
"""
