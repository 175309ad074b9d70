"""Saving and loading the committed checkpoints, with a clear error and the retrain command when broken."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import torch

from agent.errors import ModelUnavailableError

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"

# checkpoint name -> the `radagent train` name that rebuilds it
TRAIN_NAMES = {"vae": "vae", "gan": "gan", "ddpm": "ddpm", "attribute-classifier": "attribute-classifier"}


def checkpoint_path(name: str) -> Path:
    return CHECKPOINT_DIR / f"{name}.pt"


def log_path(checkpoint: Path) -> Path:
    return checkpoint.with_suffix(".log.jsonl")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_checkpoint(path: Path, *, state_dict: dict[str, torch.Tensor], config: dict[str, Any], seed: int,
                    metrics: dict[str, Any], extra: dict[str, Any] | None = None) -> Path:
    """Weights + everything needed to rebuild and judge the model, in one small file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"state_dict": {k: v.detach().cpu().contiguous() for k, v in state_dict.items()},
               "config": config, "seed": seed, "metrics": metrics, "extra": extra or {},
               "format": 1}
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_checkpoint(name: str, path: Path | None = None) -> tuple[dict[str, Any], str]:
    """(payload, sha256) of a checkpoint, or ModelUnavailableError naming the train command."""
    path = path or checkpoint_path(name)
    command = f"radagent train {TRAIN_NAMES.get(name, name)}"
    if not path.is_file():
        raise ModelUnavailableError(f"The {name} checkpoint is missing ({path}).", f"Run `{command}` to build it.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or "state_dict" not in payload or "config" not in payload:
            raise ValueError("not a radagent checkpoint")
    except Exception as exc:  # any unreadable file is the same problem for the user
        raise ModelUnavailableError(f"The {name} checkpoint is corrupt or unreadable ({path}: {exc}).",
                                    f"Run `{command}` to rebuild it.") from exc
    return payload, sha256_of(path)


def restore(model: torch.nn.Module, payload: dict[str, Any], name: str) -> torch.nn.Module:
    """Load weights, turning a shape mismatch into ModelUnavailableError."""
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise ModelUnavailableError(f"The {name} checkpoint does not match the model definition: {exc}",
                                    f"Run `radagent train {TRAIN_NAMES.get(name, name)}` to rebuild it.") from exc
    return model.eval()


class TrainLog:
    """Appends one JSON line per logged step next to the checkpoint, and echoes it."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name
        self.started = time.perf_counter()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")

    def write(self, **fields: Any) -> None:
        fields = {"elapsed_s": round(time.perf_counter() - self.started, 1), **fields}
        line = json.dumps({k: (round(v, 5) if isinstance(v, float) else v) for k, v in fields.items()})
        with open(self.path, "a") as fh:
            fh.write(line + "\n")
        print(f"[{self.name}] {line}", flush=True)


def seed_everything(seed: int, threads: int = 1) -> torch.Generator:
    """Same seed -> same training run: global RNGs, threads, and a generator for data order."""
    import random

    import numpy as np

    torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
