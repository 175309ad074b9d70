"""Head phantoms: paired CT (HU) and MR of one anatomy, with consistent masks and labels."""

from __future__ import annotations

import numpy as np
import pytest

from tools.phantoms.head import MASK_NAMES, generate_head


def test_same_seed_same_pair():
    a = generate_head(3, size=64, seed=4)
    b = generate_head(3, size=64, seed=4)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.ct_hu, y.ct_hu)
        np.testing.assert_array_equal(x.mr, y.mr)
        assert x.labels == y.labels
    assert not np.array_equal(a[0].ct_hu, generate_head(1, size=64, seed=5)[0].ct_hu)


@pytest.mark.parametrize("size", [64, 128, 256])
def test_hounsfield_units_and_mr_range(size):
    for p in generate_head(2, size=size, seed=1, lesion_prob=0.0):
        assert p.ct_hu.shape == (size, size) and p.ct_hu.dtype == np.float32
        assert p.mr.shape == (size, size) and 0 <= p.mr.min() and p.mr.max() <= 1
        assert set(p.masks) == set(MASK_NAMES)
        assert p.spacing_mm == pytest.approx((220.0 / size,) * 2)
        assert p.ct_hu[0, 0] == pytest.approx(-1000, abs=5)
        assert np.median(p.ct_hu[p.masks["skull"]]) > 500
        brain = p.masks["brain"] & ~p.masks["ventricles"]
        assert 20 < np.median(p.ct_hu[brain]) < 45
        assert np.median(p.ct_hu[p.masks["ventricles"]]) < 18


def test_mr_is_the_same_anatomy_with_mr_contrast():
    t1 = generate_head(2, size=128, seed=2, lesion_prob=0.0, mr_weighting="t1")
    t2 = generate_head(2, size=128, seed=2, lesion_prob=0.0, mr_weighting="t2")
    for a, b in zip(t1, t2):
        np.testing.assert_array_equal(a.masks["brain"], b.masks["brain"])
        vent, skull = a.masks["ventricles"], a.masks["skull"]
        brain = a.masks["brain"] & ~vent
        assert a.mr[vent].mean() < a.mr[brain].mean()  # T1: CSF dark
        assert b.mr[vent].mean() > b.mr[brain].mean()  # T2: CSF bright
        # cortical bone is dark in MR while it is the brightest thing in CT
        assert a.mr[skull].mean() < a.mr[brain].mean() and a.ct_hu[skull].mean() > a.ct_hu[brain].mean()


def test_lesion_in_the_stated_hemisphere_with_the_stated_density():
    items = generate_head(12, size=128, seed=3, lesion_prob=1.0)
    seen = 0
    for p in items:
        lab = p.labels
        if not lab["lesion_present"]:
            continue
        seen += 1
        lesion = p.masks["lesion"]
        assert lesion.any()
        assert (lesion & p.masks["brain"]).sum() == lesion.sum()
        assert not (lesion & p.masks["ventricles"]).any()
        cols = np.nonzero(lesion)[1]
        if lab["lesion_side"] == "left":  # patient left = image right
            assert cols.mean() > 64
        else:
            assert cols.mean() < 64
        area = lesion.sum() * p.spacing_mm[0] * p.spacing_mm[1]
        assert 2 * np.sqrt(area / np.pi) == pytest.approx(lab["lesion_size_mm"], rel=0.2)
        hu = np.median(p.ct_hu[lesion])
        if lab["lesion_type"] == "haemorrhage":
            assert 55 < hu < 80
        else:
            assert 5 < hu < 22
        assert 1 <= lab["severity"] <= 3
    assert seen >= 8


def test_no_lesion():
    for p in generate_head(3, size=64, seed=0, lesion_prob=0.0):
        assert not p.masks["lesion"].any()
        assert p.labels["lesion_present"] is False and p.labels["severity"] == 0
