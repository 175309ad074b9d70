"""Cheap check that a file is a usable image, before it is copied into a workspace."""

from __future__ import annotations

from pathlib import Path

from agent.errors import InvalidInputError


def probe(path: Path) -> tuple[str, str]:
    """(kind, modality) of an image file; InvalidInputError when it is not a usable image.

    DICOM is checked from its header (pixel data present, size within limits) without decoding;
    other formats are small enough to load outright.
    """
    from tools.imaging.dicom_read import check_pixel_budget, pixel_count, read_dataset
    from tools.imaging.load import decoder_errors, load_path, sniff

    if path.stat().st_size == 0:
        raise InvalidInputError(f"'{path.name}' is empty.", "Give a file that holds an image.")
    kind = sniff(path)
    if kind in ("dicom", "dicom?"):
        with decoder_errors(path.name):
            ds = read_dataset(path)
            check_pixel_budget(pixel_count(ds))
            return "dicom", str(ds.get("Modality", "") or "OT")
    if kind == "zip":
        raise InvalidInputError("A ZIP inside a series is not supported.", "Add the ZIP itself.")
    loaded = load_path(path)
    return loaded.kind, loaded.modality
