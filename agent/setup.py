"""First-run preparation, idempotent: each step checks what is already there before working.

Run by `scripts/setup` through `radagent setup`. Capabilities add their step here.
"""

from __future__ import annotations

import importlib
from typing import Callable

# (what the user sees, "module:function"); each function takes no arguments and is idempotent.
SETUP_STEPS: list[tuple[str, str]] = [
    ("Assembling the local language model", "agent.llm.models:ensure_default_model"),
    ("Indexing the knowledge base", "knowledge.ingest:index_curated_corpus"),
]


def run_setup(echo: Callable[[str], None] = print, skip: tuple[str, ...] = ()) -> None:
    for label, path in SETUP_STEPS:
        if any(word in path for word in skip):
            echo(f"==> {label}: skipped")
            continue
        echo(f"==> {label}")
        module, _, attr = path.partition(":")
        getattr(importlib.import_module(module), attr)()
