"""Prompts live as files in `prompts/`; this loads them by name."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"


@lru_cache(maxsize=64)
def load_prompt(name: str) -> str:
    """The text of `prompts/<name>` (with .md or .txt added when no suffix is given)."""
    candidates = [PROMPTS_DIR / name] if Path(name).suffix else [PROMPTS_DIR / f"{name}.md", PROMPTS_DIR / f"{name}.txt"]
    for path in candidates:
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
    raise FileNotFoundError(f"prompt {name!r} not found in {PROMPTS_DIR}")
