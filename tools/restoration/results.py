"""Result shapes of the restoration tools: the output files plus the quality figures that justify them."""

from __future__ import annotations

from tools.schemas import ToolResult


class RestorationResult(ToolResult):
    """Common to every restoration output: where it is and what made it."""

    image: str = ""  # PNG with the SYNTHETIC banner
    dicom: str | None = None
    comparison: str = ""  # input | output | (reference) picture
    model: str = ""
    checkpoint_sha256: str = ""
    seed: int | None = None
    input_shape: list[int] = []


class DenoiseResult(RestorationResult):
    strength: float = 1.0
    dose_fraction: float | None = None  # set when the low-dose scan was simulated from the input
    reference: str | None = None  # what PSNR/SSIM are measured against, when known
    psnr_db: float | None = None
    ssim: float | None = None
    input_psnr_db: float | None = None  # the noisy input against the same reference
    input_ssim: float | None = None
    noise_sigma_input_hu: float = 0.0  # estimated from the image alone (wavelet MAD)
    noise_sigma_output_hu: float = 0.0


class ReconstructResult(RestorationResult):
    acceleration: float = 0.0  # realised: all columns / sampled columns
    requested_acceleration: int | None = None
    mask_type: str | None = None
    mask_seed: int | None = None
    source: str = ""  # "simulated from image" or "measured k-space"
    sampled_columns: int = 0
    psnr_db: float | None = None  # against the fully sampled image, when it is known
    ssim: float | None = None
    zero_filled_psnr_db: float | None = None
    zero_filled_ssim: float | None = None


class TranslateResult(RestorationResult):
    source_modality: str = ""
    target_modality: str = ""
    baseline: str = "intensity mapping (quantile lookup learned from unpaired marginals)"
    mae_hu: float | None = None  # against `reference`, when given (CT target)
    baseline_mae_hu: float | None = None
    mae: float | None = None  # MR target: normalised intensity error against the reference
    baseline_mae: float | None = None
    difference_from_baseline: float | None = None  # mean |model - baseline| in output units
