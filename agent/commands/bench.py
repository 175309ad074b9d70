"""`radagent bench [--quick]`: the benchmark table behind the README's results."""

from __future__ import annotations

from pathlib import Path

import typer

from agent.commands.output import emit, friendly_errors


def register(app: typer.Typer) -> None:
    @app.command("bench")
    @friendly_errors
    def bench(
        quick: bool = typer.Option(False, "--quick", help="Smaller samples; finishes in a few minutes."),
        only: list[str] = typer.Option(None, "--only", help="Run only these sections (e.g. llm, imaging)."),
        out: Path = typer.Option(Path("bench/results/latest.json"), help="Where to write the JSON results."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Measure every capability against its baseline in the same run; print a markdown table."""
        from bench.runner import run, to_markdown

        rows, notes = run(quick=quick, only=only or None, out=out)
        if as_json:
            emit({"rows": [r.to_dict() for r in rows], "notes": notes}, True)
            return
        typer.echo(to_markdown(rows))
        for note in notes:
            typer.echo(f"- {note}")
