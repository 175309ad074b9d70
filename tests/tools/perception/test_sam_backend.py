import json

import numpy as np
import pytest
import torch

from agent.errors import InvalidInputError, ModelUnavailableError
from tools.perception.backends import clear_backend_cache, get_backend
from tools.perception.backends.sam import SamBackend, convert_original_state_dict, load_sam_model
from tools.perception.prompting import build_prompt


def test_random_sam_loads_from_its_folder_and_segments_every_prompt_kind(small_sam_dir):
    backend = SamBackend(small_sam_dir, device="cpu")
    image = np.random.default_rng(0).random((150, 100)).astype(np.float32)
    for kwargs in (dict(point=(30, 40)), dict(box=(5, 5, 60, 90)),
                   dict(points=[(30, 40), (80, 120)], labels=[1, 0], box=(5, 5, 95, 145))):
        prompt, _ = build_prompt(height=150, width=100, **kwargs)
        out = backend.segment(image, prompt)
        assert out.mask.shape == (150, 100)
        assert 0.0 <= out.score <= 1.0
        assert out.model.startswith("sam-")
    assert backend.encoder_calls == 1  # three prompts, one image embedding


def test_sam_backend_is_chosen_by_name_and_checkpoint(small_sam_dir):
    clear_backend_cache()
    backend, warnings = get_backend("sam", small_sam_dir)
    assert backend.name == "sam" and warnings == []
    clear_backend_cache()


def test_sam_without_a_checkpoint_says_how_to_configure_one():
    with pytest.raises(ModelUnavailableError, match="No SAM checkpoint is configured") as err:
        get_backend("sam")
    assert "--checkpoint" in err.value.hint


def test_medsam_refuses_point_prompts_and_takes_boxes(small_sam_dir):
    backend = SamBackend(small_sam_dir, medsam=True, device="cpu")
    image = np.random.default_rng(0).random((80, 120)).astype(np.float32)
    point, _ = build_prompt(height=80, width=120, point=(10, 10))
    with pytest.raises(InvalidInputError, match="box prompts only"):
        backend.segment(image, point)
    box, _ = build_prompt(height=80, width=120, box=(10, 10, 60, 50))
    out = backend.segment(image, box)
    assert out.mask.shape == (80, 120) and out.model.startswith("medsam-")


def test_wrong_architecture_folder_is_named(tmp_path):
    folder = tmp_path / "vit"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "vit", "architectures": ["ViTModel"]}))
    with pytest.raises(ModelUnavailableError, match="'vit' model \\(ViTModel\\), not SAM \\(SamModel\\) or SAM 2"):
        load_sam_model(folder)


def test_wrong_architecture_state_dict_is_named(tmp_path):
    path = tmp_path / "mobile_sam.pt"
    torch.save({"image_encoder.layers.0.blocks.0.attn.qkv.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(ModelUnavailableError, match="MobileSAM"):
        load_sam_model(path)
    path2 = tmp_path / "sam2.pt"
    torch.save({"model": {"image_encoder.trunk.blocks.0.attn.qkv.weight": torch.zeros(2)}}, path2)
    with pytest.raises(ModelUnavailableError, match="SAM 2"):
        load_sam_model(path2)


def _to_original_names(hf_state: dict) -> dict:
    """The segment-anything names of a transformers SamModel state dict (written out independently)."""
    out = {}
    for key, value in hf_state.items():
        if key == "shared_image_embedding.positional_embedding":
            continue
        k = key.replace("vision_encoder", "image_encoder").replace("patch_embed.projection", "patch_embed.proj")
        k = k.replace("neck.conv1", "neck.0").replace("neck.layer_norm1", "neck.1")
        k = k.replace("neck.conv2", "neck.2").replace("neck.layer_norm2", "neck.3")
        k = k.replace("prompt_encoder.shared_embedding.positional_embedding", "prompt_encoder.pe_layer.positional_encoding_gaussian_matrix")
        k = k.replace("prompt_encoder.point_embed", "prompt_encoder.point_embeddings")
        k = k.replace("mask_embed.conv1", "mask_downscaling.0").replace("mask_embed.layer_norm1", "mask_downscaling.1")
        k = k.replace("mask_embed.conv2", "mask_downscaling.3").replace("mask_embed.layer_norm2", "mask_downscaling.4")
        k = k.replace("mask_embed.conv3", "mask_downscaling.6")
        k = k.replace("mask_decoder.upscale_conv1", "mask_decoder.output_upscaling.0")
        k = k.replace("mask_decoder.upscale_layer_norm", "mask_decoder.output_upscaling.1")
        k = k.replace("mask_decoder.upscale_conv2", "mask_decoder.output_upscaling.3")
        for head in ("iou_prediction_head", "output_hypernetworks_mlps"):
            if head in k:
                k = k.replace(".layers.0", ".layers.1").replace(".proj_in", ".layers.0").replace(".proj_out", ".layers.2")
        k = k.replace(".layer_norm", ".norm").replace("image_encoder.layers", "image_encoder.blocks")
        out[k] = value
    return out


def test_original_checkpoint_names_convert_to_the_transformers_layout(small_sam_dir):
    model, _ = load_sam_model(small_sam_dir)
    hf_state = model.state_dict()
    converted = convert_original_state_dict(_to_original_names(hf_state))
    assert set(converted) == set(hf_state)
    for key in hf_state:
        assert torch.equal(converted[key], hf_state[key]), key


def test_original_checkpoint_of_unknown_width_is_refused(tmp_path):
    path = tmp_path / "odd.pth"
    torch.save({"image_encoder.patch_embed.proj.weight": torch.zeros(512, 3, 16, 16),
                "image_encoder.blocks.0.norm1.weight": torch.zeros(512)}, path)
    with pytest.raises(ModelUnavailableError, match="ViT-B \\(768, 12\\)"):
        load_sam_model(path)


def test_random_sam2_loads_from_its_folder_and_segments_every_prompt_kind(small_sam2_dir):
    clear_backend_cache()
    backend, _ = get_backend("sam", small_sam2_dir)  # the architecture is read from config.json
    assert backend.sam2 and backend.model_name.startswith("sam2-hiera")
    image = np.random.default_rng(0).random((150, 100)).astype(np.float32)
    for kwargs in (dict(point=(30, 40)), dict(box=(5, 5, 60, 90)),
                   dict(points=[(30, 40), (80, 120)], labels=[1, 0], box=(5, 5, 95, 145))):
        prompt, _ = build_prompt(height=150, width=100, **kwargs)
        out = backend.segment(image, prompt)
        assert out.mask.shape == (150, 100) and out.mask.dtype == bool
        assert 0.0 <= out.score <= 1.0
        assert out.model.startswith("sam2-") and len(out.checkpoint_sha256) == 64
    assert backend.encoder_calls == 1  # three prompts, one cached image embedding
    clear_backend_cache()


def test_sam2_is_not_taken_as_medsam(small_sam2_dir):
    with pytest.raises(ModelUnavailableError, match="SAM 2 .*MedSAM is SAM ViT-B"):
        SamBackend(small_sam2_dir, medsam=True, device="cpu")


def test_original_sam2_and_mobilesam_files_say_what_to_do(tmp_path):
    sam2 = tmp_path / "sam2.1_hiera_tiny.pt"
    torch.save({"model": {"image_encoder.trunk.blocks.0.attn.qkv.weight": torch.zeros(2)}}, sam2)
    with pytest.raises(ModelUnavailableError, match="Sam2Model.save_pretrained"):
        load_sam_model(sam2)
    mobile = tmp_path / "mobile_sam.pt"
    torch.save({"image_encoder.layers.0.blocks.0.attn.qkv.weight": torch.zeros(2, 2)}, mobile)
    with pytest.raises(ModelUnavailableError, match="MobileSAM is not supported here: its TinyViT image encoder"):
        load_sam_model(mobile)


def test_sam2_prompts_are_scaled_to_its_square_input(small_sam2_dir):
    backend = SamBackend(small_sam2_dir, device="cpu")
    seen = {}
    forward = backend.model.forward

    def recording(**kwargs):
        seen.update(kwargs)
        return forward(**kwargs)

    backend.model.forward = recording
    image = np.random.default_rng(0).random((150, 100)).astype(np.float32)
    prompt, _ = build_prompt(height=150, width=100, point=(30, 40), box=(10, 15, 50, 75))
    backend.segment(image, prompt)
    size = backend.input_size  # SAM 2 stretches the image to its square input, so x and y scale apart
    assert seen["input_points"][0, 0, 0].tolist() == pytest.approx([30 * size / 100, 40 * size / 150])
    assert seen["input_boxes"][0, 0].tolist() == pytest.approx([10 * size / 100, 15 * size / 150,
                                                                 50 * size / 100, 75 * size / 150])
