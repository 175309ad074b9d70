"""Core commands: configuration, and (added by the agent layer) plan, ask and chat."""

from __future__ import annotations

import json

import typer

from agent.commands.output import emit, friendly_errors


def register(app: typer.Typer) -> None:
    config_app = typer.Typer(help="Show the effective configuration.", no_args_is_help=True)

    @config_app.command("show")
    @friendly_errors
    def show(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Print the effective settings (TOML file + RADAGENT_* environment + defaults)."""
        from agent.settings import config_file_path, get_settings

        settings = get_settings()
        data = json.loads(settings.model_dump_json())
        data["llm"].pop("api_key", None)
        for user in data["ui"]["users"]:
            user["password"] = "***"
        data["config_file"] = str(config_file_path()) if config_file_path() else None
        if as_json:
            emit(data, True)
        else:
            typer.echo(json.dumps(data, indent=2))

    app.add_typer(config_app, name="config")

    @app.command("setup")
    @friendly_errors
    def setup(skip: list[str] = typer.Option(None, "--skip", help="Skip steps whose path mentions this word.")) -> None:
        """Prepare models and indexes (idempotent; the README's commands run it for you)."""
        from agent.setup import run_setup

        run_setup(echo=typer.echo, skip=tuple(skip or ()))
