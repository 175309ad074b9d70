"""CLI commands for the imaging capability: info, open (into the workspace) and phantom datasets."""

from __future__ import annotations

from pathlib import Path

import typer

from agent.commands.output import emit, friendly_errors, run_tool_command


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""

    @app.command("info")
    @friendly_errors
    def info(
        image: str = typer.Argument(..., help="Workspace id (img-1) or path to a DICOM, series folder, NIfTI, PNG/JPEG or NPZ."),
        session: str = typer.Option(None, "--session", help="Workspace session for ids (default: 'default')."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Modality, size, spacing and de-identified metadata of an image."""
        _use_session(session)
        run_tool_command("image_info", {"image": image}, as_json)

    @app.command("open")
    @friendly_errors
    def open_image(
        path: Path = typer.Argument(..., help="Image file, series folder or ZIP of a series."),
        session: str = typer.Option(None, "--session", help="Workspace session (default: 'default')."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Copy an image into the workspace (read-only, content-addressed) and print its id."""
        from tools.imaging.workspace import get_workspace

        entry = get_workspace(session).add(path)
        if as_json:
            emit({"id": entry.id, "modality": entry.modality, "kind": entry.kind, "files": entry.files,
                  "sha256": entry.sha256}, True)
        else:
            typer.echo(entry.id)

    @app.command("images")
    @friendly_errors
    def images(
        session: str = typer.Option(None, "--session", help="Workspace session (default: 'default')."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """List the images in a workspace session."""
        from tools.imaging.workspace import get_workspace

        entries = [{"id": e.id, "modality": e.modality, "kind": e.kind, "files": e.files, "added_at": e.added_at}
                   for e in get_workspace(session).list()]
        if as_json:
            emit(entries, True)
        else:
            for e in entries:
                typer.echo(f"{e['id']}\t{e['modality']}\t{e['kind']}\t{e['files']} file(s)\t{e['added_at']}")

    data_app = typer.Typer(help="Built-in training and evaluation data.", no_args_is_help=True)

    @data_app.command("phantoms")
    @friendly_errors
    def phantoms(
        n: int = typer.Option(100, "--n", min=1, max=100_000, help="Total images over train/val/test (80/10/10)."),
        out: Path = typer.Option(..., "--out", help="Output folder."),
        family: str = typer.Option("chest", "--family", help="chest or head."),
        size: int = typer.Option(128, "--size", min=16, max=1024, help="Image side in pixels."),
        seed: int = typer.Option(0, "--seed", help="The same seed gives the same dataset."),
        dicom: bool = typer.Option(False, "--dicom", help="Also write each image as a SYNTHETIC DICOM."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Write a seeded phantom dataset (NPZ + labels JSON per split, optional DICOM)."""
        from agent.errors import InvalidInputError
        from tools.phantoms.dataset import save_dataset

        if family not in ("chest", "head"):
            raise InvalidInputError(f"Unknown phantom family '{family}'.", "Use --family chest or --family head.")
        manifest = save_dataset(family, n, size, seed, out, dicom=dicom)  # type: ignore[arg-type]
        manifest["out"] = str(out)
        if as_json:
            emit(manifest, True)
        else:
            counts = ", ".join(f"{k} {v['n']}" for k, v in manifest["splits"].items())
            typer.echo(f"Wrote {n} {family} phantoms ({size} px, seed {seed}) to {out}: {counts}.")

    app.add_typer(data_app, name="data")


def _use_session(session: str | None) -> None:
    if session:
        from tools.imaging.workspace import current_session, get_workspace

        get_workspace(session)  # validates the name
        current_session.set(session)
