"""The inversion editor and the anomaly detector on phantom files, through the catalogue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from agent.errors import InvalidInputError
from agent.settings import get_settings
from tools.imaging.access import sample_file
from tools.phantoms.dataset import phantom_split
from tools.registry import run_tool


def _phantom_png(index: int, size: int = 64, lesion: bool = True) -> str:
    """A test-split phantom written as an 8-bit PNG in the data dir (an allowed folder)."""
    items = phantom_split("chest", "test", 40, size=size)
    chosen = [p for p in items if p.labels["lesion_present"] == lesion and
              (not lesion or p.labels["lesion_size_mm"] > 20)][index]
    folder = get_settings().data_dir / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"phantom-{index}-{size}-{int(lesion)}.png"
    Image.fromarray((chosen.image * 255).round().astype(np.uint8)).save(path)
    return str(path)


def test_edit_makes_the_nodule_bigger_and_marks_the_output(tmp_path: Path) -> None:
    out = tmp_path / "edited.png"
    result = run_tool("edit_image", {"image": _phantom_png(0), "attribute": "lesion_size", "strength": 1.5,
                                     "out": str(out)})
    assert out.is_file() and result.image == str(out)
    assert result.reconstruction_psnr >= 28
    assert result.measured_change > 0 and result.changed_as_requested
    assert result.attribute_after["size_mm_raw"] > result.attribute_before["size_mm_raw"]
    assert result.review == "pending"  # an edited image informs care until an expert confirms it
    ds = pydicom.dcmread(result.dicom)
    assert "DERIVED" in ds.ImageType and "SYNTHETIC" in ds.ContentDescription.upper()
    assert "lesion_size" in ds.ImageComments


def test_edit_of_another_size_is_mapped_back_with_a_flag() -> None:
    src = _phantom_png(1, size=128)
    result = run_tool("edit_image", {"image": src, "attribute": "lesion_presence", "strength": -1.0})
    assert any("Resampled" in f.detail for f in result.flags)
    assert pydicom.dcmread(result.dicom).pixel_array.shape == (128, 128)  # the original grid
    assert result.measured_change < 0  # the independent classifier sees less lesion


def test_resizing_a_missing_lesion_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="No lesion"):
        run_tool("edit_image", {"image": _phantom_png(0, lesion=False), "attribute": "lesion_size",
                                "strength": 1.0})


def test_ct_is_refused_by_editor_and_detector() -> None:
    ct = str(sample_file("693_UNCR.dcm"))
    with pytest.raises(InvalidInputError, match="chest radiographs"):
        run_tool("edit_image", {"image": ct, "attribute": "lesion_size", "strength": 1.0})
    with pytest.raises(InvalidInputError, match="chest radiographs"):
        run_tool("detect_anomaly", {"image": ct})


def test_anomaly_map_peaks_at_the_nodule() -> None:
    items = [p for p in phantom_split("chest", "test", 40, size=64)
             if p.labels["lesion_present"] and p.labels["lesion_size_mm"] > 20]
    result = run_tool("detect_anomaly", {"image": _phantom_png(0)})
    cx, cy = items[0].labels["lesion_center"]
    assert abs(result.peak_xy[0] - cx) <= 4 and abs(result.peak_xy[1] - cy) <= 4
    assert Path(result.map).is_file() and result.review == "pending"
    assert result.threshold is not None and result.anomalous is not None  # calibrated for this checkpoint
    assert "SYNTHETIC" in pydicom.dcmread(result.dicom).SeriesDescription.upper()
