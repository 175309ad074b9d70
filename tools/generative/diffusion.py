"""Class-conditional DDPM on 64 px chest phantoms (MONAI DiffusionModelUNet + schedulers).

One network serves four jobs:
  - DDPM sampling: 1000 ancestral (stochastic) steps with MONAI's DDPMScheduler; fewer steps use the
    respaced ancestral sampler (DDIM with eta=1, which is exactly DDPM on a strided schedule);
  - DDIM sampling: deterministic (eta=0), few steps; same seed and steps give the same image;
  - DDIM inversion (image -> x_T), with fixed-point refinement so decoding x_T gives the image back
    (above 50 dB on phantoms); class-embedding attribute directions are saved with the checkpoint;
  - inpainting: masked replacement of the known region at every DDIM step (RePaint without jumps).
DDIM timesteps are evenly spaced multiples of T/steps ("leading" spacing), so MONAI's
`DDIMScheduler.step` (which steps back by T // steps) and the inversion visit the same timesteps.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.networks.nets import DiffusionModelUNet
from monai.networks.schedulers import DDIMScheduler, DDPMScheduler
from torch import nn
from torch.nn import functional as F

from tools.generative.checkpoints import (TrainLog, checkpoint_path, load_checkpoint, log_path, restore,
                                          save_checkpoint, seed_everything)
from tools.generative.conditions import NUM_CLASSES, SIDES, SIZE_BUCKETS

NAME = "ddpm"
TRAIN_STEPS = 1000
UNET_CONFIG: dict[str, Any] = {
    "spatial_dims": 2, "in_channels": 4, "out_channels": 4, "channels": [32, 64, 64],
    "attention_levels": [False, False, True], "num_res_blocks": 1, "norm_num_groups": 8,
    "num_head_channels": 64, "num_class_embeds": NUM_CLASSES, "unshuffle": 2,
}


class ClassOrVectorEmbedding(nn.Embedding):
    """The UNet's class embedding, which also accepts an embedding vector directly.

    Integer labels look up the learned table as usual; a float (B, D) tensor is used as the
    embedding itself, which is how the editor conditions on `e_class + s * direction`.
    """

    def forward(self, labels: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        if labels.is_floating_point():
            return labels
        return super().forward(labels)


class UnshuffledUNet(nn.Module):
    """A MONAI DiffusionModelUNet run on 2x2 pixel-unshuffled images (64x64x1 <-> 32x32x4).

    Same input and output as a 64 px UNet, a quarter of the compute: what makes training fit on a CPU.
    """

    def __init__(self, unshuffle: int = 2, **unet: Any) -> None:
        super().__init__()
        self.factor = unshuffle
        self.unet = DiffusionModelUNet(**unet)
        old = self.unet.class_embedding
        self.unet.class_embedding = ClassOrVectorEmbedding(old.num_embeddings, old.embedding_dim)

    @property
    def class_embedding(self) -> ClassOrVectorEmbedding:
        return self.unet.class_embedding

    def forward(self, x: torch.Tensor, timesteps: torch.Tensor, class_labels: torch.Tensor) -> torch.Tensor:
        h = F.pixel_unshuffle(x, self.factor)
        return F.pixel_shuffle(self.unet(h, timesteps, class_labels=class_labels), self.factor)


def build_unet(config: dict[str, Any] | None = None) -> UnshuffledUNet:
    cfg = dict(config or UNET_CONFIG)
    return UnshuffledUNet(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()})


def ddpm_scheduler() -> DDPMScheduler:
    return DDPMScheduler(num_train_timesteps=TRAIN_STEPS, schedule="linear_beta", clip_sample=True)


def ddim_scheduler(steps: int, clip: bool = True) -> DDIMScheduler:
    """DDIM over `steps` evenly spaced timesteps (multiples of T // steps)."""
    if not 1 <= steps <= TRAIN_STEPS:
        raise ValueError(f"steps must be in 1..{TRAIN_STEPS}")
    sched = DDIMScheduler(num_train_timesteps=TRAIN_STEPS, schedule="linear_beta", clip_sample=clip,
                          set_alpha_to_one=True)
    sched.set_timesteps(steps)
    stride = TRAIN_STEPS // steps
    sched.timesteps = torch.arange(0, stride * steps, stride).flip(0).long()
    return sched


# --------------------------------------------------------------------------------------- training


PHASES = ((1600, 1e-3), (1800, 5e-4))  # (steps, peak lr); each phase restarts from the previous EMA


def train_ddpm(seed: int = 0, out: Path | None = None, quick: bool = False, steps: int | None = None,
               batch: int = 16, threads: int = 1, resume: Path | None = None, phases: tuple | None = None) -> Path:
    """Epsilon-prediction training with an EMA copy of the weights (the EMA is what is saved).

    Training runs in phases with warm-up + cosine learning rate each; a phase starts from the
    previous phase's EMA weights with a fresh optimiser and its own seeded data stream, so
    `resume=<checkpoint of phase k>` continues exactly where a full run would be after phase k.
    """
    from tools.generative.data import class_prior, load_chest

    seed_everything(seed, threads)
    out = out or checkpoint_path(NAME)
    train = load_chest("train", 256 if quick else 4000)
    plan = list(phases or (((steps or 30, 1e-3),) if quick or steps else PHASES))
    net = build_unet()
    done_phases = 0
    history: list[dict[str, Any]] = []
    if resume is not None:
        payload, _ = load_checkpoint(NAME, Path(resume))
        net.load_state_dict(payload["state_dict"])
        done_phases = int(payload["metrics"].get("phases_done", 1))
        history = list(payload["metrics"].get("phases", []))
    log = TrainLog(log_path(out), NAME) if resume is None else _append_log(log_path(out))
    for phase in range(done_phases, len(plan)):
        total, lr = plan[phase]
        net, running = _train_phase(net, train, total, lr, batch, seed + phase, log, phase)
        history.append({"phase": phase, "steps": total, "lr": lr, "final_loss_ema": running})
        directions = attribute_directions(net, train)
        save_checkpoint(out, state_dict=net.state_dict(), config=UNET_CONFIG, seed=seed,
                        metrics={"final_loss_ema": running, "train_steps": sum(h["steps"] for h in history),
                                 "batch": batch, "phases_done": phase + 1, "phases": history},
                        extra={"class_prior": class_prior(train.classes, NUM_CLASSES), "directions": directions,
                               "train_n": len(train)})
    return out


def _append_log(path: Path) -> TrainLog:
    log = TrainLog.__new__(TrainLog)
    import time as _time

    log.path, log.name, log.started = path, NAME, _time.perf_counter()
    return log


def _train_phase(net: UnshuffledUNet, train, total: int, lr: float, batch: int, seed: int, log: TrainLog,
                 phase: int) -> tuple[UnshuffledUNet, float]:
    import copy

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    ema = copy.deepcopy(net).eval()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.0)
    warmup = min(100, total // 10 + 1)
    sched_lr = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * min(s, total) / total))))
    noise_sched = ddpm_scheduler()
    running = 0.0
    for step in range(total):
        idx = torch.randint(0, len(train), (batch,), generator=gen)
        x0, cls = train.images[idx], train.classes[idx]
        noise = torch.randn(x0.shape, generator=gen)
        t = torch.randint(0, TRAIN_STEPS, (batch,), generator=gen)
        xt = noise_sched.add_noise(original_samples=x0, noise=noise, timesteps=t)
        loss = F.mse_loss(net(xt, t, class_labels=cls), noise)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched_lr.step()
        decay = min(0.995, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pn in zip(ema.parameters(), net.parameters()):
                pe.mul_(decay).add_(pn.detach(), alpha=1 - decay)
        value = float(loss.detach())
        running = 0.98 * running + 0.02 * value if step else value
        if step % 50 == 0 or step == total - 1:
            log.write(phase=phase, step=step, loss=value, loss_ema=running, lr=sched_lr.get_last_lr()[0])
    return ema, running


@torch.no_grad()
def attribute_directions(net: UnshuffledUNet, data) -> dict[str, list[list[float]]]:
    """Attribute directions in class-embedding space, per lesion side, from labelled training data.

    Each direction is a class-mean difference over the training samples' embeddings:
      lesion_presence: mean(lesions on that side) - mean(no lesion)
      lesion_size:     (mean(large) - mean(small)) / 2, i.e. one size bucket per unit strength
      severity:        mean(severity >= 2) - mean(severity <= 1) on that side (no-lesion samples included)
    """
    table = net.class_embedding.weight.detach()
    emb = table[data.classes]
    out: dict[str, list[list[float]]] = {"lesion_presence": [], "lesion_size": [], "severity": []}
    none = data.classes == 0
    for s, _side in enumerate(SIDES):
        on_side = data.side == s
        big = on_side & (data.classes == 1 + s * len(SIZE_BUCKETS) + 2)
        small = on_side & (data.classes == 1 + s * len(SIZE_BUCKETS))
        high = on_side & (data.severity >= 2)
        low = (on_side | none) & (data.severity <= 1)
        out["lesion_presence"].append((emb[on_side].mean(0) - emb[none].mean(0)).tolist())
        out["lesion_size"].append(((emb[big].mean(0) - emb[small].mean(0)) / 2).tolist())
        out["severity"].append((emb[high].mean(0) - emb[low].mean(0)).tolist())
    return out


# --------------------------------------------------------------------------------------- loading


class DiffusionModel:
    """A loaded checkpoint: the EMA UNet, its sha256 and the saved attribute directions."""

    def __init__(self, payload: dict[str, Any], sha256: str) -> None:
        self.net = restore(build_unet(payload["config"]), payload, NAME)
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.sha256 = sha256
        self.extra = payload.get("extra", {})
        self.metrics = payload.get("metrics", {})
        self.class_prior = np.asarray(self.extra.get("class_prior") or [1 / NUM_CLASSES] * NUM_CLASSES)

    def eps(self, x: torch.Tensor, t: int, cond: torch.Tensor) -> torch.Tensor:
        """Predicted noise; `cond` is class labels (long) or embedding vectors (float)."""
        timesteps = torch.full((x.shape[0],), int(t), dtype=torch.long)
        return self.net(x, timesteps, class_labels=cond)

    def embedding(self, classes: torch.Tensor) -> torch.Tensor:
        return self.net.class_embedding.weight[classes].detach().clone()

    def direction(self, attribute: str, side: str) -> torch.Tensor:
        return torch.tensor(self.extra["directions"][attribute][SIDES.index(side)], dtype=torch.float32)


@lru_cache(maxsize=2)
def _load(path: str | None) -> DiffusionModel:
    payload, sha = load_checkpoint(NAME, Path(path) if path else None)
    return DiffusionModel(payload, sha)


def load_diffusion(path: Path | None = None) -> DiffusionModel:
    return _load(str(path) if path else None)


# --------------------------------------------------------------------------------------- sampling


def _batched_cond(cond: torch.Tensor, n: int) -> torch.Tensor:
    return cond if cond.shape[0] == n else cond.expand(n, *cond.shape[1:])


@torch.no_grad()
def sample_ddpm(model: DiffusionModel, cond: torch.Tensor, seed: int, steps: int = TRAIN_STEPS) -> torch.Tensor:
    """Ancestral sampling. 1000 steps: MONAI DDPMScheduler; fewer: strided DDPM (DDIM with eta=1)."""
    gen = torch.Generator().manual_seed(seed)
    n = cond.shape[0]
    x = torch.randn((n, 1, 64, 64), generator=gen)
    if steps >= TRAIN_STEPS:
        sched = ddpm_scheduler()
        sched.set_timesteps(TRAIN_STEPS)
        for t in sched.timesteps:
            x, _ = sched.step(model.eps(x, int(t), cond), int(t), x, generator=gen)
        return x.clamp(-1, 1)
    sched = ddim_scheduler(steps)
    for t in sched.timesteps:
        x, _ = sched.step(model.eps(x, int(t), cond), int(t), x, eta=1.0, generator=gen)
    return x.clamp(-1, 1)


@torch.no_grad()
def sample_ddim(model: DiffusionModel, cond: torch.Tensor, seed: int | None = None, steps: int = 50,
                x_t: torch.Tensor | None = None, clip: bool = True, t_start: int | None = None) -> torch.Tensor:
    """Deterministic DDIM (eta=0) from seeded noise, or from a given x_t (an inverted image).

    `t_start` starts the chain part-way (at the last DDIM timestep <= t_start), for an x_t from
    `invert_ddim(..., t_stop=t_start)`.
    """
    if x_t is None:
        gen = torch.Generator().manual_seed(int(seed or 0))
        x_t = torch.randn((cond.shape[0], 1, 64, 64), generator=gen)
    x = x_t.clone()
    sched = ddim_scheduler(steps, clip=clip)
    cond = _batched_cond(cond, x.shape[0])
    for t in sched.timesteps:
        if t_start is not None and int(t) > t_start:
            continue
        x, _ = sched.step(model.eps(x, int(t), cond), int(t), x, eta=0.0)
    return x


def _alpha(sched: DDIMScheduler, t: int) -> torch.Tensor:
    return sched.alphas_cumprod[t] if t >= 0 else sched.final_alpha_cumprod


@torch.no_grad()
def invert_ddim(model: DiffusionModel, x0: torch.Tensor, cond: torch.Tensor, steps: int = 50,
                refine: int = 2, t_stop: int | None = None,
                trajectory: dict[int, torch.Tensor] | None = None) -> torch.Tensor:
    """x0 -> x_T such that `sample_ddim(x_t=..., clip=False)` returns x0 (up to the fixed-point error).

    Plain DDIM inversion evaluates the noise at the lower timestep; `refine` fixed-point iterations
    re-solve each step with the noise at the upper one, which is the exact inverse of the sampler.
    """
    sched = ddim_scheduler(steps, clip=False)
    stride = TRAIN_STEPS // steps
    cond = _batched_cond(cond, x0.shape[0])
    x = x0.clone()
    for t in sched.timesteps.flip(0).tolist():  # 0, stride, ..., the sampler's first step
        if t_stop is not None and t > t_stop:
            break
        a_prev, a_t = _alpha(sched, t - stride), _alpha(sched, t)
        eps = model.eps(x, max(t - stride, 0), cond)  # initial guess: noise at the lower step
        x_next = x
        for _ in range(refine + 1):
            x0_hat = (x - (1 - a_prev).sqrt() * eps) / a_prev.sqrt()
            x_next = a_t.sqrt() * x0_hat + (1 - a_t).sqrt() * eps
            eps = model.eps(x_next, t, cond)
        x = x_next
        if trajectory is not None:
            trajectory[t] = x
    return x


@torch.no_grad()
def blended_edit(model: DiffusionModel, x0: torch.Tensor, trajectory: dict[int, torch.Tensor], cond: torch.Tensor,
                 region: torch.Tensor, steps: int = 50, t_start: int = 600) -> torch.Tensor:
    """Decode an inverted image with a new conditioning inside `region` only (blended diffusion).

    Outside the region every step is pinned to the image's own inversion trajectory, so the
    surroundings stay exactly as they were and the edited region is generated to fit them.
    """
    sched = ddim_scheduler(steps, clip=False)
    stride = TRAIN_STEPS // steps
    region = region.float()
    cond = _batched_cond(cond, x0.shape[0])
    starts = [int(t) for t in sched.timesteps if int(t) <= t_start]
    x = trajectory[starts[0]].clone()
    for t in starts:
        x, _ = sched.step(model.eps(x, t, cond), t, x, eta=0.0)
        ref = trajectory.get(t - stride, x0)
        x = region * x + (1 - region) * ref
    return region * x + (1 - region) * x0


@torch.no_grad()
def inpaint(model: DiffusionModel, image: torch.Tensor, keep: torch.Tensor, cond: torch.Tensor, seed: int,
            steps: int = 50, resample: int = 2) -> torch.Tensor:
    """Fill where `keep` is False: at each step the known region is replaced by the image noised to
    that step, and the step is redone `resample` times (RePaint's harmonisation, without long jumps)."""
    gen = torch.Generator().manual_seed(seed)
    sched = ddim_scheduler(steps)
    stride = TRAIN_STEPS // steps
    keep = keep.float()
    cond = _batched_cond(cond, image.shape[0])
    x = torch.randn(image.shape, generator=gen)
    for t in sched.timesteps.tolist():
        for r in range(resample):
            a_t = _alpha(sched, t)
            known = a_t.sqrt() * image + (1 - a_t).sqrt() * torch.randn(image.shape, generator=gen)
            x = keep * known + (1 - keep) * x
            x_prev, _ = sched.step(model.eps(x, t, cond), t, x, eta=0.0)
            if r < resample - 1:  # go back up one step with fresh noise and try again
                a_prev = _alpha(sched, t - stride)
                x = (a_t / a_prev).sqrt() * x_prev + (1 - a_t / a_prev).sqrt() * torch.randn(image.shape, generator=gen)
            else:
                x = x_prev
    return (keep * image + (1 - keep) * x).clamp(-1, 1)


@torch.no_grad()
def healthy_reconstruction(model: DiffusionModel, image: torch.Tensor, t_start: int = 300, steps: int = 15,
                           draws: int = 2, seed: int = 0) -> torch.Tensor:
    """Partial-noise reconstruction conditioned on 'no lesion': noise to t_start, denoise with DDIM.

    What the model cannot bring back (a lesion) shows up in |image - reconstruction|; several noise
    draws are averaged so the map reflects the model, not one noise sample.
    """
    gen = torch.Generator().manual_seed(seed)
    stride = max(1, t_start // steps)
    timesteps = list(range(stride * (t_start // stride), -1, -stride))
    sched = ddim_scheduler(TRAIN_STEPS // stride)
    cond = torch.zeros(image.shape[0] * draws, dtype=torch.long)
    x0 = image.repeat(draws, 1, 1, 1)
    noise = torch.randn(x0.shape, generator=gen)
    x = sched.add_noise(x0, noise, torch.full((x0.shape[0],), timesteps[0], dtype=torch.long))
    for t in timesteps:
        x, _ = sched.step(model.eps(x, t, cond), t, x, eta=0.0)
    return x.clamp(-1, 1).view(draws, *image.shape).mean(0)
