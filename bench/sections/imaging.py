"""Imaging data layer benchmark.

- Loading the CT (693_UNCR) and CR (RG1_UNCR) samples and a 100-slice synthetic CT series with
  `load_image` (path check, content sniffing, limits, HU rescale, MONOCHROME1 inversion, sorting),
  each against bare `pydicom.dcmread(...).pixel_array` on the same files, timed interleaved in the
  same run so both see the same machine load. Target: <= 1.2x.
- Phantoms generated per second (chest and head, 128 px). Target (chest): >= 50 images/s.
- The derived-output writer (DICOM SC + bannered PNG) per 512 px CT image, against pydicom's
  plain `save_as` of the source dataset.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from bench.stats import BenchRow

SECTION = "imaging"
TARGET_RATIO = 1.2


def _interleaved(*calls: Callable[[], object], repeats: int) -> list[list[float]]:
    """Time the calls in rotating order so a busy machine slows all equally; one warm-up each.

    Returns one list of seconds per call, index-aligned: sample i of every list comes from the
    same round, so per-round ratios compare runs that saw the same load.
    """
    for fn in calls:
        fn()
    times: list[list[float]] = [[] for _ in calls]
    n = len(calls)
    for i in range(repeats):
        for j in range(n):
            k = (i + j) % n
            start = time.perf_counter()
            calls[k]()
            times[k].append(time.perf_counter() - start)
    return times


def _ratio_row(metric: str, ours: list[float], base: list[float], note: str,
               hu_pair: list[list[float]] | None = None) -> BenchRow:
    """Ratio of medians against bare pydicom; the median of per-round ratios and, where the
    output is HU, the ratio against pydicom plus its own modality LUT (timed in a separate
    interleaved run, `hu_pair` = [ours, baseline]), go in `extra` and the note."""
    med, bmed = statistics.median(ours), statistics.median(base)
    ratio = med / bmed if bmed > 0 else None
    paired = statistics.median(o / b for o, b in zip(ours, base) if b > 0)
    extra: dict[str, float] = {"paired_ratio_median": paired}
    note = f"{note}; median per-round ratio {paired:.2f}"
    if hu_pair:
        omed, hmed = statistics.median(hu_pair[0]), statistics.median(hu_pair[1])
        extra.update(hu_baseline_median_ms=hmed * 1000, hu_ratio=omed / hmed)
        note += f"; vs pydicom + apply_modality_lut (HU, like for like) {hmed * 1000:.3g} ms: {omed / hmed:.2f}x"
    return BenchRow(SECTION, metric, med * 1000, "ms", low=min(ours) * 1000, high=max(ours) * 1000,
                    baseline="pydicom dcmread+pixel_array", baseline_median=bmed * 1000, ratio=ratio,
                    target=f"<= {TARGET_RATIO}x", passed=ratio is not None and ratio <= TARGET_RATIO, note=note,
                    extra=extra)


def _write_series(folder: Path, n: int, size: int) -> list[Path]:
    """`n` CT slices (head phantom HU) in shuffled file order, written with plain pydicom."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    from tools.phantoms.head import generate_head

    phantoms = generate_head(n, size=size, seed=0, lesion_prob=0.3)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    paths = []
    order = np.random.default_rng(0).permutation(n)
    for file_index, k in enumerate(order):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.Modality, ds.PatientName, ds.PatientID = "CT", "BENCH^SERIES", "BENCH"
        ds.InstanceNumber = int(k) + 1
        ds.ImagePositionPatient = [0.0, 0.0, float(k) * 2.0]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = list(phantoms[k].spacing_mm)
        ds.SliceThickness = 2.0
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 1, 0, "HU"
        ds.WindowCenter, ds.WindowWidth = 40, 80
        ds.PixelData = np.round(phantoms[k].ct_hu).astype(np.int16).tobytes()
        path = folder / f"slice{file_index:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def _load_rows(quick: bool) -> list[BenchRow]:
    import pydicom

    from agent.settings import get_settings
    from tools.imaging.access import sample_file
    from tools.imaging.load import load_image

    from pydicom.pixels import apply_modality_lut

    def hounsfield(path: Path) -> object:
        ds = pydicom.dcmread(path)
        return apply_modality_lut(ds.pixel_array, ds)

    rows = []
    repeats = 21 if quick else 61
    for name, label in (("693_UNCR.dcm", "CT 512x512"), ("RG1_UNCR.dcm", "CR 1955x1841 MONOCHROME1")):
        path = sample_file(name)
        ours, base = _interleaved(lambda: load_image(path), lambda: pydicom.dcmread(path).pixel_array,
                                  repeats=repeats)
        hu = None
        if name.startswith("693"):  # the CR header has no rescale: nothing to add to its baseline
            hu = _interleaved(lambda: load_image(path), lambda: hounsfield(path), repeats=repeats)
        rows.append(_ratio_row(f"load {label} ({name})", ours, base, f"n={repeats} interleaved", hu))

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-series-", dir=settings.data_dir) as tmp:
        folder = Path(tmp)
        size = 256
        files = _write_series(folder, 100, size)

        def bare() -> None:
            for p in sorted(folder.iterdir()):
                pydicom.dcmread(p).pixel_array

        series_repeats = 7 if quick else 15
        ours, base = _interleaved(lambda: load_image(folder), bare, repeats=series_repeats)
        loaded = load_image(folder)
        sorted_ok = loaded.pixels.shape == (100, size, size) and loaded.slice_positions == sorted(loaded.slice_positions or [])
        rows.append(_ratio_row(f"load 100-slice CT series {size}px (sorted volume)", ours, base,
                               f"n={series_repeats} interleaved; {len(files)} files; sorted={sorted_ok}"))
    return rows


def _phantom_rows(quick: bool) -> list[BenchRow]:
    from tools.phantoms.chest import generate_chest
    from tools.phantoms.head import generate_head

    rows = []
    n = 20 if quick else 100
    for family, fn, target in (("chest", generate_chest, 50.0), ("head", generate_head, None)):
        fn(2, size=128, seed=99)  # warm caches
        rates = []
        for rep in range(3):
            start = time.perf_counter()
            fn(n, size=128, seed=rep)
            rates.append(n / (time.perf_counter() - start))
        med = statistics.median(rates)
        rows.append(BenchRow(SECTION, f"{family} phantoms generated, 128 px", med, "images/s", low=min(rates),
                             high=max(rates), target=f">= {target:.0f} images/s" if target else None,
                             passed=(med >= target) if target else None, note=f"{n} per run, 3 runs"))
    return rows


def _derived_rows(quick: bool) -> list[BenchRow]:
    import pydicom

    from agent.settings import get_settings
    from tools.imaging.access import sample_file
    from tools.imaging.derived import write_derived
    from tools.imaging.load import load_image

    source = load_image(sample_file("693_UNCR.dcm"))
    raw = pydicom.dcmread(sample_file("693_UNCR.dcm"))
    repeats = 3 if quick else 9
    with tempfile.TemporaryDirectory(prefix="bench-derived-", dir=get_settings().data_dir) as tmp:
        out = Path(tmp)
        ours, base = _interleaved(
            lambda: write_derived(source.pixels, tool="bench", model="none", source=source, out_dir=out, register=False),
            lambda: raw.save_as(out / "plain.dcm"), repeats=repeats)
    med, bmed = statistics.median(ours), statistics.median(base)
    return [BenchRow(SECTION, "write_derived CT 512x512 (DICOM SC + de-identified module + PNG)", med * 1000, "ms",
                     low=min(ours) * 1000, high=max(ours) * 1000, baseline="pydicom save_as of the source",
                     baseline_median=bmed * 1000, ratio=med / bmed if bmed else None,
                     note="the writer also de-identifies, burns the marking and renders a PNG")]


def run(quick: bool = False) -> list[BenchRow]:
    return [*_load_rows(quick), *_phantom_rows(quick), *_derived_rows(quick)]
