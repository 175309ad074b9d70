"""`radagent train NAME`: every trainable model, registered in one place.

Each entry maps a model name to "module:function"; the function takes (seed: int, out: Path | None,
quick: bool) and writes the checkpoint (default: the committed path) plus a training log.
"""

from __future__ import annotations

TRAINERS: dict[str, str] = {
    "ct_denoiser": "tools.restoration.train_denoiser:train_ct_denoiser",
    "mri_recon": "tools.restoration.train_recon:train_mri_recon",
    "mr_ct_cyclegan": "tools.restoration.train_cyclegan:train_mr_ct_cyclegan",
    "vae": "tools.generative.vae:train_vae",
    "gan": "tools.generative.gan:train_gan",
    "ddpm": "tools.generative.diffusion:train_ddpm",
    "attribute-classifier": "tools.generative.classifier:train_attribute_classifier",
    "quality-reference": "tools.generative.quality:build_reference",
    "anomaly-calibration": "tools.generative.anomaly:calibrate",
    "tiny_sam": "tools.perception.train_segmenter:train_tiny_sam",
    "findings_cnn": "tools.perception.findings:train_findings_cnn",
    "lesion_cnn": "tools.perception.lesions:train_lesion_cnn",
}
