"""Shapes shared by every tool: the argument base, the result base, artifacts and flags.

Each tool is one function `Args -> Result`; Result models extend `ToolResult` so every
front door (agent, CLI, UI) can show a summary, artifacts, flags and review state the same way.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FlagType = Literal[
    "omission", "addition", "negation", "laterality", "measurement",
    "ungrounded", "readability", "scope", "phi", "injection", "warning",
]


class ToolArgs(BaseModel):
    """Base of every tool's argument schema; unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Flag(BaseModel):
    """A guardrail or tool warning shown to the user as a badge."""

    type: FlagType
    detail: str


class Artifact(BaseModel):
    """A file a tool wrote: an image, a mask, a DICOM, a comparison picture."""

    kind: Literal["image", "mask", "dicom", "png", "comparison", "overlay", "npz", "other"]
    path: str
    synthetic: bool = True
    description: str = ""


class ToolResult(BaseModel):
    """What every tool returns. `summary` is the line the LLM and the user read first."""

    summary: str = ""
    artifacts: list[Artifact] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    review: Literal["pending", "not_required", "confirmed", "rejected"] = "not_required"
    review_id: str | None = None
