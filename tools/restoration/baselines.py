"""Classical baselines every learned restoration is measured against in the same run.

- Non-local means for CT denoising (noise level estimated from the image, as a user would).
- Zero-filled inverse FFT for MRI reconstruction lives in `kspace.zero_filled`.
- A monotone intensity lookup for MR->CT translation, learned from the two UNPAIRED marginal
  distributions (quantile / histogram matching): what is possible without paired data or context.
"""

from __future__ import annotations

import numpy as np

from tools.restoration.metrics import noise_sigma

QUANTILES = np.linspace(0.0, 1.0, 257)


def nlm_denoise(hu: np.ndarray) -> np.ndarray:
    """Non-local means with sigma from `estimate_sigma` (skimage's recommended h = 0.8 sigma)."""
    from skimage.restoration import denoise_nl_means

    x = np.asarray(hu, dtype=np.float64) / 1000.0
    sigma = noise_sigma(x)
    out = denoise_nl_means(x, h=0.8 * sigma, sigma=sigma, patch_size=5, patch_distance=6, fast_mode=True)
    return (out * 1000.0).astype(np.float32)


def fit_intensity_mapping(source_values: np.ndarray, target_values: np.ndarray) -> dict[str, list[float]]:
    """Quantile lookup from the pooled source intensities to the pooled target ones (unpaired)."""
    src = np.quantile(np.asarray(source_values, dtype=np.float64).ravel(), QUANTILES)
    dst = np.quantile(np.asarray(target_values, dtype=np.float64).ravel(), QUANTILES)
    src = np.maximum.accumulate(src + np.arange(src.size) * 1e-9)  # strictly increasing for interp
    return {"source": src.tolist(), "target": dst.tolist()}


def apply_intensity_mapping(image: np.ndarray, mapping: dict[str, list[float]]) -> np.ndarray:
    source = np.asarray(mapping["source"], dtype=np.float64)
    source = np.maximum.accumulate(source + np.arange(source.size) * 1e-9)  # ties (e.g. air) -> increasing
    return np.interp(np.asarray(image, dtype=np.float64), source, mapping["target"]).astype(np.float32)
