"""Loading a slice for restoration and writing every output through the derived-output writer.

All three tools share this: pick one 2-D slice, refuse the wrong modality with the reason, and
write the result as a SYNTHETIC derived image (DICOM + bannered PNG) with full provenance, plus
the comparison picture as an artifact of kind "comparison".
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agent.errors import InvalidInputError
from tools.restoration.checkpoints import Checkpoint
from tools.restoration.compare import save_comparison
from tools.schemas import Artifact, Flag

MODALITY_NAMES = {"CT": "CT", "MR": "MR", "CR": "a radiograph (CR)", "DX": "a radiograph (DX)",
                  "US": "ultrasound", "OT": "an image without a modality (e.g. PNG)", "SC": "a secondary capture"}


@dataclass
class Slice:
    loaded: Any  # tools.imaging.types.LoadedImage
    pixels: np.ndarray  # float32 (H, W)
    flags: list[Flag]


def load_slice(ref: str, allowed: tuple[str, ...], tool: str, purpose: str) -> Slice:
    """Load `ref` and return one 2-D slice, refusing modalities outside `allowed` with the reason."""
    from tools.imaging.load import load_image

    loaded = load_image(ref)
    modality = (loaded.modality or "OT").upper()
    if modality not in allowed:
        seen = MODALITY_NAMES.get(modality, modality)
        raise InvalidInputError(
            f"{tool} works on {' or '.join(allowed)} images ({purpose}); '{ref}' is {seen}.",
            f"Give an image of modality {' or '.join(allowed)}; {tool} would produce meaningless output on {seen}.")
    pixels = np.asarray(loaded.pixels, dtype=np.float32)
    flags: list[Flag] = []
    if pixels.ndim == 3 and pixels.shape[-1] in (3, 4):
        raise InvalidInputError(f"'{ref}' is a colour image; {tool} needs a grayscale {'/'.join(allowed)} slice.",
                                "Give the original grayscale DICOM or NIfTI.")
    if pixels.ndim == 3:
        index = pixels.shape[0] // 2
        flags.append(Flag(type="warning", detail=f"'{ref}' is a volume of {pixels.shape[0]} slices; slice {index} was processed."))
        pixels = pixels[index]
    if pixels.ndim != 2 or min(pixels.shape) < 16:
        raise InvalidInputError(f"'{ref}' has shape {tuple(loaded.pixels.shape)}; {tool} needs a 2-D slice of at least 16x16.",
                                "Give a single image slice.")
    if not np.isfinite(pixels).all():
        raise InvalidInputError(f"'{ref}' contains non-finite pixel values.", "Check the file; it may be corrupt.")
    return Slice(loaded, pixels, flags)


def writable_parent(out: str) -> Path:
    """The folder of a requested output file, refused unless it lies in a folder the tools may use."""
    from agent.errors import AccessDeniedError
    from tools.imaging.access import allowed_roots

    parent = Path(out).expanduser().resolve().parent
    if not any(parent == root or root in parent.parents for root in allowed_roots()):
        raise AccessDeniedError(f"Writing to '{out}' is not allowed: it is outside the working folders.",
                                "Write inside the working directory or the data directory.")
    parent.mkdir(parents=True, exist_ok=True)
    return parent


def write_output(
    pixels: np.ndarray,
    *,
    source: Any,
    tool: str,
    checkpoint: Checkpoint,
    seed: int | None,
    description: str,
    modality: str,
    panels: list[tuple[str, np.ndarray, tuple[float, float]]],
    title: str,
    out: str | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[dict[str, str | None], list[Artifact]]:
    """Write the derived image and its comparison picture; return their paths and the artifacts."""
    from tools.imaging.derived import write_derived

    out_dir = writable_parent(out) if out else None
    provenance = {"checkpoint": checkpoint.path.name, "training_seed": checkpoint.payload.get("seed")}
    provenance.update(extra or {})
    derived = write_derived(
        np.asarray(pixels, dtype=np.float32), tool=tool, model=checkpoint.name, source=source, seed=seed,
        checkpoint_sha256=checkpoint.sha256, description=description, out_dir=out_dir, modality=modality,
        spacing_mm=getattr(source, "spacing_mm", None), extra_provenance=provenance,
    )
    png = Path(derived.png_path)
    dicom = Path(derived.dicom_path) if getattr(derived, "dicom_path", None) else None
    if out:
        target = Path(out).expanduser().resolve()
        if target != png:
            shutil.copyfile(png, target)
            png = target
        if dicom is not None and target.with_suffix(".dcm") != dicom:
            shutil.copyfile(dicom, target.with_suffix(".dcm"))
            dicom = target.with_suffix(".dcm")
    comparison = save_comparison(panels, png.with_name(png.stem + "_comparison.png"), title=title)
    artifacts = [Artifact(kind="image", path=str(png), description=f"{description} (SYNTHETIC PNG)")]
    if dicom is not None:
        artifacts.append(Artifact(kind="dicom", path=str(dicom), description="Derived DICOM marked SYNTHETIC with provenance"))
    artifacts.append(Artifact(kind="comparison", path=str(comparison), description=" | ".join(p[0] for p in panels)))
    return {"image": str(png), "dicom": str(dicom) if dicom else None, "comparison": str(comparison)}, artifacts
