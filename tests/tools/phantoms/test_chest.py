"""Chest phantoms: reproducible by seed, and masks/labels that agree with each other and the picture."""

from __future__ import annotations

import numpy as np
import pytest

from tools.phantoms.chest import MASK_NAMES, generate_chest


def test_same_seed_same_phantoms_and_prefix_stable():
    a = generate_chest(4, size=64, seed=7)
    b = generate_chest(4, size=64, seed=7)
    c = generate_chest(2, size=64, seed=7)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.image, y.image)
        assert x.labels == y.labels
        for name in MASK_NAMES:
            np.testing.assert_array_equal(x.masks[name], y.masks[name])
    np.testing.assert_array_equal(a[1].image, c[1].image)
    other = generate_chest(4, size=64, seed=8)
    assert not np.array_equal(a[0].image, other[0].image)


@pytest.mark.parametrize("size", [64, 128, 256])
def test_every_size_gives_valid_images_and_masks(size):
    items = generate_chest(3, size=size, seed=3, lesion_prob=1.0, effusion_prob=1.0)
    for p in items:
        assert p.image.shape == (size, size) and p.image.dtype == np.float32
        assert 0.0 <= p.image.min() and p.image.max() <= 1.0
        assert set(p.masks) == set(MASK_NAMES)
        for mask in p.masks.values():
            assert mask.shape == (size, size) and mask.dtype == bool
        assert p.spacing_mm == pytest.approx((350.0 / size, 350.0 / size))
        assert p.masks["left_lung"].sum() > 0.05 * size * size
        assert p.masks["heart"].any() and p.masks["ribs"].any() and p.masks["mediastinum"].any()


def test_labels_are_the_same_patient_at_every_size():
    small = generate_chest(6, size=64, seed=11)
    large = generate_chest(6, size=256, seed=11)
    for s, l in zip(small, large):
        for key in ("lesion_present", "lesion_side", "lesion_size_mm", "effusion", "effusion_side", "severity"):
            assert s.labels[key] == l.labels[key]
        if s.labels["lesion_center"] is not None:
            np.testing.assert_allclose(np.array(s.labels["lesion_center"]) * 4, l.labels["lesion_center"], atol=1e-3)


def test_patient_left_lung_is_on_the_image_right():
    for p in generate_chest(5, size=128, seed=1):
        cols = np.arange(128)
        left_x = (p.masks["left_lung"] * cols).sum() / p.masks["left_lung"].sum()
        right_x = (p.masks["right_lung"] * cols).sum() / p.masks["right_lung"].sum()
        assert left_x > 64 > right_x
        heart_x = (p.masks["heart"] * cols).sum() / p.masks["heart"].sum()
        assert heart_x > 64  # the heart bulges to the patient's left


def test_masks_do_not_overlap_where_they_must_not():
    for p in generate_chest(5, size=128, seed=2):
        m = p.masks
        assert not (m["left_lung"] & m["right_lung"]).any()
        assert not (m["heart"] & (m["left_lung"] | m["right_lung"])).any()
        assert not (m["mediastinum"] & m["heart"]).any()


@pytest.mark.parametrize("size", [128, 256])
def test_nodule_lies_in_the_stated_lung_with_the_stated_size(size):
    items = generate_chest(12, size=size, seed=5, lesion_prob=1.0, effusion_prob=0.5)
    checked = 0
    for p in items:
        lab = p.labels
        if not lab["lesion_present"]:
            continue
        checked += 1
        nodule = p.masks["nodule"]
        side = lab["lesion_side"]
        other = "left" if side == "right" else "right"
        assert nodule.any()
        assert (nodule & p.masks[f"{side}_lung"]).sum() == nodule.sum()
        assert not (nodule & p.masks[f"{other}_lung"]).any()
        # equivalent-circle diameter from the mask area agrees with the stated size
        area_mm2 = nodule.sum() * p.spacing_mm[0] * p.spacing_mm[1]
        diameter = 2 * np.sqrt(area_mm2 / np.pi)
        assert diameter == pytest.approx(lab["lesion_size_mm"], rel=0.15)
        x, y = lab["lesion_center"]
        assert nodule[int(y), int(x)]
        assert 1 <= lab["severity"] <= 3
    assert checked >= 8


def test_no_lesion_means_empty_mask_and_zero_size():
    for p in generate_chest(4, size=64, seed=9, lesion_prob=0.0, effusion_prob=0.0):
        assert p.labels["lesion_present"] is False and p.labels["lesion_side"] is None
        assert p.labels["lesion_size_mm"] == 0.0 and p.labels["lesion_center"] is None
        assert p.labels["severity"] == 0
        assert not p.masks["nodule"].any() and not p.masks["effusion"].any()


def test_effusion_fills_the_base_of_the_stated_side():
    for p in generate_chest(4, size=128, seed=4, lesion_prob=0.0, effusion_prob=1.0):
        side = p.labels["effusion_side"]
        fluid = p.masks["effusion"]
        assert fluid.any() and p.labels["effusion"] is True and p.labels["severity"] == 1
        assert (fluid & p.masks[f"{side}_lung"]).sum() == fluid.sum()
        rows = np.nonzero(fluid)[0]
        lung_rows = np.nonzero(p.masks[f"{side}_lung"])[0]
        assert rows.mean() > lung_rows.mean()  # at the bottom of the lung
        # fluid is denser than aerated lung on the same side
        aerated = p.masks[f"{side}_lung"] & ~fluid & ~p.masks["ribs"]
        assert p.image[fluid].mean() > p.image[aerated].mean()


def test_lungs_are_darker_than_heart_and_nodules_brighter_than_lung():
    for p in generate_chest(6, size=128, seed=6, lesion_prob=1.0, effusion_prob=0.0):
        lungs = p.masks["left_lung"] | p.masks["right_lung"]
        assert p.image[lungs].mean() < p.image[p.masks["heart"]].mean()
        if p.labels["lesion_present"]:
            side = p.masks[f"{p.labels['lesion_side']}_lung"] & ~p.masks["nodule"]
            assert p.image[p.masks["nodule"]].mean() > p.image[side].mean()
