"""The restoration networks, all small MONAI BasicUNets so that they train and run on a CPU.

Denoising and reconstruction learn a residual (the noise, or the aliasing) rather than the image:
the input is already close to the answer, and a residual is easier to learn and cannot drift far
from the measured image. Translation generators map the whole image.
"""

from __future__ import annotations

import torch
from torch import nn

DEPTH_MULTIPLE = 16  # BasicUNet halves the size four times


NORMS = {"instance": ("instance", {"affine": True}), "batch": ("batch", {})}


def _unet(features: tuple[int, ...], in_channels: int = 1, out_channels: int = 1, norm: str = "instance") -> nn.Module:
    """A MONAI BasicUNet. Instance norm adapts to each image's statistics; batch norm (fixed
    statistics at inference) keeps every output pixel a function of its neighbourhood only."""
    from monai.networks.nets import BasicUNet

    return BasicUNet(spatial_dims=2, in_channels=in_channels, out_channels=out_channels,
                     features=tuple(features), norm=NORMS[norm], upsample="deconv")


class ResidualUNet(nn.Module):
    """output = input + sign * unet(input); sign -1 predicts the noise to subtract."""

    def __init__(self, features: tuple[int, ...] = (16, 16, 32, 64, 128, 16), subtract: bool = True,
                 norm: str = "instance") -> None:
        super().__init__()
        self.unet = _unet(features, norm=norm)
        self.sign = -1.0 if subtract else 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.sign * self.unet(x)


class Generator(nn.Module):
    """CycleGAN generator: a U-Net with a tanh-bounded output in the target's normalised range."""

    def __init__(self, features: tuple[int, ...] = (16, 16, 32, 64, 128, 16)) -> None:
        super().__init__()
        self.unet = _unet(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.unet(x))


def build_denoiser(features: tuple[int, ...] = (16, 16, 32, 64, 128, 16), norm: str = "batch") -> nn.Module:
    """Batch norm: a real scan's global statistics (a 512 px field of view, mostly air) differ from
    the training crops', and instance norm turned that difference into an intensity bias."""
    return ResidualUNet(tuple(features), subtract=True, norm=norm)


def build_reconstructor(features: tuple[int, ...] = (16, 32, 64, 128, 128, 16)) -> nn.Module:
    return ResidualUNet(tuple(features), subtract=False)


def build_generator(features: tuple[int, ...] = (16, 16, 32, 64, 128, 16)) -> nn.Module:
    return Generator(tuple(features))


def build_discriminator(channels: int = 32, num_layers_d: int = 3) -> nn.Module:
    """70x70-style PatchGAN critic (MONAI); its last output is the per-patch real/fake logit map."""
    from monai.networks.nets import PatchDiscriminator

    return PatchDiscriminator(spatial_dims=2, channels=channels, in_channels=1, out_channels=1,
                              num_layers_d=num_layers_d, norm="INSTANCE")


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
