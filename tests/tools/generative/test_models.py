"""Model definitions and samplers on untrained weights: shapes, seeds, and exact DDIM inversion."""

from __future__ import annotations

import torch

from tools.generative import diffusion
from tools.generative.conditions import NUM_CLASSES
from tools.generative.gan import Discriminator, Generator, sample_gan
from tools.generative.vae import ConditionalVAE, sample_vae


def _random_diffusion(seed: int = 0) -> diffusion.DiffusionModel:
    torch.manual_seed(seed)
    net = diffusion.build_unet()
    with torch.no_grad():  # non-trivial weights, so eps actually depends on x, t and the class
        for p in net.parameters():
            p.add_(0.005 * torch.randn_like(p))
    return diffusion.DiffusionModel({"state_dict": net.state_dict(), "config": diffusion.UNET_CONFIG,
                                     "extra": {}}, "test")


def test_ddim_is_deterministic_and_seed_dependent() -> None:
    dm = _random_diffusion()
    cls = torch.tensor([0, 3])
    a = diffusion.sample_ddim(dm, cls, seed=5, steps=4)
    b = diffusion.sample_ddim(dm, cls, seed=5, steps=4)
    c = diffusion.sample_ddim(dm, cls, seed=6, steps=4)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_ddpm_is_stochastic_but_reproducible_by_seed() -> None:
    dm = _random_diffusion()
    cls = torch.tensor([1])
    a = diffusion.sample_ddpm(dm, cls, seed=2, steps=5)
    assert torch.equal(a, diffusion.sample_ddpm(dm, cls, seed=2, steps=5))
    assert not torch.allclose(a, diffusion.sample_ddpm(dm, cls, seed=3, steps=5))


def test_class_embedding_accepts_labels_or_vectors() -> None:
    dm = _random_diffusion()
    x = torch.randn(2, 1, 64, 64)
    labels = torch.tensor([2, 5])
    assert torch.allclose(dm.eps(x, 100, labels), dm.eps(x, 100, dm.embedding(labels)))


def test_fixed_point_ddim_inversion_reconstructs_the_image() -> None:
    dm = _random_diffusion()
    x0 = torch.rand(1, 1, 64, 64) * 2 - 1
    cond = dm.embedding(torch.tensor([4]))
    plain = diffusion.sample_ddim(dm, cond, x_t=diffusion.invert_ddim(dm, x0, cond, steps=5, refine=0),
                                  steps=5, clip=False)
    refined = diffusion.sample_ddim(dm, cond, x_t=diffusion.invert_ddim(dm, x0, cond, steps=5, refine=3),
                                    steps=5, clip=False)
    err_plain, err_refined = (plain - x0).abs().mean(), (refined - x0).abs().mean()
    assert err_refined < 1e-2  # mean error under 0.5% of the intensity range
    assert err_refined <= err_plain


def test_inpainting_keeps_the_known_region() -> None:
    dm = _random_diffusion()
    image = torch.rand(1, 1, 64, 64) * 2 - 1
    keep = torch.ones_like(image, dtype=torch.bool)
    keep[..., 20:40, 20:40] = False
    out = diffusion.inpaint(dm, image, keep, torch.tensor([0]), seed=0, steps=3)
    assert torch.equal(out[keep], image[keep])
    assert not torch.allclose(out[~keep], image[~keep])


def test_vae_and_gan_shapes_and_seeds() -> None:
    cls = torch.arange(NUM_CLASSES)
    vae = ConditionalVAE().eval()
    assert sample_vae(vae, cls, 1).shape == (NUM_CLASSES, 1, 64, 64)
    assert torch.equal(sample_vae(vae, cls, 1), sample_vae(vae, cls, 1))
    loss, rec, kl = vae.loss(torch.rand(4, 1, 64, 64) * 2 - 1, cls[:4])
    assert torch.isfinite(loss) and rec > 0 and kl >= 0
    g = Generator().eval()
    img = sample_gan(g, cls, 1)
    assert img.shape == (NUM_CLASSES, 1, 64, 64) and img.abs().max() <= 1
    assert torch.equal(img, sample_gan(g, cls, 1))
    assert Discriminator()(img, cls).shape == (NUM_CLASSES,)


def test_gan_collapse_signals_penalise_identical_samples() -> None:
    """The discriminator's minibatch-std feature is zero for identical images, and the generator's
    mode-seeking loss is larger when two noise vectors give the same image."""
    from tools.generative.gan import minibatch_std, mode_seeking_loss

    same = torch.ones(8, 3, 4, 4)
    varied = torch.randn(8, 3, 4, 4)
    assert minibatch_std(same).shape == (8, 4, 4, 4)
    assert minibatch_std(same)[:, -1].abs().max() < 1e-3 < minibatch_std(varied)[:, -1].min()
    z = torch.randn(8, 16)
    identical = torch.zeros(8, 1, 8, 8)
    different = torch.cat([torch.zeros(4, 1, 8, 8), torch.ones(4, 1, 8, 8)])
    assert mode_seeking_loss(identical, z) > 100 * mode_seeking_loss(different, z)


def test_gan_generator_uses_noise_and_class() -> None:
    torch.manual_seed(0)
    g = Generator().eval()
    z = torch.randn(2, g.latent)
    assert not torch.allclose(g(z[:1], torch.tensor([0])), g(z[1:], torch.tensor([0])))
    assert not torch.allclose(g(z[:1], torch.tensor([0])), g(z[:1], torch.tensor([3])))
