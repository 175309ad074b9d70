"""CLI commands for the knowledge capability: `radagent kb add|search|stats|remove|reindex`."""

from __future__ import annotations

from pathlib import Path

import typer

from agent.commands.output import emit, friendly_errors


def _echo_err(message: str) -> None:
    typer.echo(message, err=True)


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""
    kb = typer.Typer(help="The knowledge base: add documents, search them, inspect the index.",
                     no_args_is_help=True)

    @kb.command("add")
    @friendly_errors
    def add(
        paths: list[Path] = typer.Argument(..., help="Files or folders (recursed): .md, .txt, .pdf, .html."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        force: bool = typer.Option(False, "--force", help="Re-index even unchanged files."),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    ) -> None:
        """Index documents. Unchanged files are skipped; changed files replace their old chunks."""
        from agent.errors import InvalidInputError
        from knowledge.ingest import ingest_paths

        report = ingest_paths(paths, force=force, progress=progress, echo=_echo_err)
        if report.skipped and not (report.added or report.replaced or report.unchanged):
            reasons = "; ".join(f"{s['path']} {s['reason']}" for s in report.skipped)
            raise InvalidInputError(f"Nothing could be indexed: {reasons}.",
                                    "Give readable .md, .txt, .pdf or .html files under the size limit.")
        emit(report.to_dict(), as_json)

    @kb.command("search")
    @friendly_errors
    def search_cmd(
        query: str = typer.Argument(..., help="What to look up."),
        k: int = typer.Option(5, "-k", "--k", help="How many results."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        relevant_only: bool = typer.Option(False, "--relevant-only",
                                           help="Only results above the calibrated relevance threshold."),
    ) -> None:
        """Top-k chunks for a query with their source and score (higher is closer)."""
        from knowledge.retriever import retrieve, search

        snippets = (retrieve if relevant_only else search)(query, k=k)
        rows = [{"text": s.text, "source": s.source, "score": s.score, "title": s.title} for s in snippets]
        if as_json:
            emit(rows, True)
            return
        if not rows:
            from knowledge.store import open_store

            if open_store().count() == 0:
                typer.echo("The knowledge base is empty: run `radagent setup` or `radagent kb add PATH`.")
            else:
                typer.echo("No results." + (" Nothing cleared the relevance threshold." if relevant_only else ""))
        for n, row in enumerate(rows, start=1):
            preview = " ".join(row["text"].split())[:240]
            typer.echo(f"[{n}] {row['score']:.3f}  {row['title']}  ({row['source']})\n    {preview}")

    @kb.command("stats")
    @friendly_errors
    def stats(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """What the index holds and where it lives."""
        from knowledge.stats import knowledge_stats

        data = knowledge_stats()
        if as_json:
            emit(data, True)
            return
        typer.echo(data["summary"])
        typer.echo(f"embedding model: {data['embedding_model']}")
        for row in data["sources"]:
            mark = "  [instruction-like text]" if row["instruction_like"] else ""
            typer.echo(f"  {row['chunks']:>4}  {row['origin']:<7}  {row['source']}  {row['title']}{mark}")

    @kb.command("remove")
    @friendly_errors
    def remove(
        source: str = typer.Argument(..., help="A source as `kb stats` or `kb search` shows it, or a file path."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Remove one source and all its chunks from the index."""
        from agent.errors import NotFoundError
        from knowledge.store import open_store

        store = open_store()
        candidates = [source]
        path = Path(source).expanduser()
        if str(path.resolve()) != source:
            candidates.append(str(path.resolve()))
        for candidate in candidates:
            removed = store.remove_source(candidate)
            if removed >= 0:
                emit({"summary": f"Removed {candidate} ({removed} chunks).", "source": candidate,
                      "chunks_removed": removed}, as_json)
                return
        raise NotFoundError(f"'{source}' is not in the knowledge base.",
                            "List the indexed sources with `radagent kb stats`.")

    @kb.command("reindex")
    @friendly_errors
    def reindex_cmd(
        force: bool = typer.Option(False, "--force", help="Re-embed every source, changed or not."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    ) -> None:
        """Repair half-indexed sources, sync the curated corpus and re-read changed user files."""
        from knowledge.ingest import reindex

        emit(reindex(force=force, echo=_echo_err, progress=progress).to_dict(), as_json)

    app.add_typer(kb, name="kb")
