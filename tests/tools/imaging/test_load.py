"""load_image: every supported format, the DICOM pixel pipeline, and sorted series."""

from __future__ import annotations

import gzip
import zipfile

import nibabel as nib
import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_files

from agent.errors import InvalidInputError, RadagentError
from imaging_helpers import write_series
from tools.imaging.access import sample_file
from tools.imaging.load import load_image
from tools.imaging.windowing import apply_window, to_display


def test_ct_sample_is_in_hounsfield_units_with_spacing():
    path = sample_file("693_UNCR.dcm")
    img = load_image(path)
    raw = pydicom.dcmread(path)
    assert img.modality == "CT" and img.kind == "dicom"
    assert img.pixels.dtype == np.float32 and img.pixels.shape == (512, 512)
    expected = raw.pixel_array.astype(np.float32) * float(raw.RescaleSlope) + float(raw.RescaleIntercept)
    np.testing.assert_array_equal(img.pixels, expected)
    assert img.spacing_mm == pytest.approx((0.478516, 0.478516))
    assert img.window == (40.0, 100.0)
    assert img.source_uid == raw.SOPInstanceUID


def test_monochrome1_cr_is_inverted_so_bone_is_bright():
    path = sample_file("RG1_UNCR.dcm")
    img = load_image(path)
    raw = pydicom.dcmread(path)
    assert raw.PhotometricInterpretation == "MONOCHROME1" and img.inverted
    lo, hi = img.value_range
    np.testing.assert_array_equal(img.pixels, (lo + hi) - raw.pixel_array.astype(np.float32))
    assert img.modality == "CR"
    assert img.spacing_mm is None and "zero or invalid" in img.metadata["spacing_note"]
    # the stored window is mirrored with the values, so display keeps its meaning
    assert img.window == (lo + hi - 15000.0, 30000.0)


def test_compressed_transfer_syntaxes_match_uncompressed():
    reference = load_image(sample_file("MR_small.dcm")).pixels
    for name in ("MR_small_RLE.dcm", "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm",
                 "MR_small_bigendian.dcm", "MR_small_implicit.dcm"):
        np.testing.assert_array_equal(load_image(sample_file(name)).pixels, reference)


def test_colour_and_multiframe_dicom():
    ybr = load_image(sample_file("SC_ybr_full_uncompressed.dcm"))
    rgb = load_image(sample_file("SC_rgb.dcm"))
    assert ybr.pixels.shape == rgb.pixels.shape == (100, 100, 3)
    assert np.abs(ybr.pixels - rgb.pixels).max() <= 8  # YBR converted to RGB (rounding only)
    palette = load_image(sample_file("OT-PAL-8-face.dcm"))  # no preamble, palette colour
    assert palette.pixels.shape == (480, 640, 3)
    frames = load_image(sample_file("emri_small.dcm"))
    assert frames.is_volume and frames.pixels.shape == (10, 64, 64) and frames.frames == 10


def test_every_pydicom_sample_loads_or_is_refused_clearly():
    files = sorted(get_testdata_files())
    assert len(files) > 200  # pydicom's own and pydicom-data's
    loaded = refused = 0
    for path in files:
        try:
            img = load_image(path)
        except RadagentError as err:
            assert isinstance(err, InvalidInputError), (path, err)
            assert err.message and err.hint
            refused += 1
            continue
        assert img.pixels.dtype == np.float32 and img.pixels.size > 0
        assert np.isfinite(img.pixels).all()
        loaded += 1
    assert loaded >= 150 and refused >= 50


def test_series_folder_is_sorted_by_position_not_file_or_instance(inputs):
    folder = inputs / "series"
    write_series(folder, n=6)
    img = load_image(folder)
    assert img.kind == "series" and img.pixels.shape == (6, 16, 16)
    np.testing.assert_array_equal(img.pixels[:, 0, 0], [0, 10, 20, 30, 40, 50])
    assert img.slice_positions == [0.0, 2.5, 5.0, 7.5, 10.0, 12.5]
    assert img.slice_spacing_mm == pytest.approx(2.5)
    assert img.spacing_mm == (0.5, 0.5) and img.metadata["frames"] == 6


def test_zip_of_a_series(inputs):
    files = write_series(inputs / "s", n=4)
    archive = inputs / "series.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in files:
            zf.write(p, f"DICOM/{p.name}")
    img = load_image(archive)
    assert img.pixels.shape == (4, 16, 16)
    np.testing.assert_array_equal(img.pixels[:, 3, 3], [0, 10, 20, 30])


def test_png_jpeg_grey_and_colour(inputs):
    grey = (np.arange(64 * 48) % 256).reshape(48, 64).astype(np.uint8)
    Image.fromarray(grey).save(inputs / "g.png")
    img = load_image(inputs / "g.png")
    assert img.modality == "OT" and img.kind == "raster" and img.pixels.shape == (48, 64)
    np.testing.assert_array_equal(img.pixels, grey)
    colour = np.zeros((20, 30, 3), np.uint8)
    colour[..., 0] = 200
    Image.fromarray(colour).save(inputs / "c.jpg", quality=95)
    assert load_image(inputs / "c.jpg").pixels.shape == (20, 30, 3)
    sixteen = (np.arange(40 * 40).reshape(40, 40) * 30).astype(np.uint16)
    Image.fromarray(sixteen).save(inputs / "s16.png")
    np.testing.assert_array_equal(load_image(inputs / "s16.png").pixels, sixteen)


def test_nifti_is_shown_in_radiological_orientation(inputs):
    data = np.zeros((8, 10, 3), np.float32)  # x (to patient right in RAS), y (anterior), z
    data[7, 0, 1] = 5.0  # the most rightward, most posterior voxel of slice 1
    nib.save(nib.Nifti1Image(data, np.diag([1.0, 2.0, 3.0, 1.0])), inputs / "v.nii.gz")
    img = load_image(inputs / "v.nii.gz")
    assert img.kind == "nifti" and img.pixels.shape == (3, 10, 8)
    assert img.spacing_mm == (2.0, 1.0) and img.slice_spacing_mm == 3.0
    # patient right on the image left, anterior at the top: the voxel lands bottom-left
    assert img.pixels[1, 9, 0] == 5.0


def test_npz_with_spacing_and_modality(inputs):
    arr = np.random.default_rng(0).normal(size=(32, 32)).astype(np.float32)
    np.savez(inputs / "a.npz", image=arr, spacing_mm=np.array([0.7, 0.7]), modality=np.array("CT"))
    img = load_image(inputs / "a.npz")
    np.testing.assert_array_equal(img.pixels, arr)
    assert img.spacing_mm == (0.7, 0.7) and img.modality == "CT"


def test_gzipped_dicom(inputs):
    raw = sample_file("MR_small.dcm").read_bytes()
    (inputs / "mr.dcm.gz").write_bytes(gzip.compress(raw))
    np.testing.assert_array_equal(load_image(inputs / "mr.dcm.gz").pixels, load_image(sample_file("MR_small.dcm")).pixels)


def test_windowing_presets_and_display():
    hu = np.array([[-1000, -600, 40, 1000]], np.float32)
    lung = apply_window(hu, "lung")
    assert lung[0, 0] < lung[0, 1] < lung[0, 2] and lung.dtype == np.uint8
    brain = apply_window(hu, "brain")
    assert brain[0, 0] == 0 and brain[0, 3] == 255 and 100 < brain[0, 2] < 155
    with pytest.raises(InvalidInputError):
        apply_window(hu, "nonsense")
    np.testing.assert_array_equal(apply_window(hu, 40, 80), brain)  # positional centre, width
    ct = load_image(sample_file("693_UNCR.dcm"))
    shown = to_display(ct)
    assert shown.dtype == np.uint8 and shown.shape == (512, 512)
    np.testing.assert_array_equal(shown, apply_window(ct.pixels, center=40, width=100))
    cr = to_display(load_image(sample_file("RG1_UNCR.dcm")))
    assert cr.shape == (1955, 1841)
    voi = load_image(sample_file("vlut_04.dcm"))
    assert voi.voi_lut is not None and to_display(voi).dtype == np.uint8


def test_unused_high_bits_are_cleared_like_pydicom(inputs):
    from imaging_helpers import make_ct_slice

    ds = make_ct_slice(0, 1, "1.2.3", "1.2.4", size=8)
    raw = np.full((8, 8), 1000, np.uint16)
    raw[0, :4] |= 1 << 13  # garbage above BitsStored (12), as old overlay planes left it
    ds.PixelData = raw.tobytes()
    ds.save_as(inputs / "bits.dcm", enforce_file_format=True)
    img = load_image(inputs / "bits.dcm")
    expected = pydicom.dcmread(inputs / "bits.dcm").pixel_array.astype(np.float32) - 1024
    np.testing.assert_array_equal(img.pixels, expected)
    assert img.pixels.max() == 1000 - 1024


def test_monochrome1_with_garbage_in_unused_bits_is_mirrored_after_clearing(inputs):
    from imaging_helpers import make_ct_slice

    ds = make_ct_slice(0, 1, "1.2.3", "1.2.4", size=8)
    ds.Modality, ds.PhotometricInterpretation = "CR", "MONOCHROME1"
    del ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType
    raw = np.arange(64, dtype=np.uint16).reshape(8, 8) * 60
    raw[0, :4] |= 1 << 14  # above BitsStored (12)
    ds.PixelData = raw.tobytes()
    ds.save_as(inputs / "m1.dcm", enforce_file_format=True)
    img = load_image(inputs / "m1.dcm")
    cleared = pydicom.dcmread(inputs / "m1.dcm").pixel_array.astype(np.float32)
    assert img.inverted and img.value_range == (0.0, 4095.0)
    np.testing.assert_array_equal(img.pixels, 4095.0 - cleared)
    assert img.pixels.min() >= 0
