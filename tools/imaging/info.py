"""The `image_info` tool: what an image is, from de-identified metadata only (no PHI, no file names)."""

from __future__ import annotations

import re
from typing import Any

from tools.imaging.load import load_image
from tools.imaging.schemas import ImageInfoArgs
from tools.schemas import Flag, ToolResult


class ImageInfoResult(ToolResult):
    """Modality, geometry and the safe header subset of one image or series."""

    image_id: str | None = None
    modality: str
    kind: str
    shape: list[int]
    rows: int
    columns: int
    frames: int
    color: bool
    spacing_mm: list[float] | None = None
    slice_spacing_mm: float | None = None
    field_of_view_mm: list[float] | None = None
    intensity_range: list[float]
    intensity_unit: str
    metadata: dict[str, Any]


def _summary(result: ImageInfoResult) -> str:
    size = f"{result.rows} x {result.columns} px"
    if result.frames > 1:
        size = f"{result.frames} slices/frames of {size}"
    if result.spacing_mm:
        spacing = f"pixel spacing {result.spacing_mm[0]:.3g} x {result.spacing_mm[1]:.3g} mm"
    else:
        spacing = f"pixel spacing {result.metadata.get('spacing_note', 'unknown')}"
    parts = [f"{result.modality} {'colour ' if result.color else ''}image, {size}, {spacing}"]
    meta = result.metadata
    if meta.get("view_position"):
        parts.append(f"view {meta['view_position']}")
    body = (meta.get("text") or {}).get("body_part")
    # only a plain coded value (CS: upper-case word) reaches the summary line the LLM reads first
    if body and not body["suspicious"] and re.fullmatch(r"[A-Z][A-Z0-9 _]{0,15}", body["untrusted_text"]):
        parts.append(f"body part {body['untrusted_text']}")
    if result.intensity_unit == "HU":
        parts.append(f"values {result.intensity_range[0]:.0f} to {result.intensity_range[1]:.0f} HU")
    prefix = f"{result.image_id}: " if result.image_id else ""
    return prefix + "; ".join(parts) + "."


def image_info(args: ImageInfoArgs) -> ImageInfoResult:
    """Load the image (workspace id or allowed path) and report its de-identified description."""
    loaded = load_image(args.image)
    pixels = loaded.pixels
    color = pixels.shape[-1] == 3 and pixels.ndim in (3, 4) and not loaded.is_volume
    rows, columns = (pixels.shape[-3], pixels.shape[-2]) if color else (pixels.shape[-2], pixels.shape[-1])
    meta = dict(loaded.metadata)
    meta.pop("image_id", None)
    unit = "HU" if loaded.modality == "CT" and loaded.kind in ("dicom", "series") else "stored value"
    spacing = [round(float(v), 6) for v in loaded.spacing_mm] if loaded.spacing_mm else None
    result = ImageInfoResult(
        image_id=loaded.image_id, modality=loaded.modality, kind=loaded.kind, shape=list(pixels.shape),
        rows=int(rows), columns=int(columns), frames=loaded.frames, color=bool(color), spacing_mm=spacing,
        slice_spacing_mm=loaded.slice_spacing_mm,
        field_of_view_mm=[round(rows * spacing[0], 2), round(columns * spacing[1], 2)] if spacing else None,
        intensity_range=[float(pixels.min()), float(pixels.max())], intensity_unit=unit, metadata=meta,
    )
    result.summary = _summary(result)
    if meta.get("suspicious_text"):
        result.flags.append(Flag(type="injection", detail="A header text field read like an instruction; it was removed."))
    if meta.get("synthetic"):
        result.summary = "SYNTHETIC (derived, not for diagnosis): " + result.summary
        result.flags.append(Flag(type="warning", detail="This image is SYNTHETIC or derived; it is not for diagnosis."))
    elif meta.get("burned_in_annotation"):
        result.flags.append(Flag(type="phi", detail="The header says text is burned into the pixels; it may identify the patient."))
    return result
