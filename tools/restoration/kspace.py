"""Undersampled MRI acquisition: centred FFTs, fastMRI-style column masks, zero-filling and data consistency.

An MR scanner measures k-space (the image's Fourier transform) one phase-encoding line at a
time; skipping lines shortens the scan by the acceleration factor. The masks follow the fastMRI
convention: a fully sampled band of low frequencies in the centre (the contrast) plus either
equispaced or random high-frequency columns, so that the expected number of columns is N/R.
"""

from __future__ import annotations

import numpy as np

from agent.errors import InvalidInputError

ACCELERATIONS: dict[int, float] = {4: 0.08, 8: 0.04}  # acceleration -> fully sampled centre fraction
MASK_TYPES = ("equispaced", "random")


def check_acceleration(acceleration: int) -> int:
    """Refuse accelerations the reconstruction was not built for, naming the valid ones."""
    if int(acceleration) != acceleration or int(acceleration) not in ACCELERATIONS:
        valid = ", ".join(str(a) for a in ACCELERATIONS)
        raise InvalidInputError(f"Acceleration {acceleration} is not supported.",
                                f"Valid accelerations: {valid}.")
    return int(acceleration)


def check_mask_type(mask_type: str) -> str:
    if mask_type not in MASK_TYPES:
        raise InvalidInputError(f"Unknown mask type '{mask_type}'.", f"Valid mask types: {', '.join(MASK_TYPES)}.")
    return mask_type


def fft2c(image: np.ndarray) -> np.ndarray:
    """Centred, orthonormal 2-D FFT over the last two axes (DC in the middle, energy preserved)."""
    return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(image, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))


def ifft2c(kspace: np.ndarray) -> np.ndarray:
    """Inverse of `fft2c`."""
    return np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(kspace, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))


def column_mask(
    n_cols: int,
    acceleration: int,
    mask_type: str = "equispaced",
    seed: int | None = 0,
    center_fraction: float | None = None,
) -> np.ndarray:
    """A boolean mask over k-space columns with a fully sampled centre (fastMRI MaskFunc convention)."""
    acceleration = check_acceleration(acceleration)
    check_mask_type(mask_type)
    frac = ACCELERATIONS[acceleration] if center_fraction is None else center_fraction
    num_low = max(2, int(round(n_cols * frac)))
    mask = np.zeros(n_cols, dtype=bool)
    start = (n_cols - num_low + 1) // 2
    mask[start:start + num_low] = True
    rng = np.random.default_rng(seed)
    if mask_type == "random":
        prob = (n_cols / acceleration - num_low) / max(n_cols - num_low, 1)
        mask |= rng.uniform(size=n_cols) < prob
    else:
        # Equispaced with an adjusted step so that the total stays about n_cols / acceleration.
        adjusted = acceleration * (num_low - n_cols) / (num_low * acceleration - n_cols) if num_low * acceleration != n_cols else acceleration
        offset = int(rng.integers(0, max(1, round(adjusted))))
        idx = np.round(np.arange(offset, n_cols - 1, adjusted)).astype(int)
        mask[idx[idx < n_cols]] = True
    return mask


def mask_2d(shape: tuple[int, int], acceleration: int, mask_type: str = "equispaced", seed: int | None = 0) -> np.ndarray:
    """The column mask broadcast to the full (rows, cols) k-space grid."""
    cols = column_mask(shape[-1], acceleration, mask_type, seed)
    return np.broadcast_to(cols[None, :], shape).copy()


def undersample(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The measured k-space: fully sampled k-space with the unmeasured lines set to zero."""
    return np.where(mask, fft2c(np.asarray(image, dtype=np.complex128)), 0)


def zero_filled(kspace: np.ndarray) -> np.ndarray:
    """The baseline reconstruction: inverse FFT of the zero-filled k-space, magnitude."""
    return np.abs(ifft2c(kspace)).astype(np.float32)


def data_consistency(estimate: np.ndarray, measured: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Replace the estimate's k-space on the sampled lines with the measured values, verbatim.

    Returns (k-space, image): the k-space holds the measured samples exactly where the mask is set,
    so the reconstruction can never contradict what the scanner actually acquired.
    """
    k_est = fft2c(np.asarray(estimate, dtype=np.complex128))
    k_dc = np.where(mask, measured, k_est)
    return k_dc, ifft2c(k_dc)


def acceleration_of(mask: np.ndarray) -> float:
    """The realised acceleration: all columns over sampled columns."""
    cols = mask.reshape(-1, mask.shape[-1]).any(axis=0)
    return float(cols.size / max(int(cols.sum()), 1))
