"""Knowledge panel: add guideline or literature documents to the knowledge base, and try a search.

Uploads are copied into the data folder before indexing, so the index never points at a
temporary file and a later re-index finds them again.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Any

import gradio as gr

from agent.errors import RadagentError
from ui.context import badge, error_html
from ui.identity import identify

DOCUMENT_TYPES = [".md", ".txt", ".pdf", ".html", ".htm"]
RESULT_HEADERS = ["#", "score", "title", "source", "text"]
OUTCOME_HEADERS = ["document", "outcome"]


def documents_dir() -> Path:
    from agent.settings import get_settings

    folder = get_settings().data_dir / "documents"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep_copy(upload: Path) -> Path:
    """Copy an upload into the documents folder under a safe name; the same content keeps its copy."""
    digest = hashlib.sha256(upload.read_bytes()).hexdigest()[:12]
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", upload.stem)[:80] or "document"
    target = documents_dir() / f"{stem}-{digest}{upload.suffix.lower()}"
    if not target.exists():
        shutil.copyfile(upload, target)
    return target


def add_documents(files: list[Any] | None, browser_id: str, request: gr.Request,
                  progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[str, list[list[str]]]:
    """Index uploaded documents; instruction-like text is stored as data and said so."""
    from agent import review
    from knowledge.ingest import ingest_paths

    uploads = [Path(f if isinstance(f, str) else f.get("path", "")) for f in files or []]
    if not uploads:
        return error_html("Choose one or more documents first.", "Markdown, text, PDF or HTML."), []
    ident = identify(request, browser_id)
    progress(0.0, desc="Reading and embedding the documents")
    names: dict[str, str] = {}
    rows: list[list[str]] = []
    copies = []
    for upload in uploads:
        if upload.suffix.lower() not in DOCUMENT_TYPES:
            rows.append([upload.name, f"skipped: {upload.suffix or 'no extension'} is not a document type "
                                      f"({', '.join(DOCUMENT_TYPES)})"])
            continue
        copy = keep_copy(upload)
        names[str(copy)] = upload.name
        copies.append(copy)
    if not copies:
        return error_html("None of the files is a document the knowledge base can read."), rows
    try:
        report = ingest_paths(copies, progress=True)
    except RadagentError as err:
        return error_html(err.message, err.hint), rows
    for outcome, sources in (("added", report.added), ("updated", report.replaced), ("unchanged", report.unchanged)):
        rows += [[names.get(s, Path(s).name), outcome] for s in sources]
    rows += [[names.get(s["path"], Path(s["path"]).name), f"skipped: {s['reason']}"] for s in report.skipped]
    review.audit(actor=ident.user, action="knowledge_added", target=None,
                 detail={"documents": sorted(names.values()), "chunks": report.chunks_written,
                         "flagged": report.flagged})
    status = badge(report.summary, "confirmed")
    if report.flagged:
        flagged = ", ".join(names.get(s, Path(s).name) for s in report.flagged)
        status += badge(f"injection: {flagged} contains instruction-like text; it is kept as data only", "injection")
    return status, rows


def search(query: str, k: float) -> tuple[str, list[list[Any]]]:
    """What the agent would retrieve for this question, with scores, so users can see why it cites."""
    from knowledge.retriever import RELEVANCE_THRESHOLD, search as search_store

    try:
        snippets = search_store(query, int(k))
    except RadagentError as err:
        return error_html(err.message, err.hint), []
    rows = [[n, round(s.score, 3), s.title, s.source, s.text[:400]] for n, s in enumerate(snippets, 1)]
    citable = sum(s.score >= RELEVANCE_THRESHOLD for s in snippets)
    note = (f"{citable} of {len(snippets)} results score above the citation threshold "
            f"({RELEVANCE_THRESHOLD:.2f}); the agent cites only those.")
    return f"<span class='ra-banner'>{note}</span>", rows


def build(browser_id: gr.BrowserState) -> None:
    with gr.Row():
        with gr.Column():
            files = gr.File(label="Guidelines or papers to add", file_count="multiple",
                            file_types=DOCUMENT_TYPES, elem_id="kb-files")
            add = gr.Button("Add to the knowledge base", variant="primary", elem_id="kb-add")
            add_status = gr.HTML(elem_id="kb-add-status")
            outcomes = gr.Dataframe(headers=OUTCOME_HEADERS, label="Per document", interactive=False,
                                    elem_id="kb-outcomes")
        with gr.Column():
            query = gr.Textbox(label="Try a question", placeholder="why is DDIM faster than DDPM?",
                               elem_id="kb-query")
            k = gr.Slider(1, 10, value=5, step=1, label="Results")
            go = gr.Button("Search", elem_id="kb-search")
            search_status = gr.HTML(elem_id="kb-search-status")
            results = gr.Dataframe(headers=RESULT_HEADERS, label="Snippets", interactive=False, wrap=True,
                                   elem_id="kb-results")
    add.click(add_documents, [files, browser_id], [add_status, outcomes], api_name="kb_add")
    go.click(search, [query, k], [search_status, results], api_name="kb_search")
    query.submit(search, [query, k], [search_status, results], api_name=False)
