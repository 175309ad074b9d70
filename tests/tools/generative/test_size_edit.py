"""The size edit's parts without any model: the classical diameter measurement and the radial rescaling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tools.generative.edit import MODEL_MM_PER_PX, nodule_diameter_mm, rescale_about, size_factor


def _blob(diameter_px: float, center=(30.0, 34.0), size: int = 64) -> torch.Tensor:
    """A bright disk on a gently varying background, in model space [-1, 1]."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    r = np.sqrt((xx - center[0]) ** 2 + (yy - center[1]) ** 2) / (diameter_px / 2)
    image = -0.4 + 0.002 * xx + 0.6 * np.sqrt(np.clip(1 - r ** 2, 0, 1))
    return torch.from_numpy(image)[None, None].float()


@pytest.mark.parametrize("diameter_px", [2.5, 4.0, 5.5])
def test_diameter_measurement_recovers_a_disk(diameter_px: float) -> None:
    measured = nodule_diameter_mm(_blob(diameter_px), (30.0, 34.0))
    assert measured == pytest.approx(diameter_px * MODEL_MM_PER_PX, abs=1.5 * MODEL_MM_PER_PX)


def test_measurement_scales_with_the_pixel_spacing() -> None:
    blob = _blob(4.0)
    assert nodule_diameter_mm(blob, (30, 34), mm_per_px=2.0) == pytest.approx(
        nodule_diameter_mm(blob, (30, 34)) * 2.0 / MODEL_MM_PER_PX)


def test_empty_lung_measures_zero_or_little() -> None:
    flat = _blob(0.01)
    assert nodule_diameter_mm(flat, (30, 34)) < 2 * MODEL_MM_PER_PX


def test_rescaling_grows_and_shrinks_the_measured_diameter_and_stays_local() -> None:
    blob = _blob(5.0)
    before = nodule_diameter_mm(blob, (30, 34))
    bigger, support = rescale_about(blob, (30.0, 34.0), 3.0, size_factor(1.0))
    smaller, _ = rescale_about(blob, (30.0, 34.0), 3.0, size_factor(-1.0))
    assert nodule_diameter_mm(bigger, (30, 34)) > before + MODEL_MM_PER_PX
    assert nodule_diameter_mm(smaller, (30, 34)) < before
    outside = support[0, 0] == 0
    assert torch.allclose(bigger[0, 0][outside], blob[0, 0][outside], atol=1e-5)  # nothing moves outside
    same, _ = rescale_about(blob, (30.0, 34.0), 3.0, 1.0)
    assert torch.allclose(same, blob, atol=1e-4)


def test_size_factor_is_symmetric_in_strength() -> None:
    assert size_factor(0.0) == 1.0
    assert size_factor(1.0) == pytest.approx(1.5)
    assert size_factor(-1.0) * size_factor(1.0) == pytest.approx(1.0)
