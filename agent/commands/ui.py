"""`radagent ui`: serve the web page (loopback by default)."""

from __future__ import annotations

import typer

from agent.commands.output import friendly_errors


def register(app: typer.Typer) -> None:
    @app.command("ui")
    @friendly_errors
    def ui(
        host: str = typer.Option(None, help="Address to bind (default from settings: 127.0.0.1). "
                                            "Anything but loopback requires logins in [[ui.users]]."),
        port: int = typer.Option(None, help="Port (default 7860)."),
    ) -> None:
        """Serve the Gradio app: chat, study viewer, report rewrite, generation and review."""
        from agent.settings import get_settings
        from ui.app import serve

        settings = get_settings()
        if host:
            settings.ui.host = host
        if port:
            settings.ui.port = port
        typer.echo(f"radagent is starting on http://{settings.ui.host}:{settings.ui.port} (Ctrl-C stops it)")
        serve()
