"""Saving and loading the committed perception checkpoints, with their sha256 for provenance.

A missing or unreadable checkpoint is a `ModelUnavailableError` whose hint is the exact
`radagent train NAME` command that recreates it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from agent.errors import ModelUnavailableError

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
FORMAT_VERSION = 1


@dataclass
class LoadedCheckpoint:
    state_dict: dict[str, torch.Tensor]
    config: dict[str, Any]
    seed: int
    metrics: dict[str, Any]
    extra: dict[str, Any]
    path: Path
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_checkpoint(path: Path, state_dict: dict[str, torch.Tensor], *, config: dict[str, Any], seed: int,
                    metrics: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
    """Weights stored as float16 where lossless enough, to keep the committed file small."""
    compact = {k: (v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu()) for k, v in state_dict.items()}
    torch.save({"format": FORMAT_VERSION, "state_dict": compact, "config": config, "seed": seed,
                "metrics": metrics, "extra": extra or {}}, path)


def load_checkpoint(name: str, path: Path | None = None) -> LoadedCheckpoint:
    path = Path(path) if path else CHECKPOINT_DIR / f"{name}.pt"
    hint = f"Run `radagent train {name}` to create it" + ("" if path == CHECKPOINT_DIR / f"{name}.pt" else f" (--out {path})") + "."
    if not path.is_file():
        raise ModelUnavailableError(f"The {name} checkpoint is missing ({path}).", hint)
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
        state = {k: (v.float() if v.is_floating_point() else v) for k, v in raw["state_dict"].items()}
        return LoadedCheckpoint(state, dict(raw["config"]), int(raw["seed"]), dict(raw["metrics"]),
                                dict(raw.get("extra", {})), path, sha256_of(path))
    except Exception as exc:  # truncated file, wrong format, git-lfs pointer...
        raise ModelUnavailableError(f"The {name} checkpoint at {path} is unreadable: {exc}", hint) from exc
