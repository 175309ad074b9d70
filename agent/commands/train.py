"""`radagent train NAME`: retrain a model's checkpoint from the phantom dataset, by seed."""

from __future__ import annotations

import importlib
from pathlib import Path

import typer

from agent.commands.output import friendly_errors
from agent.errors import InvalidInputError


def register(app: typer.Typer) -> None:
    @app.command("train")
    @friendly_errors
    def train(
        name: str = typer.Argument(..., help="Model to train; `radagent train list` shows them."),
        seed: int = typer.Option(0, help="Random seed; the same seed reproduces the checkpoint."),
        out: Path = typer.Option(None, help="Checkpoint path (default: the committed one)."),
        quick: bool = typer.Option(False, "--quick", help="A short run for smoke-testing."),
    ) -> None:
        """Train one of the embedded models on phantoms and write its checkpoint and log."""
        from tools.training import TRAINERS

        if name == "list":
            for model in sorted(TRAINERS):
                typer.echo(model)
            return
        if name not in TRAINERS:
            raise InvalidInputError(f"Unknown model '{name}'.", f"Trainable models: {', '.join(sorted(TRAINERS)) or 'none yet'}.")
        module, _, attr = TRAINERS[name].partition(":")
        getattr(importlib.import_module(module), attr)(seed=seed, out=out, quick=quick)
