"""Class-conditional DCGAN: a transposed-conv generator fed [z, class embedding] and a spectrally
normalised conv discriminator with a projection head (the class enters as <embedding, features>),
trained with the hinge loss.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import spectral_norm

from tools.generative.checkpoints import (TrainLog, checkpoint_path, load_checkpoint, log_path, restore,
                                          save_checkpoint, seed_everything)
from tools.generative.conditions import NUM_CLASSES

NAME = "gan"
CONFIG: dict[str, Any] = {"latent": 64, "width": 32, "classes": NUM_CLASSES}


class Generator(nn.Module):
    def __init__(self, latent: int = 64, width: int = 32, classes: int = NUM_CLASSES) -> None:
        super().__init__()
        w = width
        self.latent = latent
        self.embed = nn.Embedding(classes, 16)
        self.project = nn.Sequential(nn.Linear(latent + 16, 8 * w * 16), nn.BatchNorm1d(8 * w * 16), nn.ReLU())

        def up(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

        self.body = nn.Sequential(up(8 * w, 4 * w), up(4 * w, 2 * w), up(2 * w, w),
                                  nn.ConvTranspose2d(w, 1, 4, 2, 1), nn.Tanh())  # 4 -> 8 -> 16 -> 32 -> 64
        self.width = w

    def forward(self, z: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        h = self.project(torch.cat([z, self.embed(classes)], 1))
        return self.body(h.view(-1, 8 * self.width, 4, 4))


class Discriminator(nn.Module):
    def __init__(self, width: int = 32, classes: int = NUM_CLASSES) -> None:
        super().__init__()
        w = width

        def down(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(spectral_norm(nn.Conv2d(cin, cout, 4, 2, 1)), nn.LeakyReLU(0.2))

        self.body = nn.Sequential(down(1, w), down(w, 2 * w), down(2 * w, 4 * w), down(4 * w, 8 * w), nn.Flatten())
        self.out = spectral_norm(nn.Linear(8 * w * 16, 1))
        self.embed = spectral_norm(nn.Embedding(classes, 8 * w * 16))

    def forward(self, x: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        return self.out(h).squeeze(1) + (self.embed(classes) * h).sum(1)


def train_gan(seed: int = 0, out: Path | None = None, quick: bool = False, steps: int | None = None,
              batch: int = 32, threads: int = 1) -> Path:
    """Hinge-loss cGAN, one D step per G step, Adam(2e-4, betas 0.5/0.999); the generator is saved."""
    from tools.generative.data import class_prior, load_chest

    gen = seed_everything(seed, threads)
    out = out or checkpoint_path(NAME)
    train = load_chest("train", 256 if quick else 4000)
    total = steps or (20 if quick else 3000)
    g = Generator(**CONFIG)
    d = Discriminator(CONFIG["width"], CONFIG["classes"])
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    log = TrainLog(log_path(out), NAME)
    for step in range(total):
        idx = torch.randint(0, len(train), (batch,), generator=gen)
        real, cls = train.images[idx], train.classes[idx]
        z = torch.randn((batch, g.latent), generator=gen)
        fake = g(z, cls)
        loss_d = F.relu(1 - d(real, cls)).mean() + F.relu(1 + d(fake.detach(), cls)).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = -d(fake, cls).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        if step % 100 == 0 or step == total - 1:
            log.write(step=step, loss_d=float(loss_d), loss_g=float(loss_g))
    save_checkpoint(out, state_dict=g.state_dict(), config=CONFIG, seed=seed,
                    metrics={"final_loss_d": float(loss_d), "final_loss_g": float(loss_g), "train_steps": total},
                    extra={"class_prior": class_prior(train.classes, NUM_CLASSES), "train_n": len(train)})
    return out


@lru_cache(maxsize=2)
def _load(path: str | None) -> tuple[Generator, str, dict[str, Any]]:
    payload, sha = load_checkpoint(NAME, Path(path) if path else None)
    return restore(Generator(**payload["config"]), payload, NAME), sha, payload.get("extra", {})


def load_gan(path: Path | None = None) -> tuple[Generator, str, dict[str, Any]]:
    return _load(str(path) if path else None)


@torch.no_grad()
def sample_gan(g: Generator, classes: torch.Tensor, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn((classes.shape[0], g.latent), generator=gen)
    return g(z, classes).clamp(-1, 1)
