"""Reproducible training plumbing shared by the restoration trainers: seeding, logging, saving."""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from tools.restoration.checkpoints import checkpoint_path, sha256_of


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def limit_threads() -> None:
    """The trainers share a small CPU; one thread keeps them polite and deterministic."""
    import torch

    torch.set_num_threads(int(os.environ.get("RADAGENT_TRAIN_THREADS", "1")))


class TrainLog:
    """Append-only JSON-lines log written next to the checkpoint (`<name>.log.jsonl`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")
        self.started = time.perf_counter()

    def write(self, **record: Any) -> None:
        record = {"t_s": round(time.perf_counter() - self.started, 1), **record}
        with open(self.path, "a") as fh:
            fh.write(json.dumps(record, default=float) + "\n")
        print(json.dumps(record, default=float), flush=True)


def output_paths(name: str, out: Path | None) -> tuple[Path, Path]:
    ckpt = Path(out) if out is not None else checkpoint_path(name)
    return ckpt, ckpt.with_name(ckpt.stem + ".log.jsonl")


def save_checkpoint(path: Path, state_dict: dict, config: dict, seed: int, metrics: dict) -> str:
    """Save {state_dict, config, seed, metrics} as float32 tensors; returns the file's sha256."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": state_dict, "config": config, "seed": seed, "metrics": metrics}, path)
    return sha256_of(path)
