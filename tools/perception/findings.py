"""The image-family classifier and structure localiser the describer and named-structure prompts use.

One small CNN, trained on chest and head phantoms, answers which family an image is (chest
radiograph or head slice), and its coarse segmentation head (stride 4) localises the named
structures (lungs, heart, brain, ventricles), which gives the box that a named-structure prompt
("left lung") hands to the promptable segmenter. Its whole-image lesion heads are auxiliary
training targets only: at this input size a nodule is a few pixels, so lesion findings come from
the per-region classifier in `tools.perception.lesions`, which looks inside each localised region.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from tools.perception.checkpoints import CHECKPOINT_DIR, load_checkpoint, save_checkpoint
from tools.perception.tinysam import ResBlock, _norm

NAME = "findings_cnn"
FAMILIES = ("chest", "head")
SIDES = ("right", "left")  # patient side
SIZE_CLASSES = ("small (<15 mm)", "medium (15-25 mm)", "large (>=25 mm)")
SIZE_EDGES_MM = (15.0, 25.0)
CHANNELS = ("right_lung", "left_lung", "heart", "lesion", "brain", "ventricles")
SWAP_ON_FLIP = {0: 1, 1: 0}  # right/left lung channels trade places when the image is mirrored
IMAGE_SIZE = 96


def size_class(diameter_mm: float) -> int:
    return int(np.searchsorted(SIZE_EDGES_MM, diameter_mm, side="right"))


class FindingsNet(nn.Module):
    def __init__(self, width: int = 16) -> None:
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(1, w, 4, 2, 1, bias=False), _norm(w), nn.GELU())  # /2
        self.s4 = ResBlock(w, 2 * w, 2)  # /4
        self.s8 = ResBlock(2 * w, 4 * w, 2)  # /8
        self.s16 = ResBlock(4 * w, 4 * w, 2)  # /16
        self.seg = nn.Sequential(nn.Conv2d(2 * w + 4 * w, 2 * w, 3, 1, 1), nn.GELU(), nn.Conv2d(2 * w, len(CHANNELS), 1))
        feat = 8 * w + len(CHANNELS) * 2
        self.head = nn.Sequential(nn.Linear(feat, 64), nn.GELU())
        self.family = nn.Linear(64, len(FAMILIES))
        self.lesion = nn.Linear(64, 1)
        self.side = nn.Linear(64, len(SIDES))
        self.size = nn.Linear(64, len(SIZE_CLASSES))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        f2 = self.stem(x * 2 - 1)
        f4 = self.s4(f2)
        f8 = self.s8(f4)
        f16 = self.s16(f8)
        up = F.interpolate(f8, size=f4.shape[-2:], mode="bilinear", align_corners=False)
        seg = self.seg(torch.cat([f4, up], 1))
        prob = torch.sigmoid(seg)
        pooled = torch.cat([f16.mean((2, 3)), f16.amax((2, 3)), prob.amax((2, 3)), prob.mean((2, 3))], 1)
        h = self.head(pooled)
        return {"seg": seg, "family": self.family(h), "lesion": self.lesion(h)[:, 0],
                "side": self.side(h), "size": self.size(h)}


@dataclass
class FindingsPrediction:
    family: str
    family_prob: float
    heatmaps: np.ndarray  # (C, S/4, S/4) structure probabilities in the model frame


# -- data --------------------------------------------------------------------------------------
def build_findings_set(split: str, n_chest: int, n_head: int, seed: int = 0):
    """Images (N, S, S), segmentation targets (N, C, S, S), and per-image labels."""
    from tools.perception.phantom_data import chest_masks
    from tools.perception.preprocess import normalize_for_model
    from tools.phantoms.dataset import phantom_split

    images, targets, family, lesion, side, size = [], [], [], [], [], []
    empty = np.zeros((IMAGE_SIZE, IMAGE_SIZE), bool)

    def add(image, masks, fam, labels, lesion_mask):
        images.append(image.astype(np.float32))
        channel = {"right_lung": masks.get("right_lung", empty), "left_lung": masks.get("left_lung", empty),
                   "heart": masks.get("heart", empty), "lesion": lesion_mask,
                   "brain": masks.get("brain", empty), "ventricles": masks.get("ventricles", empty)}
        targets.append(np.stack([channel[c] for c in CHANNELS]))
        family.append(FAMILIES.index(fam))
        present = bool(labels["lesion_present"]) and lesion_mask.any()
        lesion.append(float(present))
        side.append(SIDES.index(labels["lesion_side"]) if present and labels["lesion_side"] in SIDES else -1)
        size.append(size_class(float(labels["lesion_size_mm"])) if present else -1)

    if n_chest:
        for p in phantom_split("chest", split, n_chest, size=IMAGE_SIZE, seed=seed):
            masks = chest_masks(p)
            add(normalize_for_model(p.image, "CR"), masks, "chest", p.labels, masks["nodule"])
    if n_head:
        for p in phantom_split("head", split, n_head, size=IMAGE_SIZE, seed=seed):
            masks = {k: np.asarray(v, bool) for k, v in p.masks.items()}
            add(normalize_for_model(p.ct_hu, "CT"), masks, "head", p.labels, masks["lesion"])
            add(normalize_for_model(p.mr, "MR"), masks, "head", p.labels, masks["lesion"])
    return (np.stack(images), np.stack(targets), np.asarray(family), np.asarray(lesion, np.float32),
            np.asarray(side), np.asarray(size))


# -- training ----------------------------------------------------------------------------------
def train_findings_cnn(seed: int = 0, out: Path | None = None, quick: bool = False, *, steps: int | None = None,
                       batch: int = 16, n_chest: int | None = None, n_head: int | None = None,
                       device: str | None = None, threads: int = 1) -> Path:
    """Train the finding classifier + structure localiser on phantoms; write checkpoint and log."""
    from tools.device import pick_device
    from tools.perception.augment import random_affine, random_intensity

    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(threads)
    device = device or pick_device()
    steps = steps or (20 if quick else 240)
    n_chest = n_chest or (24 if quick else 450)
    n_head = n_head or (8 if quick else 90)
    out = Path(out) if out else CHECKPOINT_DIR / f"{NAME}.pt"
    out.parent.mkdir(parents=True, exist_ok=True)
    log = out.with_name(out.stem + ".log.jsonl").open("w")
    started = time.time()
    images, targets, family, lesion, side, size = (torch.from_numpy(a).to(device) for a in build_findings_set(
        "train", n_chest, n_head, seed))
    gen = torch.Generator(device=device).manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = FindingsNet().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.05)
    seg_weight = torch.tensor([1, 1, 1, 8, 1, 2], device=device, dtype=torch.float32).view(1, -1, 1, 1)
    log.write(json.dumps({"event": "start", "seed": seed, "steps": steps, "batch": batch, "device": device,
                          "n_images": len(images)}) + "\n")
    model.train()
    for step in range(1, steps + 1):
        idx = torch.as_tensor(rng.choice(len(images), batch, replace=False), device=device)
        x, y, flipped = random_affine(images[idx][:, None], targets[idx], gen, flip=True)
        x = random_intensity(x, gen)
        y = torch.where(flipped[:, None, None, None], y[:, [1, 0, 2, 3, 4, 5]], y).float()
        s = torch.where(flipped & (side[idx] >= 0), 1 - side[idx], side[idx])
        pred = model(x)
        y4 = F.avg_pool2d(y, 4) >= 0.5
        seg_loss = (F.binary_cross_entropy_with_logits(pred["seg"], y4.float(), reduction="none") * seg_weight).mean()
        les = lesion[idx]
        loss = seg_loss + F.cross_entropy(pred["family"], family[idx]) + F.binary_cross_entropy_with_logits(pred["lesion"], les)
        has_side, has_size = s >= 0, size[idx] >= 0
        if has_side.any():
            loss = loss + F.cross_entropy(pred["side"][has_side], s[has_side])
        if has_size.any():
            loss = loss + 0.5 * F.cross_entropy(pred["size"][has_size], size[idx][has_size])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 20 == 0 or step == steps:
            log.write(json.dumps({"step": step, "loss": round(loss.item(), 4), "seg_loss": round(seg_loss.item(), 4),
                                  "seconds": round(time.time() - started, 1)}) + "\n")
            log.flush()
    model.eval()
    metrics = evaluate_findings(model, n=16 if quick else 100, seed=seed, device=device)
    log.write(json.dumps({"event": "done", "val": metrics, "seconds": round(time.time() - started, 1)}) + "\n")
    log.close()
    save_checkpoint(out, model.state_dict(), config={"width": 16, "image_size": IMAGE_SIZE, "channels": list(CHANNELS)},
                    seed=seed, metrics=metrics, extra={"steps": steps, "batch": batch, "device": device,
                                                       "n_chest": n_chest, "n_head": n_head})
    return out


@torch.no_grad()
def evaluate_findings(model: FindingsNet, *, n: int, seed: int = 0, device: str = "cpu", split: str = "val") -> dict[str, float]:
    """Lesion presence accuracy, side accuracy (where present) and family accuracy on a split."""
    images, _, family, lesion, side, _ = build_findings_set(split, n, n // 4, seed)
    pred = model(torch.from_numpy(images).to(device)[:, None])
    fam = pred["family"].argmax(1).cpu().numpy()
    les = (torch.sigmoid(pred["lesion"]) > 0.5).cpu().numpy()
    sid = pred["side"].argmax(1).cpu().numpy()
    present = side >= 0
    return {"family_acc": round(float((fam == family).mean()), 4),
            "lesion_acc": round(float((les == (lesion > 0.5)).mean()), 4),
            "side_acc": round(float((sid[present] == side[present]).mean()) if present.any() else float("nan"), 4)}


# -- inference ---------------------------------------------------------------------------------
class FindingsModel:
    """The loaded classifier; `predict` takes a model-normalised 2-D image of any size."""

    def __init__(self, checkpoint: Path | None = None) -> None:
        ckpt = load_checkpoint(NAME, checkpoint)
        self.net = FindingsNet(width=int(ckpt.config.get("width", 16)))
        self.net.load_state_dict(ckpt.state_dict)
        self.net.eval()
        self.sha256 = ckpt.sha256
        self.metrics = ckpt.metrics

    @torch.no_grad()
    def predict(self, image: np.ndarray) -> FindingsPrediction:
        from tools.perception.preprocess import Letterbox

        box = Letterbox(*image.shape, size=IMAGE_SIZE)
        out = self.net(box.to_model(image))
        fam = torch.softmax(out["family"][0], 0)
        return FindingsPrediction(family=FAMILIES[int(fam.argmax())], family_prob=float(fam.max()),
                                  heatmaps=torch.sigmoid(out["seg"][0]).numpy())


_MODEL: FindingsModel | None = None


def get_findings_model() -> FindingsModel:
    global _MODEL
    if _MODEL is None:
        _MODEL = FindingsModel()
    return _MODEL
