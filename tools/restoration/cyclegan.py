"""MR<->CT CycleGAN pieces shared by training and the tool: intensity normalisation and the losses.

Both modalities are mapped to [-0.9, 0.9] (the generators end in tanh, which only reaches +-1
asymptotically; air, the most common value, must not sit where the gradient vanishes): MR by its
99.8th percentile (MR intensities have no absolute scale), CT through a fixed HU range that covers
air to cortical bone.
"""

from __future__ import annotations

import numpy as np

CT_RANGE_HU = (-1000.0, 1500.0)
MR_PERCENTILE = 99.8
MARGIN = 0.9  # [0, 1] -> [-MARGIN, MARGIN]
NORMALISATION = {"ct_range_hu": list(CT_RANGE_HU), "mr_percentile": MR_PERCENTILE, "margin": MARGIN}


def _to_unit(x: np.ndarray) -> np.ndarray:
    return ((x * 2.0 - 1.0) * MARGIN).astype(np.float32)


def _from_unit(x: np.ndarray) -> np.ndarray:
    return ((np.asarray(x, dtype=np.float32) / MARGIN + 1.0) / 2.0).astype(np.float32)


def mr_to_unit(mr: np.ndarray) -> np.ndarray:
    """MR magnitude -> [-1, 1], robust to the scanner's arbitrary scale."""
    mr = np.asarray(mr, dtype=np.float32)
    top = float(np.percentile(mr, MR_PERCENTILE)) or float(mr.max()) or 1.0
    return _to_unit(np.clip(mr / top, 0.0, 1.0))


def unit_to_mr(x: np.ndarray) -> np.ndarray:
    return _from_unit(x).clip(0.0, 1.0)


def ct_to_unit(hu: np.ndarray) -> np.ndarray:
    lo, hi = CT_RANGE_HU
    return _to_unit((np.clip(np.asarray(hu, dtype=np.float32), lo, hi) - lo) / (hi - lo))


def unit_to_ct(x: np.ndarray) -> np.ndarray:
    lo, hi = CT_RANGE_HU
    return (_from_unit(x) * (hi - lo) + lo).astype(np.float32)


def adversarial_loss(logits, real: bool):
    """Least-squares GAN loss (stable on small batches): push real patches to 1, fakes to 0."""
    import torch

    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return torch.nn.functional.mse_loss(logits, target)


def critic(disc, x):
    """MONAI's PatchDiscriminator returns every layer's output; the last is the patch logit map."""
    out = disc(x)
    return out[-1] if isinstance(out, (list, tuple)) else out
