"""Image-quality figures shared by the restoration tools and their benchmark (MONAI metrics).

PSNR and SSIM are computed over a stated data range: a fixed HU window for CT (so numbers are
comparable across images) and the reference's range for MR magnitude images.
"""

from __future__ import annotations

import numpy as np

CT_WINDOW_HU = (-1000.0, 1000.0)  # range the CT figures are measured over; beyond it is clipped


def _tensors(a: np.ndarray, b: np.ndarray):
    import torch

    return (torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32)[None, None],
            torch.as_tensor(np.ascontiguousarray(b), dtype=torch.float32)[None, None])


def psnr(output: np.ndarray, reference: np.ndarray, data_range: float) -> float:
    from monai.metrics import PSNRMetric

    y, x = _tensors(output, reference)
    return float(PSNRMetric(max_val=float(data_range))(y, x).item())


def ssim(output: np.ndarray, reference: np.ndarray, data_range: float) -> float:
    from monai.metrics import SSIMMetric

    y, x = _tensors(output, reference)
    return float(SSIMMetric(spatial_dims=2, data_range=float(data_range))(y, x).item())


def ct_quality(output_hu: np.ndarray, reference_hu: np.ndarray) -> dict[str, float]:
    """PSNR/SSIM of a CT slice against its reference inside the fixed HU window."""
    lo, hi = CT_WINDOW_HU
    out, ref = np.clip(output_hu, lo, hi) - lo, np.clip(reference_hu, lo, hi) - lo
    return {"psnr_db": round(psnr(out, ref, hi - lo), 3), "ssim": round(ssim(out, ref, hi - lo), 4)}


def mr_quality(output: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """PSNR/SSIM of an MR magnitude image against its reference, over the reference's range."""
    rng = float(reference.max() - reference.min()) or 1.0
    return {"psnr_db": round(psnr(output, reference, rng), 3), "ssim": round(ssim(output, reference, rng), 4)}


def noise_sigma(image: np.ndarray) -> float:
    """Noise standard deviation estimated from the image alone (wavelet MAD, skimage).

    Used when no clean reference exists (a real scan): the same estimator before and after
    denoising shows how much noise was removed.
    """
    from skimage.restoration import estimate_sigma

    return float(estimate_sigma(np.asarray(image, dtype=np.float64), channel_axis=None))
