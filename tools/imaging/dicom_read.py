"""DICOM files and series folders -> LoadedImage: one read per file, limits checked before decoding.

Each file is read once (header and raw pixel bytes in one pass, the file size already bounded);
the pixel count from Rows/Columns/NumberOfFrames/SamplesPerPixel is checked before anything is
decoded, so a small compressed file cannot expand past `imaging.max_pixels`.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import warnings
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels.utils import pixel_array as _pixel_array
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from agent.errors import InvalidInputError
from tools.imaging.deid import deidentified_metadata
from tools.imaging.types import LoadedImage

# Decoder failures are reported as InvalidInputError; pydicom's own error log would only
# repeat them as tracebacks on the console.
_PYDICOM_LOG = logging.getLogger("pydicom")
if _PYDICOM_LOG.level == logging.NOTSET:
    _PYDICOM_LOG.setLevel(logging.CRITICAL)

PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
MAX_SERIES_FILES = 5000


# Tags of the few text elements read on every load (see `_text_values`).
MODALITY, SOP_INSTANCE_UID, SERIES_INSTANCE_UID = 0x00080060, 0x00080018, 0x0020000E
INSTANCE_NUMBER, IMAGE_POSITION, IMAGE_ORIENTATION = 0x00200013, 0x00200032, 0x00200037
PIXEL_SPACING, IMAGER_PIXEL_SPACING = 0x00280030, 0x00181164
WINDOW_CENTER, WINDOW_WIDTH, RESCALE_INTERCEPT, RESCALE_SLOPE = 0x00281050, 0x00281051, 0x00281052, 0x00281053
_TEXT_VRS = frozenset({None, "DS", "IS", "CS", "UI", "LO", "SH"})  # None: implicit VR


def _text_values(ds: Dataset, tag: int) -> list[str] | None:
    """The backslash-separated values of a short text element (DS, IS, CS, UI), stripped; None if absent/empty.

    pydicom converts an element on first access, validating its value (about 10 us each); the
    loader reads a handful of numbers and UIDs per file, so it splits their raw bytes itself and
    leaves the elements unconverted. Elements already converted, or stored with another VR, are
    taken from pydicom as usual.
    """
    elem = ds.get_item(tag)
    if elem is None:
        return None
    value = elem.value
    if isinstance(elem, RawDataElement) and elem.VR in _TEXT_VRS and isinstance(value, bytes):
        values = [v.strip("\x00 ") for v in value.decode("latin-1").split("\\")]
    else:
        if isinstance(elem, RawDataElement):
            value = ds[tag].value
        if value is None or value == "":
            return None
        items = value if isinstance(value, (list, tuple, pydicom.multival.MultiValue)) else [value]
        values = [str(v).strip("\x00 ") for v in items]
    return values if any(values) else None


def _text(ds: Dataset, tag: int) -> str:
    """The first value of a short text element, or ''."""
    values = _text_values(ds, tag)
    return values[0] if values else ""


def _floats(ds: Dataset, tag: int) -> list[float] | None:
    """A DS/IS element as floats; None when absent, empty or not numeric."""
    values = _text_values(ds, tag)
    if values is None:
        return None
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def _max_pixels() -> int:
    from agent.settings import get_settings

    return int(get_settings().imaging.max_pixels)


def read_dataset(path: Path | BinaryIO, name: str | None = None) -> Dataset:
    """Parse a DICOM file (with or without the 128-byte preamble); a clear error otherwise."""
    name = name or getattr(path, "name", "data")
    name = Path(str(name)).name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return pydicom.dcmread(path)
            except InvalidDicomError:
                if hasattr(path, "seek"):
                    path.seek(0)  # type: ignore[union-attr]
                ds = pydicom.dcmread(path, force=True)
    except Exception as exc:  # pydicom raises many types on damaged input
        raise InvalidInputError(f"'{name}' is not a readable DICOM file ({type(exc).__name__}: {exc}).",
                                "Check the file is a complete DICOM image; re-export it if it was truncated.") from exc
    # Without a preamble pydicom parses anything; accept only what looks like an image dataset.
    if not ("SOPClassUID" in ds or ("Rows" in ds and "Columns" in ds)):
        raise InvalidInputError(f"'{name}' is not a DICOM file (no DICM header and no DICOM image elements).",
                                "Give a DICOM, NIfTI, PNG, JPEG or NPZ file.")
    if not getattr(ds, "file_meta", None) or "TransferSyntaxUID" not in ds.file_meta:
        implicit, little = ds.original_encoding
        ds.file_meta = ds.file_meta if getattr(ds, "file_meta", None) else FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian if little else ExplicitVRBigEndian
        )
    return ds


def pixel_count(ds: Dataset) -> int:
    """Samples the image would decode to, from the header alone; refuses missing or zero sizes."""
    if not any(k in ds for k in PIXEL_KEYWORDS):
        kind = str(ds.get("Modality", "") or "") or "non-image"
        raise InvalidInputError(f"This DICOM object ({kind}) has no pixel data.",
                                "Open an image (CT, MR, CR, DX, US, ...) rather than a structure set, report or plan.")
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        samples = int(ds.get("SamplesPerPixel", 1) or 1)
    except AttributeError as exc:
        raise InvalidInputError("The image header lacks Rows or Columns, so the pixels cannot be read.",
                                "Re-export the image from the source system.") from exc
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"The image header is incomplete or malformed ({exc}).",
                                "Re-export the image from the source system.") from exc
    if rows <= 0 or cols <= 0 or frames <= 0 or samples <= 0:
        raise InvalidInputError(f"The image has zero size ({rows}x{cols}, {frames} frame(s)).",
                                "The file holds no usable pixels.")
    return rows * cols * frames * samples


def check_pixel_budget(count: int) -> None:
    limit = _max_pixels()
    if count > limit:
        raise InvalidInputError(
            f"The image has {count:,} pixel samples, above the limit of {limit:,}.",
            "Crop or downsample it, or raise imaging.max_pixels in the settings.")


def _rescale(ds: Dataset) -> list[tuple[float, float]] | tuple[float, float] | None:
    """Slope/intercept: top level, shared or per-frame functional groups (enhanced objects)."""
    if RESCALE_SLOPE in ds or RESCALE_INTERCEPT in ds:
        slope, intercept = _floats(ds, RESCALE_SLOPE), _floats(ds, RESCALE_INTERCEPT)
        if (slope is None and _text_values(ds, RESCALE_SLOPE)) or (intercept is None and _text_values(ds, RESCALE_INTERCEPT)):
            raise InvalidInputError("The header's Rescale Slope/Intercept is not a number, so the pixel values "
                                    "cannot be converted.", "Re-export the image from the source system.")
        pair = (slope[0] if slope and slope[0] else 1.0, intercept[0] if intercept else 0.0)
        if not all(np.isfinite(pair)):
            raise InvalidInputError("The header's Rescale Slope/Intercept is not finite.",
                                    "Re-export the image from the source system.")
        return pair
    for keyword in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        groups = ds.get(keyword)
        if not groups:
            continue
        found = []
        for item in groups:
            seq = item.get("PixelValueTransformationSequence")
            if seq:
                found.append((float(seq[0].get("RescaleSlope", 1) or 1), float(seq[0].get("RescaleIntercept", 0) or 0)))
        if found:
            return found[0] if keyword.startswith("Shared") or len(set(found)) == 1 else found
    return None


def _stored_range(ds: Dataset) -> tuple[float, float]:
    bits = int(ds.get("BitsStored", ds.get("BitsAllocated", 16)) or 16)
    if int(ds.get("PixelRepresentation", 0) or 0) == 1:
        return -float(2 ** (bits - 1)), float(2 ** (bits - 1) - 1)
    return 0.0, float(2**bits - 1)


def _first_window(ds: Dataset) -> tuple[float, float] | None:
    centers, widths = _floats(ds, WINDOW_CENTER), _floats(ds, WINDOW_WIDTH)
    if centers and widths:
        c, w = centers[0], widths[0]
        return (c, w) if w > 0 and np.isfinite(c) and np.isfinite(w) else None
    center, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if center is None or width is None:
        frame = None
        for keyword in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
            groups = ds.get(keyword)
            if groups and groups[0].get("FrameVOILUTSequence"):
                frame = groups[0].FrameVOILUTSequence[0]
                break
        if frame is None:
            return None
        center, width = frame.get("WindowCenter"), frame.get("WindowWidth")
    try:
        c = float(center[0] if isinstance(center, (list, pydicom.multival.MultiValue)) else center)
        w = float(width[0] if isinstance(width, (list, pydicom.multival.MultiValue)) else width)
    except (TypeError, ValueError, IndexError):
        return None
    return (c, w) if w > 0 else None


def _voi_lut(ds: Dataset) -> tuple[float, np.ndarray] | None:
    seq = ds.get("VOILUTSequence")
    if not seq:
        return None
    item = seq[0]
    try:
        n, first, bits = (int(v) for v in item.LUTDescriptor)
        data = item.LUTData
        if isinstance(data, bytes):
            table = np.frombuffer(data, dtype=np.uint8 if bits <= 8 and len(data) == (n or 65536) else "<u2")
        else:
            table = np.asarray(data, dtype=np.float32)
        if first >= 2**15 and int(ds.get("PixelRepresentation", 0) or 0) == 1:
            first -= 2**16  # descriptor stored unsigned for signed images
    except (AttributeError, TypeError, ValueError):
        return None
    return (float(first), table.astype(np.float32)) if table.size else None


_NATIVE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}  # implicit / explicit VR little endian


def _native_view(ds: Dataset) -> np.ndarray | None:
    """Uncompressed little-endian grey pixels as a read-only view on the file's bytes, or None.

    pydicom copies such data to clear bits above BitsStored; when no stored value uses those
    bits (checked with two reductions) the view is already correct and the copy is skipped.
    Anything unusual goes through pydicom's full decoder instead.
    """
    try:
        if str(ds.file_meta.TransferSyntaxUID) not in _NATIVE or "PixelData" not in ds:
            return None
        if int(ds.get("SamplesPerPixel", 1) or 1) != 1 or int(ds.get("NumberOfFrames", 1) or 1) != 1:
            return None
        allocated, stored = int(ds.BitsAllocated), int(ds.BitsStored)
        signed = int(ds.PixelRepresentation) == 1
        if allocated not in (8, 16, 32) or not 0 < stored <= allocated:
            return None
        rows, cols = int(ds.Rows), int(ds.Columns)
        data = ds.PixelData
        dtype = np.dtype(f"<{'i' if signed else 'u'}{allocated // 8}")
        if len(data) < rows * cols * dtype.itemsize:
            return None  # let pydicom report the truncation
        arr = np.frombuffer(data, dtype=dtype, count=rows * cols).reshape(rows, cols)
    except (AttributeError, TypeError, ValueError, KeyError):
        return None
    if stored < allocated:
        # unused bits carrying data (e.g. overlays) need pydicom's correction
        if signed:
            if arr.min() < -(1 << (stored - 1)) or arr.max() > (1 << (stored - 1)) - 1:
                return None
        elif arr.max() > (1 << stored) - 1:  # unsigned: one reduction suffices
            return None
    return arr


MIRROR_BLOCK = 1 << 18  # elements per block: a 512 KB integer scratch that stays in cache


def _mirror_into(arr: np.ndarray, top: int, pixels: np.ndarray) -> None:
    """`pixels = top - arr` for unsigned integers known to be <= top (MONOCHROME1 without rescale).

    Mirrored in the integer domain block by block in a small scratch, then cast: the float
    output is written once instead of being cast and then rewritten by a float subtraction.
    """
    flat_in, flat_out = arr.reshape(-1), pixels.reshape(-1)
    step = min(flat_in.size, MIRROR_BLOCK)
    scratch = np.empty(step, dtype=arr.dtype)
    top_value = arr.dtype.type(top)
    for start in range(0, flat_in.size, step):
        chunk = flat_in[start:start + step]
        mirrored = scratch[:chunk.size]
        np.subtract(top_value, chunk, out=mirrored)
        flat_out[start:start + chunk.size] = mirrored


def decode(ds: Dataset, name: str = "image", out: np.ndarray | None = None, *, checked: bool = False,
           display: bool = True) -> tuple[np.ndarray, dict[str, Any]]:
    """Pixels (float32, modality LUT applied, MONOCHROME1 inverted, colour as RGB) plus display info.

    Native data is read as a view on the file's bytes and converted, rescaled and inverted in a
    single float32 pass (written into `out` when given, e.g. a slice of a preallocated volume),
    so loading costs about what bare pydicom decoding does.
    """
    if not checked:  # a series checks every file's size before decoding any of them
        check_pixel_budget(pixel_count(ds))
    photometric = str(ds.get("PhotometricInterpretation", "") or "").upper()
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    lut_applied = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = _native_view(ds)
            if arr is None:
                arr = _pixel_array(ds, view_only=True)
            if photometric == "PALETTE COLOR":
                from pydicom.pixels import apply_color_lut

                arr = apply_color_lut(arr, ds)
                photometric = "RGB"
            elif "ModalityLUTSequence" in ds and samples == 1:
                from pydicom.pixels import apply_modality_lut

                arr = apply_modality_lut(arr, ds)
                lut_applied = True
    except InvalidInputError:
        raise
    except MemoryError as exc:
        raise InvalidInputError("The image is too large to decode in memory.",
                                "Lower imaging.max_pixels or downsample the image.") from exc
    except Exception as exc:
        raise InvalidInputError(f"The pixel data of '{name}' cannot be decoded ({type(exc).__name__}: {exc}).",
                                "The file may be truncated or use an unsupported compression; re-export it.") from exc
    if arr.size == 0:
        raise InvalidInputError("The image has no pixels.", "The file holds no usable image.")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise InvalidInputError("The image contains NaN or infinite values.", "Re-export the image with valid pixels.")
    info: dict[str, Any] = {"inverted": False, "window": None, "voi_lut": None, "value_range": None}
    if out is not None and out.shape != arr.shape:
        raise InvalidInputError(f"'{name}' has shape {arr.shape}, unlike the rest of its series {out.shape}.",
                                "Open the files one at a time.")
    pixels = out if out is not None else np.empty(arr.shape, dtype=np.float32)
    if (arr.ndim >= 3 and arr.shape[-1] == 3 and samples == 3) or photometric == "RGB":
        pixels[...] = arr
        return pixels, info
    lo, hi = _stored_range(ds)
    rescale = None if lut_applied else _rescale(ds)
    per_frame = isinstance(rescale, list) and arr.ndim == 3 and len(rescale) == arr.shape[0]
    if isinstance(rescale, list):
        first = rescale[0]
    else:
        first = rescale
    slope, intercept = first if first is not None else (1.0, 0.0)
    invert = photometric == "MONOCHROME1"
    if first is not None:
        lo, hi = sorted((lo * slope + intercept, hi * slope + intercept))
    if per_frame:
        pixels[...] = arr
        for i, (f_slope, f_intercept) in enumerate(rescale):  # type: ignore[arg-type]
            pixels[i] *= f_slope
            pixels[i] += f_intercept
        if invert:
            np.subtract(np.float32(lo + hi), pixels, out=pixels)
    elif (invert and slope == 1.0 and intercept == 0.0 and lo == 0.0 and not lut_applied
          and arr.dtype.kind == "u" and arr.dtype.itemsize <= 2 and pixels.flags.c_contiguous):
        _mirror_into(arr, int(hi), pixels)  # values above `hi` were cleared or refused above
    else:
        # a plain cast, then in-place float32 arithmetic: a ufunc that casts while it computes
        # (dtype=float32 on integer input) runs through a buffered loop about 3x slower.
        # MONOCHROME1 mirrors the rescaled value: (lo + hi) - (v * slope + intercept).
        pixels[...] = arr
        shift = np.float32((lo + hi - intercept) if invert else intercept)
        if slope != 1.0:
            pixels *= np.float32(-slope if invert else slope)
            if shift != 0.0:
                pixels += shift
        elif invert:
            np.subtract(shift, pixels, out=pixels)
        elif shift != 0.0:
            pixels += shift
    info["value_range"] = (lo, hi)
    info["inverted"] = invert
    if not display:  # later slices of a series: the first slice's window is used
        return pixels, info
    window = _first_window(ds)
    info["voi_lut"] = _voi_lut(ds) if window is None else None
    if invert:
        info["inverted"] = True
        if window is not None:
            window = (lo + hi - window[0], window[1])
    info["window"] = window
    info["value_range"] = (lo, hi)
    return pixels, info


def spacing_of(ds: Dataset) -> tuple[tuple[float, float] | None, str | None]:
    """(row, column) spacing in mm and where it came from (or, when None, why it is unknown)."""
    candidates: list[tuple[str, Any]] = [("PixelSpacing", _text_values(ds, PIXEL_SPACING))]
    for keyword in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        groups = ds.get(keyword)
        if groups and groups[0].get("PixelMeasuresSequence"):
            candidates.append(("PixelMeasuresSequence", groups[0].PixelMeasuresSequence[0].get("PixelSpacing")))
    candidates.append(("ImagerPixelSpacing", _text_values(ds, IMAGER_PIXEL_SPACING)))
    invalid = []
    for source, value in candidates:
        if value is None:
            continue
        try:
            if len(value) == 2:
                row, col = float(value[0]), float(value[1])
                if row > 0 and col > 0 and np.isfinite(row) and np.isfinite(col):
                    return (row, col), source
        except (TypeError, ValueError):
            pass
        invalid.append(source)
    if invalid:
        return None, f"unknown: {', '.join(invalid)} in the header is zero or invalid"
    return None, "unknown: the header has no pixel spacing"


def load_dicom_file(path: Path, fh: BinaryIO | None = None) -> LoadedImage:
    """One DICOM file; `fh` is the file already opened at its start (then it is not opened again)."""
    ds = read_dataset(fh if fh is not None else path, path.name)
    pixels, info = decode(ds, path.name)
    return _to_loaded(ds, pixels, info, path, kind="dicom")


def _to_loaded(ds: Dataset, pixels: np.ndarray, info: dict[str, Any], path: Path, kind: str,
               extra: dict[str, Any] | None = None) -> LoadedImage:
    spacing, spacing_source = spacing_of(ds)
    meta: dict[str, Any] = {}
    if spacing_source:
        meta["spacing_source" if spacing else "spacing_note"] = spacing_source
    if pixels.ndim == 4 or (pixels.ndim == 3 and pixels.shape[-1] != 3):
        meta["frames"] = int(pixels.shape[0])
    meta.update(extra or {})
    # the lazily built metadata needs only the header: do not keep the raw pixel bytes alive with it
    for keyword in PIXEL_KEYWORDS:
        ds.pop(keyword, None)
    return LoadedImage(
        pixels=pixels, modality=_text(ds, MODALITY) or "OT", spacing_mm=spacing, source_path=path,
        source_uid=_text(ds, SOP_INSTANCE_UID) or None, metadata=meta, window=info["window"],
        voi_lut=info["voi_lut"], inverted=info["inverted"], value_range=info["value_range"], kind=kind,
        metadata_factory=functools.partial(_safe_metadata, ds),
    )


def _safe_metadata(ds: Dataset) -> dict[str, Any]:
    """De-identified metadata; a damaged header yields what could be read plus a note, never a crash."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return deidentified_metadata(ds)
    except Exception as exc:  # raw elements are converted lazily and may be corrupt
        return {"metadata_note": f"part of the header could not be read ({type(exc).__name__})"}


def _slice_key(ds: Dataset) -> float | None:
    """Position of the slice along its normal (row x column direction), for sorting a series."""
    orientation, position = _floats(ds, IMAGE_ORIENTATION), _floats(ds, IMAGE_POSITION)
    if orientation is None or position is None or len(orientation) != 6 or len(position) != 3:
        return None
    (a1, a2, a3), (b1, b2, b3) = orientation[:3], orientation[3:]
    normal = (a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1)
    key = position[0] * normal[0] + position[1] * normal[1] + position[2] * normal[2]
    return key if math.isfinite(key) else None


def _regular_files(folder: Path) -> list[Path]:
    """Regular files below `folder`, sorted; links are neither followed nor listed, since a link
    inside an allowed folder could point anywhere. (scandir's entry types need no extra stat.)"""
    found: list[Path] = []
    pending = [os.fspath(folder)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    found.append(Path(entry.path))
    return sorted(found)


def load_series_folder(folder: Path, files: list[Path] | None = None) -> LoadedImage:
    """Every DICOM image in `folder` (recursively): the largest series, sorted into a volume."""
    candidates = files if files is not None else _regular_files(folder)
    candidates = [p for p in candidates if p.name.upper() != "DICOMDIR" and not p.name.startswith(".")]
    if len(candidates) > MAX_SERIES_FILES:
        raise InvalidInputError(f"The folder has {len(candidates)} files (limit {MAX_SERIES_FILES}).",
                                "Open one series folder at a time.")
    series: dict[str, list[tuple[Path, Dataset]]] = defaultdict(list)
    counts: dict[Path, int] = {}
    skipped = 0
    for path in candidates:
        try:
            ds = read_dataset(path)
            counts[path] = pixel_count(ds)
            series_uid = _text(ds, SERIES_INSTANCE_UID) or "unknown"
        except Exception:  # unreadable or non-image files in a folder are skipped and counted
            skipped += 1
            continue
        series[series_uid].append((path, ds))
    if not series:
        raise InvalidInputError(f"No DICOM images were found in '{folder.name}' ({skipped} other file(s)).",
                                "Open a folder that holds the DICOM files of one series.")
    uid, members = max(series.items(), key=lambda kv: len(kv[1]))
    shapes = Counter((int(ds.Rows), int(ds.Columns)) for _, ds in members)
    if len(shapes) > 1:
        raise InvalidInputError(f"The series mixes image sizes {sorted(shapes)}; it cannot form one volume.",
                                "Open the files one at a time.")
    check_pixel_budget(sum(counts[path] for path, _ in members))
    keys = [_slice_key(ds) for _, ds in members]
    if all(k is not None for k in keys):
        order = sorted(range(len(members)), key=lambda i: (keys[i], str(members[i][0])))
        positions: list[float] | None = [float(keys[i]) for i in order]  # type: ignore[arg-type]
    else:
        order = sorted(range(len(members)), key=lambda i: (_int(_text(members[i][1], INSTANCE_NUMBER)), str(members[i][0])))
        positions = None
    if len(members) == 1:
        path, ds = members[0]
        pixels, info = decode(ds, path.name)
        loaded = _to_loaded(ds, pixels, info, folder, kind="series")
        loaded.source_uid = _text(ds, SOP_INSTANCE_UID) or None
        return loaded
    first_info = None
    simple = all(int(ds.get("NumberOfFrames", 1) or 1) == 1 and int(ds.get("SamplesPerPixel", 1) or 1) == 1
                 for _, ds in members)
    if simple:  # decode straight into a preallocated volume: no per-slice copies
        rows, cols = next(iter(shapes))
        volume = np.empty((len(order), rows, cols), dtype=np.float32)
        for j, i in enumerate(order):
            path, ds = members[i]
            _, info = decode(ds, path.name, out=volume[j], checked=True, display=first_info is None)
            first_info = first_info or info
    else:
        slices = []
        for i in order:
            path, ds = members[i]
            pixels, info = decode(ds, path.name, checked=True, display=first_info is None)
            first_info = first_info or info
            slices.append(pixels if pixels.ndim == 2 else pixels.reshape(-1, *pixels.shape[-2:]))
        volume = np.stack(slices) if all(s.ndim == 2 for s in slices) else np.concatenate(slices)
    first_ds = members[order[0]][1]
    extra: dict[str, Any] = {"frames": int(volume.shape[0]), "series_files": len(members)}
    if len(series) > 1:
        extra["other_series_in_folder"] = len(series) - 1
    if skipped:
        extra["skipped_files"] = skipped
    if uid == "unknown":
        extra["series_note"] = "files have no SeriesInstanceUID; grouped together"
    loaded = _to_loaded(first_ds, volume, first_info or {}, folder, kind="series", extra=extra)
    loaded.slice_positions = positions
    if positions and len(positions) > 1:
        loaded.slice_spacing_mm = float(np.median(np.abs(np.diff(positions))))
    return loaded


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
