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


def noise_sigma(image: np.ndarray, region: np.ndarray | None = None) -> float:
    """Noise standard deviation estimated from the image alone: wavelet MAD (as skimage's estimate_sigma).

    Used when no clean reference exists (a real scan): the same estimator before and after
    denoising shows how much noise was removed. `region` restricts it to where noise lives (the
    body, not the noiseless air outside a CT's field of view, which would pull the median to zero).
    """
    import pywt

    image = np.asarray(image, dtype=np.float64)
    if region is None:
        from skimage.restoration import estimate_sigma

        return float(estimate_sigma(image, channel_axis=None))
    _, (_, _, diagonal) = pywt.dwt2(image, "db2")
    inside = region[::2, ::2][: diagonal.shape[0], : diagonal.shape[1]]
    values = np.abs(diagonal[: inside.shape[0], : inside.shape[1]][inside])
    if values.size < 16:
        return noise_sigma(image)
    return float(np.median(values) / 0.6745)


def ct_body_region(hu: np.ndarray) -> np.ndarray:
    """Pixels inside the patient (denser than -900 HU), shrunk away from edges so anatomy is not counted as noise."""
    from scipy import ndimage

    body = ndimage.binary_fill_holes(np.asarray(hu) > -900)
    return ndimage.binary_erosion(body, iterations=3)
