"""How every CLI command prints: JSON with --json, readable text otherwise, clean errors always."""

from __future__ import annotations

import functools
import json
import sys
from typing import Any, Callable, TypeVar

import typer
from pydantic import BaseModel

from agent.errors import RadagentError

F = TypeVar("F", bound=Callable[..., Any])


def to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value


def emit(value: Any, as_json: bool) -> None:
    """Print a result: JSON for machines, a summary plus fields for people."""
    data = to_jsonable(value)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str))
        return
    if isinstance(data, dict):
        if data.get("summary"):
            typer.echo(data["summary"])
        for key, val in data.items():
            if key == "summary" or val in (None, [], {}, ""):
                continue
            text = val if isinstance(val, str) else json.dumps(val, ensure_ascii=False, default=str)
            typer.echo(f"{key}: {text}")
    elif isinstance(data, list):
        for item in data:
            typer.echo(json.dumps(item, ensure_ascii=False, default=str))
    else:
        typer.echo(str(data))


def friendly_errors(func: F) -> F:
    """Print a RadagentError as message + hint on stderr and exit 2, without a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RadagentError as err:
            typer.echo(f"Error: {err.message}", err=True)
            if err.hint:
                typer.echo(f"Hint: {err.hint}", err=True)
            if kwargs.get("as_json"):
                typer.echo(json.dumps(err.to_dict()))
            raise typer.Exit(code=2) from None
        except KeyboardInterrupt:
            typer.echo("Interrupted.", err=True)
            raise typer.Exit(code=130) from None

    return wrapper  # type: ignore[return-value]


def run_tool_command(tool: str, args: dict[str, Any], as_json: bool) -> None:
    """The CLI door onto a catalogue tool: same function, same review and audit as the agent."""
    from agent.settings import get_settings
    from tools.registry import run_tool

    settings = get_settings()
    result = run_tool(tool, {k: v for k, v in args.items() if v is not None}, user=settings.user,
                      require_approval=True, role=settings.role)
    emit(result, as_json)
    if not as_json and result.review == "pending":
        typer.echo(f"review: pending ({result.review_id}) - an expert must confirm before this is used.", err=True)
    sys.stdout.flush()
