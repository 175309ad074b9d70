"""Chest phantoms as training tensors: images in [-1, 1] at 64 px plus their attribute labels."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from tools.generative.conditions import SIDES, class_index

IMAGE_SIZE = 64


@dataclass
class ChestBatch:
    """Aligned tensors for N phantoms (labels follow the phantom's ground truth)."""

    images: torch.Tensor  # (N, 1, 64, 64) float32 in [-1, 1]
    classes: torch.Tensor  # (N,) long, see conditions.py
    presence: torch.Tensor  # (N,) float 0/1
    side: torch.Tensor  # (N,) long: -1 none, 0 right, 1 left (patient side)
    size_mm: torch.Tensor  # (N,) float, 0 when absent
    severity: torch.Tensor  # (N,) long 0-3
    nodule_masks: torch.Tensor  # (N, 1, 64, 64) bool

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, index: torch.Tensor | np.ndarray | slice) -> "ChestBatch":
        return ChestBatch(*(getattr(self, f)[index] for f in self.__dataclass_fields__))


def _phantoms(split: str, n: int, seed: int) -> list:
    from tools.phantoms.dataset import phantom_split

    return phantom_split("chest", split, n, size=IMAGE_SIZE, seed=seed)


def _cache_file(split: str, n: int, seed: int) -> Path:
    """A per-data-dir tensor cache, keyed by the phantom generator's source so edits to it invalidate."""
    import tools.phantoms.chest as chest
    import tools.phantoms.dataset as dataset
    from agent.settings import get_settings

    digest = hashlib.sha256(Path(chest.__file__).read_bytes() + Path(dataset.__file__).read_bytes()).hexdigest()[:12]
    return get_settings().data_dir / "cache" / "generative" / f"chest_{split}_{n}_{seed}_{digest}.pt"


@lru_cache(maxsize=8)
def load_chest(split: str, n: int, seed: int = 0) -> ChestBatch:
    """The first n phantoms of a fixed split (train/val/test), as tensors (cached on disk)."""
    cache = _cache_file(split, n, seed)
    if cache.is_file():
        try:
            return ChestBatch(**torch.load(cache, weights_only=True))
        except Exception:
            cache.unlink(missing_ok=True)
    batch = _build(split, n, seed)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    torch.save({f: getattr(batch, f) for f in batch.__dataclass_fields__}, tmp)
    tmp.replace(cache)
    return batch


def _build(split: str, n: int, seed: int) -> ChestBatch:
    items = _phantoms(split, n, seed)
    images = np.stack([p.image for p in items]).astype(np.float32)[:, None] * 2.0 - 1.0
    labels = [p.labels for p in items]
    visible = [bool(l["lesion_present"]) and l.get("lesion_visible", True) for l in labels]
    return ChestBatch(
        images=torch.from_numpy(images),
        classes=torch.tensor([class_index(v, l["lesion_side"], float(l["lesion_size_mm"]))
                              for v, l in zip(visible, labels)], dtype=torch.long),
        presence=torch.tensor([float(v) for v in visible]),
        side=torch.tensor([SIDES.index(l["lesion_side"]) if v else -1 for v, l in zip(visible, labels)],
                          dtype=torch.long),
        size_mm=torch.tensor([float(l["lesion_size_mm"]) if v else 0.0 for v, l in zip(visible, labels)]),
        severity=torch.tensor([int(l["severity"]) for l in labels], dtype=torch.long),
        nodule_masks=torch.from_numpy(np.stack([p.masks["nodule"] for p in items]))[:, None],
    )


def to_unit(images: torch.Tensor) -> np.ndarray:
    """Model space [-1, 1] -> float32 numpy in [0, 1], shape (N, H, W)."""
    return ((images.detach().float().clamp(-1, 1) + 1.0) / 2.0).squeeze(1).cpu().numpy()


def from_unit(pixels: np.ndarray) -> torch.Tensor:
    """float (H, W) or (N, H, W) in [0, 1] -> model space (N, 1, H, W) in [-1, 1]."""
    arr = np.asarray(pixels, dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[None]
    return torch.from_numpy(arr[:, None] * 2.0 - 1.0)


def class_prior(classes: torch.Tensor, num_classes: int) -> list[float]:
    """Class frequencies in the training set: what 'unconditional' samples are drawn from."""
    counts = torch.bincount(classes, minlength=num_classes).float()
    return (counts / counts.sum()).tolist()
