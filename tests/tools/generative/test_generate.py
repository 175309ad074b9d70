"""generate_images with the committed checkpoints: seeds, conditioning, SYNTHETIC marking, quality."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
import torch

from tools.generative import classifier
from tools.generative.conditions import parse_condition, sample_classes
from tools.generative.generate import generate_images, sample
from tools.generative.schemas import GenerateImagesArgs


@pytest.mark.parametrize("model,steps", [("vae", None), ("gan", None), ("ddim", 5)])
def test_same_seed_same_images(model: str, steps: int | None) -> None:
    classes = torch.tensor([0, 2, 5])
    a, _, _ = sample(model, classes, seed=11, steps=steps)
    b, _, _ = sample(model, classes, seed=11, steps=steps)
    c, _, _ = sample(model, classes, seed=12, steps=steps)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_ddpm_same_seed_same_images_with_few_steps() -> None:
    classes = torch.tensor([1])
    a, _, used = sample("ddpm", classes, seed=3, steps=4)
    assert used == 4 and torch.equal(a, sample("ddpm", classes, seed=3, steps=4)[0])


def _right_side_hits(model: str, condition: str, n: int = 8) -> int:
    classes = torch.as_tensor(sample_classes(parse_condition(condition), n, np.random.default_rng(0)))
    images, _, _ = sample(model, classes, seed=0, steps=20 if model == "ddim" else None)
    return sum(m.side == "right" and m.lesion_probability >= 0.5 for m in classifier.measure(images))


@pytest.mark.parametrize("model", ["vae", "gan", "ddim"])
def test_conditioning_on_the_right_side_is_seen_by_the_independent_classifier(model: str) -> None:
    right = _right_side_hits(model, "large nodule in right lung")
    normal = _right_side_hits(model, "normal")
    left = _right_side_hits(model, "large nodule in left lung")
    assert right > normal and right > left


def test_gan_samples_of_one_class_are_as_varied_as_real_images() -> None:
    """The cGAN uses its noise: samples of one class are not near-identical (no mode collapse)."""
    from tools.generative import quality

    images, _, _ = sample("gan", torch.zeros(8, dtype=torch.long), seed=0, steps=None)
    q = quality.assess(images)
    assert not q["mode_collapse_suspected"] and q["diversity_ms_ssim"] < q["real_ms_ssim"] + 0.1


def test_identical_samples_are_flagged_as_mode_collapse() -> None:
    from tools.generative import quality
    from tools.generative.data import load_chest

    copies = load_chest("test", 64).images[:1].repeat(6, 1, 1, 1)
    q = quality.assess(copies)
    assert q["mode_collapse_suspected"] and q["diversity_ms_ssim"] > 0.99


def test_generated_images_are_marked_synthetic_with_provenance(tmp_path) -> None:
    args = GenerateImagesArgs(model="ddim", n=2, seed=1, steps=5, condition="nodule in right lung",
                              out_dir=str(tmp_path / "out"))
    result = generate_images(args)
    assert len(result.images) == 2 and len(result.dicoms) == 2 and result.steps == 5
    assert result.checkpoint_sha256 and len(result.checkpoint_sha256) == 64
    for path in result.dicoms:
        ds = pydicom.dcmread(path)
        assert "DERIVED" in ds.ImageType and ds.BurnedInAnnotation == "YES"
        assert "SYNTHETIC" in ds.SeriesDescription.upper()
        assert result.checkpoint_sha256 in ds.ImageComments and "nodule in right lung" in ds.ImageComments
    q = result.quality
    assert set(q) >= {"precision", "diversity_ms_ssim", "nn_distance", "near_copies", "condition_agreement"}
    assert len(q["nn_distance"]) == 2 and q["fid"] is None  # too few samples for FID, said so
    assert "Precision" in result.summary and "diversity MS-SSIM" in result.summary
    assert "nodule" in result.condition_parsed and all("right" in c for c in result.classes)


def test_inpainting_a_nodule_as_healthy_removes_it() -> None:
    from scipy import ndimage

    from tools.generative import diffusion
    from tools.generative.data import load_chest

    test = load_chest("test", 64)
    idx = int(torch.nonzero(test.size_mm > 24).flatten()[0])
    image = test.images[idx:idx + 1]
    hole = torch.from_numpy(ndimage.binary_dilation(test.nodule_masks[idx, 0].numpy(), iterations=3))
    keep = ~hole[None, None]
    filled = diffusion.inpaint(diffusion.load_diffusion(), image, keep, torch.tensor([0]), seed=0, steps=10)
    assert torch.equal(filled[keep], image[keep])
    before, after = classifier.measure(image)[0], classifier.measure(filled)[0]
    assert before.lesion_probability > 0.5 > after.lesion_probability
