"""Loading the committed restoration checkpoints, with a clear error naming the retrain command.

A checkpoint is a torch file holding {"state_dict", "config", "seed", "metrics"}; its sha256 goes
into every output's provenance so an image can be traced to the exact weights that made it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from agent.errors import ModelUnavailableError

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"


@dataclass(frozen=True)
class Checkpoint:
    name: str
    path: Path
    sha256: str
    payload: dict[str, Any]

    @property
    def config(self) -> dict[str, Any]:
        return self.payload.get("config", {})


def checkpoint_path(name: str) -> Path:
    return CHECKPOINT_DIR / f"{name}.pt"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_checkpoint(name: str, path: Path | None = None) -> Checkpoint:
    """Read a checkpoint, or raise ModelUnavailableError whose hint retrains it."""
    path = Path(path) if path is not None else checkpoint_path(name)
    hint = f"Run `radagent train {name}` to (re)create it."
    if not path.is_file():
        raise ModelUnavailableError(f"The '{name}' checkpoint is missing ({path}).", hint)
    return _load_cached(name, str(path), path.stat().st_mtime_ns, hint)


@lru_cache(maxsize=8)
def _load_cached(name: str, path: str, _mtime: int, hint: str) -> Checkpoint:
    import torch

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, not a torch file, wrong pickle: all mean "corrupt"
        raise ModelUnavailableError(f"The '{name}' checkpoint is corrupt or unreadable ({exc.__class__.__name__}).", hint) from exc
    if not isinstance(payload, dict) or "state_dict" not in payload or "config" not in payload:
        raise ModelUnavailableError(f"The '{name}' checkpoint has no weights or config.", hint)
    return Checkpoint(name, Path(path), sha256_of(Path(path)), payload)


def build_from(checkpoint: Checkpoint, builder) -> Any:
    """Instantiate a network from its saved config and load the weights, in eval mode."""
    net = builder(**checkpoint.config.get("net", {}))
    try:
        net.load_state_dict(checkpoint.payload["state_dict"] if "state_dict" in checkpoint.payload else checkpoint.payload)
    except (RuntimeError, KeyError) as exc:
        raise ModelUnavailableError(f"The '{checkpoint.name}' checkpoint does not match its network ({exc.__class__.__name__}).",
                                    f"Run `radagent train {checkpoint.name}` to recreate it.") from exc
    return net.eval()
