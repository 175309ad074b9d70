"""The derived-output writer: every generated or changed image and mask leaves the product through here.

An image becomes a DICOM Secondary Capture (highdicom `SCImage`) with new series/instance UIDs,
ImageType DERIVED\\SECONDARY, BurnedInAnnotation YES, ConversionType SYN, a SYNTHETIC marking in
SeriesDescription / DerivationDescription / ImageComments (with a JSON provenance record: tool,
model, checkpoint hash, seed, source SOP Instance UID) and the marking burned into the pixels,
plus a PNG with a visible "SYNTHETIC — not for diagnosis" banner. A mask becomes a DICOM SEG
(highdicom) referencing its DICOM source, or a marked Secondary Capture when SEG cannot apply,
plus an overlay PNG. The patient module is copied from the source only after de-identification;
the source file is only ever read.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from agent.errors import InvalidInputError
from tools.imaging.banner import burn_grey, burn_rgb
from tools.imaging.types import LoadedImage
from tools.schemas import Artifact

MARK = "SYNTHETIC"
MULTIFRAME_WORD_SC = "1.2.840.10008.5.1.4.1.1.7.3"
MIN_PNG_SIDE = 256  # small images are enlarged (nearest neighbour) so the banner stays legible


class DerivedOutput(BaseModel):
    """What was written for one derived image or mask."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    dicom_path: Path
    png_path: Path
    sop_instance_uid: str
    series_instance_uid: str
    provenance: dict[str, Any]
    image_id: str | None = None  # workspace id of the DICOM in the current session (img-N)
    kind: Literal["image", "mask"] = "image"
    dicom_type: Literal["SC", "SEG"] = "SC"

    def artifacts(self, description: str = "") -> list[Artifact]:
        """The two files as tool-result artifacts, marked synthetic."""
        text = description or self.provenance.get("description", "")
        png_kind = "overlay" if self.kind == "mask" else "png"
        return [Artifact(kind="dicom", path=str(self.dicom_path), synthetic=True, description=text),
                Artifact(kind=png_kind, path=str(self.png_path), synthetic=True, description=text)]


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("radagent")
    except Exception:  # running from a source tree without an install
        return "dev"


def provenance_record(*, tool: str, model: str, source: LoadedImage | None, seed: int | None,
                      checkpoint_sha256: str | None, description: str,
                      extra: dict[str, Any] | None) -> dict[str, Any]:
    """The JSON provenance stored in the DICOM and returned to the caller."""
    record: dict[str, Any] = {
        "synthetic": True,
        "not_for_diagnosis": True,
        "tool": tool,
        "model": model,
        "seed": seed,
        "checkpoint_sha256": checkpoint_sha256,
        "source_sop_instance_uid": source.source_uid if source is not None else None,
        "source_image_id": source.image_id if source is not None else None,
        "software": f"radagent {_version()}",
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "description": description,
    }
    for key, value in (extra or {}).items():
        record.setdefault(str(key), value)
    return json.loads(json.dumps(record, default=str))


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:40] or "derived"


def _source_header(source: LoadedImage | None) -> Dataset | None:
    """The source's DICOM header (no pixels), or None when the source is not a readable DICOM."""
    import pydicom

    if source is None or source.kind not in ("dicom", "series"):
        return None
    path = Path(source.source_path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if path.is_file():
                # a series loaded from a ZIP has the archive as its path: no header to copy
                return pydicom.dcmread(path, stop_before_pixels=True) if source.kind == "dicom" else None
            if path.is_dir():
                for candidate in sorted(p for p in path.rglob("*") if p.is_file()):
                    try:
                        ds = pydicom.dcmread(candidate, stop_before_pixels=True)
                    except Exception:
                        continue
                    if source.source_uid is None or str(ds.get("SOPInstanceUID", "")) == source.source_uid:
                        return ds
    except Exception:  # an unreadable source only means no patient module is copied
        return None
    return None


def _reference_header(header: Dataset | None, seed: str) -> Dataset | None:
    """De-identified copy of the source header that keeps the original UIDs (so references resolve)."""
    if header is None:
        return None
    from tools.imaging.deid import deidentify_dataset

    try:
        keep = {k: header.get(k) for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                                            "FrameOfReferenceUID", "SOPClassUID") if k in header}
        safe = deidentify_dataset(header, seed=seed)
    except Exception:  # a header too damaged to de-identify is not copied at all
        return None
    for keyword, value in keep.items():
        setattr(safe, keyword, value)
    return safe


def _quantize(pixels: np.ndarray) -> tuple[np.ndarray, float, float]:
    """float -> uint16 stored values with RescaleSlope/Intercept that restore the original scale."""
    lo, hi = float(pixels.min()), float(pixels.max())
    integral = np.array_equal(pixels, np.round(pixels))
    if integral and hi - lo <= 65535:
        slope, intercept = 1.0, float(np.floor(lo))
    else:
        slope, intercept = (hi - lo) / 65535.0 if hi > lo else 1.0, lo
    stored = np.clip(np.round((pixels - intercept) / slope), 0, 65535).astype(np.uint16)
    return stored, slope, intercept


def _display_window(pixels: np.ndarray, source: LoadedImage | None, modality: str) -> tuple[float, float]:
    if source is not None and source.window is not None and source.modality == modality:
        return source.window
    lo, hi = np.percentile(pixels, [0.5, 99.5])
    return float((lo + hi) / 2), float(max(hi - lo, 1e-3))


def _png(display: np.ndarray, path: Path) -> None:
    """Save uint8 grey/RGB enlarged to a legible size with the visible banner on top."""
    rgb = display if display.ndim == 3 else np.repeat(display[..., None], 3, axis=2)
    factor = int(np.ceil(MIN_PNG_SIDE / max(1, min(rgb.shape[:2]))))
    if factor > 1:
        rgb = np.kron(rgb, np.ones((factor, factor, 1), dtype=np.uint8))
    Image.fromarray(burn_rgb(np.ascontiguousarray(rgb, dtype=np.uint8))).save(path)


def _orientation(header: Dataset | None, modality: str) -> tuple[str, str]:
    if header is not None and len(header.get("PatientOrientation", []) or []) == 2:
        a, b = (str(v) for v in header.PatientOrientation)
        if a and b:
            return a, b
    return ("L", "P") if modality in ("CT", "MR", "PT", "NM") else ("L", "F")


def _patient_kwargs(ref: Dataset | None) -> dict[str, Any]:
    if ref is None:
        return {"patient_name": "SYNTHETIC^IMAGE", "patient_id": "SYNTHETIC"}
    out: dict[str, Any] = {}
    for keyword, arg in (("PatientName", "patient_name"), ("PatientID", "patient_id"), ("PatientSex", "patient_sex"),
                         ("AccessionNumber", "accession_number"), ("StudyID", "study_id"),
                         ("StudyDate", "study_date"), ("StudyTime", "study_time"),
                         ("ReferringPhysicianName", "referring_physician_name")):
        value = ref.get(keyword)
        if value not in (None, ""):
            out[arg] = str(value)
    if out.get("patient_sex") not in ("M", "F", "O"):
        out.pop("patient_sex", None)
    if "study_time" in out:
        out["study_time"] = out["study_time"].split(".")[0][:6]
    return out


def _mark_tags(ds: Dataset, provenance: dict[str, Any], tool: str, model: str, description: str) -> None:
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.BurnedInAnnotation = "YES"
    ds.SeriesDescription = f"{MARK} {tool} {model}"[:64]
    ds.ContentDescription = f"{MARK} - not for diagnosis"[:64]
    source_uid = provenance.get("source_sop_instance_uid") or "none"
    ds.DerivationDescription = (
        f"{MARK}: made by radagent tool {tool}, model {model}; seed {provenance.get('seed')}; "
        f"checkpoint sha256 {provenance.get('checkpoint_sha256') or 'none'}; source SOP Instance UID {source_uid}. "
        f"{description}"
    )[:1024]
    ds.ImageComments = (f"{MARK} - not for diagnosis. Provenance: " + json.dumps(provenance, sort_keys=True))[:10240]
    ds.Manufacturer = "radagent"
    ds.ManufacturerModelName = str(model)[:64]
    ds.SoftwareVersions = _version()[:64]
    ds.PatientIdentityRemoved = "YES"


def _source_reference(ds: Dataset, ref: Dataset | None) -> None:
    if ref is None or "SOPInstanceUID" not in ref or "SOPClassUID" not in ref:
        return
    item = Dataset()
    item.ReferencedSOPClassUID = ref.SOPClassUID
    item.ReferencedSOPInstanceUID = ref.SOPInstanceUID
    ds.SourceImageSequence = [item]


def write_derived(pixels: np.ndarray, *, tool: str, model: str, source: LoadedImage | None,
                  seed: int | None = None, checkpoint_sha256: str | None = None, description: str = "",
                  out_dir: Path | None = None, modality: str | None = None,
                  spacing_mm: tuple[float, float] | None = None, extra_provenance: dict[str, Any] | None = None,
                  register: bool = True) -> DerivedOutput:
    """Write `pixels` (grey (H, W), stack (S, H, W) or RGB (H, W, 3)) as a marked DICOM SC + PNG.

    Grey values keep their scale through RescaleSlope/Intercept (HU stays HU). Spacing defaults
    to the source's when the shapes match. With `register`, the DICOM is added to the current
    session's workspace and its id returned, so the next tool can take it as input.
    """
    import highdicom as hd

    from agent.settings import get_settings

    arr = np.asarray(pixels)
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise InvalidInputError(f"Cannot write an image of shape {arr.shape}.", "Give (H, W), (S, H, W) or (H, W, 3).")
    is_rgb = arr.ndim == 3 and arr.shape[-1] == 3
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise InvalidInputError("The image to write contains NaN or infinite values.", "Fix the tool output first.")
    out = Path(out_dir) if out_dir is not None else get_settings().outputs_dir
    out.mkdir(parents=True, exist_ok=True)
    modality = (modality or (source.modality if source is not None else "OT") or "OT").upper()[:16]
    header = _source_header(source)
    ref = _reference_header(header, seed=f"radagent:{source.source_uid}" if source and source.source_uid else None)
    provenance = provenance_record(tool=tool, model=model, source=source, seed=seed,
                                   checkpoint_sha256=checkpoint_sha256, description=description,
                                   extra=extra_provenance)
    if spacing_mm is None and source is not None and source.spacing_mm is not None \
            and tuple(source.pixels.shape[-2:]) == tuple(arr.shape[-2:] if not is_rgb else arr.shape[:2]):
        spacing_mm = source.spacing_mm
    series_uid, sop_uid = generate_uid(), generate_uid()
    study_uid = str(ref.StudyInstanceUID) if ref is not None and "StudyInstanceUID" in ref else generate_uid()

    if is_rgb:
        top = 255.0 if arr.max() <= 255 else float(arr.max())
        stored = burn_rgb(np.clip(np.round(arr / top * 255), 0, 255).astype(np.uint8))
        frame0, photometric, bits = stored, "RGB", 8
        slope = intercept = None
    else:
        stored, slope, intercept = _quantize(arr)
        stored = burn_grey(stored, 0, 65535)
        frame0 = stored if stored.ndim == 2 else stored[0]
        photometric, bits = "MONOCHROME2", 16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sc = hd.sc.SCImage(
            pixel_array=frame0, photometric_interpretation=photometric, bits_allocated=bits,
            coordinate_system="PATIENT", study_instance_uid=study_uid, series_instance_uid=series_uid,
            series_number=900, sop_instance_uid=sop_uid, instance_number=1, manufacturer="radagent",
            pixel_spacing=tuple(float(v) for v in spacing_mm) if spacing_mm is not None else None,
            patient_orientation=_orientation(header, modality), **_patient_kwargs(ref),
        )
    sc.Modality = modality
    sc.ConversionType = "SYN"
    if not is_rgb:
        sc.RescaleSlope, sc.RescaleIntercept = f"{slope:.10g}"[:16], f"{intercept:.10g}"[:16]
        sc.RescaleType = "HU" if modality == "CT" else "US"
        center, width = _display_window(arr, source, modality)
        sc.WindowCenter, sc.WindowWidth = f"{center:.6g}", f"{width:.6g}"
        if stored.ndim == 3:  # a stack: multi-frame grayscale word SC
            sc.SOPClassUID = MULTIFRAME_WORD_SC
            sc.file_meta.MediaStorageSOPClassUID = MULTIFRAME_WORD_SC
            sc.NumberOfFrames = int(stored.shape[0])
            sc.FrameIncrementPointer = 0x00182001  # PageNumberVector
            sc.PageNumberVector = list(range(1, stored.shape[0] + 1))
            sc.PixelData = np.ascontiguousarray(stored).tobytes()
    if ref is not None:
        for keyword in ("PatientAge", "PatientIdentityRemoved", "DeidentificationMethod",
                        "DeidentificationMethodCodeSequence", "BodyPartExamined"):
            if keyword in ref:
                setattr(sc, keyword, ref.get(keyword))
    _mark_tags(sc, provenance, tool, model, description)
    _source_reference(sc, ref)

    stem = f"{_safe_name(tool)}-{hashlib.sha1(sop_uid.encode()).hexdigest()[:10]}"
    dicom_path, png_path = out / f"{stem}.dcm", out / f"{stem}.png"
    sc.save_as(dicom_path, enforce_file_format=True)
    display = _display_uint8(arr, is_rgb, source, modality)
    _png(display, png_path)
    result = DerivedOutput(dicom_path=dicom_path, png_path=png_path, sop_instance_uid=sop_uid,
                           series_instance_uid=series_uid, provenance=provenance, kind="image", dicom_type="SC")
    if register:
        result.image_id = _register(dicom_path)
    return result


def _display_uint8(arr: np.ndarray, is_rgb: bool, source: LoadedImage | None, modality: str) -> np.ndarray:
    from tools.imaging.windowing import apply_window

    if is_rgb:
        top = 255.0 if arr.max() <= 255 else float(arr.max())
        return np.clip(np.round(arr / top * 255), 0, 255).astype(np.uint8)
    frame = arr if arr.ndim == 2 else arr[arr.shape[0] // 2]
    center, width = _display_window(frame, source, modality)
    return apply_window(frame, center=center, width=width)


def _register(path: Path) -> str:
    from tools.imaging.workspace import get_workspace

    return get_workspace().add(path, trusted=True).id


def _overlay(background: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Red fill and yellow contour of `mask` over a grey uint8 background."""
    from scipy import ndimage

    rgb = np.repeat(background[..., None], 3, axis=2).astype(np.float32)
    rgb[mask] = 0.6 * rgb[mask] + 0.4 * np.array([255, 0, 0], dtype=np.float32)
    edge = mask & ~ndimage.binary_erosion(mask)
    rgb[edge] = (255, 220, 0)
    return rgb.astype(np.uint8)


def write_derived_mask(mask: np.ndarray, *, source: LoadedImage | None, tool: str, model: str, label: str,
                       description: str = "", seed: int | None = None, checkpoint_sha256: str | None = None,
                       out_dir: Path | None = None, background: np.ndarray | None = None,
                       extra_provenance: dict[str, Any] | None = None, register: bool = False) -> DerivedOutput:
    """Write a boolean mask as DICOM SEG (when the source is a DICOM of the same size) or a marked SC,
    plus an overlay PNG of the mask on the windowed source (or on `background`, e.g. the image the
    mask was computed from when that is not the source itself).
    """
    from agent.settings import get_settings

    m = np.asarray(mask).astype(bool)
    if m.ndim != 2 or m.size == 0:
        raise InvalidInputError(f"A mask must be 2-D; got shape {m.shape}.", "Give one (H, W) boolean mask.")
    out = Path(out_dir) if out_dir is not None else get_settings().outputs_dir
    out.mkdir(parents=True, exist_ok=True)
    extra = {"label": label, "area_px": int(m.sum()), **(extra_provenance or {})}
    header = _source_header(source)
    seg = None
    if header is not None and (int(header.get("Rows", 0)), int(header.get("Columns", 0))) == m.shape \
            and int(header.get("NumberOfFrames", 1) or 1) == 1:
        ref = _reference_header(header, seed=f"radagent:{source.source_uid}" if source and source.source_uid else None)
        ref, assigned_frame = _with_frame_of_reference(ref)
        seg_extra = dict(extra)  # what only the SEG records; a fallback SC gets `extra` alone
        if assigned_frame:
            seg_extra["frame_of_reference_uid"] = f"{assigned_frame} (assigned: the source has patient " \
                                                  "positions but no Frame of Reference UID)"
        if source is not None and source.spacing_mm is not None:
            seg_extra.setdefault("pixel_spacing_mm", [float(v) for v in source.spacing_mm])
        provenance = provenance_record(tool=tool, model=model, source=source, seed=seed,
                                       checkpoint_sha256=checkpoint_sha256, description=description, extra=seg_extra)
        seg = _try_seg(m, ref, tool, model, label, provenance, description)
    if seg is None:
        derived = write_derived(m.astype(np.float32), tool=tool, model=model, source=source, seed=seed,
                                checkpoint_sha256=checkpoint_sha256, description=description or f"mask of {label}",
                                out_dir=out, modality="OT", extra_provenance=extra, register=register)
        png_path = derived.png_path
        bg = _background(background, source, m.shape)
        _png(_overlay(bg, m), png_path)
        return derived.model_copy(update={"kind": "mask"})
    stem = f"{_safe_name(tool)}-{_safe_name(label)}-{hashlib.sha1(seg.SOPInstanceUID.encode()).hexdigest()[:10]}"
    dicom_path, png_path = out / f"{stem}.seg.dcm", out / f"{stem}.png"
    seg.save_as(dicom_path, enforce_file_format=True)
    _png(_overlay(_background(background, source, m.shape), m), png_path)
    result = DerivedOutput(dicom_path=dicom_path, png_path=png_path, sop_instance_uid=str(seg.SOPInstanceUID),
                           series_instance_uid=str(seg.SeriesInstanceUID), provenance=provenance,
                           kind="mask", dicom_type="SEG")
    return result


def _background(background: np.ndarray | None, source: LoadedImage | None, shape: tuple[int, ...]) -> np.ndarray:
    from tools.imaging.windowing import percentile_window, to_display

    if background is not None:
        bg = np.asarray(background)
        if bg.shape[:2] != shape:
            raise InvalidInputError(f"The background {bg.shape} does not match the mask {shape}.",
                                    "Pass the image the mask was computed on.")
        if bg.ndim == 3:
            bg = bg.mean(axis=2)
        return bg.astype(np.uint8) if bg.dtype == np.uint8 else percentile_window(bg)
    if source is not None and tuple(source.pixels.shape[:2]) == shape and not source.is_volume:
        shown = to_display(source)
        return shown if shown.ndim == 2 else shown.mean(axis=2).astype(np.uint8)
    return np.zeros(shape, dtype=np.uint8)


def _with_frame_of_reference(ref: Dataset | None) -> tuple[Dataset | None, str | None]:
    """`ref` with a Frame of Reference UID where it has patient positions but lacks one.

    Image position and orientation only mean something in a frame of reference, and the SEG IOD
    requires one for such sources (e.g. a CT). The UID is derived from the source series UID, so
    every mask of one series shares it. Returns the (copied) header and the UID assigned, if any.
    """
    if ref is None or "FrameOfReferenceUID" in ref:
        return ref, None
    if "ImagePositionPatient" not in ref or "ImageOrientationPatient" not in ref:
        return ref, None  # a projection image (CR, DX): no patient coordinate system to refer to
    anchor = str(ref.get("SeriesInstanceUID", "") or ref.get("SOPInstanceUID", "") or "")
    if not anchor:
        return ref, None
    fixed = copy.copy(ref)
    fixed.FrameOfReferenceUID = generate_uid(entropy_srcs=["radagent frame of reference", anchor])
    return fixed, str(fixed.FrameOfReferenceUID)


def _readable_pixel_measures(seg: Dataset) -> None:
    """Keep the shared Pixel Measures only where it is complete and valid.

    Without a Frame of Reference highdicom copies PixelSpacing from the source but no
    SliceThickness (Type 1C, absent for projection images), yet its reader requires both, so such
    a SEG could not be read back; a zero spacing (as some CR headers hold) is invalid anyway.
    The SEG is pixel-aligned with its referenced source, which keeps the spacing.
    """
    groups = seg.get("SharedFunctionalGroupsSequence")
    if not groups or "PixelMeasuresSequence" not in groups[0]:
        return
    item = groups[0].PixelMeasuresSequence[0]
    try:
        spacing_ok = len(item.PixelSpacing) == 2 and all(float(v) > 0 for v in item.PixelSpacing)
        thickness_ok = "SliceThickness" in item and float(item.SliceThickness) > 0
    except (AttributeError, TypeError, ValueError):
        spacing_ok = thickness_ok = False
    if not (spacing_ok and thickness_ok):
        del groups[0].PixelMeasuresSequence


def _try_seg(mask: np.ndarray, ref: Dataset | None, tool: str, model: str, label: str,
             provenance: dict[str, Any], description: str) -> Dataset | None:
    """A highdicom binary SEG, or None where the source header lacks what the SEG IOD requires."""
    if ref is None:
        return None
    import highdicom as hd
    from highdicom.seg import SegmentAlgorithmTypeValues, SegmentDescription, SegmentationTypeValues
    from pydicom.sr.codedict import codes

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            algorithm = hd.AlgorithmIdentificationSequence(
                name=f"radagent {tool}"[:64], family=codes.cid7162.ArtificialIntelligence, version=str(model)[:64])
            segment = SegmentDescription(
                segment_number=1, segment_label=str(label)[:64],
                segmented_property_category=codes.SCT.AnatomicalStructure,
                segmented_property_type=codes.SCT.AnatomicalStructure if label else codes.SCT.Tissue,
                algorithm_type=SegmentAlgorithmTypeValues.AUTOMATIC, algorithm_identification=algorithm)
            seg = hd.seg.Segmentation(
                source_images=[ref], pixel_array=mask, segmentation_type=SegmentationTypeValues.BINARY,
                segment_descriptions=[segment], series_instance_uid=generate_uid(), series_number=901,
                sop_instance_uid=generate_uid(), instance_number=1, manufacturer="radagent",
                manufacturer_model_name=str(model)[:64], software_versions=_version(), device_serial_number="0",
                content_description=f"{MARK} - not for diagnosis"[:64], content_label="RADAGENT",
                omit_empty_frames=False,
            )
    except Exception:  # the source lacks what the SEG IOD requires: fall back to a marked SC
        return None
    _readable_pixel_measures(seg)
    seg.SeriesDescription = f"{MARK} {tool} {label}"[:64]
    seg.ImageComments = (f"{MARK} - not for diagnosis. Provenance: " + json.dumps(provenance, sort_keys=True))[:10240]
    seg.PatientIdentityRemoved = "YES"
    return seg
