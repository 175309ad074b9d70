"""Knowledge benchmark: retrieval quality, query latency at 10k chunks, ingest throughput.

Everything runs in temporary stores; the user's knowledge base is never touched.
- recall@5 on tests/data/rag_questions.jsonl over the curated corpus, and the no-answer rate on
  off-topic questions (retrieve() must return nothing for them).
- query latency (p50, p95) of `search(q, k=5)` against a collection padded to 10,000 chunks with
  perturbed copies of the corpus chunks (texts with shuffled sentences, vectors with noise), so the
  HNSW index has realistic neighbours; baseline: embedding the query alone, in the same run.
- ingest throughput of `ingest_paths` over the curated cards against bare
  `SentenceTransformer.encode` of the very same chunk texts, paired runs in the same process.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.stats import BenchRow, summarize

SECTION = "knowledge"


def _store(root: Path, name: str):
    from agent.settings import Settings
    from knowledge.store import KnowledgeStore
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = Settings(data_dir=root / name)
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    client = chromadb.PersistentClient(path=str(settings.chroma_path),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    return KnowledgeStore(client, "bench", str(settings.chroma_path))


def _perturb(text: str, rng: random.Random) -> str:
    sentences = [s for s in text.replace("\n", " ").split(". ") if s]
    rng.shuffle(sentences)
    words = ". ".join(sentences).split()
    keep = [w for w in words if rng.random() > 0.15]
    return " ".join(keep) or text


def _pad_to(store, target: int, seed: int = 0) -> int:
    """Fill the store with perturbed copies of its own chunks until it holds `target` chunks."""
    got = store.chunks.get(include=["documents", "embeddings", "metadatas"])
    texts, vectors = got["documents"], np.asarray(got["embeddings"], dtype=np.float32)
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    need = target - len(texts)
    ids, docs, embs, metas = [], [], [], []
    for n in range(need):
        i = rng.randrange(len(texts))
        vec = vectors[i] + nrng.normal(0.0, 0.035, size=vectors.shape[1]).astype(np.float32)
        vec /= np.linalg.norm(vec)
        ids.append(f"filler-{n:06d}")
        docs.append(_perturb(texts[i], rng))
        embs.append(vec.tolist())
        metas.append({"source": f"filler-{n // 4}", "title": "filler", "origin": "bench"})
    for i in range(0, len(ids), 2000):
        store.add_chunks(ids[i:i + 2000], docs[i:i + 2000], embs[i:i + 2000], metas[i:i + 2000])
    return store.count()


def _retrieval_rows(store, quick: bool) -> list[BenchRow]:
    from knowledge.evaluation import load_negatives, load_questions, recall_at_k
    from knowledge.retriever import RELEVANCE_THRESHOLD, retrieve, search

    questions = load_questions()
    result = recall_at_k(questions, lambda q, k: search(q, k, store=store), k=5)
    negatives = load_negatives()
    rejected = sum(not retrieve(q, k=5, store=store) for q in negatives) / len(negatives)
    answered = sum(bool(retrieve(q.q, k=5, store=store)) for q in questions) / len(questions)
    plain = recall_at_k(questions, lambda q, k: search(q, k, store=store, boost=False, max_per_source=None), k=5)
    misses = "; ".join(f"{q!r} -> expected {list(c)}" for q, c, _ in result.misses[:5])
    return [
        BenchRow(SECTION, f"recall@5 ({len(questions)} curated questions)", result.recall, "fraction",
                 target=">= 0.90", passed=result.recall >= 0.90,
                 note=f"hit rate {result.hit_rate:.3f}; misses: {misses}"),
        BenchRow(SECTION, "recall@5, embeddings only (no title boost, no per-source cap)", plain.recall, "fraction",
                 note="ablation: what the hybrid boost and the per-source cap add"),
        BenchRow(SECTION, f"off-topic questions with no snippets ({len(negatives)})", rejected, "fraction",
                 target="1.0", passed=rejected == 1.0, note=f"threshold {RELEVANCE_THRESHOLD}"),
        BenchRow(SECTION, "curated questions answered (a snippet above threshold)", answered, "fraction",
                 target=">= 0.95", passed=answered >= 0.95),
    ]


def _latency_rows(store, size: int, quick: bool) -> list[BenchRow]:
    from knowledge.embeddings import embed_query
    from knowledge.evaluation import load_questions
    from knowledge.retriever import search

    total = _pad_to(store, size)
    queries = [q.q for q in load_questions()][: 40 if quick else 120]
    for q in queries[:5]:
        search(q, 5, store=store)  # warm-up: model, HNSW index load
    full, embed_only, store_only = [], [], []
    for q in queries:
        start = time.perf_counter()
        vector = embed_query(q)
        embed_only.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        store.query(vector, 20)
        store_only.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        search(q, 5, store=store)
        full.append((time.perf_counter() - start) * 1000)
    t, b, s = summarize(full), summarize(embed_only), summarize(store_only)
    p95 = float(np.percentile(full, 95))
    return [
        BenchRow(SECTION, f"query latency p50, search k=5 ({total} chunks)", t.median, "ms", t.low, t.high,
                 baseline="query embedding alone", baseline_median=b.median, ratio=t.median / b.median,
                 target="<= 50 ms", passed=t.median <= 50, note=f"p95 {p95:.1f} ms over {len(queries)} queries"),
        BenchRow(SECTION, f"vector query alone, 20 neighbours ({total} chunks)", s.median, "ms", s.low, s.high,
                 note="Chroma HNSW query with a precomputed embedding: the store's share of the latency"),
    ]


def _throughput_rows(root: Path, files: list[Path], repeats: int) -> tuple[list[BenchRow], object]:
    """Paired ingest/encode timings (order alternating between pairs, so neither side always runs
    on a warmer cache); also returns the first store, fully indexed from `files`."""
    import knowledge.embeddings as embeddings
    from knowledge.ingest import curated_source, ingest_paths

    model = embeddings.get_model()
    real_embed = embeddings.embed_texts
    inside_embed = [0.0]

    def timed_embed(texts, batch_size=embeddings.DEFAULT_BATCH_SIZE):
        start = time.perf_counter()
        try:
            return real_embed(texts, batch_size)
        finally:
            inside_embed[0] += time.perf_counter() - start

    ingest_s, encode_s, overhead_s, n_chunks, first = [], [], [], 0, None

    def ingest(r: int):
        nonlocal first
        store = _store(root, f"ingest-{r}")
        first = first or store
        inside_embed[0] = 0.0
        start = time.perf_counter()
        report = ingest_paths(files, store=store, origin="curated", source_for=curated_source, progress=False)
        ingest_s.append(time.perf_counter() - start)
        overhead_s.append(ingest_s[-1] - inside_embed[0])
        return store, report

    def encode(texts: list[str]) -> None:
        start = time.perf_counter()
        model.encode(texts, batch_size=embeddings.DEFAULT_BATCH_SIZE, normalize_embeddings=True,
                     show_progress_bar=False)
        encode_s.append(time.perf_counter() - start)

    embeddings.embed_texts = timed_embed
    try:
        texts: list[str] = []
        for r in range(repeats):
            if r % 2 == 1 and texts:
                encode(texts)
            store, report = ingest(r)
            texts = store.chunks.get(include=["documents"])["documents"]
            n_chunks = len(texts)
            assert report.chunks_written == n_chunks
            if r % 2 == 0 or len(encode_s) < len(ingest_s):
                encode(texts)
    finally:
        embeddings.embed_texts = real_embed
    ratios = [i / e for i, e in zip(ingest_s, encode_s)]
    t_i, t_e = summarize(ingest_s), summarize(encode_s)
    rate = n_chunks / t_i.median
    return [BenchRow(SECTION, f"ingest throughput ({len(files)} cards, {n_chunks} chunks)", rate, "chunks/s",
                     n_chunks / t_i.high, n_chunks / t_i.low, baseline="bare SentenceTransformer.encode (chunks/s)",
                     baseline_median=n_chunks / t_e.median, ratio=statistics.median(ratios),
                     target="ingest time <= 1.3x encode time", passed=statistics.median(ratios) <= 1.3,
                     note=f"ratio = ingest time / encode time, median of {repeats} paired runs "
                          f"(min {min(ratios):.2f}, max {max(ratios):.2f}); time outside embedding "
                          f"(load, chunk, Chroma writes) median {statistics.median(overhead_s):.2f} s "
                          f"of {t_i.median:.2f} s")], first


def run(quick: bool = False) -> list[BenchRow]:
    from knowledge.embeddings import get_model
    from knowledge.ingest import curated_files, index_curated_corpus

    files = curated_files()
    if not files:
        return [BenchRow(SECTION, "curated corpus", 0, "cards", note="knowledge/corpus has no cards", passed=False)]
    get_model()  # load once, outside every timing
    rows: list[BenchRow] = []
    with tempfile.TemporaryDirectory(prefix="radagent-bench-kb-") as tmp:
        root = Path(tmp)
        subset = files[:12] if quick else files
        throughput, indexed = _throughput_rows(root, subset, repeats=1 if quick else 3)
        rows += throughput
        if subset == files:
            corpus = indexed
        else:
            corpus = _store(root, "corpus")
            index_curated_corpus(echo=None, progress=False, store=corpus)
        rows += _retrieval_rows(corpus, quick)
        rows += _latency_rows(corpus, 2_000 if quick else 10_000, quick)
    return rows
