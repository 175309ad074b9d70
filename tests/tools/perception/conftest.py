"""Fixtures for the perception tests: small synthetic images, random-weight checkpoints, fake LLMs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch


@pytest.fixture
def inputs(isolated_data_dir: Path) -> Path:
    folder = isolated_data_dir / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def ellipse() -> tuple[np.ndarray, np.ndarray]:
    """A bright ellipse on a noisy background, and its mask (256 x 256)."""
    yy, xx = np.mgrid[:256, :256]
    mask = ((xx - 100) ** 2 / 60 ** 2 + (yy - 130) ** 2 / 40 ** 2) <= 1
    image = 0.3 + 0.4 * mask + np.random.default_rng(0).normal(0, 0.03, mask.shape)
    return image.astype(np.float32), mask


@pytest.fixture
def random_tiny_sam(tmp_path: Path) -> Path:
    """A randomly initialised embedded-segmenter checkpoint of the real architecture."""
    from tools.perception.checkpoints import save_checkpoint
    from tools.perception.tinysam import TinySam, TinySamConfig

    torch.manual_seed(0)
    cfg = TinySamConfig()
    path = tmp_path / "tiny_sam.pt"
    save_checkpoint(path, TinySam(cfg).state_dict(), config=cfg.to_dict(), seed=0, metrics={})
    return path


@pytest.fixture
def small_sam_dir(tmp_path: Path) -> Path:
    """A randomly initialised transformers SamModel (same class as SAM ViT-B, smaller sizes), saved to disk."""
    from transformers import SamConfig, SamModel

    cfg = SamConfig(
        vision_config=dict(hidden_size=32, output_channels=32, num_hidden_layers=2, num_attention_heads=2,
                           image_size=128, patch_size=16, window_size=4, global_attn_indexes=[1], num_pos_feats=16),
        prompt_encoder_config=dict(hidden_size=32, image_size=128, patch_size=16, mask_input_channels=4),
        mask_decoder_config=dict(hidden_size=32, mlp_dim=64, num_attention_heads=2, iou_head_hidden_dim=32),
    )
    torch.manual_seed(0)
    folder = tmp_path / "sam-small"
    SamModel(cfg).save_pretrained(folder)
    return folder


@pytest.fixture
def small_sam2_dir(tmp_path: Path) -> Path:
    """A randomly initialised transformers Sam2Model (the SAM 2 Hiera architecture, small sizes), saved to disk."""
    from transformers import Sam2Config, Sam2Model

    hiera = dict(model_type="sam2_hiera_det_model", hidden_size=16, num_attention_heads=1, image_size=[128, 128],
                 blocks_per_stage=[1, 1, 2, 1], embed_dim_per_stage=[16, 32, 64, 128],
                 num_attention_heads_per_stage=[1, 1, 2, 2], window_size_per_stage=[4, 4, 4, 4],
                 global_attention_blocks=[3], window_positional_embedding_background_size=[2, 2])
    cfg = Sam2Config(
        vision_config=dict(backbone_config=hiera, backbone_channel_list=[128, 64, 32, 16],
                           backbone_feature_sizes=[[32, 32], [16, 16], [8, 8]], fpn_hidden_size=32),
        prompt_encoder_config=dict(hidden_size=32, image_size=128, patch_size=16, mask_input_channels=4),
        mask_decoder_config=dict(hidden_size=32, mlp_dim=64, num_attention_heads=2, iou_head_hidden_dim=32),
    )
    torch.manual_seed(0)
    folder = tmp_path / "sam2-small"
    Sam2Model(cfg).save_pretrained(folder)
    return folder
