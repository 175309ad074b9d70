"""The classical baselines: non-local means lowers noise; the intensity lookup matches marginals."""

from __future__ import annotations

import numpy as np

from tools.restoration.baselines import apply_intensity_mapping, fit_intensity_mapping, nlm_denoise
from tools.restoration.metrics import ct_quality, noise_sigma


def test_nlm_lowers_noise_and_raises_psnr() -> None:
    rng = np.random.default_rng(0)
    clean = np.full((64, 64), 40.0, dtype=np.float32)
    clean[16:48, 16:48] = 300.0
    noisy = clean + rng.normal(0, 50, clean.shape).astype(np.float32)
    out = nlm_denoise(noisy)
    assert noise_sigma(out) < 0.5 * noise_sigma(noisy)
    assert ct_quality(out, clean)["psnr_db"] > ct_quality(noisy, clean)["psnr_db"] + 3


def test_intensity_mapping_transfers_the_marginal_distribution() -> None:
    rng = np.random.default_rng(1)
    source = rng.uniform(0, 1, 5000)
    target = rng.normal(100, 20, 7000)  # different samples: unpaired
    mapping = fit_intensity_mapping(source, target)
    mapped = apply_intensity_mapping(source, mapping)
    assert abs(np.median(mapped) - 100) < 3 and abs(np.std(mapped) - 20) < 3
    assert np.all(np.diff(apply_intensity_mapping(np.linspace(0, 1, 50), mapping)) >= 0)  # monotone
