"""k-space sampling: masks have the stated acceleration and a full centre; data consistency is exact."""

from __future__ import annotations

import numpy as np
import pytest

from agent.errors import InvalidInputError
from tools.restoration.kspace import (ACCELERATIONS, acceleration_of, column_mask, data_consistency, fft2c, ifft2c,
                                      mask_2d, undersample, zero_filled)


@pytest.mark.parametrize("n", [128, 256, 97])
@pytest.mark.parametrize("accel", [4, 8])
def test_equispaced_mask_has_the_acceleration_and_a_full_centre(n: int, accel: int) -> None:
    mask = column_mask(n, accel, "equispaced", seed=0)
    assert abs(acceleration_of(mask) - accel) / accel < 0.1
    num_low = max(2, round(n * ACCELERATIONS[accel]))
    start = (n - num_low + 1) // 2
    assert mask[start:start + num_low].all()
    assert mask[n // 2]  # the DC column


@pytest.mark.parametrize("accel", [4, 8])
def test_random_mask_has_the_acceleration_on_average(accel: int) -> None:
    sampled = np.mean([column_mask(256, accel, "random", seed=s).sum() for s in range(40)])
    assert abs(256 / sampled - accel) / accel < 0.1


def test_masks_are_deterministic_by_seed() -> None:
    np.testing.assert_array_equal(column_mask(128, 4, "random", 5), column_mask(128, 4, "random", 5))
    assert not np.array_equal(column_mask(128, 4, "random", 5), column_mask(128, 4, "random", 6))


@pytest.mark.parametrize("bad", [1, 2, 3, 6, 16])
def test_unsupported_acceleration_lists_the_valid_ones(bad: int) -> None:
    with pytest.raises(InvalidInputError) as err:
        column_mask(128, bad)
    assert "4" in err.value.hint and "8" in err.value.hint


def test_centred_fft_round_trips_and_preserves_energy() -> None:
    img = np.random.default_rng(0).normal(size=(32, 48))
    k = fft2c(img)
    np.testing.assert_allclose(ifft2c(k).real, img, atol=1e-10)
    assert np.isclose(np.sum(np.abs(k) ** 2), np.sum(img ** 2))
    assert np.argmax(np.abs(fft2c(np.ones((32, 48))))) == np.ravel_multi_index((16, 24), (32, 48))


def test_data_consistency_keeps_the_sampled_lines_exactly() -> None:
    rng = np.random.default_rng(1)
    truth = rng.uniform(size=(64, 64))
    mask = mask_2d((64, 64), 4, "random", seed=2)
    measured = undersample(truth, mask)
    estimate = rng.uniform(size=(64, 64))  # an arbitrary network output
    k_dc, _ = data_consistency(estimate, measured, mask)
    assert np.array_equal(k_dc[mask], measured[mask])  # bit for bit, no FFT round-off
    np.testing.assert_array_equal(k_dc[~mask], fft2c(estimate.astype(np.complex128))[~mask])


def test_zero_filling_with_a_full_mask_returns_the_image() -> None:
    img = np.random.default_rng(2).uniform(size=(40, 40))
    np.testing.assert_allclose(zero_filled(undersample(img, np.ones((40, 40), bool))), img, atol=1e-6)
