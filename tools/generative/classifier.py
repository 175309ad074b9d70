"""The independent judge: a small CNN trained on labelled phantoms to measure lesion presence, side,
size and severity. It checks what the generators and the editor produce (conditioning, edit
success) and its penultimate layer is the feature space for FID; it shares no weights with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from tools.generative.checkpoints import (TrainLog, checkpoint_path, load_checkpoint, log_path, restore,
                                          save_checkpoint, seed_everything)

NAME = "attribute-classifier"
SIZE_SCALE_MM = 32.0  # regression target is size / scale


class AttributeNet(nn.Module):
    """Conv stack to an 8x8 map, one dense feature layer, then one head per attribute."""

    def __init__(self, width: int = 16, features: int = 128) -> None:
        super().__init__()

        def block(cin: int, cout: int, stride: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.SiLU())

        # full resolution first: nodules are 1.5-6 px wide at 64 px
        self.body = nn.Sequential(block(1, width, 1), block(width, 2 * width, 2), block(2 * width, 3 * width, 2),
                                  block(3 * width, 4 * width, 2))
        self.feature = nn.Sequential(nn.Flatten(), nn.Linear(4 * width * 8 * 8, features), nn.SiLU())
        self.presence = nn.Linear(features, 1)
        self.side = nn.Linear(features, 2)
        self.size = nn.Linear(features, 1)
        self.severity = nn.Linear(features, 4)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature(self.body(x))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.features(x)
        return {"presence": self.presence(h).squeeze(1), "side": self.side(h),
                "size": self.size(h).squeeze(1), "severity": self.severity(h)}


@dataclass
class Measurement:
    """What the judge sees in one image."""

    lesion_probability: float
    side: str | None  # patient side of the most likely lesion, when probability >= 0.5
    right_probability: float
    size_mm: float  # estimated nodule diameter (0 when no lesion is seen)
    severity: int
    severity_score: float = 0.0  # expected grade under the classifier's softmax: moves smoothly

    def as_dict(self) -> dict[str, float | int | str | None]:
        return {"lesion_probability": round(self.lesion_probability, 4), "side": self.side,
                "size_mm": round(self.size_mm, 2), "severity": self.severity,
                "severity_score": round(self.severity_score, 3)}


def _losses(out: dict[str, torch.Tensor], presence: torch.Tensor, side: torch.Tensor, size_mm: torch.Tensor,
            severity: torch.Tensor) -> torch.Tensor:
    has = presence > 0.5
    loss = F.binary_cross_entropy_with_logits(out["presence"], presence) + F.cross_entropy(out["severity"], severity)
    if has.any():
        loss = loss + F.cross_entropy(out["side"][has], side[has])
        loss = loss + 4.0 * F.mse_loss(out["size"][has], size_mm[has] / SIZE_SCALE_MM)
    return loss


def train_attribute_classifier(seed: int = 0, out: Path | None = None, quick: bool = False) -> Path:
    """Supervised training on train-split phantoms; validation accuracy and size error are logged."""
    from tools.generative.data import load_chest

    gen = seed_everything(seed)
    out = out or checkpoint_path(NAME)
    train = load_chest("train", 256 if quick else 4000)
    val = load_chest("val", 128 if quick else 500)
    net = AttributeNet()
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    epochs = 1 if quick else 8
    steps = epochs * (len(train) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=max(steps, 1))
    log = TrainLog(log_path(out), NAME)
    step = 0
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(train), generator=gen)
        for i in range(0, len(train) - 63, 64):
            b = train.subset(order[i:i + 64])
            loss = _losses(net(b.images), b.presence, b.side, b.size_mm, b.severity)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
        metrics = evaluate(net, val)
        log.write(epoch=epoch, step=step, loss=float(loss.detach()), **metrics)
    save_checkpoint(out, state_dict=net.state_dict(), config={"width": 16, "features": 128}, seed=seed,
                    metrics=metrics, extra={"train_n": len(train), "val_n": len(val)})
    return out


@torch.no_grad()
def evaluate(net: AttributeNet, data) -> dict[str, float]:
    net.eval()
    out = net(data.images)
    presence = (out["presence"] > 0).float()
    has = data.presence > 0.5
    side_acc = (out["side"][has].argmax(1) == data.side[has]).float().mean() if has.any() else torch.tensor(0.0)
    size_err = (out["size"][has] * SIZE_SCALE_MM - data.size_mm[has]).abs().mean() if has.any() else torch.tensor(0.0)
    return {"presence_acc": float((presence == data.presence).float().mean()), "side_acc": float(side_acc),
            "size_mae_mm": float(size_err),
            "severity_acc": float((out["severity"].argmax(1) == data.severity).float().mean())}


@lru_cache(maxsize=2)
def _load(path: str | None = None) -> tuple[AttributeNet, str]:
    payload, sha = load_checkpoint(NAME, Path(path) if path else None)
    net = AttributeNet(**payload["config"])
    return restore(net, payload, NAME), sha


def load_classifier() -> tuple[AttributeNet, str]:
    """The trained judge and its checkpoint sha256 (ModelUnavailableError when missing)."""
    return _load(None)


@torch.no_grad()
def measure(images: torch.Tensor, batch: int = 64) -> list[Measurement]:
    """Measure images in model space (N, 1, 64, 64) in [-1, 1]."""
    net, _ = load_classifier()
    results: list[Measurement] = []
    for i in range(0, images.shape[0], batch):
        out = net(images[i:i + batch].float())
        prob = torch.sigmoid(out["presence"])
        side_p = torch.softmax(out["side"], 1)
        for j in range(prob.shape[0]):
            p = float(prob[j])
            right = float(side_p[j, 0])
            results.append(Measurement(
                lesion_probability=p, side=("right" if right >= 0.5 else "left") if p >= 0.5 else None,
                right_probability=right, size_mm=max(0.0, float(out["size"][j]) * SIZE_SCALE_MM) if p >= 0.5 else 0.0,
                severity=int(out["severity"][j].argmax()),
                severity_score=float((torch.softmax(out["severity"][j], 0) * torch.arange(4)).sum())))
    return results


@torch.no_grad()
def raw_size_mm(images: torch.Tensor) -> np.ndarray:
    """The size regressor's output even below the presence threshold (for measuring small changes)."""
    net, _ = load_classifier()
    return (net(images.float())["size"] * SIZE_SCALE_MM).numpy()


@torch.no_grad()
def features(images: torch.Tensor, batch: int = 128) -> np.ndarray:
    """Penultimate-layer features (N, 128): the embedding FID and nearest-neighbour checks use."""
    net, _ = load_classifier()
    chunks = [net.features(images[i:i + batch].float()).numpy() for i in range(0, images.shape[0], batch)]
    return np.concatenate(chunks).astype(np.float64)
