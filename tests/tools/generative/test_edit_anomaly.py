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
    result = run_tool("edit_image", {"image": _phantom_png(0), "attribute": "lesion_size", "out": str(out)})
    assert out.is_file() and result.image == str(out)
    assert result.strength == 1.0 and result.reconstruction_psnr >= 28
    # the default edit is clearly measurable: the independently segmented diameter grows by > 2 mm
    assert result.size_after_mm > result.size_before_mm + 2.0
    assert result.measured_change == pytest.approx(result.size_after_mm - result.size_before_mm, abs=0.02)
    assert result.changed_as_requested and result.measured_change_unit.startswith("mm")
    assert "nodule diameter" in result.summary and " mm -> " in result.summary
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


def test_anomaly_score_separates_held_out_phantoms() -> None:
    """Test-split phantoms (never seen by the models or the atlas): lesions score higher than healthy."""
    from sklearn.metrics import roc_auc_score

    from tools.generative.anomaly import anomaly_maps
    from tools.generative.data import load_chest

    test = load_chest("test", 48)
    maps, scores = anomaly_maps(test.images)
    assert maps.shape == (48, 64, 64) and np.isfinite(scores).all()
    assert roc_auc_score(test.presence.numpy(), scores) >= 0.8


def test_missing_or_mismatched_atlas_names_the_calibration_command(tmp_path: Path) -> None:
    import json

    from agent.errors import ModelUnavailableError
    from tools.generative import anomaly

    with pytest.raises(ModelUnavailableError) as err:
        anomaly.load_atlas(tmp_path / "missing.npz")
    assert "radagent train anomaly-calibration" in err.value.hint
    stale = tmp_path / "stale.npz"
    zeros = np.zeros((64, 64), np.float32)
    np.savez(stale, vae_mean=zeros, vae_std=zeros + 1, ddpm_mean=zeros, ddpm_std=zeros + 1, region=zeros > 0,
             stats=json.dumps({"vae_sha256": "other", "diffusion_sha256": "other"}))
    with pytest.raises(ModelUnavailableError, match="other VAE/diffusion"):
        anomaly.load_atlas(stale)
