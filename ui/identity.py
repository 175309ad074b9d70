"""Who is on the page: the signed-in user and role, or an anonymous per-browser id on loopback.

Conversation history, the workspace and review permissions all hang off this identity, so two
browsers never share state unless they sign in as the same user.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import gradio as gr

from agent.settings import get_settings


@dataclass(frozen=True)
class Identity:
    user: str
    role: str  # viewer | expert
    session: str  # conversation thread and workspace key


def new_browser_id() -> str:
    return secrets.token_hex(8)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:64] or "anon"


def identify(request: gr.Request | None, browser_id: str | None) -> Identity:
    """Signed-in users keep one history across browsers; anonymous browsers each get their own."""
    settings = get_settings()
    username = getattr(request, "username", None) if request is not None else None
    if username:
        role = next((u.role for u in settings.ui.users if u.name == username), "viewer")
        return Identity(user=username, role=role, session=f"ui-{_safe(username)}")
    browser = _safe(browser_id or "anon")
    return Identity(user=f"local-{browser[:8]}", role=settings.role, session=f"ui-{browser}")


def check_login(username: str, password: str) -> bool:
    """Gradio's auth callback: compare against the configured users in constant time."""
    for user in get_settings().ui.users:
        if user.name == username and secrets.compare_digest(user.password, password):
            return True
    return False
