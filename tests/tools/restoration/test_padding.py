"""Odd and non-square sizes are padded to the U-Net multiple and cropped back exactly."""

from __future__ import annotations

import numpy as np
import pytest

from tools.restoration.padding import crop_back, pad_to_multiple


@pytest.mark.parametrize("shape", [(37, 53), (16, 16), (5, 70), (129, 128), (1, 3)])
def test_pad_then_crop_is_identity(shape: tuple[int, int]) -> None:
    img = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    padded, crop = pad_to_multiple(img, 16)
    assert padded.shape[0] % 16 == 0 and padded.shape[1] % 16 == 0
    assert padded.shape[0] >= shape[0] and padded.shape[1] >= shape[1]
    np.testing.assert_array_equal(crop_back(padded, crop), img)


def test_networks_return_the_input_shape_for_odd_sizes() -> None:
    import torch

    from tools.restoration.denoise import apply_denoiser
    from tools.restoration.networks import build_denoiser

    torch.manual_seed(0)
    hu = np.random.default_rng(0).normal(40, 20, size=(37, 53)).astype(np.float32)
    out = apply_denoiser(hu, build_denoiser().eval())
    assert out.shape == (37, 53) and out.dtype == np.float32
