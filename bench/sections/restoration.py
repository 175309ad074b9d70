"""Restoration benchmark on held-out phantoms: each learned tool against its classical baseline, same run.

- CT denoising at 25% dose: PSNR/SSIM of the denoiser vs non-local means (target: >= +1 dB).
- MRI reconstruction at 4x and 8x: PSNR/SSIM vs the zero-filled inverse FFT (target at 4x: >= +4 dB).
- MR->CT translation: MAE in HU against the true paired CT, CycleGAN vs the intensity-mapping lookup.
- Seconds per 256 px image on CPU for each tool's model step, vs its baseline's time.
"""

from __future__ import annotations

import statistics

import numpy as np

from bench.stats import BenchRow, summarize, time_call

SECTION = "restoration"


def _row(metric: str, ours: list[float], unit: str, baseline: str, base: list[float], target: str | None = None,
         passed: bool | None = None, note: str = "") -> BenchRow:
    s, b = summarize(ours), summarize(base)
    return BenchRow(SECTION, metric, s.median, unit, s.low, s.high, baseline, b.median,
                    s.median / b.median if b.median else None, target, passed, note)


def _test_heads(n: int, size: int, **kwargs):
    from tools.phantoms.dataset import phantom_split

    return phantom_split("head", "test", n, size=size, seed=0, **kwargs)


def bench_denoise(n: int) -> list[BenchRow]:
    from tools.restoration.baselines import nlm_denoise
    from tools.restoration.denoise import apply_denoiser, load_denoiser
    from tools.restoration.lowdose import simulate_low_dose
    from tools.restoration.metrics import ct_quality

    _, net = load_denoiser()
    ours, nlm, gains = [], [], []
    for i, p in enumerate(_test_heads(n, 128)):
        sim = simulate_low_dose(p.ct_hu, 0.25, pixel_mm=p.spacing_mm[1], seed=1000 + i)
        q = ct_quality(apply_denoiser(sim.low_dose_hu, net), sim.reference_hu)
        b = ct_quality(nlm_denoise(sim.low_dose_hu), sim.reference_hu)
        ours.append(q)
        nlm.append(b)
        gains.append(q["psnr_db"] - b["psnr_db"])
    gain = statistics.median(gains)
    return [
        _row("CT denoise PSNR, 25% dose", [q["psnr_db"] for q in ours], "dB", "non-local means",
             [q["psnr_db"] for q in nlm], ">= NLM + 1 dB", gain >= 1.0, f"median gain {gain:+.2f} dB, n={n}"),
        _row("CT denoise SSIM, 25% dose", [q["ssim"] for q in ours], "", "non-local means", [q["ssim"] for q in nlm],
             note=f"n={n}"),
    ]


def bench_reconstruct(n: int) -> list[BenchRow]:
    from tools.restoration.kspace import mask_2d, undersample, zero_filled
    from tools.restoration.metrics import mr_quality
    from tools.restoration.reconstruct import load_reconstructor, reconstruct

    _, net = load_reconstructor()
    rows = []
    images = [p.mr.astype(np.float64) for p in _test_heads(n, 128, mr_weighting="random")]
    for accel in (4, 8):
        ours, zf, gains = [], [], []
        for i, img in enumerate(images):
            mask = mask_2d(img.shape, accel, "equispaced" if i % 2 == 0 else "random", seed=i)
            k = undersample(img, mask)
            q = mr_quality(reconstruct(k, mask, net)[0], img.astype(np.float32))
            b = mr_quality(zero_filled(k), img.astype(np.float32))
            ours.append(q)
            zf.append(b)
            gains.append(q["psnr_db"] - b["psnr_db"])
        gain = statistics.median(gains)
        target, passed = (">= zero-filled + 4 dB", gain >= 4.0) if accel == 4 else (None, None)
        rows.append(_row(f"MRI {accel}x PSNR", [q["psnr_db"] for q in ours], "dB", "zero-filled IFFT",
                         [q["psnr_db"] for q in zf], target, passed, f"median gain {gain:+.2f} dB, n={n}, equispaced+random masks"))
        rows.append(_row(f"MRI {accel}x SSIM", [q["ssim"] for q in ours], "", "zero-filled IFFT", [q["ssim"] for q in zf],
                         note=f"n={n}"))
    return rows


def bench_translate(n: int) -> list[BenchRow]:
    from tools.restoration.baselines import apply_intensity_mapping
    from tools.restoration.cyclegan import mr_to_unit, unit_to_ct
    from tools.restoration.translate import load_generator, run_generator

    checkpoint, net = load_generator("mr_to_ct")
    mapping, size = checkpoint.config["intensity_mapping"], int(checkpoint.config["size"])
    ours, base, ours_head, base_head = [], [], [], []
    for p in _test_heads(n, 128):
        unit = mr_to_unit(p.mr)
        pred, lookup = unit_to_ct(run_generator(unit, net, size)), apply_intensity_mapping(unit, mapping)
        head = p.ct_hu > -500
        ours.append(float(np.abs(pred - p.ct_hu).mean()))
        base.append(float(np.abs(lookup - p.ct_hu).mean()))
        ours_head.append(float(np.abs(pred - p.ct_hu)[head].mean()))
        base_head.append(float(np.abs(lookup - p.ct_hu)[head].mean()))
    better = statistics.median(ours) < statistics.median(base)
    return [
        _row("MR->CT MAE, whole slice", ours, "HU", "intensity mapping", base, "< intensity mapping", better,
             f"unpaired training, paired ground truth, n={n}"),
        _row("MR->CT MAE, inside head", ours_head, "HU", "intensity mapping", base_head, note=f"CT > -500 HU, n={n}"),
    ]


def bench_speed(repeats: int) -> list[BenchRow]:
    """Seconds per 256 px slice for each tool's compute step (no file writing), vs its baseline."""
    from tools.restoration.baselines import apply_intensity_mapping, nlm_denoise
    from tools.restoration.cyclegan import mr_to_unit
    from tools.restoration.denoise import apply_denoiser, load_denoiser
    from tools.restoration.kspace import mask_2d, undersample, zero_filled
    from tools.restoration.lowdose import simulate_low_dose
    from tools.restoration.reconstruct import load_reconstructor, reconstruct
    from tools.restoration.translate import load_generator, run_generator

    p = _test_heads(1, 256)[0]
    low = simulate_low_dose(p.ct_hu, 0.25, pixel_mm=p.spacing_mm[1], seed=0).low_dose_hu
    mask = mask_2d((256, 256), 4, "equispaced", 0)
    k = undersample(p.mr.astype(np.float64), mask)
    unit = mr_to_unit(p.mr)
    _, den = load_denoiser()
    _, rec = load_reconstructor()
    ckpt, gen = load_generator("mr_to_ct")
    pairs = [
        ("denoise_image s/256px", lambda: apply_denoiser(low, den), "non-local means", lambda: nlm_denoise(low)),
        ("reconstruct_mri s/256px", lambda: reconstruct(k, mask, rec), "zero-filled IFFT", lambda: zero_filled(k)),
        ("translate_modality s/256px", lambda: run_generator(unit, gen, int(ckpt.config["size"])), "intensity mapping",
         lambda: apply_intensity_mapping(unit, ckpt.config["intensity_mapping"])),
    ]
    rows = []
    for metric, fn, base_name, base_fn in pairs:
        t, b = time_call(fn, repeats=repeats), time_call(base_fn, repeats=repeats)
        rows.append(BenchRow(SECTION, metric, t.median, "s", t.low, t.high, base_name, b.median,
                             t.median / b.median if b.median else None, note=f"CPU, {repeats} repeats"))
    return rows


def run(quick: bool) -> list[BenchRow]:
    n = 6 if quick else 24
    return bench_denoise(n) + bench_reconstruct(n) + bench_translate(n) + bench_speed(3 if quick else 5)
