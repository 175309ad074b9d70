import numpy as np
import pytest
import torch

from agent.errors import ModelUnavailableError
from tools.perception.backends import clear_backend_cache, get_backend
from tools.perception.backends.embedded import CACHE, EmbeddedBackend
from tools.perception.checkpoints import load_checkpoint
from tools.perception.prompting import build_prompt
from tools.perception.zoom import Crop, extract, paste


def test_loads_a_checkpoint_and_returns_full_resolution_masks(random_tiny_sam):
    backend = EmbeddedBackend(random_tiny_sam, device="cpu")
    image = np.random.default_rng(0).random((90, 140)).astype(np.float32)
    for kwargs in (dict(box=(10, 10, 60, 70)), dict(point=(40, 40)), dict(points=[(40, 40), (100, 80)], labels=[1, 0])):
        prompt, _ = build_prompt(height=90, width=140, **kwargs)
        out = backend.segment(image, prompt)
        assert out.mask.shape == (90, 140) and out.mask.dtype == bool
        assert 0.0 <= out.score <= 1.0
        assert out.checkpoint_sha256 and len(out.checkpoint_sha256) == 64


def test_second_prompt_on_the_same_image_does_not_rerun_the_encoder(random_tiny_sam):
    CACHE.clear()
    backend = EmbeddedBackend(random_tiny_sam, device="cpu")
    calls = {"n": 0}
    encode = backend.predictor.model.encode

    def counting(x):
        calls["n"] += 1
        return encode(x)

    backend.predictor.model.encode = counting
    image = np.random.default_rng(1).random((64, 64)).astype(np.float32)
    box, _ = build_prompt(height=64, width=64, box=(8, 8, 40, 40))
    box_and_point, _ = build_prompt(height=64, width=64, box=(8, 8, 40, 40), point=(20, 20))
    backend.segment(image, box)
    first = calls["n"]
    assert first == 1
    backend.segment(image, box_and_point)  # same window: only the decoder runs
    backend.segment(image, box)
    assert calls["n"] == first
    other = image.copy()
    other[0, 0] += 0.5  # different pixels: a new embedding
    backend.segment(other, box)
    assert calls["n"] == first + 1


def test_huge_image_mask_is_mapped_back_to_full_size():
    height, width = 3000, 2200
    image = np.zeros((height, width), np.float32)
    image[1000:1600, 500:1300] = 1.0
    crop = Crop.around_box(np.array([500, 1000, 1299, 1599]), height, width)
    view = extract(image, crop, 64)
    assert view.shape == (1, 1, 64, 64)
    logits = torch.logit(view.clamp(1e-4, 1 - 1e-4))[0, 0]
    back = paste(logits, crop, height, width) > 0
    truth = image > 0
    assert back.shape == (height, width)
    assert 2 * (back & truth).sum() / (back.sum() + truth.sum()) > 0.98


def test_missing_checkpoint_names_the_train_command(tmp_path):
    with pytest.raises(ModelUnavailableError) as err:
        load_checkpoint("tiny_sam", tmp_path / "nothing.pt")
    assert "radagent train tiny_sam" in err.value.hint
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"version https://git-lfs.github.com/spec/v1\n")
    with pytest.raises(ModelUnavailableError, match="unreadable"):
        load_checkpoint("tiny_sam", bad)


def test_default_backend_falls_back_to_classical_when_its_checkpoint_is_missing(monkeypatch, tmp_path):
    import tools.perception.checkpoints as ck

    clear_backend_cache()
    monkeypatch.setattr(ck, "CHECKPOINT_DIR", tmp_path)
    backend, warnings = get_backend("default")
    assert backend.name == "classical"
    assert any("radagent train tiny_sam" in w for w in warnings)
    clear_backend_cache()


def test_a_click_in_the_middle_of_a_nodule_gives_the_nodule_not_the_lung():
    """A lone click is ambiguous (nodule or the lung around it); the committed model picks the nodule."""
    from scipy import ndimage as ndi

    from tools.perception.phantom_data import chest_masks
    from tools.perception.preprocess import normalize_for_model
    from tools.phantoms.dataset import phantom_split

    clear_backend_cache()
    backend, _ = get_backend("default")
    phantoms = [p for p in phantom_split("chest", "test", 12, size=256) if p.masks["nodule"].sum() >= 40][:3]
    assert phantoms
    for phantom in phantoms:
        image = normalize_for_model(phantom.image, "CR")
        masks = chest_masks(phantom)
        nodule = masks["nodule"]
        y, x = np.unravel_index(int(ndi.distance_transform_edt(nodule).argmax()), nodule.shape)
        prompt, _ = build_prompt(height=256, width=256, point=(float(x), float(y)))
        mask = backend.segment(image, prompt).mask
        assert 2 * (mask & nodule).sum() / (mask.sum() + nodule.sum()) > 0.6
        lung = masks["left_lung"] | masks["right_lung"]
        assert mask.sum() < 0.2 * lung.sum()
