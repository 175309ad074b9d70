"""Runs a page event as a given identity: the right workspace, the right user on the audit log."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from ui.identity import Identity


@contextmanager
def acting_as(identity: Identity) -> Iterator[Identity]:
    """Bind the workspace session for the duration of one (non-generator) step of an event handler.

    Gradio may resume a streaming handler in a fresh context, so the previous value is restored
    with `set` rather than a context-bound token, and streaming handlers wrap each step separately.
    """
    from tools.imaging import workspace

    previous = workspace.current_session.get()
    workspace.current_session.set(identity.session)
    try:
        yield identity
    finally:
        workspace.current_session.set(previous)


def error_html(message: str, hint: str = "") -> str:
    """An inline error the user can act on; never a stack trace."""
    hint_html = f"<div class='ra-hint'>{_escape(hint)}</div>" if hint else ""
    return f"<div class='ra-error' role='alert'><b>Could not do that:</b> {_escape(message)}{hint_html}</div>"


def badge(text: str, kind: str) -> str:
    """A small coloured label: pending, confirmed, rejected, synthetic, or a flag type."""
    return f"<span class='ra-badge ra-{_escape(kind)}'>{_escape(text)}</span>"


def _escape(text: str) -> str:
    import html

    return html.escape(str(text), quote=True)
