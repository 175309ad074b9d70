"""Batch augmentations on the model's device, shared by the perception trainers.

Intensity changes (gamma, contrast, offset, blur, noise, unsharp masking) stand in for the spread
between phantoms and real radiographs; small affine moves keep the models from memorising layout.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_affine(images: torch.Tensor, masks: torch.Tensor | None, gen: torch.Generator,
                  *, max_scale: float = 0.12, max_shift: float = 0.08, max_rot_deg: float = 6.0,
                  flip: bool = False, mask_owner: torch.Tensor | None = None,
                  ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Scale/shift/rotate (and optionally flip left-right) images (B,1,S,S) and masks alike.

    Masks (M,1,S,S) follow image `mask_owner[m]` (default: mask m belongs to image m). Returns the
    flip decision per image so callers can swap side labels.
    """
    b, device = images.shape[0], images.device
    u = lambda: torch.rand(b, generator=gen, device=device) * 2 - 1  # noqa: E731
    scale = 1 + max_scale * u()
    angle = math.radians(max_rot_deg) * u()
    tx, ty = max_shift * u(), max_shift * u()
    flipped = (torch.rand(b, generator=gen, device=device) < 0.5) if flip else torch.zeros(b, dtype=torch.bool, device=device)
    sx = torch.where(flipped, -1.0, 1.0) / scale
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos * sx, -sin / scale, tx], -1),
                         torch.stack([sin * sx, cos / scale, ty], -1)], 1)
    grid = F.affine_grid(theta, images.shape, align_corners=False)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
    out_masks = None
    if masks is not None:
        mask_grid = grid if mask_owner is None else grid[mask_owner]
        out_masks = F.grid_sample(masks.float(), mask_grid, mode="bilinear", padding_mode="zeros",
                                  align_corners=False) > 0.5
    return out, out_masks, flipped


def random_intensity(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Gamma, contrast, offset, blur or sharpening, and noise; result clipped to [0, 1]."""
    b, device = images.shape[0], images.device
    r = lambda lo, hi: lo + (hi - lo) * torch.rand(b, 1, 1, 1, generator=gen, device=device)  # noqa: E731
    x = images.clamp(0, 1) ** torch.exp(r(-0.5, 0.5))
    x = (x - 0.5) * r(0.7, 1.3) + 0.5 + r(-0.1, 0.1)
    # Blur (sigma up to ~1.5 px) for half the batch, unsharp masking for some of the rest.
    blurred = _gaussian_blur(x, sigma=1.2)
    choice = torch.rand(b, 1, 1, 1, generator=gen, device=device)
    x = torch.where(choice < 0.35, blurred, x)
    x = torch.where(choice > 0.8, x + r(0.3, 1.0) * (x - blurred), x)
    x = x + torch.randn(x.shape, generator=gen, device=device) * r(0.0, 0.04)
    return x.clamp(0, 1)


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, int(round(2.5 * sigma)))
    t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-(t ** 2) / (2 * sigma ** 2))
    kernel = kernel / kernel.sum()
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), kernel.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, radius, radius), mode="replicate"), kernel.view(1, 1, -1, 1))
