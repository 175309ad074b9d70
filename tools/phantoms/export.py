"""Phantoms as DICOM: each image written through the derived-output writer, so it is marked SYNTHETIC."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_phantom_dicoms(family: str, items: list[Any], out_dir: Path) -> list[str]:
    """Write every phantom of one split under `out_dir`; returns the DICOM file names in order.

    Chest phantoms become DX images ([0, 1] intensities), head phantoms CT in Hounsfield units.
    """
    from tools.imaging.derived import write_derived

    out_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for i, item in enumerate(items):
        pixels = item.image if family == "chest" else item.ct_hu
        derived = write_derived(
            pixels, tool="phantoms", model=f"{family}-phantom", source=None, seed=item.seed,
            description=f"{family} phantom {i} (seed {item.seed}, index {item.index})", out_dir=out_dir,
            modality="DX" if family == "chest" else "CT", spacing_mm=item.spacing_mm,
            extra_provenance={"phantom_index": item.index, "labels": item.labels}, register=False,
        )
        names.append(derived.dicom_path.name)
    return names
