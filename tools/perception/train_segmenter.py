"""Training the embedded promptable segmenter (`radagent train tiny_sam`).

Prompts are sampled from ground-truth phantom masks the way SAM was trained: a jittered (and
sometimes loosened) box, one point inside the structure (multimask: the loss takes the best of
three candidates), or several positive and negative points, with or without a box. Loss: focal +
Dice on the mask, MSE between predicted and actual IoU (the confidence the tool reports).

A lone click is seen the way the tool looks at it: in windows centred on the click (see
`zoom.POINT_WINDOW_FRACTIONS`) as well as in the whole image. The IoU target counts the part of
the structure outside the view as missed, so a window that cuts a structure off predicts a low
IoU and the tool's choice among windows and candidates (highest predicted IoU) favours the view
that holds the whole structure. Lone clicks are drawn as people place them (and as interactive
segmentation is evaluated, the first click at the point deepest inside the object): many near the
structure's centre, the rest anywhere inside it, edges included. A click in the middle of a nodule
then most often means the nodule, not the lung around it, and the IoU head learns that.
Reproducible by seed; the log goes next to the checkpoint.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tools.perception.augment import random_intensity
from tools.perception.checkpoints import CHECKPOINT_DIR, save_checkpoint
from tools.perception.phantom_data import build_segmentation_set
from tools.perception.tinysam import BOX_BR, BOX_TL, NEG_LABEL, PAD_LABEL, POS_LABEL, TinySam, TinySamConfig
from tools.perception.zoom import MIN_CROP_FRACTION, POINT_WINDOW_FRACTIONS

NAME = "tiny_sam"
MAX_POINTS = 4  # + 2 box corners = 6 prompt tokens per sample
STRUCTURE_WEIGHT = {"nodule": 3.0, "lesion": 3.0, "ventricles": 1.5, "effusion": 1.5}
CENTRED_SHARE = 0.6  # share of lone clicks seen in a click-centred window rather than the whole image
EDGE_CLICK_SHARE = 0.25  # share of clicks anywhere in the structure, edges included
CENTRAL_CLICK_SHARE = 0.45  # share of lone clicks near the structure's deepest point (else well inside)
CENTRAL_DEPTH = 0.7  # "near the deepest point": at least this share of the maximum depth


def _bbox(masks: torch.Tensor) -> torch.Tensor:
    """(B, S, S) bool -> (B, 4) x0, y0, x1, y1 (inclusive pixel indices)."""
    s = masks.shape[-1]
    idx = torch.arange(s, device=masks.device, dtype=torch.float32)
    rows, cols = masks.any(2), masks.any(1)
    big = torch.full_like(idx, 1e9)
    x0 = torch.where(cols, idx, big).amin(1)
    x1 = torch.where(cols, idx, -big).amax(1)
    y0 = torch.where(rows, idx, big).amin(1)
    y1 = torch.where(rows, idx, -big).amax(1)
    return torch.stack([x0, y0, x1, y1], 1)


def _sample_pixel(region: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A uniformly random pixel of each (B, S, S) region -> (B, 2) (x, y) and whether it exists."""
    b, s, _ = region.shape
    noise = torch.rand(region.shape, generator=gen, device=region.device)
    flat = (noise * region).view(b, -1)
    index = flat.argmax(1)
    ok = region.view(b, -1).any(1)
    xy = torch.stack([index % s, index // s], 1).float()
    return xy, ok


# Prompt kinds by uniform draw: [0, BOX) box, [BOX, ONE_POINT) one point, [ONE_POINT, POINTS) several
# points, the rest box + points. A lone click, the most ambiguous prompt, gets the largest share.
KIND_BOX, KIND_ONE_POINT, KIND_POINTS = 0.3, 0.7, 0.85


def sample_kinds(b: int, gen: torch.Generator, device: str | torch.device = "cpu") -> torch.Tensor:
    """Uniform draws that pick each sample's prompt kind (see KIND_*)."""
    return torch.rand(b, generator=gen, device=device)


def is_one_point(kind: torch.Tensor) -> torch.Tensor:
    return (kind >= KIND_BOX) & (kind < KIND_ONE_POINT)


def sample_prompts(masks: torch.Tensor, gen: torch.Generator, kind: torch.Tensor | None = None,
                   clicks: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """-> points (B, 6, 2), labels (B, 6), multimask (B,) for a batch of (B, S, S) masks.

    `kind` (from `sample_kinds`) fixes each sample's prompt kind; `clicks` (B, 2), where given,
    are the lone clicks already drawn (in view pixels) for the one-point samples.
    """
    b, s, _ = masks.shape
    device = masks.device
    r = lambda: torch.rand(b, generator=gen, device=device)  # noqa: E731
    kind = sample_kinds(b, gen, device) if kind is None else kind
    use_box = (kind < KIND_BOX) | (kind >= KIND_POINTS)
    one_point = is_one_point(kind)
    points = torch.zeros(b, MAX_POINTS + 2, 2, device=device)
    labels = torch.full((b, MAX_POINTS + 2), PAD_LABEL, device=device, dtype=torch.long)

    box = _bbox(masks)
    side = (box[:, 2:] - box[:, :2] + 1).repeat(1, 2)
    jitter = torch.randn(b, 4, generator=gen, device=device) * 0.07 * side
    jitter = jitter.clamp(-(0.15 * side).clamp(min=2), (0.15 * side).clamp(min=2))
    loosen = (r() < 0.3)[:, None] * torch.rand(b, 1, generator=gen, device=device) * 0.15 * side
    loosen = loosen * torch.tensor([-1.0, -1.0, 1.0, 1.0], device=device)
    box = (box + jitter + loosen).clamp(0, s - 1)
    box[:, 2:] = torch.maximum(box[:, 2:], box[:, :2] + 1)
    points[:, MAX_POINTS:] = torch.where(use_box[:, None, None], box.view(b, 2, 2), points[:, MAX_POINTS:])
    box_labels = torch.tensor([BOX_TL, BOX_BR], device=device).expand(b, 2)
    labels[:, MAX_POINTS:] = torch.where(use_box[:, None], box_labels, labels[:, MAX_POINTS:])

    eroded = -F.max_pool2d(-masks.float()[:, None], 5, 1, 2)[:, 0] > 0.5
    inner = torch.where(eroded.view(b, -1).any(1)[:, None, None], eroded, masks)
    inner = torch.where((r() < EDGE_CLICK_SHARE)[:, None, None], masks, inner)  # clicks near edges too
    reach = s // 8  # negatives come from a band around the structure (separable dilation: cheap)
    near = F.max_pool2d(masks.float()[:, None], (1, 2 * reach + 1), 1, (0, reach))
    near = F.max_pool2d(near, (2 * reach + 1, 1), 1, (reach, 0))[:, 0] > 0.5
    outside = near & ~masks
    n_pos = torch.where(one_point, 1, 1 + (r() * 2).long())  # 1..2 positives when several
    n_neg = torch.where(one_point, 0, (r() * 3).long())  # 0..2 negatives
    n_neg = torch.where(~use_box & ~one_point & (n_pos + n_neg < 2), torch.ones_like(n_neg), n_neg)
    n_neg = torch.where(kind < KIND_BOX, torch.zeros_like(n_neg), n_neg)
    n_pos = torch.where(kind < KIND_BOX, torch.zeros_like(n_pos), n_pos)
    for slot in range(MAX_POINTS):
        pos_xy, pos_ok = _sample_pixel(inner, gen)
        if slot == 0 and clicks is not None:  # the lone click drawn with its view
            pos_xy = torch.where(one_point[:, None], clicks, pos_xy)
            pos_ok = pos_ok | one_point
        neg_xy, neg_ok = _sample_pixel(outside, gen)
        is_pos = slot < n_pos
        is_neg = (slot >= n_pos) & (slot < n_pos + n_neg)
        xy = torch.where(is_pos[:, None], pos_xy, neg_xy)
        lab = torch.where(is_pos & pos_ok, POS_LABEL, torch.where(is_neg & neg_ok, NEG_LABEL, PAD_LABEL))
        points[:, slot] = torch.where((lab != PAD_LABEL)[:, None], xy, points[:, slot])
        labels[:, slot] = lab
    return points, labels, one_point


def mask_losses(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Focal (x20) + Dice per sample and mask: logits (B, K, S, S), target (B, 1, S, S) -> (B, K)."""
    t = target.float().expand_as(logits)
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    alpha = 0.25 * t + 0.75 * (1 - t)
    focal = (alpha * ce * (1 - p_t) ** 2).mean((2, 3))
    dice = 1 - (2 * (p * t).sum((2, 3)) + 1) / (p.sum((2, 3)) + t.sum((2, 3)) + 1)
    return 20 * focal + dice


def _iou(logits: torch.Tensor, target: torch.Tensor, outside: torch.Tensor | None = None) -> torch.Tensor:
    """IoU per sample and mask; `outside` (B,) is structure area beyond the view, counted as missed."""
    pred = logits > 0
    t = target.expand_as(pred)
    inter = (pred & t).sum((2, 3)).float()
    union = (pred | t).sum((2, 3)).float()
    if outside is not None:
        union = union + outside[:, None]
    return inter / union.clamp(min=1)


def depth_map(masks: torch.Tensor, max_depth: int = 32) -> torch.Tensor:
    """How many 3x3 erosions each pixel of (B, S, S) masks survives: a cheap distance to the edge."""
    current = masks.float()[:, None]
    depth = torch.zeros_like(current)
    for _ in range(max_depth):
        depth = depth + current
        current = -F.max_pool2d(-current, 3, 1, 1)
        if not current.any():
            break
    return depth[:, 0]


def sample_clicks(masks: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """A lone click (B, 2) per mask: near the deepest point, well inside, or anywhere inside."""
    n, device = masks.shape[0], masks.device
    depth = depth_map(masks)
    peak = depth.flatten(1).amax(1).clamp(min=1)[:, None, None]
    central = depth >= CENTRAL_DEPTH * peak
    inner = depth >= 3
    inner = torch.where(inner.flatten(1).any(1)[:, None, None], inner, masks)
    u = torch.rand(n, generator=gen, device=device)[:, None, None]
    region = torch.where(u < CENTRAL_CLICK_SHARE, central,
                         torch.where(u < CENTRAL_CLICK_SHARE + EDGE_CLICK_SHARE, masks, inner))
    xy, _ = _sample_pixel(region, gen)
    return xy


def image_to_view(xy: torch.Tensor, theta: torch.Tensor, full: int, size: int) -> torch.Tensor:
    """Image pixel coordinates (B, 2) -> view pixel coordinates, inverting the view's affine theta."""
    n = (2 * xy + 1) / full - 1
    u = torch.linalg.solve(theta[:, :, :2], (n - theta[:, :, 2])[..., None])[..., 0]
    return ((u + 1) * size - 1) / 2


def _view_theta(cx: torch.Tensor, cy: torch.Tensor, side: torch.Tensor, size: int, r) -> torch.Tensor:
    """Affine thetas (B, 2, 3) for square views of `side` pixels centred on (cx, cy), with a small
    random rotation and a left-right flip drawn from `r` (uniform samples, one per view)."""
    angle = (2 * r() - 1) * 0.1
    flip = torch.where(r() < 0.5, -1.0, 1.0)
    scale = side / size
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    return torch.stack([torch.stack([cos * flip, -sin, 2 * cx / size - 1], -1),
                        torch.stack([sin * flip, cos, 2 * cy / size - 1], -1)], 1)


def click_windows(clicks: torch.Tensor, size: int, gen: torch.Generator) -> torch.Tensor:
    """Affine thetas (B, 2, 3) for square windows centred on clicks (B, 2) (x, y pixel indices),
    of the tool's point-window sizes (shares of the image side, +-10%), slightly rotated, some flipped.
    The click stays the view's centre pixel whatever the rotation or flip."""
    b, device = clicks.shape[0], clicks.device
    r = lambda: torch.rand(b, generator=gen, device=device)  # noqa: E731
    fractions = torch.tensor(POINT_WINDOW_FRACTIONS[:-1], device=device)
    pick = (r() * len(fractions)).long().clamp(max=len(fractions) - 1)
    side = fractions[pick] * size * (1 + 0.1 * (2 * r() - 1))
    cx, cy = clicks[:, 0] + 0.5, clicks[:, 1] + 0.5  # pixel centres, in edge coordinates
    return _view_theta(cx, cy, side, size, r)


def sample_windows(masks: torch.Tensor, gen: torch.Generator, crop_prob: float = 0.65) -> torch.Tensor:
    """Affine thetas (B, 2, 3) for the model's view of each sample: a zoomed crop around the
    structure (as the tool's zoomed pass sees it) or the whole image, both with small random
    rotation/scale and a left-right flip."""
    b, s = masks.shape[0], masks.shape[-1]
    device = masks.device
    r = lambda: torch.rand(b, generator=gen, device=device)  # noqa: E731
    box = _bbox(masks)
    side = (box[:, 2:] - box[:, :2] + 1).amax(1) * (1 + 0.1 + 0.5 * r())
    side = side.clamp(min=MIN_CROP_FRACTION * s)
    cx = (box[:, 0] + box[:, 2] + 1) / 2 + (r() - 0.5) * 0.2 * side
    cy = (box[:, 1] + box[:, 3] + 1) / 2 + (r() - 0.5) * 0.2 * side
    crop = r() < crop_prob
    side = torch.where(crop, side, torch.full_like(side, float(s)) * (1 + 0.12 * (2 * r() - 1)))
    cx = torch.where(crop, cx, s / 2 + 0.06 * s * (2 * r() - 1))
    cy = torch.where(crop, cy, s / 2 + 0.06 * s * (2 * r() - 1))
    return _view_theta(cx, cy, side, s, r)


# (steps, peak learning rate, share of zoomed crops): a first phase at a high rate, then a second,
# gentler one with more whole-image views, which the point prompts' first pass depends on.
PHASES = ((600, 2e-3, 0.65), (1500, 1e-3, 0.5))


def train_tiny_sam(seed: int = 0, out: Path | None = None, quick: bool = False, *,
                   steps: int | None = None, images_per_step: int = 8, prompts_per_image: int = 2,
                   n_chest: int | None = None, n_head: int | None = None, device: str | None = None,
                   threads: int = 1, save_every: int = 50, phases: tuple | None = None,
                   resume_from: Path | None = None, start_phase: int = 0) -> Path:
    """Train the embedded promptable segmenter on phantom prompts and write its checkpoint + log.

    Samples are whole-image views and zoomed crops around a structure (what the tool's two passes
    see), each with a random prompt; the checkpoint is also written every `save_every` steps.
    `steps` replaces the schedule by one phase of that length; `resume_from` + `start_phase`
    continue an interrupted schedule from a saved checkpoint.
    """
    from tools.device import pick_device

    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(threads)
    device = device or pick_device()
    if phases is None:
        phases = ((steps or 30, 2e-3, 0.65),) if (quick or steps) else PHASES
    steps = sum(p[0] for p in phases)
    n_chest = n_chest or (30 if quick else 500)
    n_head = n_head or (10 if quick else 120)
    out = Path(out) if out else CHECKPOINT_DIR / f"{NAME}.pt"
    log_path = out.with_name(out.stem + ".log.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)

    started = time.time()
    data = build_segmentation_set("train", n_chest, n_head, seed=seed)
    cfg = TinySamConfig()
    images = torch.from_numpy(data.images).to(device)
    masks = torch.from_numpy(data.masks).to(device)
    rng = np.random.default_rng(seed)
    per_image = [np.flatnonzero(data.owner == i) for i in range(len(data.images))]
    mask_weight = np.array([STRUCTURE_WEIGHT.get(n, 1.0) for n in data.names])
    gen = torch.Generator(device=device).manual_seed(seed)

    model = TinySam(cfg).to(device)
    if resume_from is not None:
        from tools.perception.checkpoints import load_checkpoint

        model.load_state_dict(load_checkpoint(NAME, resume_from).state_dict)
    log = log_path.open("a" if resume_from is not None else "w")
    log.write(json.dumps({"event": "start", "seed": seed, "steps": steps, "images_per_step": images_per_step,
                          "prompts_per_image": prompts_per_image, "device": device,
                          "n_images": len(data.images), "n_masks": len(data.masks), "config": cfg.to_dict()}) + "\n")
    log.flush()
    extra = {"steps": steps, "phases": [list(p) for p in phases], "images_per_step": images_per_step,
             "prompts_per_image": prompts_per_image, "device": device, "n_chest": n_chest, "n_head": n_head}
    if resume_from is not None:  # the random streams restart here, so say so in the checkpoint
        extra["resumed_at_phase"] = start_phase
    size = cfg.image_size
    model.train()
    done = sum(p[0] for p in phases[:start_phase])
    for phase_steps, peak_lr, crop_prob in phases[start_phase:]:
        opt = torch.optim.AdamW(model.parameters(), lr=peak_lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=peak_lr, total_steps=phase_steps, pct_start=0.05)
        for _ in range(phase_steps):
            done += 1
            loss = _train_step(model, opt, sched, images, masks, data, per_image, mask_weight, rng, gen,
                               images_per_step, prompts_per_image, crop_prob, size, device)
            if loss is not None and (done % 10 == 0 or done == steps):
                log.write(json.dumps({"step": done, **loss, "seconds": round(time.time() - started, 1)}) + "\n")
                log.flush()
            if done % save_every == 0 and done < steps:
                save_checkpoint(out, model.state_dict(), config=cfg.to_dict(), seed=seed, metrics={},
                                extra={**extra, "completed_steps": done})
    model.eval()
    metrics = evaluate_tiny_sam(model, device=device, n=6 if quick else 30, seed=seed)
    log.write(json.dumps({"event": "done", "val": metrics, "seconds": round(time.time() - started, 1)}) + "\n")
    log.close()
    save_checkpoint(out, model.state_dict(), config=cfg.to_dict(), seed=seed, metrics=metrics,
                    extra={**extra, "completed_steps": steps})
    return out


def _train_step(model, opt, sched, images, masks, data, per_image, mask_weight, rng, gen,
                images_per_step, prompts_per_image, crop_prob, size, device) -> dict | None:
    """One optimisation step on freshly sampled views and prompts; None when the views were unusable."""
    model.train()
    chosen = rng.choice(len(data.images), images_per_step, replace=False)
    picks, owners = [], []
    for image_index in chosen:
        candidates = per_image[image_index]
        prob = mask_weight[candidates] / mask_weight[candidates].sum()
        picks.extend(rng.choice(candidates, prompts_per_image, replace=True, p=prob))
        owners.extend([image_index] * prompts_per_image)
    y_full = masks[torch.as_tensor(picks, device=device)]
    n, full = len(picks), y_full.shape[-1]
    kind = sample_kinds(n, gen, device)
    centred = is_one_point(kind) & (torch.rand(n, generator=gen, device=device) < CENTRED_SHARE)
    clicks = sample_clicks(y_full, gen)
    theta = torch.where(centred[:, None, None], click_windows(clicks, full, gen),
                        sample_windows(y_full, gen, crop_prob=crop_prob))
    view_clicks = image_to_view(clicks, theta, full, size).clamp(0, size - 1)
    grid = F.affine_grid(theta, (n, 1, size, size), align_corners=False)
    x = F.grid_sample(images[torch.as_tensor(owners, device=device)][:, None], grid, mode="bilinear",
                      padding_mode="zeros", align_corners=False)
    y = F.grid_sample(y_full[:, None].float(), grid, mode="bilinear", padding_mode="zeros",
                      align_corners=False)[:, 0] > 0.5
    x = random_intensity(x, gen)
    keep = y.flatten(1).sum(1) >= 3  # a structure that fell outside the view gives no prompt
    if keep.sum() < 2:
        return None
    x, y, kind, view_clicks = x[keep], y[keep], kind[keep], view_clicks[keep]
    points, labels, multimask = sample_prompts(y, gen, kind=kind, clicks=view_clicks)
    logits, iou_pred = model(x, points, labels)
    target = F.avg_pool2d(y[:, None].float(), 2) >= 0.5  # the decoder predicts at half resolution
    # Structure area beyond the view, in the decoder's pixels: the view spans `scale` of the image side.
    scale = theta[keep, :, 0].norm(dim=1)
    total = y_full[keep].flatten(1).sum(1).float() * (target.shape[-1] / (scale * full)) ** 2
    outside = (total - target.flatten(1).sum(1).float()).clamp(min=0)
    losses = mask_losses(logits, target)
    mask_loss = torch.where(multimask, losses[:, 1:].min(1).values, losses[:, 0]).mean()
    iou_loss = F.mse_loss(iou_pred, _iou(logits.detach(), target, outside))
    loss = mask_loss + iou_loss
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    sched.step()
    return {"loss": round(loss.item(), 4), "mask_loss": round(mask_loss.item(), 4), "iou_loss": round(iou_loss.item(), 4)}


@torch.no_grad()
def evaluate_tiny_sam(model: TinySam, *, device: str, n: int, seed: int = 0, split: str = "val") -> dict[str, float]:
    """Mean Dice on a split with a tight box and with one central click, through the tool's passes."""
    from tools.perception.predictor import TinySamPredictor
    from tools.perception.prompting import Prompt

    data = build_segmentation_set(split, n, max(1, n // 3), seed=seed)
    predictor = TinySamPredictor(model, device=device)
    dice: dict[str, list[float]] = {"box": [], "point": []}
    for mask, owner in zip(data.masks, data.owner):
        image = data.images[owner]
        rows, cols = np.nonzero(mask)
        prompts = {"box": Prompt(box=np.array([cols.min(), rows.min(), cols.max(), rows.max()], np.float32)),
                   "point": Prompt(points=_inner_point(mask)[None], labels=np.ones(1, np.int64))}
        for kind, prompt in prompts.items():
            pred = predictor.predict(image, prompt).logits > 0
            dice[kind].append(2 * float((pred & mask).sum()) / max(float(pred.sum() + mask.sum()), 1.0))
    return {f"dice_{k}": round(float(np.mean(v)), 4) for k, v in dice.items()}


def _inner_point(mask: np.ndarray) -> np.ndarray:
    """The mask pixel farthest from its boundary: a deterministic 'click in the middle'."""
    from scipy import ndimage as ndi

    dist = ndi.distance_transform_edt(mask)
    y, x = np.unravel_index(int(dist.argmax()), mask.shape)
    return np.array([x, y], np.float32)
