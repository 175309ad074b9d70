"""Index files into the knowledge store: incremental, batched and safe to interrupt.

For each source the ingester compares a content hash with the manifest: unchanged sources are
skipped, changed ones have their old chunks deleted and are re-added. Chunks from many files are
embedded together in large batches (the embedding model dominates the cost), and a source's
manifest entry is written only after every one of its chunks is in the store. If the process dies
part-way, a source without a matching manifest entry is deleted and re-added on the next run,
and deterministic chunk ids make any re-written chunk an overwrite, never a duplicate.
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from knowledge.chunking import CHUNKER_VERSION, PATH_SEPARATOR, chunk_text
from knowledge.injection import looks_like_instructions
from knowledge.loaders import SUPPORTED_SUFFIXES, SkipFile, check_size, load_document, read_bytes
from knowledge.store import KnowledgeStore, open_store

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
# Chunks per embedding call: large enough that the model's own length-sorted batching, not the
# per-call overhead, sets the pace (the bench compares ingest with one bare encode of all chunks).
EMBED_BATCH = 512
SCAN_ABOVE_FILES = 20

Echo = Callable[[str], None]


@dataclass
class IngestReport:
    """What one ingest run did, per source."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"path", "reason"}
    chunks_written: int = 0
    flagged: list[str] = field(default_factory=list)  # sources with instruction-like text
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.replaced)} updated", f"{len(self.unchanged)} unchanged"]
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        parts.append(f"{len(self.skipped)} skipped")
        return f"Indexed {self.chunks_written} chunks: " + ", ".join(parts) + f" ({self.seconds:.1f} s)."

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "added": self.added, "replaced": self.replaced,
                "unchanged": self.unchanged, "removed": self.removed, "skipped": self.skipped,
                "chunks_written": self.chunks_written, "flagged": self.flagged}


@dataclass
class _Pending:
    """A source whose old chunks are gone and whose new chunks are (partly) queued."""

    source: str
    entry: dict[str, Any]
    remaining: int


def content_hash(data: bytes, chunk_size: int, chunk_overlap: int) -> str:
    """Hash of the bytes and of everything that shapes the chunks, so a settings change re-chunks."""
    digest = hashlib.sha256(data)
    digest.update(f"|chunker={CHUNKER_VERSION}|size={chunk_size}|overlap={chunk_overlap}".encode())
    return digest.hexdigest()


def chunk_id(source: str, index: int, text: str) -> str:
    """Deterministic: the same source, position and text always give the same id."""
    src = hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]
    body = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    return f"{src}-{index:05d}-{body}"


def iter_files(paths: Iterable[Path], report: IngestReport) -> Iterator[Path]:
    """Files named directly, and every supported file under named folders (hidden entries skipped)."""
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path).parts
                if any(part.startswith(".") for part in rel) or not child.is_file():
                    continue
                if child.suffix.lower() not in SUPPORTED_SUFFIXES:
                    report.skipped.append({"path": str(child), "reason": f"has an unsupported file type "
                                           f"'{child.suffix or child.name}'"})
                    continue
                resolved = child.resolve()
                if resolved not in seen:
                    seen.add(resolved)
                    yield resolved
        elif path.exists():
            resolved = path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                yield resolved
        else:
            report.skipped.append({"path": str(path), "reason": "does not exist"})


class _Batcher:
    """Queues chunks across sources, embeds and writes them in batches, then closes finished sources."""

    def __init__(self, store: KnowledgeStore, batch_size: int) -> None:
        self.store = store
        self.batch_size = batch_size
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.metas: list[dict[str, Any]] = []
        self.owners: list[_Pending] = []
        self.written = 0

    def add(self, pending: _Pending, ids: list[str], texts: list[str], metas: list[dict[str, Any]]) -> None:
        for cid, text, meta in zip(ids, texts, metas):
            self.ids.append(cid)
            self.texts.append(text)
            self.metas.append(meta)
            self.owners.append(pending)
            if len(self.ids) >= self.batch_size:
                self.flush()

    def flush(self) -> None:
        from knowledge.embeddings import embed_texts

        if not self.ids:
            return
        vectors = embed_texts(self.texts)
        self.store.add_chunks(self.ids, self.texts, vectors, self.metas)
        self.written += len(self.ids)
        for owner in self.owners:
            owner.remaining -= 1
            if owner.remaining == 0:
                self.store.set_manifest(owner.source, owner.entry)
        self.ids, self.texts, self.metas, self.owners = [], [], [], []


def ingest_paths(
    paths: Iterable[Path | str],
    *,
    store: KnowledgeStore | None = None,
    origin: str = "user",
    source_for: Callable[[Path], str] | None = None,
    force: bool = False,
    progress: bool = True,
    echo: Echo | None = None,
    batch_size: int = EMBED_BATCH,
) -> IngestReport:
    """Index files and folders (recursively). Unreadable, empty, oversized or binary files are skipped
    with a reason; the rest of the batch is indexed. Returns what happened per source."""
    from agent.settings import get_settings

    settings = get_settings()
    knobs = settings.knowledge
    store = store or open_store(settings)
    report = IngestReport()
    started = time.perf_counter()
    files = list(iter_files([Path(p) for p in paths], report))
    manifest = store.manifest_entries()
    # Many files: one metadata scan beats a lookup per file; a few files into a big store: the reverse.
    counts = store.chunk_sources() if len(files) > SCAN_ABOVE_FILES else None

    def chunk_count(source: str) -> int:
        return counts.get(source, 0) if counts is not None else len(store.chunk_ids_of(source))

    batcher = _Batcher(store, batch_size)
    bar = _progress_bar(len(files), enabled=progress)
    try:
        for path in files:
            source = source_for(path) if source_for else str(path)
            try:
                check_size(path, knobs.max_file_mb)
                data = read_bytes(path)
                digest = content_hash(data, knobs.chunk_size, knobs.chunk_overlap)
                old = manifest.get(source)
                complete = old is not None and chunk_count(source) == int(old.get("chunks", -1))
                if not force and old and old.get("hash") == digest and complete:
                    report.unchanged.append(source)
                    continue
                doc = load_document(path, data)
            except SkipFile as skip:
                report.skipped.append({"path": str(path), "reason": skip.reason})
                if echo:
                    echo(f"skipped {path}: {skip.reason}")
                continue
            finally:
                bar.update(1)
            chunks = chunk_text(doc.text, doc.title, knobs.chunk_size, knobs.chunk_overlap)
            if not chunks:
                report.skipped.append({"path": str(path), "reason": "has no text to index"})
                continue
            had_chunks = bool(old) or chunk_count(source) > 0
            if had_chunks:
                # Forget the old version before writing the new one: a crash from here on leaves a
                # source without a manifest entry, which the next run deletes and re-adds.
                store.delete_manifest(source)
                store.delete_source_chunks(source)
            base = {
                "source": source, "title": doc.title, "kind": doc.kind, "origin": origin,
                "path": str(path), **{k: v for k, v in doc.metadata.items() if v not in (None, "")},
            }
            flagged = False
            ids, texts, metas = [], [], []
            for chunk in chunks:
                instruction_like = looks_like_instructions(chunk.body)
                flagged |= instruction_like
                ids.append(chunk_id(source, chunk.index, chunk.text))
                texts.append(chunk.text)
                metas.append({**base, "chunk_index": chunk.index, "hash": digest,
                              "headings": PATH_SEPARATOR.join(chunk.headings),
                              "instruction_like": instruction_like})
            entry = {**base, "hash": digest, "chunks": len(chunks), "instruction_like": flagged,
                     "indexed_at": time.time()}
            entry.pop("pages", None)
            (report.replaced if had_chunks else report.added).append(source)
            if flagged:
                report.flagged.append(source)
                if echo:
                    echo(f"note: {path} contains instruction-like text; it is stored as data only")
            batcher.add(_Pending(source, entry, len(chunks)), ids, texts, metas)
            bar.set_postfix_str(f"{batcher.written + len(batcher.ids)} chunks", refresh=False)
        batcher.flush()
    finally:
        bar.close()
    report.chunks_written = batcher.written
    report.seconds = time.perf_counter() - started
    return report


def _progress_bar(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="Indexing", unit="file", file=sys.stderr,
                disable=not enabled or total == 0, leave=False)


def curated_source(path: Path) -> str:
    """Curated cards are cited by their file stem, stable across machines and checkouts."""
    return path.stem


def curated_files(corpus_dir: Path | None = None) -> list[Path]:
    """The curated cards: `*.md` in the corpus folder, except READMEs and hidden or `_`-prefixed files."""
    folder = corpus_dir or CORPUS_DIR
    return sorted(p for p in folder.glob("*.md") if not p.name.startswith((".", "_"))
                  and p.name.lower() != "readme.md")


def index_curated_corpus(echo: Echo | None = print, progress: bool = True, force: bool = False,
                         corpus_dir: Path | None = None, store: KnowledgeStore | None = None) -> IngestReport:
    """Index `knowledge/corpus/*.md` incrementally; cards deleted from the corpus leave the store too."""
    store = store or open_store()
    files = curated_files(corpus_dir)
    if echo and not files:
        echo(f"The curated corpus folder {corpus_dir or CORPUS_DIR} has no cards.")
    report = ingest_paths(files, store=store, origin="curated", source_for=curated_source,
                          progress=progress, echo=echo, force=force)
    present = {curated_source(p) for p in files}
    for source, entry in store.manifest_entries().items():
        if entry.get("origin") == "curated" and source not in present:
            store.remove_source(source)
            report.removed.append(source)
    if echo:
        echo(report.summary)
        for skip in report.skipped:
            echo(f"  skipped {skip['path']}: {skip['reason']}")
    return report


def repair_store(store: KnowledgeStore | None = None) -> list[str]:
    """Delete chunks whose source has no manifest entry (left by an interrupted ingest of a file
    that has since gone away), and manifest entries whose chunks are incomplete."""
    store = store or open_store()
    manifest = store.manifest_entries()
    fixed = []
    for source, count in store.chunk_sources().items():
        entry = manifest.get(source)
        if entry is None or int(entry.get("chunks", -1)) != count:
            store.remove_source(source)
            fixed.append(source)
    for source, entry in manifest.items():
        if source not in fixed and not store.chunk_ids_of(source) and int(entry.get("chunks", 0)) > 0:
            store.delete_manifest(source)
            fixed.append(source)
    return fixed


def reindex(force: bool = False, echo: Echo | None = None, progress: bool = True) -> IngestReport:
    """Repair the store, re-index the curated corpus and re-read every user file that still exists."""
    store = open_store()
    repaired = repair_store(store)
    if echo and repaired:
        echo(f"repaired {len(repaired)} incompletely indexed source(s): {', '.join(repaired)}")
    report = index_curated_corpus(echo=None, progress=progress, force=force)
    user_paths = []
    for source, entry in store.manifest_entries().items():
        if entry.get("origin") == "curated":
            continue
        path = Path(str(entry.get("path") or source))
        if path.is_file():
            user_paths.append(path)
        else:
            report.skipped.append({"path": str(path), "reason": "no longer exists; remove it with "
                                   f"`radagent kb remove {source}`"})
    if user_paths:
        user = ingest_paths(user_paths, store=store, force=force, progress=progress, echo=echo)
        report.added += user.added
        report.replaced += user.replaced
        report.unchanged += user.unchanged
        report.skipped += user.skipped
        report.flagged += user.flagged
        report.chunks_written += user.chunks_written
    return report
