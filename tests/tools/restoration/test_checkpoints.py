"""Missing or corrupt checkpoints raise ModelUnavailableError naming the retrain command."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import ModelUnavailableError
from tools.restoration.checkpoints import load_checkpoint
from tools.training import TRAINERS


@pytest.mark.parametrize("name", ["ct_denoiser", "mri_recon", "mr_ct_cyclegan"])
def test_every_model_has_a_trainer(name: str) -> None:
    assert name in TRAINERS


def test_missing_checkpoint_names_the_train_command(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError) as err:
        load_checkpoint("ct_denoiser", tmp_path / "absent.pt")
    assert "radagent train ct_denoiser" in err.value.hint


def test_corrupt_checkpoint_names_the_train_command(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file" * 10)
    with pytest.raises(ModelUnavailableError) as err:
        load_checkpoint("mri_recon", bad)
    assert "radagent train mri_recon" in err.value.hint


def test_checkpoint_without_weights_is_refused(tmp_path: Path) -> None:
    import torch

    path = tmp_path / "empty.pt"
    torch.save({"config": {}}, path)
    with pytest.raises(ModelUnavailableError):
        load_checkpoint("mr_ct_cyclegan", path)
