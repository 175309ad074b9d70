"""Train the undersampled-MRI reconstructor (`radagent train mri_recon`) on phantom MR slices.

Each step draws fresh fastMRI-style masks (4x or 8x, equispaced or random, random seed), so one
network serves both accelerations and both mask types. The loss is taken AFTER the data-consistency
step, exactly as the tool runs it: the network learns to fill only the lines that were not measured.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.restoration.kspace import ACCELERATIONS, MASK_TYPES, column_mask, undersample, zero_filled
from tools.restoration.trainlog import TrainLog, limit_threads, output_paths, save_checkpoint, seed_everything

NAME = "mri_recon"
SIZE = 128


def fft2c_t(x):
    import torch

    return torch.fft.fftshift(torch.fft.fft2(torch.fft.ifftshift(x, dim=(-2, -1)), norm="ortho"), dim=(-2, -1))


def ifft2c_t(k):
    import torch

    return torch.fft.fftshift(torch.fft.ifft2(torch.fft.ifftshift(k, dim=(-2, -1)), norm="ortho"), dim=(-2, -1))


def reconstruct_t(net, measured, mask):
    """Torch twin of `reconstruct.reconstruct` for batches (N, H, W), images already normalised."""
    import torch

    zf = ifft2c_t(measured).abs()
    est = net(zf[:, None].float())[:, 0]
    k = torch.where(mask, measured, fft2c_t(est.to(measured.dtype)))
    img = ifft2c_t(k)
    return torch.sqrt(img.real ** 2 + img.imag ** 2 + 1e-12)


def load_images(n: int, split: str) -> np.ndarray:
    from tools.phantoms.dataset import phantom_split

    return np.stack([p.mr for p in phantom_split("head", split, n, size=SIZE, seed=0, mr_weighting="random")]).astype(np.float64)


def sample_batch(images: np.ndarray, rng: np.random.Generator, size: int):
    """Undersampled k-space, masks and targets, each normalised by its zero-filled 99.5th percentile."""
    idx = rng.integers(0, len(images), size)
    measured, masks, targets = [], [], []
    for i in idx:
        img = np.rot90(images[i], int(rng.integers(0, 4)))
        if rng.integers(0, 2):
            img = img[:, ::-1]
        accel = int(rng.choice(list(ACCELERATIONS)))
        mask = np.broadcast_to(column_mask(SIZE, accel, str(rng.choice(MASK_TYPES)), int(rng.integers(1 << 30)))[None], img.shape)
        k = undersample(np.ascontiguousarray(img), mask)
        scale = float(np.percentile(zero_filled(k), 99.5)) or 1.0
        measured.append(k / scale)
        masks.append(mask)
        targets.append(img / scale)
    return np.stack(measured), np.stack(masks), np.stack(targets).astype(np.float32)


def evaluate(net, images: np.ndarray) -> dict[str, float]:
    """Median PSNR/SSIM of the network (with DC) and of zero-filling, 4x and 8x equispaced, mask seed 0."""
    from tools.restoration.kspace import mask_2d
    from tools.restoration.metrics import mr_quality
    from tools.restoration.reconstruct import reconstruct

    net.eval()
    out: dict[str, float] = {}
    for accel in ACCELERATIONS:
        ours, zfs = [], []
        for img in images:
            mask = mask_2d(img.shape, accel, "equispaced", 0)
            k = undersample(img, mask)
            rec, _ = reconstruct(k, mask, net)
            ours.append(mr_quality(rec, img.astype(np.float32)))
            zfs.append(mr_quality(zero_filled(k), img.astype(np.float32)))
        out[f"psnr_db_{accel}x"] = float(np.median([q["psnr_db"] for q in ours]))
        out[f"ssim_{accel}x"] = float(np.median([q["ssim"] for q in ours]))
        out[f"zero_filled_psnr_db_{accel}x"] = float(np.median([q["psnr_db"] for q in zfs]))
        out[f"zero_filled_ssim_{accel}x"] = float(np.median([q["ssim"] for q in zfs]))
    net.train()
    return out


def train_mri_recon(seed: int = 0, out: Path | None = None, quick: bool = False) -> Path:
    import torch

    from tools.restoration.networks import build_reconstructor

    limit_threads()
    seed_everything(seed)
    ckpt, log_path = output_paths(NAME, out)
    log = TrainLog(log_path)
    rng = np.random.default_rng(seed)
    n_train, n_val, iters, batch = (8, 3, 10, 2) if quick else (400, 16, 1000, 4)
    images, val_images = load_images(n_train, "train"), load_images(n_val, "val")
    log.write(event="data", train=len(images), val=len(val_images), size=SIZE)
    net_config = {"features": [16, 16, 32, 64, 128, 16]}
    net = build_reconstructor(**net_config)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, iters, eta_min=1e-5)
    running = 0.0
    for step in range(1, iters + 1):
        k, m, t = sample_batch(images, rng, batch)
        pred = reconstruct_t(net, torch.from_numpy(k), torch.from_numpy(m))
        loss = torch.nn.functional.l1_loss(pred, torch.from_numpy(t))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running += loss.item()
        if step % 100 == 0 or step == iters:
            log.write(event="train", step=step, loss=running / (100 if step % 100 == 0 else step % 100), lr=sched.get_last_lr()[0])
            running = 0.0
    metrics = evaluate(net, val_images)
    log.write(event="val", **metrics)
    config = {"net": net_config, "size": SIZE, "iters": iters, "batch": batch, "n_train_phantoms": n_train,
              "accelerations": list(ACCELERATIONS), "mask_types": list(MASK_TYPES), "loss": "L1 after data consistency",
              "quick": quick}
    sha = save_checkpoint(ckpt, net.state_dict(), config, seed, metrics)
    log.write(event="saved", path=str(ckpt), sha256=sha)
    return ckpt


if __name__ == "__main__":
    train_mri_recon()
