"""The derived-output writer: marked DICOM + PNG, provenance, de-identified patient module, originals untouched."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pydicom
import pytest
from PIL import Image

from tools.imaging.access import sample_file
from tools.imaging.banner import banner_masks
from tools.imaging.derived import write_derived, write_derived_mask
from tools.imaging.load import load_image
from tools.imaging.workspace import get_workspace


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_round_trip_ct_keeps_hu_marks_synthetic_and_records_provenance(isolated_data_dir):
    path = sample_file("693_UNCR.dcm")
    before = _sha(path)
    source = load_image(path)
    edited = source.pixels.copy()
    edited[200:300, 200:300] += 50
    out = write_derived(edited, tool="denoise_image", model="unet-tiny", source=source, seed=7,
                        checkpoint_sha256="c" * 64, description="denoised")
    assert _sha(path) == before
    assert out.dicom_path.parent == isolated_data_dir / "outputs"
    ds = pydicom.dcmread(out.dicom_path)
    assert list(ds.ImageType) == ["DERIVED", "SECONDARY"] and ds.BurnedInAnnotation == "YES"
    assert ds.ConversionType == "SYN" and "SYNTHETIC" in ds.SeriesDescription
    assert "SYNTHETIC" in ds.DerivationDescription and "SYNTHETIC" in ds.ImageComments
    original = pydicom.dcmread(path, stop_before_pixels=True)
    assert ds.SOPInstanceUID == out.sop_instance_uid != original.SOPInstanceUID
    assert ds.SeriesInstanceUID == out.series_instance_uid != original.SeriesInstanceUID
    assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == original.SOPInstanceUID
    provenance = json.loads(ds.ImageComments.split("Provenance: ", 1)[1])
    assert provenance == out.provenance
    assert provenance["tool"] == "denoise_image" and provenance["seed"] == 7
    assert provenance["checkpoint_sha256"] == "c" * 64
    assert provenance["source_sop_instance_uid"] == original.SOPInstanceUID
    # patient module is de-identified
    assert str(ds.PatientName) != str(original.PatientName) and ds.PatientID != original.PatientID
    assert ds.PatientIdentityRemoved == "YES"
    # values survive in HU outside the burned banner, spacing copied
    back = load_image(out.dicom_path)
    band, letters = banner_masks(512, 512)
    np.testing.assert_allclose(back.pixels[~band], edited[~band], atol=0.5)
    assert back.modality == "CT" and back.spacing_mm == pytest.approx(source.spacing_mm)
    # the marking is burned into the pixels
    assert back.pixels[letters].min() >= edited.max() - 0.5 and back.pixels[band & ~letters].max() <= edited.min() + 0.5


def test_png_has_a_visible_banner_and_a_workspace_id(isolated_data_dir):
    img = np.random.default_rng(0).uniform(0, 1, (64, 64)).astype(np.float32)
    out = write_derived(img, tool="generate_images", model="ddim", source=None, seed=1)
    png = np.asarray(Image.open(out.png_path).convert("RGB"))
    assert png.shape[0] >= 256  # small images are enlarged so the marking is legible
    top = png[:10]
    assert (top[..., 0] > 100).mean() > 0.5 and (top[..., 2] < 60).mean() > 0.5  # red strip
    assert out.image_id == "img-1" and get_workspace().resolve("img-1").is_file()
    ds = pydicom.dcmread(out.dicom_path)
    assert str(ds.PatientName) == "SYNTHETIC^IMAGE" and ds.Modality == "OT"
    assert json.loads(ds.ImageComments.split("Provenance: ", 1)[1])["source_sop_instance_uid"] is None


def test_rgb_and_stack_outputs(isolated_data_dir):
    rgb = np.zeros((40, 50, 3), np.uint8)
    rgb[..., 1] = 180
    out = write_derived(rgb, tool="describe_image", model="x", source=None, register=False)
    ds = pydicom.dcmread(out.dicom_path)
    assert ds.PhotometricInterpretation == "RGB" and ds.pixel_array.shape == (40, 50, 3)
    stack = np.stack([np.full((32, 32), v, np.float32) for v in (0, 100, 200)])
    out = write_derived(stack, tool="reconstruct_mri", model="unet", source=None, modality="MR", register=False)
    back = load_image(out.dicom_path)
    assert back.pixels.shape == (3, 32, 32) and back.modality == "MR"
    band, _ = banner_masks(32, 32)
    assert back.pixels[2][~band].mean() == pytest.approx(200, abs=0.5)


def test_mask_as_seg_for_a_dicom_source(isolated_data_dir):
    path = sample_file("MR_small.dcm")
    before = _sha(path)
    source = load_image(path)
    mask = np.zeros((64, 64), bool)
    mask[20:40, 10:30] = True
    out = write_derived_mask(mask, source=source, tool="segment_image", model="medsam-tiny", label="brain")
    assert out.dicom_type == "SEG" and out.kind == "mask" and _sha(path) == before
    seg = pydicom.dcmread(out.dicom_path)
    assert seg.Modality == "SEG" and "SYNTHETIC" in seg.SeriesDescription
    assert seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == source.source_uid
    assert str(seg.PatientName) == "ANONYMIZED"
    np.testing.assert_array_equal(seg.pixel_array.astype(bool), mask)
    assert out.provenance["area_px"] == 400 and out.provenance["label"] == "brain"
    overlay = np.asarray(Image.open(out.png_path).convert("RGB"))
    assert overlay.shape[0] >= 256


@pytest.mark.parametrize("name", ["RG1_UNCR.dcm", "693_UNCR.dcm"])
def test_seg_from_a_real_dicom_reads_back_in_highdicom(isolated_data_dir, name):
    import highdicom as hd

    path = sample_file(name)
    before = _sha(path)
    source = load_image(path)
    original = pydicom.dcmread(path, stop_before_pixels=True)
    rng = np.random.default_rng(1)
    mask = np.zeros(source.pixels.shape, bool)
    mask[40:160, 60:300] = True
    mask[rng.integers(0, mask.shape[0], 500), rng.integers(0, mask.shape[1], 500)] = True  # not just a box
    out = write_derived_mask(mask, source=source, tool="segment_image", model="medsam-tiny", label="left lung",
                             seed=11, checkpoint_sha256="d" * 64)
    assert out.dicom_type == "SEG" and _sha(path) == before

    seg = hd.seg.segread(out.dicom_path)
    assert seg.number_of_segments == 1
    assert seg.get_segment_description(1).segment_label == "left lung"
    pixels = seg.get_pixels_by_source_instance(source_sop_instance_uids=[source.source_uid], segment_numbers=[1])
    assert pixels.shape == (1, *mask.shape, 1)
    np.testing.assert_array_equal(pixels[0, ..., 0].astype(bool), mask)
    # pydicom reads the same file, with the derived/SYNTHETIC markings and the provenance
    ds = pydicom.dcmread(out.dicom_path)
    np.testing.assert_array_equal(ds.pixel_array.astype(bool), mask)
    assert ds.Modality == "SEG" and ds.ImageType[0] == "DERIVED"
    assert ds.SeriesDescription.startswith("SYNTHETIC") and "SYNTHETIC" in ds.ContentDescription
    assert ds.SOPInstanceUID == out.sop_instance_uid != original.SOPInstanceUID
    provenance = json.loads(ds.ImageComments.split("Provenance: ", 1)[1])
    assert provenance == out.provenance and provenance["synthetic"] is True
    assert provenance["tool"] == "segment_image" and provenance["seed"] == 11
    assert provenance["checkpoint_sha256"] == "d" * 64 and provenance["label"] == "left lung"
    assert provenance["source_sop_instance_uid"] == original.SOPInstanceUID == source.source_uid
    assert provenance["area_px"] == int(mask.sum())
    # no identifying data of the source travels with the mask
    assert ds.PatientIdentityRemoved == "YES" and str(ds.PatientName) == "ANONYMIZED"
    assert ds.PatientID != original.PatientID


def test_ct_seg_gets_a_stable_frame_of_reference_and_keeps_its_geometry(isolated_data_dir):
    import highdicom as hd

    source = load_image(sample_file("693_UNCR.dcm"))  # patient positions but no Frame of Reference UID
    mask = np.zeros((512, 512), bool)
    mask[200:260, 100:180] = True
    first = write_derived_mask(mask, source=source, tool="segment_image", model="m", label="lesion")
    second = write_derived_mask(~mask, source=source, tool="segment_image", model="m", label="background")
    a, b = hd.seg.segread(first.dicom_path), hd.seg.segread(second.dicom_path)
    assert a.FrameOfReferenceUID == b.FrameOfReferenceUID  # every mask of one series shares it
    assert first.provenance["frame_of_reference_uid"].startswith(str(a.FrameOfReferenceUID))
    measures = a.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
    assert [float(v) for v in measures.PixelSpacing] == pytest.approx(source.spacing_mm)
    assert float(measures.SliceThickness) == pytest.approx(5.0)
    position = a.PerFrameFunctionalGroupsSequence[0].PlanePositionSequence[0].ImagePositionPatient
    assert [float(v) for v in position] == pytest.approx([-122.5, -112.4, 47.0])


def test_mask_falls_back_to_marked_sc(isolated_data_dir):
    source = load_image(sample_file("693_UNCR.dcm"))
    mask = np.zeros((256, 256), bool)  # not the source's size: a SEG could not reference it
    mask[50:100, 50:100] = True
    out = write_derived_mask(mask, source=source, tool="segment_image", model="m", label="lesion",
                             background=np.zeros((256, 256)))
    assert out.dicom_type == "SC" and out.kind == "mask"
    ds = pydicom.dcmread(out.dicom_path)
    assert ds.BurnedInAnnotation == "YES" and "SYNTHETIC" in ds.SeriesDescription
    phantom_mask = np.zeros((64, 64), bool)
    phantom_mask[5:9, 5:9] = True
    out2 = write_derived_mask(phantom_mask, source=None, tool="segment_image", model="m", label="nodule",
                              background=np.random.default_rng(0).uniform(0, 1, (64, 64)))
    assert out2.png_path.is_file() and out2.dicom_type == "SC"


def test_derived_from_a_zipped_series_source(inputs):
    import zipfile

    from imaging_helpers import write_series

    files = write_series(inputs / "s", n=3)
    archive = inputs / "s.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in files:
            zf.write(p, p.name)
    source = load_image(archive)
    out = write_derived(source.pixels[1], tool="t", model="m", source=source, register=False)
    ds = pydicom.dcmread(out.dicom_path)
    assert str(ds.PatientName) == "SYNTHETIC^IMAGE" and "Doe" not in str(ds)
    assert out.provenance["source_sop_instance_uid"] == source.source_uid
