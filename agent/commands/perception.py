"""CLI commands for the perception capability: `radagent segment` and `radagent describe`."""

from __future__ import annotations

from typing import Optional

import typer

from agent.commands.output import friendly_errors, run_tool_command
from agent.errors import InvalidInputError


def _pair(text: str, what: str) -> tuple[float, float]:
    values = _numbers(text, 2, what)
    return values[0], values[1]


def _numbers(text: str, count: int, what: str) -> list[float]:
    try:
        values = [float(v) for v in text.replace(" ", "").split(",")]
    except ValueError:
        values = []
    if len(values) != count:
        shape = "x,y" if count == 2 else "x0,y0,x1,y1"
        raise InvalidInputError(f"{what} '{text}' is not {count} comma-separated numbers.", f"Write it as {shape}.")
    return values


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""

    @app.command("segment")
    @friendly_errors
    def segment(
        image: str = typer.Argument(..., help="Workspace id (img-1) or image path."),
        box: Optional[str] = typer.Option(None, "--box", help="Box around the structure: x0,y0,x1,y1 (pixels)."),
        point: Optional[list[str]] = typer.Option(None, "--point", help="Point on the structure: x,y (repeatable)."),
        negative: Optional[list[str]] = typer.Option(None, "--negative", help="Point to exclude: x,y (repeatable)."),
        target: Optional[str] = typer.Option(None, "--target", help="Named structure: 'left lung', 'heart', 'nodule', ..."),
        backend: Optional[str] = typer.Option(None, "--backend", help="default | classical | sam | medsam."),
        checkpoint: Optional[str] = typer.Option(None, "--checkpoint", help="SAM/MedSAM checkpoint folder or .pth."),
        slice_index: Optional[int] = typer.Option(None, "--slice", help="Slice of a volume (default: middle)."),
        out: Optional[str] = typer.Option(None, "--out", help="Where to write the mask PNG."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Segment a structure from a box, points (positive/negative) or a named target."""
        positives = [_pair(p, "Point") for p in point or []]
        negatives = [_pair(p, "Negative point") for p in negative or []]
        args: dict = {"image": image, "target": target, "backend": backend, "checkpoint": checkpoint,
                      "slice_index": slice_index, "out": out}
        if box:
            args["box"] = tuple(_numbers(box, 4, "Box"))
        if len(positives) == 1 and not negatives:
            args["point"] = positives[0]
        elif positives or negatives:
            args["points"] = positives + negatives
            args["labels"] = [1] * len(positives) + [0] * len(negatives)
        run_tool_command("segment_image", args, as_json)

    @app.command("describe")
    @friendly_errors
    def describe(
        image: str = typer.Argument(..., help="Workspace id (img-1) or image path."),
        question: str = typer.Option("", "--question", "-q", help="A question about the image."),
        backend: Optional[str] = typer.Option(None, "--backend", help="facts (default) | vlm (a configured multimodal GGUF)."),
        vlm_model: Optional[str] = typer.Option(None, "--vlm-model", help="Multimodal GGUF path (with --backend vlm)."),
        vlm_mmproj: Optional[str] = typer.Option(None, "--vlm-mmproj", help="Its mmproj GGUF path."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Describe an image, or answer a question about it, from measured facts."""
        run_tool_command("describe_image", {"image": image, "question": question, "backend": backend,
                                            "vlm_model": vlm_model, "vlm_mmproj": vlm_mmproj}, as_json)
