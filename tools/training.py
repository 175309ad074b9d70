"""`radagent train NAME`: every trainable model, registered in one place.

Each entry maps a model name to "module:function"; the function takes (seed: int, out: Path | None,
quick: bool) and writes the checkpoint (default: the committed path) plus a training log.
"""

from __future__ import annotations

TRAINERS: dict[str, str] = {
}
