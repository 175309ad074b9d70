"""MR<->CT CycleGAN pieces shared by training and the tool: intensity normalisation and the losses.

Both modalities are mapped to [-1, 1] (the generators end in tanh): MR by its 99.8th percentile
(MR intensities have no absolute scale), CT through a fixed HU range that covers air to cortical bone.
"""

from __future__ import annotations

import numpy as np

CT_RANGE_HU = (-1000.0, 1500.0)
MR_PERCENTILE = 99.8


def mr_to_unit(mr: np.ndarray) -> np.ndarray:
    """MR magnitude -> [-1, 1], robust to the scanner's arbitrary scale."""
    mr = np.asarray(mr, dtype=np.float32)
    top = float(np.percentile(mr, MR_PERCENTILE)) or float(mr.max()) or 1.0
    return (np.clip(mr / top, 0.0, 1.0) * 2.0 - 1.0).astype(np.float32)


def unit_to_mr(x: np.ndarray) -> np.ndarray:
    return ((np.asarray(x, dtype=np.float32) + 1.0) / 2.0).clip(0.0, 1.0)


def ct_to_unit(hu: np.ndarray) -> np.ndarray:
    lo, hi = CT_RANGE_HU
    return ((np.clip(np.asarray(hu, dtype=np.float32), lo, hi) - lo) / (hi - lo) * 2.0 - 1.0).astype(np.float32)


def unit_to_ct(x: np.ndarray) -> np.ndarray:
    lo, hi = CT_RANGE_HU
    return ((np.asarray(x, dtype=np.float32) + 1.0) / 2.0 * (hi - lo) + lo).astype(np.float32)


def adversarial_loss(logits, real: bool):
    """Least-squares GAN loss (stable on small batches): push real patches to 1, fakes to 0."""
    import torch

    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return torch.nn.functional.mse_loss(logits, target)


def critic(disc, x):
    """MONAI's PatchDiscriminator returns every layer's output; the last is the patch logit map."""
    out = disc(x)
    return out[-1] if isinstance(out, (list, tuple)) else out
