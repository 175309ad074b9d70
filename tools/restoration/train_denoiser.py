"""Train the low-dose CT denoiser (`radagent train ct_denoiser`) on simulated phantom scans.

Pairs come from `lowdose.simulate_doses`: each phantom head CT is scanned at 25% dose plus two
doses drawn log-uniformly from the simulated range, so the network sees noise from about 25 to
130 HU and copes with real scans whose pixel size (and so noise) differs. Residual learning on
random 64 px crops of 128 px slices; MSE loss (what PSNR measures).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.restoration.lowdose import MAX_DOSE, MIN_DOSE, simulate_doses
from tools.restoration.trainlog import TrainLog, limit_threads, output_paths, save_checkpoint, seed_everything

NAME = "ct_denoiser"
SIZE = 128
CROP = 64
HU_SCALE = 1000.0


def make_pairs(n: int, split: str, rng: np.random.Generator, eval_dose: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(noisy, clean) HU/1000 arrays from `n` head phantoms of a fixed split."""
    from tools.phantoms.dataset import phantom_split

    noisy, clean = [], []
    for p in phantom_split("head", split, n, size=SIZE, seed=0):
        doses = [eval_dose] if eval_dose else [0.25, *np.exp(rng.uniform(np.log(MIN_DOSE), np.log(MAX_DOSE), 2))]
        for sim in simulate_doses(p.ct_hu, doses, pixel_mm=p.spacing_mm[1], seed=rng):
            noisy.append(np.maximum(sim.low_dose_hu, -1024.0) / HU_SCALE)
            clean.append(np.maximum(sim.reference_hu, -1024.0) / HU_SCALE)
    return np.stack(noisy).astype(np.float32), np.stack(clean).astype(np.float32)


def _batch(noisy: np.ndarray, clean: np.ndarray, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.integers(0, len(noisy), size)
    ys, xs = rng.integers(0, SIZE - CROP + 1, size), rng.integers(0, SIZE - CROP + 1, size)
    a = np.stack([noisy[i, y:y + CROP, x:x + CROP] for i, y, x in zip(idx, ys, xs)])
    b = np.stack([clean[i, y:y + CROP, x:x + CROP] for i, y, x in zip(idx, ys, xs)])
    k, flip = int(rng.integers(0, 4)), bool(rng.integers(0, 2))
    a, b = np.rot90(a, k, axes=(1, 2)), np.rot90(b, k, axes=(1, 2))
    if flip:
        a, b = a[:, :, ::-1], b[:, :, ::-1]
    return np.ascontiguousarray(a[:, None]), np.ascontiguousarray(b[:, None])


def evaluate(net, noisy: np.ndarray, clean: np.ndarray) -> dict[str, float]:
    """Median PSNR/SSIM (HU window) of the network and of non-local means on whole slices."""
    import torch

    from tools.restoration.baselines import nlm_denoise
    from tools.restoration.metrics import ct_quality

    net.eval()
    ours, nlm, inp = [], [], []
    with torch.no_grad():
        out = net(torch.from_numpy(noisy[:, None])).numpy()[:, 0]
    for o, n, c in zip(out, noisy, clean):
        ours.append(ct_quality(o * HU_SCALE, c * HU_SCALE))
        nlm.append(ct_quality(nlm_denoise(n * HU_SCALE), c * HU_SCALE))
        inp.append(ct_quality(n * HU_SCALE, c * HU_SCALE))
    net.train()
    med = lambda rows, key: float(np.median([r[key] for r in rows]))  # noqa: E731
    return {"psnr_db": med(ours, "psnr_db"), "ssim": med(ours, "ssim"), "nlm_psnr_db": med(nlm, "psnr_db"),
            "nlm_ssim": med(nlm, "ssim"), "input_psnr_db": med(inp, "psnr_db"), "input_ssim": med(inp, "ssim")}


def train_ct_denoiser(seed: int = 0, out: Path | None = None, quick: bool = False) -> Path:
    import torch

    from tools.restoration.networks import build_denoiser

    limit_threads()
    seed_everything(seed)
    ckpt, log_path = output_paths(NAME, out)
    log = TrainLog(log_path)
    rng = np.random.default_rng(seed)
    n_train, n_val, iters, batch = (12, 4, 20, 4) if quick else (200, 16, 1400, 16)
    noisy, clean = make_pairs(n_train, "train", rng)
    val_noisy, val_clean = make_pairs(n_val, "val", np.random.default_rng(seed + 1), eval_dose=0.25)
    log.write(event="data", pairs=len(noisy), val=len(val_noisy), size=SIZE, crop=CROP)
    net_config = {"features": [16, 16, 32, 64, 128, 16], "norm": "batch"}
    net = build_denoiser(**net_config)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, iters, eta_min=1e-5)
    running = 0.0
    for step in range(1, iters + 1):
        a, b = _batch(noisy, clean, rng, batch)
        loss = torch.nn.functional.mse_loss(net(torch.from_numpy(a)), torch.from_numpy(b))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running += loss.item()
        if step % 200 == 0 or step == iters:
            log.write(event="train", step=step, loss=running / (200 if step % 200 == 0 else step % 200), lr=sched.get_last_lr()[0])
            running = 0.0
    metrics = evaluate(net, val_noisy, val_clean)
    log.write(event="val", dose=0.25, **metrics)
    config = {"net": net_config, "size": SIZE, "crop": CROP, "hu_scale": HU_SCALE, "iters": iters, "batch": batch,
              "n_train_phantoms": n_train, "doses": "0.25 + 2 log-uniform in [0.05, 1.0] per phantom", "quick": quick}
    sha = save_checkpoint(ckpt, net.state_dict(), config, seed, metrics)
    log.write(event="saved", path=str(ckpt), sha256=sha)
    return ckpt


if __name__ == "__main__":
    train_ct_denoiser()
