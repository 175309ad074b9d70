"""segment_image through run_tool: files, measurements, review state, refusals and SEG output."""

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from agent.errors import InvalidInputError
from tools.registry import run_tool


@pytest.fixture
def chest_png(inputs: Path) -> tuple[Path, dict]:
    from tools.phantoms.dataset import phantom_split

    phantom = phantom_split("chest", "test", 1, size=128)[0]
    path = inputs / "chest.png"
    Image.fromarray((phantom.image * 255).astype(np.uint8)).save(path)
    return path, phantom.masks


def test_box_prompt_gives_mask_area_files_and_pending_review(chest_png, monkeypatch):
    path, masks = chest_png
    rows, cols = np.nonzero(masks["right_lung"])
    box = (int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max()))
    result = run_tool("segment_image", {"image": str(path), "box": box, "backend": "classical", "target": "right lung"})
    assert result.review == "pending" and result.review_id
    mask = np.array(Image.open(result.mask)) > 0
    assert mask.shape == (128, 128) and result.area_px == int(mask.sum()) > 0
    assert (mask & masks["right_lung"]).sum() > 0.5 * mask.sum()  # mostly on the lung (a weak baseline)
    ys, xs = np.nonzero(mask)
    assert xs.min() >= box[0] and xs.max() <= box[2] and ys.min() >= box[1] and ys.max() <= box[3]
    assert Path(result.overlay).is_file() and Path(result.dicom).is_file()
    assert result.backend == "classical" and result.prompt == {"box": [float(v) for v in box]}
    assert result.label == "right lung"


def test_point_outside_the_image_is_a_clear_error(chest_png):
    path, _ = chest_png
    with pytest.raises(InvalidInputError, match="outside the image"):
        run_tool("segment_image", {"image": str(path), "point": (500, 20), "backend": "classical"})


def test_point_on_background_is_flagged(chest_png):
    path, _ = chest_png
    result = run_tool("segment_image", {"image": str(path), "point": (1, 1), "backend": "classical"})
    details = " ".join(f.detail for f in result.flags)
    assert "Low confidence" in details or "tiny" in details or "empty" in details


def test_real_radiograph_gives_a_dicom_seg_that_pydicom_reads_back():
    from tools.imaging.access import sample_file

    result = run_tool("segment_image", {"image": str(sample_file("RG1_UNCR.dcm")), "box": (250, 300, 900, 1500),
                                        "backend": "classical", "target": "right lung"})
    ds = pydicom.dcmread(result.dicom)
    assert ds.Modality == "SEG"
    assert int(np.asarray(ds.pixel_array).astype(bool).sum()) == result.area_px
    assert result.image_size == (1841, 1955)
    assert result.area_mm2 is None  # the header's pixel spacing is zero
    assert any("spacing" in f.detail for f in result.flags)


def test_named_target_uses_the_localiser_and_reports_area(inputs):
    from tools.imaging.workspace import get_workspace
    from tools.phantoms.dataset import phantom_split
    from tools.phantoms.export import write_phantom_dicoms

    phantom = phantom_split("chest", "test", 1, size=128)[0]
    names = write_phantom_dicoms("chest", [phantom], inputs)
    entry = get_workspace().add(inputs / names[0])
    result = run_tool("segment_image", {"image": entry.id, "target": "left lung"})
    assert result.review == "pending"
    assert result.label == "left lung" and "localiser" in result.prompt_source
    truth = phantom.masks["left_lung"]
    mask = np.array(Image.open(result.mask)) > 0
    assert 2 * (mask & truth).sum() / (mask.sum() + truth.sum()) > 0.6
    assert result.area_mm2 == pytest.approx(result.area_px * phantom.spacing_mm[0] * phantom.spacing_mm[1], rel=1e-3)
    ds = pydicom.dcmread(result.dicom)
    if ds.Modality == "SEG":
        assert ds.SegmentSequence[0].SegmentLabel == "left lung"
        assert int(np.asarray(ds.pixel_array).astype(bool).sum()) == result.area_px
    # the patient's left lung is on the image right in a PA view
    assert result.centroid[0] > 64


def test_cli_segment_prints_json(chest_png):
    from typer.testing import CliRunner

    from agent.cli import app

    path, _ = chest_png
    out = path.parent / "mask.png"
    res = CliRunner().invoke(app, ["segment", str(path), "--point", "40,60", "--negative", "100,10",
                                   "--backend", "classical", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout.strip().splitlines()[-1])
    assert data["mask"] == str(out) and out.is_file()
    assert isinstance(data["area_px"], int) and isinstance(data["score"], float)
    assert data["prompt"]["labels"] == [1, 0]
    bad = CliRunner().invoke(app, ["segment", str(path), "--box", "1,2,3", "--json"])
    assert bad.exit_code == 2 and "x0,y0,x1,y1" in bad.output


def test_named_lungs_on_the_real_radiograph_cover_each_whole_lung_on_its_side():
    """The phantom-trained localiser's box is too small on RG1; fitted to the mask, it spans the lung."""
    from tools.imaging.access import sample_file

    width, height = 1841, 1955
    left = run_tool("segment_image", {"image": str(sample_file("RG1_UNCR.dcm")), "target": "left lung"})
    right = run_tool("segment_image", {"image": str(sample_file("RG1_UNCR.dcm")), "target": "right lung"})
    assert "fitted" in left.prompt_source and left.review == "pending"
    # PA view: the patient's left lung is on the image right
    assert left.centroid[0] > 0.6 * width and right.centroid[0] < 0.4 * width
    for result in (left, right):
        x0, y0, x1, y1 = result.bbox
        assert y1 - y0 > 0.5 * height  # apex to base, not the central third the localiser's heat covers
        assert 0.25 * width < x1 - x0 < 0.45 * width  # one lung, not both
        assert result.area_px > 0.1 * width * height
