"""The physical low-dose CT simulation: noise follows dose, the noise-free chain is plain FBP, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from agent.errors import InvalidInputError
from tools.restoration.lowdose import (MAX_DOSE, MIN_DOSE, default_angles, fbp, forward_project, hu_to_mu, mu_to_hu,
                                       simulate_doses, simulate_low_dose)


@pytest.fixture(scope="module")
def slice_hu() -> np.ndarray:
    """A 64 px disc of soft tissue with a bone ring and a darker insert, in HU."""
    yy, xx = np.mgrid[:64, :64]
    r = np.hypot(yy - 32, xx - 32)
    hu = np.full((64, 64), -1000.0, dtype=np.float32)
    hu[r < 26] = 1200.0
    hu[r < 23] = 40.0
    hu[np.hypot(yy - 28, xx - 36) < 6] = 0.0
    return hu


def _noise(sim) -> float:
    return float(np.std(sim.low_dose_hu[20:44, 20:44] - sim.reference_hu[20:44, 20:44]))


def test_noise_grows_as_dose_falls(slice_hu: np.ndarray) -> None:
    sims = simulate_doses(slice_hu, [1.0, 0.5, 0.25, 0.1], pixel_mm=1.5, seed=3)
    noise = [_noise(s) for s in sims]
    assert all(a < b for a, b in zip(noise, noise[1:])), noise
    # Poisson statistics: quartering the dose roughly doubles the noise standard deviation.
    assert 1.5 < noise[2] / noise[0] < 2.6


def test_full_dose_without_noise_is_the_fbp_of_the_clean_sinogram(slice_hu: np.ndarray) -> None:
    sim = simulate_low_dose(slice_hu, 1.0, pixel_mm=1.5, noise=False)
    theta = default_angles(64)
    direct = mu_to_hu(fbp(forward_project(hu_to_mu(slice_hu), 1.5, theta), 1.5, theta, 64))
    np.testing.assert_allclose(sim.low_dose_hu, direct, atol=1e-3)
    np.testing.assert_array_equal(sim.low_dose_hu, sim.reference_hu)
    # and FBP of the clean sinogram reproduces the slice away from the sharp bone edges
    assert np.abs(sim.reference_hu[24:40, 24:40] - slice_hu[24:40, 24:40]).mean() < 15.0


def test_same_seed_same_noise_and_other_seed_differs(slice_hu: np.ndarray) -> None:
    a = simulate_low_dose(slice_hu, 0.25, seed=7).low_dose_hu
    b = simulate_low_dose(slice_hu, 0.25, seed=7).low_dose_hu
    c = simulate_low_dose(slice_hu, 0.25, seed=8).low_dose_hu
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_non_square_slice_keeps_its_shape() -> None:
    hu = np.zeros((37, 52), dtype=np.float32)
    sim = simulate_low_dose(hu, 0.5)
    assert sim.low_dose_hu.shape == sim.reference_hu.shape == (37, 52)


def test_fov_padding_below_air_counts_as_air() -> None:
    assert hu_to_mu(np.array([-3024.0]))[0] == 0.0


@pytest.mark.parametrize("dose", [0.0, 0.01, 1.5, -0.25])
def test_out_of_range_dose_names_the_valid_range(slice_hu: np.ndarray, dose: float) -> None:
    with pytest.raises(InvalidInputError) as err:
        simulate_low_dose(slice_hu, dose)
    assert str(MIN_DOSE) in err.value.hint and str(MAX_DOSE) in err.value.hint
