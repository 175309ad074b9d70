"""The lesion classifier: is there a nodule/lesion in this lung (or brain half), where, how big?

A whole radiograph at a small model size shrinks a 12 mm nodule to a few pixels, so the describer
asks per region instead: each lung field (or each half of the brain) found by the structure
localiser is cropped and resized to 64 x 48, and a small CNN answers for that region. Which region
holds the lesion gives the PATIENT side directly. A heat head trained on the lesion masks (with the
region label as a max-pooled multiple-instance target) says where in the region it is, which seeds
the segmenter for a "nodule" prompt; a size head gives the size class.
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

NAME = "lesion_cnn"
REGION_H, REGION_W = 64, 48
SIZE_CLASSES = ("small (<15 mm)", "medium (15-25 mm)", "large (>=25 mm)")
SIZE_EDGES_MM = (15.0, 25.0)


def size_class(diameter_mm: float) -> int:
    return int(np.searchsorted(SIZE_EDGES_MM, diameter_mm, side="right"))


class LesionNet(nn.Module):
    def __init__(self, width: int = 16) -> None:
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(1, w, 3, 1, 1, bias=False), _norm(w), nn.GELU())
        self.b2 = ResBlock(w, 2 * w, 2)  # /2
        self.b4 = ResBlock(2 * w, 4 * w, 2)  # /4
        self.context = ResBlock(4 * w, 4 * w, 1)
        self.heat = nn.Conv2d(4 * w, 1, 1)
        self.size = nn.Linear(4 * w, len(SIZE_CLASSES))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        f = self.context(self.b4(self.b2(self.stem(x * 2 - 1))))
        heat = self.heat(f)  # (B, 1, H/4, W/4) logits
        present = heat.flatten(1).amax(1)  # multiple-instance: the region has a lesion if some cell has
        weights = torch.softmax(heat.flatten(1), 1).view_as(heat)
        pooled = (f * weights).sum((2, 3))  # features where the lesion is, for its size
        return {"heat": heat, "present": present, "size": self.size(pooled)}


def crop_region(image: np.ndarray | torch.Tensor, box: tuple[float, float, float, float]) -> torch.Tensor:
    """(1, 1, 64, 48) resampling of the (x0, y0, x1, y1) region (pixel edges), zero outside the image."""
    tensor = torch.as_tensor(image, dtype=torch.float32)[None, None]
    h, w = tensor.shape[-2:]
    x0, y0, x1, y1 = box
    sx, sy = (x1 - x0) / w, (y1 - y0) / h
    cx, cy = (x0 + x1) / w - 1, (y0 + y1) / h - 1
    theta = torch.tensor([[[sx, 0.0, cx], [0.0, sy, cy]]], dtype=torch.float32)
    grid = F.affine_grid(theta, (1, 1, REGION_H, REGION_W), align_corners=False)
    return F.grid_sample(tensor, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _box_of(mask: np.ndarray) -> tuple[float, float, float, float] | None:
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return None
    return float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1)


def head_halves(brain_box: tuple[float, float, float, float]) -> dict[str, tuple[float, float, float, float]]:
    """Image-left half = patient right in radiological display, and vice versa."""
    x0, y0, x1, y1 = brain_box
    mid = (x0 + x1) / 2
    return {"right": (x0, y0, mid, y1), "left": (mid, y0, x1, y1)}


def build_region_set(split: str, n_chest: int, n_head: int, seed: int = 0, jitter: float = 0.1):
    """Region crops (N, 64, 48), lesion masks in the crop (N, 64, 48), present (N,), size class (N,)."""
    from tools.perception.phantom_data import chest_masks
    from tools.perception.preprocess import normalize_for_model
    from tools.phantoms.dataset import phantom_split

    rng = np.random.default_rng(seed + 7)
    crops, lesion_crops, present, sizes = [], [], [], []

    def add(image, region_box, lesion_mask, diameter):
        x0, y0, x1, y1 = region_box
        bw, bh = x1 - x0, y1 - y0
        d = rng.uniform(-jitter, jitter, 4) * np.array([bw, bh, bw, bh])
        box = (x0 + d[0], y0 + d[1], x1 + d[2], y1 + d[3])
        crops.append(crop_region(image, box)[0, 0].numpy())
        lm = crop_region(lesion_mask.astype(np.float32), box)[0, 0].numpy() > 0.5
        lesion_crops.append(lm)
        inside = lm.sum() >= 2
        present.append(float(inside))
        sizes.append(size_class(diameter) if inside else -1)

    if n_chest:
        for p in phantom_split("chest", split, n_chest, size=128, seed=seed):
            masks = chest_masks(p)
            image = normalize_for_model(p.image, "CR")
            for lung in ("right_lung", "left_lung"):
                box = _box_of(masks[lung])
                if box is not None:
                    add(image, box, masks["nodule"], float(p.labels["lesion_size_mm"]))
    if n_head:
        for p in phantom_split("head", split, n_head, size=128, seed=seed):
            brain = _box_of(np.asarray(p.masks["brain"], bool))
            if brain is None:
                continue
            for image in (normalize_for_model(p.ct_hu, "CT"), normalize_for_model(p.mr, "MR")):
                for half in head_halves(brain).values():
                    add(image, half, np.asarray(p.masks["lesion"], bool), float(p.labels["lesion_size_mm"]))
    return (np.stack(crops).astype(np.float32), np.stack(lesion_crops), np.asarray(present, np.float32),
            np.asarray(sizes))


def train_lesion_cnn(seed: int = 0, out: Path | None = None, quick: bool = False, *, steps: int | None = None,
                     batch: int = 32, n_chest: int | None = None, n_head: int | None = None,
                     device: str | None = None, threads: int = 1) -> Path:
    """Train the per-region lesion classifier on phantom lung fields and brain halves."""
    from tools.device import pick_device
    from tools.perception.augment import random_intensity

    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(threads)
    device = device or pick_device()
    steps = steps or (20 if quick else 500)
    n_chest = n_chest or (20 if quick else 500)
    n_head = n_head or (6 if quick else 100)
    out = Path(out) if out else CHECKPOINT_DIR / f"{NAME}.pt"
    out.parent.mkdir(parents=True, exist_ok=True)
    log = out.with_name(out.stem + ".log.jsonl").open("w")
    started = time.time()
    crops, lesion_masks, present, sizes = (torch.from_numpy(a).to(device) for a in build_region_set("train", n_chest, n_head, seed))
    log.write(json.dumps({"event": "start", "seed": seed, "steps": steps, "batch": batch, "device": device,
                          "n_regions": len(crops), "positives": int(present.sum())}) + "\n")
    log.flush()
    gen = torch.Generator(device=device).manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = LesionNet().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.1)
    model.train()
    for step in range(1, steps + 1):
        idx = torch.as_tensor(rng.choice(len(crops), batch, replace=False), device=device)
        x = random_intensity(crops[idx][:, None], gen)
        y = lesion_masks[idx][:, None].float()
        flip = torch.rand(batch, generator=gen, device=device) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        y = torch.where(flip[:, None, None, None], y.flip(-1), y)
        pred = model(x)
        heat_target = F.max_pool2d(y, 4)
        pos = present[idx]
        loss = (F.binary_cross_entropy_with_logits(pred["present"], pos)
                + F.binary_cross_entropy_with_logits(pred["heat"], heat_target, pos_weight=torch.tensor(5.0, device=device)))
        has_size = sizes[idx] >= 0
        if has_size.any():
            loss = loss + 0.5 * F.cross_entropy(pred["size"][has_size], sizes[idx][has_size])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 20 == 0 or step == steps:
            log.write(json.dumps({"step": step, "loss": round(loss.item(), 4), "seconds": round(time.time() - started, 1)}) + "\n")
            log.flush()
    model.eval()
    metrics = evaluate_lesion_cnn(model, n=10 if quick else 60, seed=seed, device=device)
    log.write(json.dumps({"event": "done", "val": metrics, "seconds": round(time.time() - started, 1)}) + "\n")
    log.close()
    save_checkpoint(out, model.state_dict(), config={"width": 16, "region": [REGION_H, REGION_W]}, seed=seed,
                    metrics=metrics, extra={"steps": steps, "batch": batch, "device": device,
                                            "n_chest": n_chest, "n_head": n_head})
    return out


@torch.no_grad()
def evaluate_lesion_cnn(model: LesionNet, *, n: int, seed: int = 0, device: str = "cpu", split: str = "val") -> dict[str, float]:
    crops, _, present, _ = build_region_set(split, n, n // 4, seed, jitter=0.0)
    pred = model(torch.from_numpy(crops).to(device)[:, None])
    hit = ((torch.sigmoid(pred["present"]) > 0.5).float().cpu().numpy() == present)
    return {"region_acc": round(float(hit.mean()), 4), "n_regions": int(len(present))}


@dataclass
class RegionFinding:
    side: str
    prob: float
    peak_xy: tuple[float, float]  # image pixels
    blob_box: tuple[float, float, float, float]  # image pixels, the heat blob around the peak
    size_class: str
    size_prob: float


class LesionModel:
    def __init__(self, checkpoint: Path | None = None) -> None:
        ckpt = load_checkpoint(NAME, checkpoint)
        self.net = LesionNet(width=int(ckpt.config.get("width", 16)))
        self.net.load_state_dict(ckpt.state_dict)
        self.net.eval()
        self.sha256 = ckpt.sha256

    @torch.no_grad()
    def predict(self, image: np.ndarray, regions: dict[str, tuple[float, float, float, float]]) -> list[RegionFinding]:
        """One finding per named region (side -> (x0, y0, x1, y1) in image pixels)."""
        found = []
        for side, box in regions.items():
            out = self.net(crop_region(image, box))
            heat = torch.sigmoid(out["heat"][0, 0]).numpy()
            r, c = np.unravel_index(int(heat.argmax()), heat.shape)
            x0, y0, x1, y1 = box
            sx, sy = (x1 - x0) / heat.shape[1], (y1 - y0) / heat.shape[0]
            blob = np.argwhere(heat >= 0.5 * heat.max())
            (br0, bc0), (br1, bc1) = blob.min(0), blob.max(0) + 1
            size = torch.softmax(out["size"][0], 0)
            found.append(RegionFinding(
                side=side, prob=float(torch.sigmoid(out["present"][0])),
                peak_xy=(x0 + (c + 0.5) * sx, y0 + (r + 0.5) * sy),
                blob_box=(x0 + bc0 * sx, y0 + br0 * sy, x0 + bc1 * sx, y0 + br1 * sy),
                size_class=SIZE_CLASSES[int(size.argmax())], size_prob=float(size.max())))
        return found


_MODEL: LesionModel | None = None


def get_lesion_model() -> LesionModel:
    global _MODEL
    if _MODEL is None:
        _MODEL = LesionModel()
    return _MODEL
