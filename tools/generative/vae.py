"""Conditional VAE: the encoder and the decoder both see the attribute class (conditions.py).

Two measures keep it honest at 64 px, where a nodule is 1.5-6 px wide:
  - the reconstruction error is weighted up inside the (dilated) nodule mask, otherwise a
    mean-squared-error VAE blurs nodules away and learns to ignore the lesion classes;
  - new images decode z drawn from a full-covariance Gaussian fitted to the training posterior
    means (ex-post density estimation), which covers the latents the decoder actually saw far
    better than N(0, I) does for a VAE with a weak KL term.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from tools.generative.checkpoints import (TrainLog, checkpoint_path, load_checkpoint, log_path, restore,
                                          save_checkpoint, seed_everything)
from tools.generative.conditions import NUM_CLASSES

NAME = "vae"
CONFIG: dict[str, Any] = {"latent": 32, "width": 32, "classes": NUM_CLASSES, "sigma": 0.15}
LESION_WEIGHT = 25.0


class ConditionalVAE(nn.Module):
    def __init__(self, latent: int = 32, width: int = 32, classes: int = NUM_CLASSES, sigma: float = 0.12) -> None:
        super().__init__()
        self.latent, self.classes, self.sigma = latent, classes, sigma
        w = width

        def down(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2))

        def up(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.ReLU())

        # 64 -> 32 -> 16 -> 8 -> 4; the class enters as extra input planes
        self.encoder = nn.Sequential(down(1 + classes, w), down(w, 2 * w), down(2 * w, 4 * w), down(4 * w, 4 * w),
                                     nn.Flatten())
        self.to_stats = nn.Linear(4 * w * 16 + classes, 2 * latent)
        self.from_latent = nn.Sequential(nn.Linear(latent + classes, 4 * w * 16), nn.ReLU())
        self.decoder = nn.Sequential(up(4 * w, 4 * w), up(4 * w, 2 * w), up(2 * w, w),
                                     nn.ConvTranspose2d(w, 1, 4, 2, 1), nn.Tanh())
        self.width = w

    def _onehot(self, classes: torch.Tensor) -> torch.Tensor:
        return F.one_hot(classes, self.classes).float()

    def encode(self, x: torch.Tensor, classes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = self._onehot(classes)
        planes = y[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        h = self.encoder(torch.cat([x, planes], 1))
        mu, logvar = self.to_stats(torch.cat([h, y], 1)).chunk(2, dim=1)
        return mu, logvar.clamp(-10, 10)

    def decode(self, z: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        """Decode with class labels (long) or a continuous class vector (float, (N, classes))."""
        y = classes if classes.is_floating_point() else self._onehot(classes)
        h = self.from_latent(torch.cat([z, y], 1))
        return self.decoder(h.view(-1, 4 * self.width, 4, 4))

    def forward(self, x: torch.Tensor, classes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x, classes)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return self.decode(z, classes), mu, logvar

    def loss(self, x: torch.Tensor, classes: torch.Tensor) -> tuple[torch.Tensor, float, float]:
        recon, mu, logvar = self(x, classes)
        rec = ((recon - x) ** 2).flatten(1).sum(1).mean() / (2 * self.sigma ** 2)
        kl = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)).mean()
        return rec + kl, float(rec.detach()), float(kl.detach())


def train_vae(seed: int = 0, out: Path | None = None, quick: bool = False, steps: int | None = None,
              batch: int = 32, threads: int = 1) -> Path:
    """Adam on train-split phantoms; the KL term is warmed up over the first fifth of training."""
    from tools.generative.data import class_prior, load_chest

    gen = seed_everything(seed, threads)
    out = out or checkpoint_path(NAME)
    train = load_chest("train", 256 if quick else 4000)
    val = load_chest("val", 64 if quick else 256)
    total = steps or (20 if quick else 2500)
    net = ConditionalVAE(**CONFIG)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total, eta_min=1e-5)
    log = TrainLog(log_path(out), NAME)
    for step in range(total):
        net.train()
        idx = torch.randint(0, len(train), (batch,), generator=gen)
        recon, mu, logvar = net(train.images[idx], train.classes[idx])
        weight = 1.0 + LESION_WEIGHT * F.max_pool2d(train.nodule_masks[idx].float(), 3, 1, 1)
        rec = (weight * (recon - train.images[idx]) ** 2).flatten(1).sum(1).mean() / (2 * net.sigma ** 2)
        kl = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)).mean()
        loss = rec + min(1.0, step / (0.2 * total)) * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == total - 1:
            net.eval()
            with torch.no_grad():
                _, vrec, vkl = net.loss(val.images, val.classes)
            log.write(step=step, loss=float(loss), rec=float(rec), kl=float(kl), val_rec=vrec, val_kl=vkl)
    net.eval()
    with torch.no_grad():
        mus = torch.cat([net.encode(train.images[i:i + 500], train.classes[i:i + 500])[0]
                         for i in range(0, len(train), 500)])
    cov = torch.cov(mus.T) + 1e-4 * torch.eye(net.latent)
    directions = attribute_directions(mus, train)
    save_checkpoint(out, state_dict=net.state_dict(), config=CONFIG, seed=seed,
                    metrics={"val_rec": vrec, "val_kl": vkl, "train_steps": total},
                    extra={"class_prior": class_prior(train.classes, NUM_CLASSES), "train_n": len(train),
                           "latent_mean": mus.mean(0).tolist(), "latent_cov": cov.tolist(),
                           "directions": directions})
    return out


def attribute_directions(mus: torch.Tensor, data) -> dict[str, list[list[float]]]:
    """Attribute directions in the joint latent (z, class vector), per lesion side, as class-mean
    differences of the labelled training latents (same recipe as the diffusion model's):
      lesion_presence: mean(lesion on that side) - mean(no lesion)
      lesion_size:     (mean(large) - mean(small)) / 2  (one size bucket per unit strength)
      severity:        mean(severity >= 2) - mean(severity <= 1) on that side (no-lesion included)
    """
    from tools.generative.conditions import SIDES, SIZE_BUCKETS

    joint = torch.cat([mus, F.one_hot(data.classes, NUM_CLASSES).float()], 1)
    none = data.classes == 0
    out: dict[str, list[list[float]]] = {"lesion_presence": [], "lesion_size": [], "severity": []}
    for s in range(len(SIDES)):
        on_side = data.side == s
        big = on_side & (data.classes == 1 + s * len(SIZE_BUCKETS) + 2)
        small = on_side & (data.classes == 1 + s * len(SIZE_BUCKETS))
        high = on_side & (data.severity >= 2)
        low = (on_side | none) & (data.severity <= 1)
        out["lesion_presence"].append((joint[on_side].mean(0) - joint[none].mean(0)).tolist())
        out["lesion_size"].append(((joint[big].mean(0) - joint[small].mean(0)) / 2).tolist())
        out["severity"].append((joint[high].mean(0) - joint[low].mean(0)).tolist())
    return out


@lru_cache(maxsize=2)
def _load(path: str | None) -> tuple[ConditionalVAE, str, dict[str, Any]]:
    payload, sha = load_checkpoint(NAME, Path(path) if path else None)
    net = restore(ConditionalVAE(**payload["config"]), payload, NAME)
    extra = payload.get("extra", {})
    if "latent_mean" in extra:
        net.latent_mean = torch.tensor(extra["latent_mean"])
        net.latent_chol = torch.linalg.cholesky(torch.tensor(extra["latent_cov"]))
    return net, sha, extra


def load_vae(path: Path | None = None) -> tuple[ConditionalVAE, str, dict[str, Any]]:
    return _load(str(path) if path else None)


@torch.no_grad()
def sample_vae(net: ConditionalVAE, classes: torch.Tensor, seed: int) -> torch.Tensor:
    """Decode seeded latents from the fitted latent Gaussian (N(0, I) when the model has none)."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn((classes.shape[0], net.latent), generator=gen)
    if hasattr(net, "latent_mean"):
        z = net.latent_mean + z @ net.latent_chol.T
    return net.decode(z, classes).clamp(-1, 1)
