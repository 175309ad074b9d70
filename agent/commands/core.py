"""Core commands: configuration, and (added by the agent layer) plan, ask and chat."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

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

    register_agent_commands(app)


def _read_batch(path: Path) -> list[dict[str, Any]]:
    from agent.errors import InvalidInputError, NotFoundError

    if not path.is_file():
        raise NotFoundError(f"Batch file {path} does not exist.", "Give a .jsonl file with one {\"q\": ...} per line.")
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            raise InvalidInputError(f"Line {number} of {path} is not JSON.",
                                    'Each line must look like {"q": "segment the heart", "image": "img-1"}.') from None
        if not isinstance(item, dict) or not isinstance(item.get("q"), str):
            raise InvalidInputError(f"Line {number} of {path} has no \"q\" string.",
                                    'Each line must look like {"q": "segment the heart", "image": "img-1"}.')
        cases.append(item)
    return cases


def register_agent_commands(app: typer.Typer) -> None:
    @app.command("plan")
    @friendly_errors
    def plan_command(
        request: Optional[str] = typer.Argument(None, help="What you want done, in your own words."),
        image: Optional[str] = typer.Option(None, "--image", help="The image the request is about (path or workspace id)."),
        batch: Optional[Path] = typer.Option(None, "--batch", help='A .jsonl file of {"q": ..., "image": ...} lines.'),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Show which tool the agent would call and with which arguments; nothing is run."""
        from agent.errors import InvalidInputError, RadagentError
        from agent.planner import plan

        if batch is None and request is None:
            raise InvalidInputError("Nothing to plan.", 'Give a request (radagent plan "segment the heart") or --batch FILE.')
        if batch is not None:
            for case in _read_batch(batch):
                try:
                    decision = plan(case["q"], image=case.get("image")).to_dict()
                except RadagentError as err:
                    decision = {"tool": None, "args": {}, "error": err.to_dict()}
                typer.echo(json.dumps(decision, ensure_ascii=False))
                sys.stdout.flush()
            return
        decision = plan(request or "", image=image)
        if as_json:
            emit(decision.to_dict(), True)
            return
        typer.echo(f"tool: {decision.tool or 'none (answer directly)'}")
        if decision.args:
            typer.echo(f"args: {json.dumps(decision.args, ensure_ascii=False)}")
        if decision.missing:
            typer.echo(f"missing: {', '.join(decision.missing)} (attach an image with --image)")

    @app.command("ask")
    @friendly_errors
    def ask_command(
        question: str = typer.Argument(..., help="A question about generative AI in medical imaging."),
        k: int = typer.Option(5, "-k", help="How many snippets to retrieve."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Answer from the knowledge base with numbered citations, or say it has no answer."""
        from agent.answer import answer_question

        result = answer_question(question, k=k)
        if as_json:
            emit(result.to_dict(), True)
            return
        typer.echo(result.answer)
        for n, cite in enumerate(result.citations, 1):
            typer.echo(f"[{n}] {cite['title']} ({cite['source']})")
        for flag in result.flags:
            typer.echo(f"flag {flag.type}: {flag.detail}", err=True)

    @app.command("chat")
    @friendly_errors
    def chat_command(
        session: str = typer.Option("default", "--session", help="Conversation name; reopen it to continue."),
        image: Optional[str] = typer.Option(None, "--image", help="An image to talk about (path or workspace id)."),
    ) -> None:
        """A streaming terminal chat; tools run through the agent and the conversation is saved."""
        from agent.chat_cli import run_chat

        run_chat(session=session, image=image)
