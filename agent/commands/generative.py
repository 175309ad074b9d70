"""CLI commands for the generative capability: generate, edit, anomaly (all via run_tool)."""

from __future__ import annotations

from typing import Optional

import typer

from agent.commands.output import friendly_errors, run_tool_command


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""

    @app.command("generate")
    @friendly_errors
    def generate(
        model: str = typer.Option("ddim", "--model", help="Generator: vae, gan, ddpm or ddim."),
        n: int = typer.Option(4, "--n", help="Number of images."),
        seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same images."),
        condition: str = typer.Option("", "--condition", help="e.g. 'nodule in right lung, 12 mm'; empty = unconditional."),
        steps: Optional[int] = typer.Option(None, "--steps", help="Diffusion sampling steps (DDIM default 50, DDPM 1000)."),
        out: Optional[str] = typer.Option(None, "--out", help="Folder for the images (PNG + DICOM)."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Generate SYNTHETIC chest images from a trained generator, with quality figures."""
        run_tool_command("generate_images", {"model": model, "n": n, "seed": seed, "condition": condition,
                                             "steps": steps, "out_dir": out}, as_json)

    @app.command("edit")
    @friendly_errors
    def edit(
        image: str = typer.Argument(..., help="Image: workspace id (img-1) or a path."),
        attribute: str = typer.Option(..., "--attribute", help="lesion_size, lesion_presence or severity."),
        strength: float = typer.Option(1.0, "--strength", help="How far to move; negative shrinks or removes."),
        side: Optional[str] = typer.Option(None, "--side", help="Patient side (left/right) when adding a lesion."),
        global_edit: bool = typer.Option(False, "--global", help="Do not restrict the change to where it happened."),
        out: Optional[str] = typer.Option(None, "--out", help="File path for the edited PNG (DICOM beside it)."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Edit an image; the change is measured independently, not by the editing model.

        Presence and severity move along directions in the VAE latent; size rescales the located
        nodule in place.
        """
        run_tool_command("edit_image", {"image": image, "attribute": attribute, "strength": strength, "side": side,
                                        "local": not global_edit, "out": out}, as_json)

    @app.command("anomaly")
    @friendly_errors
    def anomaly(
        image: str = typer.Argument(..., help="Image: workspace id (img-1) or a path."),
        out: Optional[str] = typer.Option(None, "--out", help="File path for the anomaly map PNG."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Anomaly map: reconstruction errors of the VAE and diffusion model, z-scored against healthy training chests."""
        run_tool_command("detect_anomaly", {"image": image, "out": out}, as_json)
