"""Class-conditional DCGAN (cGAN) for 64 px chest phantoms.

What keeps it from collapsing to one image per class and from ignoring its condition:
  - generator: a 128-d noise vector, and the class enters every upsampling stage through
    class-conditional BatchNorm (per-class gain and bias), not only at the input;
  - discriminator: spectrally normalised convolutions, a minibatch-standard-deviation feature
    (a batch of near-identical fakes is easy to tell apart from varied real images), a
    projection head (the class enters as <embedding(class), features>), and an auxiliary
    classifier head (AC-GAN): the projection alone let the generator ignore a 2-6 px nodule,
    so the discriminator also learns to name the class of real images and the generator is
    trained to make images it names as the asked class;
  - hinge loss and a mode-seeking term (MSGAN): two noise vectors with the same class must give
    different images;
  - an exponential moving average of the generator's weights is what is saved.
"""

from __future__ import annotations

import copy
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
CONFIG: dict[str, Any] = {"latent": 128, "width": 32, "classes": NUM_CLASSES}
LR_G, LR_D, BETAS = 2e-4, 2e-4, (0.5, 0.999)
MODE_SEEKING_WEIGHT = 0.2
LABEL_MAPS = False  # True: the discriminator also sees the class as input planes
AUX_WEIGHT = 1.0  # > 0: AC-GAN class head on the discriminator, its cross-entropy added to both losses
EMA_DECAY = 0.999


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm whose gain and bias are looked up per class, so the class steers every stage."""

    def __init__(self, channels: int, classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Embedding(classes, channels)
        self.bias = nn.Embedding(classes, channels)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        return self.norm(x) * self.gain(classes)[:, :, None, None] + self.bias(classes)[:, :, None, None]


class UpBlock(nn.Module):
    """x2 transposed convolution, class-conditional BatchNorm, ReLU."""

    def __init__(self, cin: int, cout: int, classes: int) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False)
        self.norm = ConditionalBatchNorm2d(cout, classes)

    def forward(self, x: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        return F.relu(self.norm(self.conv(x), classes))


class Generator(nn.Module):
    def __init__(self, latent: int = 128, width: int = 32, classes: int = NUM_CLASSES) -> None:
        super().__init__()
        w = width
        self.latent, self.width = latent, w
        self.embed = nn.Embedding(classes, 32)
        self.project = nn.Linear(latent + 32, 8 * w * 16)
        self.norm0 = ConditionalBatchNorm2d(8 * w, classes)
        self.blocks = nn.ModuleList([UpBlock(8 * w, 4 * w, classes), UpBlock(4 * w, 2 * w, classes),
                                     UpBlock(2 * w, w, classes)])  # 4 -> 8 -> 16 -> 32
        self.out = nn.ConvTranspose2d(w, 1, 4, 2, 1)  # 32 -> 64

    def forward(self, z: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        h = self.project(torch.cat([z, self.embed(classes)], 1)).view(-1, 8 * self.width, 4, 4)
        h = F.relu(self.norm0(h, classes))
        for block in self.blocks:
            h = block(h, classes)
        return torch.tanh(self.out(h))


def minibatch_std(h: torch.Tensor, group: int = 4) -> torch.Tensor:
    """Append the mean feature standard deviation over groups of the batch as one extra channel."""
    n, c, hh, ww = h.shape
    g = min(group, n)
    while n % g:
        g -= 1
    if g < 2:
        return torch.cat([h, torch.zeros_like(h[:, :1])], 1)
    y = h.view(g, -1, c, hh, ww)
    std = (y.var(0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (n / g,)
    std = std.view(1, -1, 1, 1, 1).expand(g, -1, 1, hh, ww).reshape(n, 1, hh, ww)
    return torch.cat([h, std], 1)


class Discriminator(nn.Module):
    def __init__(self, width: int = 32, classes: int = NUM_CLASSES, auxiliary: bool = False,
                 label_maps: bool = False) -> None:
        super().__init__()
        w = width
        self.classes = classes if label_maps else 0  # > 0: the class also enters as one-hot input planes

        def down(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(spectral_norm(nn.Conv2d(cin, cout, 4, 2, 1)), nn.LeakyReLU(0.2))

        self.body = nn.Sequential(down(1 + self.classes, w), down(w, 2 * w), down(2 * w, 4 * w), down(4 * w, 8 * w))  # 64 -> 4
        self.head = nn.Sequential(spectral_norm(nn.Conv2d(8 * w + 1, 8 * w, 3, 1, 1)), nn.LeakyReLU(0.2),
                                  nn.Flatten())
        self.out = spectral_norm(nn.Linear(8 * w * 16, 1))
        self.embed = spectral_norm(nn.Embedding(classes, 8 * w * 16))
        # optional AC-GAN head: the class predicted from the image, which the generator must satisfy
        self.classify = spectral_norm(nn.Linear(8 * w * 16, classes)) if auxiliary else None

    def forward(self, x: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        return self.score_and_logits(x, classes)[0]

    def score_and_logits(self, x: torch.Tensor, classes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.classes:
            planes = F.one_hot(classes, self.classes).float()[:, :, None, None].expand(-1, -1, *x.shape[2:])
            x = torch.cat([x, planes], 1)
        h = self.head(minibatch_std(self.body(x)))
        score = self.out(h).squeeze(1) + (self.embed(classes) * h).sum(1)
        return score, None if self.classify is None else self.classify(h)


def mode_seeking_loss(fake: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """MSGAN: the batch is two halves with the same classes and different noise; small image
    distance per unit noise distance is penalised, which pushes the generator to use its noise."""
    a, b = fake.chunk(2)
    za, zb = z.chunk(2)
    ratio = (a - b).abs().mean(dim=(1, 2, 3)) / (za - zb).abs().mean(1)
    return 1.0 / (ratio.mean() + 1e-5)


def train_gan(seed: int = 0, out: Path | None = None, quick: bool = False, steps: int | None = None,
              batch: int = 32, threads: int = 1, width: int | None = None,
              mode_seeking: float = MODE_SEEKING_WEIGHT, auxiliary: float = AUX_WEIGHT,
              label_maps: bool = LABEL_MAPS) -> Path:
    """Hinge loss + AC-GAN class loss, Adam (2e-4, betas 0.5/0.999) for both, mode-seeking term;
    the generator's EMA is saved. Defaults reproduce the committed checkpoint (seed 0, 1200 steps)."""
    from tools.generative.data import class_prior, load_chest

    gen = seed_everything(seed, threads)
    out = out or checkpoint_path(NAME)
    train = load_chest("train", 256 if quick else 4000)
    total = steps or (20 if quick else 1200)
    config = {**CONFIG, "width": width or CONFIG["width"]}
    g = Generator(**config)
    d = Discriminator(config["width"], config["classes"], auxiliary=auxiliary > 0, label_maps=label_maps)
    ema = copy.deepcopy(g).eval()
    opt_g = torch.optim.Adam(g.parameters(), lr=LR_G, betas=BETAS)  # D and G at the same rate: a faster D won outright
    opt_d = torch.optim.Adam(d.parameters(), lr=LR_D, betas=BETAS)
    log = TrainLog(log_path(out), NAME)
    half = batch // 2
    for step in range(total):
        idx = torch.randint(0, len(train), (batch,), generator=gen)
        real, real_cls = train.images[idx], train.classes[idx]
        cls = real_cls[:half].repeat(2)  # fake pairs share a class: what the mode-seeking term compares
        z = torch.randn((2 * half, g.latent), generator=gen)
        fake = g(z, cls)
        real_score, real_logits = d.score_and_logits(real, real_cls)
        fake_score, _ = d.score_and_logits(fake.detach(), cls)
        loss_d = F.relu(1 - real_score).mean() + F.relu(1 + fake_score).mean()
        if real_logits is not None:
            loss_d = loss_d + auxiliary * F.cross_entropy(real_logits, real_cls)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        gen_score, gen_logits = d.score_and_logits(fake, cls)
        adversarial = -gen_score.mean()
        seeking = mode_seeking_loss(fake, z)
        loss_g = adversarial + mode_seeking * seeking
        if gen_logits is not None:
            loss_g = loss_g + auxiliary * F.cross_entropy(gen_logits, cls)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        decay = min(EMA_DECAY, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pg in zip(ema.parameters(), g.parameters()):
                pe.mul_(decay).add_(pg.detach(), alpha=1 - decay)
            for be, bg in zip(ema.buffers(), g.buffers()):
                be.copy_(bg)
        if step % 100 == 0 or step == total - 1:
            log.write(step=step, loss_d=float(loss_d.detach()), loss_g=float(adversarial.detach()), mode_seeking=float(seeking.detach()),
                      **(_evaluate(ema, seed, per_class=8, brief=True) if step % 250 == 0 and step else {}))
    metrics = {"final_loss_d": float(loss_d.detach()), "final_loss_g": float(adversarial.detach()),
               "train_steps": total,
               **_evaluate(ema, seed)}
    log.write(step=total, **metrics)
    save_checkpoint(out, state_dict=ema.state_dict(), config=config, seed=seed, metrics=metrics,
                    extra={"class_prior": class_prior(train.classes, NUM_CLASSES), "train_n": len(train)})
    return out


def _evaluate(g: Generator, seed: int, per_class: int = 16, brief: bool = False) -> dict[str, Any]:
    """Diversity per class and conditioning, judged by the independent attribute classifier.

    Skipped (empty) when the classifier checkpoint is not available."""
    from agent.errors import ModelUnavailableError
    from tools.generative import classifier, quality

    try:
        classifier.load_classifier()
    except ModelUnavailableError:
        return {}
    diversity, right_hits = [], {}
    for c in range(g.embed.num_embeddings):
        images = sample_gan(g, torch.full((per_class,), c, dtype=torch.long), seed + 1000 + c)
        diversity.append(quality.pairwise_ms_ssim(images))
        seen = classifier.measure(images)
        right_hits[c] = sum(m.lesion_probability >= 0.5 and m.side == "right" for m in seen) / per_class
    mean = round(sum(v or 0.0 for v in diversity) / len(diversity), 4)
    mixed = sample_gan(g, torch.arange(g.embed.num_embeddings).repeat(per_class), seed + 999)
    precision = quality.assess(mixed)["precision"]
    if brief:
        return {"mean_class_ms_ssim": mean, "precision": precision, "right_rate_none": round(right_hits[0], 3),
                "right_rate_right": round(sum(right_hits[c] for c in (1, 2, 3)) / 3, 3)}
    return {"per_class_ms_ssim": [round(v or 0.0, 4) for v in diversity], "mean_class_ms_ssim": mean,
            "precision": precision,
            "classifier_right_lesion_rate": {str(k): round(v, 3) for k, v in right_hits.items()}}


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
