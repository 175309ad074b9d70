"""The three restoration tools end to end through run_tool: outputs, figures, refusals, marking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.errors import InvalidInputError, ModelUnavailableError
from tools.restoration.checkpoints import checkpoint_path

pytest.importorskip("tools.imaging.derived")
needs_models = pytest.mark.skipif(
    not all(checkpoint_path(n).is_file() for n in ("ct_denoiser", "mri_recon", "mr_ct_cyclegan")),
    reason="restoration checkpoints not trained (radagent train ...)")


@pytest.fixture()
def head(isolated_data_dir: Path) -> dict[str, str]:
    """A phantom head slice saved as CT and MR NPZ files inside the data dir (an allowed folder)."""
    from tools.phantoms.dataset import phantom_split

    p = phantom_split("head", "test", 1, size=128, seed=0)[0]
    folder = isolated_data_dir / "inputs"
    folder.mkdir(parents=True)
    files = {}
    for name, pixels, modality in (("ct", p.ct_hu, "CT"), ("mr", p.mr, "MR")):
        files[name] = str(folder / f"{name}.npz")
        np.savez(files[name], pixels=pixels, spacing_mm=np.array(p.spacing_mm), modality=np.array(modality))
    odd = p.mr[5:82, 9:102]  # 77 x 93
    files["mr_odd"] = str(folder / "mr_odd.npz")
    np.savez(files["mr_odd"], pixels=odd, spacing_mm=np.array(p.spacing_mm), modality=np.array("MR"))
    return files


def _run(tool: str, **args):
    from tools.registry import run_tool

    return run_tool(tool, args, user="tester")


def _assert_marked(result) -> None:
    import pydicom

    assert result.review == "pending"
    kinds = {a.kind for a in result.artifacts}
    assert "comparison" in kinds and Path(result.comparison).is_file()
    assert all(a.synthetic for a in result.artifacts)
    assert Path(result.image).is_file()
    if result.dicom:
        ds = pydicom.dcmread(result.dicom)
        assert "DERIVED" in list(ds.ImageType)
        assert ds.get("BurnedInAnnotation") == "YES"


@needs_models
def test_denoise_with_simulated_dose_beats_the_noisy_input(head: dict[str, str]) -> None:
    result = _run("denoise_image", image=head["ct"], simulate_dose=0.25, seed=1)
    assert result.dose_fraction == 0.25 and result.reference
    assert result.psnr_db > result.input_psnr_db + 3 and result.ssim > result.input_ssim
    assert result.noise_sigma_output_hu < result.noise_sigma_input_hu
    _assert_marked(result)
    again = _run("denoise_image", image=head["ct"], simulate_dose=0.25, seed=1)
    assert again.psnr_db == result.psnr_db  # deterministic by seed


@needs_models
def test_denoise_without_reference_reports_noise_estimates(head: dict[str, str]) -> None:
    full = _run("denoise_image", image=head["ct"])
    half = _run("denoise_image", image=head["ct"], strength=0.0)
    assert full.psnr_db is None and full.reference is None
    assert half.noise_sigma_output_hu == pytest.approx(half.noise_sigma_input_hu)  # strength 0 changes nothing


@needs_models
def test_reconstruction_beats_zero_filling_and_keeps_measured_lines(head: dict[str, str], isolated_data_dir: Path) -> None:
    result = _run("reconstruct_mri", image=head["mr"], acceleration=4)
    assert result.psnr_db > result.zero_filled_psnr_db and 3.5 < result.acceleration < 4.6
    _assert_marked(result)
    again = _run("reconstruct_mri", image=head["mr"], acceleration=4)
    assert again.psnr_db == result.psnr_db

    from tools.restoration.kspace import mask_2d, undersample

    mr = np.load(head["mr"])["pixels"].astype(np.float64)
    mask = mask_2d(mr.shape, 8, "random", seed=3)
    kfile = isolated_data_dir / "inputs" / "k.npz"
    np.savez(kfile, kspace=undersample(mr, mask), mask=mask[0])
    measured = _run("reconstruct_mri", image=str(kfile))
    assert measured.source == "measured k-space" and measured.psnr_db is None and measured.acceleration > 5


@needs_models
def test_translation_handles_odd_sizes_and_reports_error_against_the_true_ct(head: dict[str, str]) -> None:
    import pydicom

    result = _run("translate_modality", image=head["mr"], target_modality="CT", reference=head["ct"])
    assert result.mae_hu is not None and result.baseline_mae_hu is not None
    _assert_marked(result)
    odd = _run("translate_modality", image=head["mr_odd"], target_modality="CT")
    assert odd.input_shape == [77, 93]
    if odd.dicom:
        ds = pydicom.dcmread(odd.dicom)
        assert (ds.Rows, ds.Columns) == (77, 93)


@pytest.mark.parametrize("tool,image,extra", [
    ("denoise_image", "mr", {}),
    ("reconstruct_mri", "ct", {}),
    ("translate_modality", "ct", {"target_modality": "CT"}),
])
def test_wrong_modality_is_refused_with_the_reason(head: dict[str, str], tool: str, image: str, extra: dict) -> None:
    with pytest.raises(InvalidInputError) as err:
        _run(tool, image=head[image], **extra)
    assert ("CT" in err.value.message) and ("MR" in err.value.message)


def test_radiograph_is_refused_for_reconstruction() -> None:
    from tools.imaging.access import sample_file

    try:
        cr = sample_file("RG1_UNCR.dcm")
    except Exception:
        pytest.skip("pydicom-data not installed")
    with pytest.raises(InvalidInputError) as err:
        _run("reconstruct_mri", image=str(cr))
    assert "radiograph" in err.value.message


def test_out_of_range_dose_and_acceleration_list_the_valid_values(head: dict[str, str]) -> None:
    with pytest.raises(InvalidInputError) as err:
        _run("denoise_image", image=head["ct"], simulate_dose=0.01)
    assert "0.05" in err.value.hint and "1.0" in err.value.hint
    with pytest.raises(InvalidInputError) as err:
        _run("reconstruct_mri", image=head["mr"], acceleration=6)
    assert "4, 8" in err.value.hint


def test_missing_checkpoint_names_the_train_command(head: dict[str, str], tmp_path: Path, monkeypatch) -> None:
    import tools.restoration.checkpoints as checkpoints

    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path / "none")
    with pytest.raises(ModelUnavailableError) as err:
        _run("denoise_image", image=head["ct"])
    assert "radagent train ct_denoiser" in err.value.hint
