"""Errors a user can cause, each with a human message and a hint on what to do.

The CLI prints them without a traceback, the agent turns them into a tool result the
LLM can read, and the UI shows them inline. Anything else is a bug.
"""

from __future__ import annotations


class RadagentError(Exception):
    """Base of every user-facing error: `message` says what is wrong, `hint` what to do."""

    kind: str = "error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def to_dict(self) -> dict[str, str]:
        return {"error": self.kind, "message": self.message, "hint": self.hint}


class InvalidInputError(RadagentError):
    """The input is malformed, out of range, of the wrong type or too large."""

    kind = "invalid_input"


class NotFoundError(RadagentError):
    """A referenced image, file, review item or source does not exist."""

    kind = "not_found"


class AccessDeniedError(RadagentError):
    """A path outside the allowed folders, or an action the user's role may not take."""

    kind = "access_denied"


class ModelUnavailableError(RadagentError):
    """A model, checkpoint or engine is missing or corrupt; the hint names the fix."""

    kind = "model_unavailable"


class ToolNotAvailableError(RadagentError):
    """A catalogue tool that is not built yet. Never faked: the user is told so."""

    kind = "not_available"


class ReviewRequiredError(RadagentError):
    """An output is still pending expert review and cannot be exported or treated as final,
    or a high-impact call waits for an expert's approval (`action_id` names the queued request)."""

    kind = "review_required"

    def __init__(self, message: str, hint: str = "", action_id: str | None = None) -> None:
        super().__init__(message, hint)
        self.action_id = action_id
