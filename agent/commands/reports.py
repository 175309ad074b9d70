"""`radagent rewrite` and `radagent check-rewrite`: the CLI doors onto report rewriting."""

from __future__ import annotations

from pathlib import Path

import typer

from agent.commands.output import emit, friendly_errors

MAX_REPORT_BYTES = 200_000


def _read_text(path: Path, what: str) -> str:
    from agent.errors import InvalidInputError, NotFoundError

    if not path.is_file():
        raise NotFoundError(f"The {what} file '{path}' does not exist.", "Pass the path of a text file.")
    size = path.stat().st_size
    if size > MAX_REPORT_BYTES:
        raise InvalidInputError(f"The {what} file is {size // 1000} kB; reports up to "
                                f"{MAX_REPORT_BYTES // 1000} kB are accepted.", "Pass one report per file.")
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""

    @app.command("check-rewrite")
    @friendly_errors
    def check_rewrite_cmd(
        original: Path = typer.Option(..., "--original", help="The original report (text file)."),
        rewrite: Path = typer.Option(..., "--rewrite", help="The patient-friendly rewrite (text file)."),
        grade: float = typer.Option(7.0, "--grade", help="Target reading grade."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Check a rewrite for dropped, added, negated, side-swapped or changed findings and its reading grade."""
        from tools.reports.checker import check_rewrite

        result = check_rewrite(_read_text(original, "original"), _read_text(rewrite, "rewrite"), grade)
        if as_json:
            emit(result.to_dict(), True)
            return
        typer.echo(f"reading grade {result.grade:.1f} (original {result.original_grade:.1f}, target {grade:.1f})")
        if not result.flags:
            typer.echo("No fidelity problems found.")
        for flag in result.flags:
            typer.echo(f"[{flag.type}] {flag.detail}")

    @app.command("rewrite")
    @friendly_errors
    def rewrite_cmd(
        report: Path = typer.Option(..., "--report", help="The radiology report (text file)."),
        grade: float = typer.Option(7.0, "--grade", help="Target reading grade (3-16)."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Rewrite a radiology report in plain language, checked against the original."""
        from agent.commands.output import run_tool_command

        run_tool_command("rewrite_report", {"report": _read_text(report, "report"), "target_grade": grade}, as_json)
