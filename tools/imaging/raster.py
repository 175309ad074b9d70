"""Non-DICOM inputs -> LoadedImage: PNG/JPEG (Pillow), NIfTI (nibabel) and NPZ arrays.

Sizes are read from headers (Pillow's lazy open, the NIfTI header, the NPY headers inside the
NPZ) and checked against `imaging.max_pixels` before any pixel is decoded.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np

from agent.errors import InvalidInputError
from tools.imaging.archive import check_zip
from tools.imaging.dicom_read import check_pixel_budget
from tools.imaging.types import LoadedImage

NPZ_IMAGE_KEYS = ("pixels", "image", "ct_hu", "mr", "arr_0")


def _finite(pixels: np.ndarray, what: str) -> np.ndarray:
    if pixels.size == 0 or 0 in pixels.shape:
        raise InvalidInputError(f"The {what} has zero size.", "The file holds no usable image.")
    if not np.isfinite(pixels).all():
        raise InvalidInputError(f"The {what} contains NaN or infinite values.", "Re-export it with valid pixels.")
    return pixels


def load_raster(path: Path) -> LoadedImage:
    """PNG/JPEG/TIFF/BMP via Pillow; grey stays (H, W), colour becomes (H, W, 3)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            width, height = im.size
            bands = len(im.getbands())
            check_pixel_budget(width * height * max(1, min(bands, 3)))
            frames = getattr(im, "n_frames", 1)
            im.load()
            if im.mode in ("I;16", "I;16B", "I;16L", "I", "F", "L"):
                pixels = np.asarray(im, dtype=np.float32)
            else:
                rgb = np.asarray(im.convert("RGB"), dtype=np.float32)
                grey = (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
                pixels = np.ascontiguousarray(rgb[..., 0]) if grey else rgb
            fmt = im.format or path.suffix.lstrip(".").upper()
    except InvalidInputError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInputError(f"'{path.name}' is not a readable image ({exc}).",
                                "Give a DICOM, NIfTI, PNG, JPEG or NPZ file.") from exc
    _finite(pixels, "image")
    meta = {"format": fmt, "rows": int(pixels.shape[0]), "columns": int(pixels.shape[1]),
            "note": "raster image: no DICOM header, so no spacing or modality"}
    if frames > 1:
        meta["frames_in_file"] = int(frames)
    return LoadedImage(pixels=pixels, modality="OT", spacing_mm=None, source_path=path, metadata=meta, kind="raster")


def load_nifti(path: Path) -> LoadedImage:
    """NIfTI in radiological display orientation: (slices, rows, cols), patient left on image right."""
    import nibabel as nib

    try:
        img = nib.load(str(path))
        shape = tuple(int(s) for s in img.shape)
        if len(shape) < 2 or any(s <= 0 for s in shape):
            raise InvalidInputError(f"The NIfTI image has an unusable shape {shape}.", "Give a 2D or 3D image.")
        check_pixel_budget(int(np.prod(shape)))
        img = nib.as_closest_canonical(img)  # RAS+
        data = np.asarray(img.get_fdata(dtype=np.float32))
        zooms = tuple(float(z) for z in img.header.get_zooms()[:3])
        descrip = bytes(img.header.get("descrip", b"")).decode("ascii", "ignore") if hasattr(img.header, "get") else ""
    except InvalidInputError:
        raise
    except Exception as exc:  # nibabel raises many types on damaged files
        raise InvalidInputError(f"'{path.name}' is not a readable NIfTI file ({type(exc).__name__}: {exc}).",
                                "Check the file is complete (.nii or .nii.gz).") from exc
    while data.ndim > 3:  # keep the first volume of a time series
        data = data[..., 0]
    if data.ndim == 2:
        data = data[:, :, None]
    # RAS+: x to the patient's right, y anterior. Display rows anterior->posterior and columns
    # patient right->left (radiological), slices inferior->superior.
    volume = np.ascontiguousarray(np.transpose(data[::-1, ::-1, :], (2, 1, 0)))
    _finite(volume, "NIfTI image")
    zooms = zooms + (1.0,) * (3 - len(zooms))
    pixels = volume[0] if volume.shape[0] == 1 else volume
    upper = descrip.upper()
    modality = "CT" if "CT" in upper.split() else "MR" if "MR" in upper.split() or "MRI" in upper else "OT"
    meta = {"format": "NIfTI", "shape": list(pixels.shape), "voxel_size_mm": [round(z, 4) for z in zooms],
            "orientation": "radiological (patient left on image right), slices inferior to superior"}
    return LoadedImage(
        pixels=pixels, modality=modality, spacing_mm=(zooms[1], zooms[0]), source_path=path, metadata=meta,
        slice_positions=[float(i * zooms[2]) for i in range(volume.shape[0])] if volume.shape[0] > 1 else None,
        slice_spacing_mm=zooms[2] if volume.shape[0] > 1 else None, kind="nifti",
    )


def _npy_shape(archive: zipfile.ZipFile, name: str) -> tuple[tuple[int, ...], np.dtype]:
    with archive.open(name) as fh:
        version = np.lib.format.read_magic(fh)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = reader(fh)  # header only, no data
    return tuple(shape), dtype


def load_npz(path: Path) -> LoadedImage:
    """An array saved with numpy: key `pixels`/`image`/`ct_hu`/`mr`/`arr_0` (or the only array).

    Optional keys: `spacing_mm` (2 numbers) and `modality` (string). Pickled objects are refused.
    """
    check_zip(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n[:-4] for n in archive.namelist() if n.endswith(".npy")]
            key = next((k for k in NPZ_IMAGE_KEYS if k in names), names[0] if len(names) == 1 else None)
            if key is None:
                raise InvalidInputError(f"The NPZ has no image array (keys: {', '.join(names) or 'none'}).",
                                        f"Save the image under one of: {', '.join(NPZ_IMAGE_KEYS)}.")
            shape, dtype = _npy_shape(archive, key + ".npy")
        if dtype.kind not in "biuf":
            raise InvalidInputError(f"The array '{key}' has type {dtype}, not numbers.", "Save a numeric array.")
        check_pixel_budget(int(np.prod(shape)) if shape else 0)
        with np.load(path, allow_pickle=False) as data:
            pixels = np.asarray(data[key], dtype=np.float32)
            spacing = tuple(float(v) for v in np.ravel(data["spacing_mm"])[:2]) if "spacing_mm" in data else None
            modality = str(data["modality"]) if "modality" in data and data["modality"].dtype.kind == "U" else "OT"
            modality = modality.upper() if re.fullmatch(r"[A-Za-z]{2,4}", modality) else "OT"
    except InvalidInputError:
        raise
    except Exception as exc:
        raise InvalidInputError(f"'{path.name}' is not a readable NPZ file ({type(exc).__name__}: {exc}).",
                                "Save the image with numpy.savez.") from exc
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[-1] not in (3,) and pixels.shape[0] < 1):
        raise InvalidInputError(f"The array has shape {pixels.shape}; expected (H, W), (S, H, W) or (H, W, 3).",
                                "Save one image or a stack of slices.")
    _finite(pixels, "array")
    if spacing is not None and (len(spacing) != 2 or min(spacing) <= 0 or not np.isfinite(spacing).all()):
        spacing = None
    meta = {"format": "NPZ", "array": key, "shape": list(pixels.shape)}
    if pixels.ndim == 3 and pixels.shape[-1] != 3:
        meta["frames"] = int(pixels.shape[0])
    return LoadedImage(pixels=pixels, modality=modality[:16] or "OT", spacing_mm=spacing,  # type: ignore[arg-type]
                       source_path=path, metadata=json.loads(json.dumps(meta)), kind="npz")
