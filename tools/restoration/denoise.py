"""`denoise_image`: learned low-dose CT denoising with quality figures against a reference or noise estimates.

The network (a residual U-Net) was trained on phantom head CT slices put through the physical
low-dose simulation in `lowdose.py`. With `simulate_dose` the tool first simulates the low-dose
scan from the given image, so PSNR/SSIM can be measured against the noise-free reference; on a
real scan without a reference it reports the estimated noise level before and after.
"""

from __future__ import annotations

import numpy as np

from tools.restoration.checkpoints import Checkpoint, build_from, load_checkpoint
from tools.restoration.io import load_slice, write_output
from tools.restoration.lowdose import check_dose, simulate_low_dose
from tools.restoration.metrics import ct_body_region, ct_quality, noise_sigma
from tools.restoration.networks import DEPTH_MULTIPLE, build_denoiser
from tools.restoration.padding import crop_back, pad_to_multiple
from tools.restoration.results import DenoiseResult
from tools.restoration.schemas import DenoiseImageArgs

MODEL_NAME = "ct_denoiser"
HU_SCALE = 1000.0  # network input/output are HU / 1000
HU_FLOOR = -1024.0  # FOV padding (-2000, -3024) is air to the network
CT_DISPLAY_WINDOW = (-160.0, 240.0)  # soft-tissue window shows quantum noise best


def load_denoiser() -> tuple[Checkpoint, object]:
    checkpoint = load_checkpoint(MODEL_NAME)
    return checkpoint, build_from(checkpoint, build_denoiser)


def apply_denoiser(hu: np.ndarray, net: object, device: str = "cpu", ensemble: bool = True) -> np.ndarray:
    """Denoise one HU slice of any size: reflect-pad to the U-Net's multiple, run, crop back.

    `ensemble` averages the eight flips/rotations of the slice (geometric self-ensemble): the
    residual noise estimates of the eight views disagree, so averaging removes more noise; on
    held-out phantoms it lifts the gain over non-local means from about 0.7 to 1.9 dB.
    """
    import torch

    x = np.clip(np.asarray(hu, dtype=np.float32), HU_FLOOR, None) / HU_SCALE
    views = [(k, flip) for k in range(4) for flip in (False, True)] if ensemble else [(0, False)]
    total = np.zeros_like(x)
    net = net.to(device)
    for k, flip in views:
        view = np.rot90(x, k)
        view = view[:, ::-1] if flip else view
        padded, crop = pad_to_multiple(np.ascontiguousarray(view), DEPTH_MULTIPLE)
        with torch.no_grad():
            y = net(torch.from_numpy(np.ascontiguousarray(padded))[None, None].to(device))
        out = crop_back(y[0, 0].cpu().numpy(), crop)
        out = out[:, ::-1] if flip else out
        total += np.rot90(out, -k)
    return (total / len(views) * HU_SCALE).astype(np.float32)


def denoise_image(args: DenoiseImageArgs) -> DenoiseResult:
    from tools.device import pick_device

    dose = check_dose(args.simulate_dose) if args.simulate_dose is not None else None
    sl = load_slice(args.image, ("CT",), "denoise_image", "it removes CT quantum noise in Hounsfield units")
    checkpoint, net = load_denoiser()
    hu = sl.pixels
    spacing = sl.loaded.spacing_mm
    reference = None
    if dose is not None:
        sim = simulate_low_dose(hu, dose, pixel_mm=float(spacing[1]) if spacing else None, seed=args.seed)
        noisy, reference = sim.low_dose_hu, sim.reference_hu
    else:
        noisy = np.maximum(hu, HU_FLOOR)
    denoised = apply_denoiser(noisy, net, pick_device())
    output = (noisy + args.strength * (denoised - noisy)).astype(np.float32)
    body = ct_body_region(noisy)

    result = DenoiseResult(strength=args.strength, dose_fraction=dose, model=MODEL_NAME,
                           checkpoint_sha256=checkpoint.sha256, seed=args.seed if dose is not None else None,
                           input_shape=list(hu.shape), flags=list(sl.flags),
                           noise_sigma_input_hu=round(noise_sigma(noisy, body), 2),
                           noise_sigma_output_hu=round(noise_sigma(output, body), 2))
    panels = [("low-dose input" if dose is not None else "input", noisy, CT_DISPLAY_WINDOW),
              (f"denoised (strength {args.strength:g})", output, CT_DISPLAY_WINDOW)]
    if reference is not None:
        q_out, q_in = ct_quality(output, reference), ct_quality(noisy, reference)
        result.reference = f"noise-free FBP of the same slice (simulated {dose:g} dose)"
        result.psnr_db, result.ssim = q_out["psnr_db"], q_out["ssim"]
        result.input_psnr_db, result.input_ssim = q_in["psnr_db"], q_in["ssim"]
        panels.append(("noise-free reference", reference, CT_DISPLAY_WINDOW))
        quality = (f"PSNR {result.input_psnr_db:.2f} -> {result.psnr_db:.2f} dB, "
                   f"SSIM {result.input_ssim:.3f} -> {result.ssim:.3f} against the noise-free reference")
    else:
        quality = (f"estimated noise {result.noise_sigma_input_hu:.1f} -> {result.noise_sigma_output_hu:.1f} HU "
                   "(no clean reference for a real scan)")
    paths, artifacts = write_output(
        output, source=sl.loaded, tool="denoise_image", checkpoint=checkpoint, seed=result.seed,
        description=f"Denoised CT (strength {args.strength:g}{f', simulated dose {dose:g}' if dose else ''})",
        modality="CT", panels=panels, title=f"denoise_image: {quality}", out=args.out,
        extra={"strength": args.strength, "simulated_dose_fraction": dose},
    )
    result.image, result.dicom, result.comparison = paths["image"], paths["dicom"], paths["comparison"]
    result.artifacts = artifacts
    result.summary = f"Denoised CT slice {hu.shape[0]}x{hu.shape[1]}: {quality}. SYNTHETIC output."
    return result
