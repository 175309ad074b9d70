"""Splits are fixed by seed and disjoint; a saved dataset reloads to the same arrays and labels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tools.phantoms.dataset import phantom_split, save_dataset, split_counts


@pytest.mark.parametrize("family", ["chest", "head"])
def test_splits_are_reproducible_and_disjoint(family):
    key = "image"
    splits = {s: phantom_split(family, s, 6, size=32, seed=0) for s in ("train", "val", "test")}
    again = phantom_split(family, "val", 6, size=32, seed=0)
    for a, b in zip(splits["val"], again):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    hashes = {s: {getattr(p, key).tobytes() for p in items} for s, items in splits.items()}
    assert len(hashes["train"]) == 6
    assert not hashes["train"] & hashes["val"]
    assert not hashes["train"] & hashes["test"]
    assert not hashes["val"] & hashes["test"]
    other_seed = phantom_split(family, "train", 1, size=32, seed=1)[0]
    assert getattr(other_seed, key).tobytes() not in hashes["train"]


def test_split_counts_add_up():
    assert split_counts(10) == {"train": 8, "val": 1, "test": 1}
    assert sum(split_counts(37).values()) == 37


@pytest.mark.parametrize("family", ["chest", "head"])
def test_save_dataset_round_trip(tmp_path, family):
    manifest = save_dataset(family, 10, 32, 3, tmp_path / "ds")
    assert manifest["splits"]["train"]["n"] == 8
    data = np.load(tmp_path / "ds" / "train.npz")
    labels = json.loads((tmp_path / "ds" / "train_labels.json").read_text())
    assert data["image"].shape == (8, 32, 32) and len(labels) == 8
    expected = phantom_split(family, "train", 8, size=32, seed=3)
    np.testing.assert_array_equal(data["image"][2], expected[2].image)
    assert labels[2]["lesion_present"] == expected[2].labels["lesion_present"]
    assert data["mask_" + ("nodule" if family == "chest" else "lesion")].dtype == bool
    if family == "head":
        np.testing.assert_array_equal(data["ct_hu"][0], expected[0].ct_hu)
    again = save_dataset(family, 10, 32, 3, tmp_path / "ds2")
    assert again == json.loads((tmp_path / "ds" / "manifest.json").read_text())


def test_save_dataset_with_synthetic_dicoms(tmp_path):
    import pydicom

    manifest = save_dataset("head", 10, 32, 1, tmp_path / "dcm", dicom=True)
    names = manifest["splits"]["val"]["dicom"]
    assert len(names) == 1
    ds = pydicom.dcmread(tmp_path / "dcm" / "dicom" / "val" / names[0])
    assert ds.Modality == "CT" and "SYNTHETIC" in ds.SeriesDescription and ds.BurnedInAnnotation == "YES"
    expected = phantom_split("head", "val", 1, size=32, seed=1)[0]
    hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    assert np.abs(hu[-8:] - np.round(expected.ct_hu[-8:])).max() <= 1.0  # below the burned banner
    assert '"labels"' in ds.ImageComments
