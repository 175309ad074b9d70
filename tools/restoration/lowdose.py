"""Physical low-dose CT simulation: HU -> attenuation -> sinogram -> Poisson counts -> FBP -> HU.

Lowering the dose lowers the incident photon count per detector bin (I0 * dose); fewer photons
mean relatively more Poisson noise in the measured line integrals, which filtered back-projection
turns into the streaky, spatially correlated noise of a real low-dose scan. Simulating it from the
physics (not by adding Gaussian noise to pixels) is what makes a denoiser trained on phantoms
transfer to real CT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agent.errors import InvalidInputError

MU_WATER_PER_MM = 0.0192  # linear attenuation of water at ~70 keV effective energy
HU_AIR = -1000.0
FULL_DOSE_PHOTONS = 1.0e5  # incident photons per detector bin at full (100%) dose
MIN_DOSE, MAX_DOSE = 0.05, 1.0
DEFAULT_PIXEL_MM = 1.0


@dataclass
class LowDoseSimulation:
    """A simulated acquisition: the low-dose FBP, its noise-free FBP reference, and how it was made."""

    low_dose_hu: np.ndarray
    reference_hu: np.ndarray  # FBP of the noise-free sinogram: same geometry, no quantum noise
    dose_fraction: float
    photons: float
    n_angles: int


def check_dose(dose_fraction: float) -> float:
    """Refuse doses outside the simulated range, naming the range."""
    if not (MIN_DOSE <= float(dose_fraction) <= MAX_DOSE):
        raise InvalidInputError(
            f"Dose fraction {dose_fraction} is out of range.",
            f"Use a dose fraction between {MIN_DOSE} and {MAX_DOSE} (e.g. 0.25 for a quarter-dose scan).",
        )
    return float(dose_fraction)


def hu_to_mu(hu: np.ndarray) -> np.ndarray:
    """Linear attenuation per mm; anything below air (FOV padding, -3024) counts as air."""
    return MU_WATER_PER_MM * np.clip(1.0 + np.asarray(hu, dtype=np.float64) / 1000.0, 0.0, None)


def mu_to_hu(mu: np.ndarray) -> np.ndarray:
    return (1000.0 * (np.asarray(mu) / MU_WATER_PER_MM - 1.0)).astype(np.float32)


def default_angles(size: int) -> np.ndarray:
    """About one view per pixel row over 180 degrees, as in clinical sampling."""
    n = int(max(90, min(720, size)))
    return np.linspace(0.0, 180.0, n, endpoint=False)


def _square_pad(image: np.ndarray, fill: float) -> tuple[np.ndarray, tuple[slice, slice]]:
    """radon/iradon need a square image; pad with air and remember where the original sits."""
    h, w = image.shape
    n = max(h, w)
    top, left = (n - h) // 2, (n - w) // 2
    out = np.full((n, n), fill, dtype=np.float64)
    out[top:top + h, left:left + w] = image
    return out, (slice(top, top + h), slice(left, left + w))


def forward_project(mu: np.ndarray, pixel_mm: float, theta: np.ndarray) -> np.ndarray:
    """Line integrals of attenuation (dimensionless), one column per view angle."""
    from skimage.transform import radon

    return radon(mu, theta=theta, circle=False) * pixel_mm


def fbp(sinogram: np.ndarray, pixel_mm: float, theta: np.ndarray, size: int) -> np.ndarray:
    """Filtered back-projection with the ramp filter, back to attenuation per mm."""
    from skimage.transform import iradon

    return iradon(sinogram / pixel_mm, theta=theta, output_size=size, filter_name="ramp", circle=False)


def add_quantum_noise(sinogram: np.ndarray, photons: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson counts behind the object, then the log transform back to line integrals."""
    expected = photons * np.exp(-sinogram)
    counts = rng.poisson(expected).astype(np.float64)
    counts = np.maximum(counts, 1.0)  # a detector reading of zero photons is clamped, as scanners do
    return -np.log(counts / photons)


def simulate_low_dose(
    hu: np.ndarray,
    dose_fraction: float = 0.25,
    *,
    pixel_mm: float | None = None,
    seed: int | None = 0,
    full_dose_photons: float = FULL_DOSE_PHOTONS,
    noise: bool = True,
) -> LowDoseSimulation:
    """Simulate a scan of `hu` at `dose_fraction` of the full-dose photon count.

    Returns the noisy FBP and the noise-free FBP of the same geometry (the reference a
    denoiser should recover). `noise=False` gives the clean FBP for both, a check of the chain.
    """
    check_dose(dose_fraction)
    return simulate_doses(hu, [dose_fraction], pixel_mm=pixel_mm, seed=seed,
                          full_dose_photons=full_dose_photons, noise=noise)[0]


def simulate_doses(
    hu: np.ndarray,
    doses: list[float],
    *,
    pixel_mm: float | None = None,
    seed: int | np.random.Generator | None = 0,
    full_dose_photons: float = FULL_DOSE_PHOTONS,
    noise: bool = True,
) -> list[LowDoseSimulation]:
    """Several doses of one slice sharing the projection and the reference (training data in bulk)."""
    doses = [check_dose(d) for d in doses]
    hu = np.asarray(hu, dtype=np.float64)
    if hu.ndim != 2:
        raise InvalidInputError("Low-dose simulation needs one 2-D slice.", "Pass a single CT slice.")
    pixel = float(pixel_mm) if pixel_mm else DEFAULT_PIXEL_MM
    mu, crop = _square_pad(hu_to_mu(hu), 0.0)
    theta = default_angles(mu.shape[0])
    clean = forward_project(mu, pixel, theta)
    reference = mu_to_hu(fbp(clean, pixel, theta, mu.shape[0]))[crop]
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    out = []
    for dose in doses:
        photons = full_dose_photons * dose
        if noise:
            low = mu_to_hu(fbp(add_quantum_noise(clean, photons, rng), pixel, theta, mu.shape[0]))[crop]
        else:
            low = reference.copy()
        out.append(LowDoseSimulation(low, reference, dose, photons, len(theta)))
    return out
