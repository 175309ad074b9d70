"""Train the MR<->CT CycleGAN (`radagent train mr_ct_cyclegan`) on UNPAIRED phantom head slices.

The MR slices and the CT slices come from different subjects (two disjoint seed streams), so the
networks never see a matched pair, as with real unpaired data. Because the phantoms are paired
underneath, validation can still measure MR->CT error in HU against each MR's true CT, something
real unpaired data cannot do. The intensity-mapping baseline (quantile lookup between the two
unpaired marginals) is fitted on the same data and stored with the checkpoint.

Losses: least-squares adversarial (PatchGAN critics), cycle-consistency L1 (x10) and a weak identity L1 (x0.5).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from tools.restoration.baselines import apply_intensity_mapping, fit_intensity_mapping
from tools.restoration.cyclegan import NORMALISATION, adversarial_loss, critic, ct_to_unit, mr_to_unit, unit_to_ct
from tools.restoration.trainlog import TrainLog, limit_threads, output_paths, save_checkpoint, seed_everything

NAME = "mr_ct_cyclegan"
SIZE = 128
CROP = 64
LAMBDA_CYCLE, LAMBDA_IDENTITY = 10.0, 0.5  # a strong identity term kept the generator copying MR contrast
SAVE_EVERY = 100
LR = 3e-4  # a little above the usual 2e-4: the CPU budget allows only a few hundred steps


def unpaired_sets(n: int) -> tuple[np.ndarray, np.ndarray]:
    """MR of one set of subjects and CT of another; no slice appears in both."""
    from tools.phantoms.dataset import phantom_split

    mr = [mr_to_unit(p.mr) for p in phantom_split("head", "train", n, size=SIZE, seed=0)]
    ct = [ct_to_unit(p.ct_hu) for p in phantom_split("head", "train", n, size=SIZE, seed=1)]
    return np.stack(mr), np.stack(ct)


def paired_val(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(MR in [-1, 1], true CT in HU, head mask) of held-out subjects, for the HU error."""
    from tools.phantoms.dataset import phantom_split

    items = phantom_split("head", "val", n, size=SIZE, seed=0)
    heads = np.stack([p.ct_hu > -500 for p in items])
    return np.stack([mr_to_unit(p.mr) for p in items]), np.stack([p.ct_hu for p in items]), heads


def _crops(data: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    idx = rng.integers(0, len(data), size)
    ys, xs = rng.integers(0, SIZE - CROP + 1, size), rng.integers(0, SIZE - CROP + 1, size)
    out = np.stack([data[i, y:y + CROP, x:x + CROP] for i, y, x in zip(idx, ys, xs)])
    if rng.integers(0, 2):
        out = out[:, :, ::-1]
    return np.ascontiguousarray(out[:, None])


def mae_hu(pred_hu: np.ndarray, true_hu: np.ndarray, head: np.ndarray) -> dict[str, float]:
    err = np.abs(pred_hu - true_hu)
    return {"mae_hu": float(err.mean()), "mae_hu_head": float(err[head].mean())}


def evaluate(g_mr2ct, mr: np.ndarray, ct_hu: np.ndarray, heads: np.ndarray, mapping: dict) -> dict[str, float]:
    """Median per-slice MAE (HU) of the generator and of the intensity-mapping baseline."""
    import torch

    g_mr2ct.eval()
    with torch.no_grad():
        pred = unit_to_ct(g_mr2ct(torch.from_numpy(mr[:, None])).numpy()[:, 0])
    g_mr2ct.train()
    ours = [mae_hu(p, t, h) for p, t, h in zip(pred, ct_hu, heads)]
    base = [mae_hu(apply_intensity_mapping(m, mapping), t, h) for m, t, h in zip(mr, ct_hu, heads)]
    med = lambda rows, key: float(np.median([r[key] for r in rows]))  # noqa: E731
    return {"mae_hu": med(ours, "mae_hu"), "mae_hu_head": med(ours, "mae_hu_head"),
            "baseline_mae_hu": med(base, "mae_hu"), "baseline_mae_hu_head": med(base, "mae_hu_head")}


def train_mr_ct_cyclegan(seed: int = 0, out: Path | None = None, quick: bool = False) -> Path:
    import torch

    from tools.restoration.networks import build_discriminator, build_generator

    limit_threads()
    seed_everything(seed)
    ckpt, log_path = output_paths(NAME, out)
    log = TrainLog(log_path)
    rng = np.random.default_rng(seed)
    n_train, n_val, iters, batch = (6, 3, 4, 1) if quick else (300, 16, 700, 2)
    mr, ct = unpaired_sets(n_train)
    val_mr, val_ct, val_heads = paired_val(n_val)
    # Baseline mapping from the unpaired marginals: MR [-1, 1] -> HU.
    mapping = fit_intensity_mapping(mr, unit_to_ct(ct))
    log.write(event="data", mr=len(mr), ct=len(ct), val=len(val_mr), size=SIZE, crop=CROP, unpaired=True)
    g_config, d_config = {"features": [16, 16, 32, 64, 128, 16]}, {"channels": 32, "num_layers_d": 3}
    g_mr2ct, g_ct2mr = build_generator(**g_config), build_generator(**g_config)
    d_ct, d_mr = build_discriminator(**d_config), build_discriminator(**d_config)
    opt_g = torch.optim.Adam(itertools.chain(g_mr2ct.parameters(), g_ct2mr.parameters()), lr=LR, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(itertools.chain(d_ct.parameters(), d_mr.parameters()), lr=LR, betas=(0.5, 0.999))
    decay = lambda step: 1.0 if step < iters // 2 else max(0.0, 2.0 * (1 - step / iters))  # noqa: E731
    sched_g = torch.optim.lr_scheduler.LambdaLR(opt_g, decay)
    sched_d = torch.optim.lr_scheduler.LambdaLR(opt_d, decay)
    sums = {"g_adv": 0.0, "cycle": 0.0, "identity": 0.0, "d": 0.0}
    for step in range(1, iters + 1):
        real_mr = torch.from_numpy(_crops(mr, rng, batch))
        real_ct = torch.from_numpy(_crops(ct, rng, batch))
        fake_ct, fake_mr = g_mr2ct(real_mr), g_ct2mr(real_ct)
        adv = adversarial_loss(critic(d_ct, fake_ct), True) + adversarial_loss(critic(d_mr, fake_mr), True)
        cycle = (g_ct2mr(fake_ct) - real_mr).abs().mean() + (g_mr2ct(fake_mr) - real_ct).abs().mean()
        identity = (g_mr2ct(real_ct) - real_ct).abs().mean() + (g_ct2mr(real_mr) - real_mr).abs().mean()
        loss_g = adv + LAMBDA_CYCLE * cycle + LAMBDA_IDENTITY * identity
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        loss_d = 0.5 * (adversarial_loss(critic(d_ct, real_ct), True) + adversarial_loss(critic(d_ct, fake_ct.detach()), False)
                        + adversarial_loss(critic(d_mr, real_mr), True) + adversarial_loss(critic(d_mr, fake_mr.detach()), False))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        sched_g.step()
        sched_d.step()
        for key, val in (("g_adv", adv), ("cycle", cycle), ("identity", identity), ("d", loss_d)):
            sums[key] += float(val.item())
        if step % 50 == 0 or step == iters:
            count = 50 if step % 50 == 0 else step % 50
            log.write(event="train", step=step, **{k: v / count for k, v in sums.items()}, lr=sched_g.get_last_lr()[0])
            sums = dict.fromkeys(sums, 0.0)
        if step % SAVE_EVERY == 0 or step == iters:
            # Saved as it goes, so an interrupted run still leaves a usable, evaluated checkpoint.
            metrics = evaluate(g_mr2ct, val_mr, val_ct, val_heads, mapping)
            log.write(event="val", step=step, **metrics)
            config = {"net": g_config, "discriminator": d_config, "size": SIZE, "crop": CROP, "iters": iters,
                      "batch": batch, "step": step, "n_train_mr": n_train, "n_train_ct": n_train,
                      "unpaired": "MR from split seed 0, CT from split seed 1", "lambda_cycle": LAMBDA_CYCLE,
                      "lambda_identity": LAMBDA_IDENTITY, "intensity_mapping": mapping,
                      "normalisation": NORMALISATION, "quick": quick}
            state = {"mr_to_ct": g_mr2ct.state_dict(), "ct_to_mr": g_ct2mr.state_dict()}
            sha = save_checkpoint(ckpt, state, config, seed, metrics)
            log.write(event="saved", step=step, path=str(ckpt), sha256=sha)
    return ckpt


if __name__ == "__main__":
    train_mr_ct_cyclegan()
