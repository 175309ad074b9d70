"""Every refusal names what is wrong and what to do; none needs a trained model to trigger."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from agent.errors import InvalidInputError, ModelUnavailableError
from tools.generative import checkpoints, diffusion, gan, vae
from tools.generative.edit import run_edit
from tools.generative.prep import prepare
from tools.imaging.types import LoadedImage
from tools.registry import run_tool


def _clear_caches() -> None:
    for mod in (diffusion, vae, gan):
        mod._load.cache_clear()


@pytest.fixture
def empty_checkpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path)
    _clear_caches()
    yield tmp_path
    _clear_caches()


def test_unknown_model_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidInputError) as err:
        run_tool("generate_images", {"model": "stylegan", "n": 1})
    assert "vae" in err.value.message and "ddim" in err.value.message


def test_n_above_the_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RADAGENT_IMAGING__MAX_GENERATE_N", "8")
    from agent.settings import get_settings

    get_settings.cache_clear()
    with pytest.raises(InvalidInputError) as err:
        run_tool("generate_images", {"model": "vae", "n": 9})
    assert "at most 8" in err.value.hint


def test_unsupported_condition_lists_examples() -> None:
    with pytest.raises(InvalidInputError) as err:
        run_tool("generate_images", {"model": "ddim", "n": 1, "condition": "pneumothorax in the left lung"})
    assert "pneumothorax" in err.value.message and "Examples" in err.value.hint


def test_unknown_attribute_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidInputError) as err:
        run_tool("edit_image", {"image": "img-1", "attribute": "age", "strength": 1.0})
    assert "lesion_size" in err.value.hint and "severity" in err.value.hint
    with pytest.raises(InvalidInputError):
        run_edit(torch.zeros(1, 1, 64, 64), "colour", 1.0)


def test_strength_outside_range_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        run_edit(torch.zeros(1, 1, 64, 64), "lesion_size", 50.0)


def _loaded(pixels: np.ndarray, modality: str) -> LoadedImage:
    return LoadedImage(pixels=pixels.astype(np.float32), modality=modality, spacing_mm=(1.0, 1.0),
                       source_path=Path("x.dcm"))


def test_wrong_modality_and_shape_are_refused() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidInputError, match="chest radiographs"):
        prepare(_loaded(rng.random((64, 64)), "CT"), "edit_image")
    with pytest.raises(InvalidInputError):
        prepare(_loaded(rng.random((8, 64, 64)), "DX"), "edit_image")  # a volume
    with pytest.raises(InvalidInputError):
        prepare(_loaded(rng.random((16, 16)), "DX"), "edit_image")  # too small
    with pytest.raises(InvalidInputError):
        prepare(_loaded(rng.random((64, 200)), "DX"), "edit_image")  # not chest-shaped
    with pytest.raises(InvalidInputError):
        prepare(_loaded(np.ones((64, 64)), "DX"), "edit_image")  # blank


def test_other_sizes_are_resampled_with_a_flag_and_mapped_back() -> None:
    pixels = np.random.default_rng(1).random((128, 120)) * 1000
    prep = prepare(_loaded(pixels, "CR"), "edit_image")
    assert prep.x.shape == (1, 1, 64, 64) and prep.x.min() >= -1 and prep.x.max() <= 1
    assert any("Resampled" in f.detail for f in prep.flags)
    assert prep.delta_to_original(prep.x * 0).shape == (128, 120)
    assert prepare(_loaded(pixels[:64, :64], "DX"), "edit_image").flags == []


@pytest.mark.parametrize("name,loader", [("ddpm", diffusion.load_diffusion), ("vae", vae.load_vae),
                                         ("gan", gan.load_gan)])
def test_missing_checkpoint_names_the_train_command(empty_checkpoints: Path, name: str, loader) -> None:
    with pytest.raises(ModelUnavailableError) as err:
        loader()
    assert f"radagent train {name}" in err.value.hint


def test_corrupt_checkpoint_names_the_train_command(empty_checkpoints: Path) -> None:
    (empty_checkpoints / "ddpm.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelUnavailableError) as err:
        diffusion.load_diffusion()
    assert "corrupt" in err.value.message and "radagent train ddpm" in err.value.hint


def test_missing_checkpoint_through_the_tool(empty_checkpoints: Path) -> None:
    with pytest.raises(ModelUnavailableError) as err:
        run_tool("generate_images", {"model": "gan", "n": 1, "seed": 0})
    assert "radagent train gan" in err.value.hint
