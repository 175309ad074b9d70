"""`radagent chat`: a streaming terminal conversation that is saved as it goes.

Each turn goes through the agent (plan → tool → answer); tool calls are shown as they run.
Reopening the same `--session` continues the conversation; Ctrl-C or Ctrl-D leaves it saved.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from agent.errors import RadagentError

EXIT_WORDS = {"/exit", "/quit", "exit", "quit"}


def _print_event(event: dict[str, Any]) -> None:
    kind = event.get("type")
    if kind == "tool_start":
        args = ", ".join(f"{k}={v!r}" for k, v in (event.get("args") or {}).items())
        typer.secho(f"  → {event['name']}({args}) …", fg="cyan", err=True)
    elif kind == "tool":
        if event.get("ok"):
            typer.secho(f"  ✓ {event['name']} ({event['seconds']:.1f} s): {event.get('summary', '')}", fg="cyan", err=True)
            for artifact in event.get("artifacts") or []:
                typer.secho(f"    {artifact.get('kind')}: {artifact.get('path')}", fg="cyan", err=True)
            if event.get("review") == "pending":
                typer.secho(f"    review: pending ({event.get('review_id')}) - an expert must confirm.", fg="yellow", err=True)
        else:
            typer.secho(f"  ✗ {event['name']}: {event.get('error')}", fg="red", err=True)
    elif kind == "token":
        typer.echo(event.get("text", ""), nl=False)
        sys.stdout.flush()
    elif kind == "final":
        typer.echo("")
        for n, cite in enumerate(event.get("citations") or [], 1):
            typer.secho(f"  [{n}] {cite.get('title')} ({cite.get('source')})", fg="green")
        for flag in event.get("flags") or []:
            typer.secho(f"  flag {flag.get('type')}: {flag.get('detail')}", fg="yellow")


def _show_history(agent_history: list[dict[str, Any]], last: int = 6) -> None:
    if not agent_history:
        return
    typer.secho(f"(continuing: {len(agent_history)} earlier message(s); the last few:)", fg="bright_black")
    for message in agent_history[-last:]:
        who = "you" if message["role"] == "user" else "radagent"
        text = str(message["content"]).replace("\n", " ")
        typer.secho(f"  {who}: {text[:200]}", fg="bright_black")


def run_chat(session: str = "default", image: str | None = None) -> None:
    from agent.conversation import get_agent, history_messages
    from agent.settings import get_settings

    settings = get_settings()
    agent = get_agent()
    if image:
        from tools.imaging.workspace import get_workspace

        entry = get_workspace(session).add(image)
        image = entry.id
        typer.secho(f"(image added to session '{session}' as {image})", fg="bright_black")
    typer.secho(f"radagent chat - session '{session}'. Type /exit or press Ctrl-D to leave; "
                "the conversation is saved.", fg="bright_black")
    _show_history(history_messages(session))
    while True:
        try:
            text = input("you> ")
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            break
        if text.strip().lower() in EXIT_WORDS:
            break
        if not text.strip():
            continue
        typer.echo("radagent> ", nl=False)
        try:
            for event in agent.stream_turn(session, text, user=settings.user, image=image):
                _print_event(event)
        except KeyboardInterrupt:
            typer.echo("\n(interrupted; the conversation so far is saved)")
        except RadagentError as err:
            typer.secho(f"\n{err.message}" + (f" ({err.hint})" if err.hint else ""), fg="red")
        image = None  # an attached image is remembered by the session after its first turn
    typer.secho(f"Saved. Continue later with: radagent chat --session {session}", fg="bright_black")
