"""Fixed train/val/test splits of the phantoms, and writing a split dataset to disk.

Each split draws from its own seed stream derived from (family, split, seed), so the three splits
never share a sample and a given (family, split, n, size, seed) is always the same data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tools.phantoms.chest import ChestPhantom, generate_chest
from tools.phantoms.head import HeadPhantom, generate_head

Family = Literal["chest", "head"]
Split = Literal["train", "val", "test"]
SPLITS: tuple[Split, ...] = ("train", "val", "test")
FAMILIES: tuple[Family, ...] = ("chest", "head")
DEFAULT_FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}


def split_seed(family: Family, split: Split, seed: int) -> int:
    """The generator seed of one split: disjoint streams per (family, split) for a user seed."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}")
    seq = np.random.SeedSequence([int(seed), FAMILIES.index(family) + 1, SPLITS.index(split) + 11])
    return int(seq.generate_state(1, dtype=np.uint32)[0])


def generate(family: Family, n: int, size: int, seed: int, **kwargs: Any) -> list[ChestPhantom] | list[HeadPhantom]:
    """Phantoms of one family with the family's own generator keyword arguments."""
    if family == "chest":
        return generate_chest(n, size=size, seed=seed, **kwargs)
    if family == "head":
        return generate_head(n, size=size, seed=seed, **kwargs)
    raise ValueError(f"family must be one of {FAMILIES}")


def phantom_split(family: Family, split: Split, n: int, size: int = 64, seed: int = 0,
                  **kwargs: Any) -> list[ChestPhantom] | list[HeadPhantom]:
    """`n` phantoms of a fixed split; the same arguments always return the same phantoms."""
    return generate(family, n, size, split_seed(family, split, seed), **kwargs)


def _arrays(family: Family, items: list[Any]) -> dict[str, np.ndarray]:
    if not items:
        return {}
    out: dict[str, np.ndarray] = {}
    if family == "chest":
        out["image"] = np.stack([p.image for p in items])
    else:
        out["ct_hu"] = np.stack([p.ct_hu for p in items])
        out["mr"] = np.stack([p.mr for p in items])
        out["image"] = np.stack([p.image for p in items])
    for name in items[0].masks:
        out[f"mask_{name}"] = np.stack([p.masks[name] for p in items])
    out["spacing_mm"] = np.array([p.spacing_mm for p in items], dtype=np.float32)
    return out


def split_counts(n: int, fractions: dict[str, float] | None = None) -> dict[str, int]:
    """How many of `n` samples go to each split (train gets the rounding remainder)."""
    fr = fractions or DEFAULT_FRACTIONS
    val = int(round(n * fr["val"]))
    test = int(round(n * fr["test"]))
    return {"train": max(n - val - test, 0), "val": val, "test": test}


def save_dataset(family: Family, n: int, size: int, seed: int, out_dir: Path | str,
                 *, dicom: bool = False, fractions: dict[str, float] | None = None) -> dict[str, Any]:
    """Write `<out_dir>/<split>.npz` (images and masks) and `<split>_labels.json` for each split.

    Returns the manifest also written to `<out_dir>/manifest.json`. With `dicom=True` each image
    is also written as a SYNTHETIC Secondary Capture under `<out_dir>/dicom/<split>/`.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts = split_counts(n, fractions)
    manifest: dict[str, Any] = {"family": family, "n": n, "size": size, "seed": seed, "splits": {}}
    for split in SPLITS:
        items = phantom_split(family, split, counts[split], size=size, seed=seed)
        np.savez_compressed(out / f"{split}.npz", **_arrays(family, items))
        labels = [dict(p.labels, index=i, spacing_mm=list(p.spacing_mm)) for i, p in enumerate(items)]
        (out / f"{split}_labels.json").write_text(json.dumps(labels, indent=1))
        manifest["splits"][split] = {"n": len(items), "seed": split_seed(family, split, seed),
                                     "npz": f"{split}.npz", "labels": f"{split}_labels.json"}
        if dicom and items:
            from tools.phantoms.export import write_phantom_dicoms

            manifest["splits"][split]["dicom"] = write_phantom_dicoms(family, items, out / "dicom" / split)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest
