"""`reconstruct_mri`: learned reconstruction of undersampled MRI with an exact data-consistency step.

A residual U-Net removes the aliasing of the zero-filled image; the data-consistency step then
puts the measured k-space lines back verbatim, so the output agrees exactly with what was
acquired and the network only fills in the lines that were skipped. The zero-filled inverse FFT
is the baseline every result is compared with.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agent.errors import InvalidInputError, NotFoundError
from tools.restoration.checkpoints import Checkpoint, build_from, load_checkpoint
from tools.restoration.compare import percentile_window
from tools.restoration.io import load_slice, write_output
from tools.restoration.kspace import (acceleration_of, check_acceleration, check_mask_type, data_consistency, mask_2d,
                                      undersample, zero_filled)
from tools.restoration.metrics import mr_quality
from tools.restoration.networks import DEPTH_MULTIPLE, build_reconstructor
from tools.restoration.padding import crop_back, pad_to_multiple
from tools.restoration.results import ReconstructResult
from tools.restoration.schemas import ReconstructMRIArgs
from tools.schemas import Flag

MODEL_NAME = "mri_recon"
MAX_KSPACE_MB = 256


def load_reconstructor() -> tuple[Checkpoint, object]:
    checkpoint = load_checkpoint(MODEL_NAME)
    return checkpoint, build_from(checkpoint, build_reconstructor)


def intensity_scale(image: np.ndarray) -> float:
    """Robust scale that maps the zero-filled magnitude to about [0, 1] for the network."""
    return float(np.percentile(image, 99.5)) or float(image.max()) or 1.0


def reconstruct(measured: np.ndarray, mask: np.ndarray, net: object, device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """Zero-filled image -> U-Net -> data consistency. Returns (magnitude image, k-space)."""
    import torch

    zf = zero_filled(measured)
    scale = intensity_scale(zf)
    padded, crop = pad_to_multiple(zf / scale, DEPTH_MULTIPLE)
    with torch.no_grad():
        est = net.to(device)(torch.from_numpy(np.ascontiguousarray(padded, dtype=np.float32))[None, None].to(device))
    estimate = crop_back(est[0, 0].cpu().numpy(), crop).astype(np.float64) * scale
    kspace, image = data_consistency(estimate, measured, mask)
    return np.abs(image).astype(np.float32), kspace


def is_kspace_file(ref: str) -> bool:
    """A .npy array, or an .npz holding a 'kspace' array (an .npz image goes to the image loader)."""
    import zipfile

    name = ref.lower()
    if name.endswith(".npy"):
        return True
    if name.endswith(".npz") and Path(ref).expanduser().is_file():
        try:
            with zipfile.ZipFile(Path(ref).expanduser()) as archive:
                return "kspace.npy" in archive.namelist()
        except zipfile.BadZipFile:
            return False
    return False


def load_kspace(path: str) -> tuple[np.ndarray, np.ndarray]:
    """A measured k-space (.npy complex, or .npz with 'kspace' and optional 'mask'); mask inferred if absent."""
    from tools.imaging.access import check_path

    file = check_path(path)  # same allowed-folder rule as images: a tool argument never reads arbitrary files
    if not file.is_file():
        raise NotFoundError(f"k-space file '{path}' is not a file.", "Give the path to a .npy or .npz file.")
    if file.stat().st_size > MAX_KSPACE_MB * 1024 * 1024:
        raise InvalidInputError(f"k-space file '{path}' is larger than {MAX_KSPACE_MB} MB.", "Give a single 2-D slice.")
    try:
        data = np.load(file, allow_pickle=False)
        if isinstance(data, np.lib.npyio.NpzFile):
            if "kspace" not in data:
                raise InvalidInputError(f"'{path}' has no 'kspace' array.", "Save it with np.savez(path, kspace=..., mask=...).")
            kspace = np.asarray(data["kspace"])
            mask = np.asarray(data["mask"]).astype(bool) if "mask" in data else None
        else:
            kspace, mask = np.asarray(data), None
    except (ValueError, OSError) as exc:
        raise InvalidInputError(f"'{path}' is not a readable numpy k-space file ({exc}).", "Save it with np.save or np.savez.") from exc
    if kspace.ndim != 2 or not np.iscomplexobj(kspace):
        raise InvalidInputError(f"'{path}' holds a {kspace.dtype} array of shape {kspace.shape}; a 2-D complex k-space is needed.",
                                "Give one centred 2-D complex k-space slice (DC in the middle).")
    if mask is None:
        mask = np.broadcast_to(np.abs(kspace).sum(axis=0, keepdims=True) > 0, kspace.shape).copy()
    elif mask.ndim == 1:
        mask = np.broadcast_to(mask[None, :], kspace.shape).copy()
    if mask.shape != kspace.shape:
        raise InvalidInputError(f"Mask shape {mask.shape} does not match k-space shape {kspace.shape}.", "Give a column mask or a full mask.")
    if not mask.any():
        raise InvalidInputError("The k-space has no sampled lines.", "Check the file; every value is zero.")
    return kspace.astype(np.complex128), mask


def reconstruct_mri(args: ReconstructMRIArgs) -> ReconstructResult:
    from tools.device import pick_device

    check_mask_type(args.mask_type)
    kspace_path = args.kspace or (args.image if is_kspace_file(args.image) else None)
    checkpoint, net = None, None
    reference = None
    flags = []
    source = None
    if kspace_path:
        measured, mask = load_kspace(kspace_path)
        origin = "measured k-space"
        requested = None
    else:
        requested = check_acceleration(args.acceleration)
        sl = load_slice(args.image, ("MR",), "reconstruct_mri", "it reconstructs MR k-space")
        source, flags = sl.loaded, sl.flags
        reference = sl.pixels.astype(np.float64)
        mask = mask_2d(reference.shape, requested, args.mask_type, args.mask_seed)
        measured = undersample(reference, mask)
        origin = "simulated from image"
    checkpoint, net = load_reconstructor()
    image, kspace = reconstruct(measured, mask, net, pick_device())
    zf = zero_filled(measured)
    realised = acceleration_of(mask)
    result = ReconstructResult(
        acceleration=round(realised, 3), requested_acceleration=requested,
        mask_type=args.mask_type if requested else None, mask_seed=args.mask_seed if requested else None,
        source=origin, sampled_columns=int(mask.any(axis=0).sum()), model=MODEL_NAME,
        checkpoint_sha256=checkpoint.sha256, seed=args.mask_seed if requested else None,
        input_shape=list(zf.shape), flags=list(flags))
    train_size = int(checkpoint.config.get("size", 128))
    if max(zf.shape) > 2 * train_size:
        result.flags.append(Flag(type="warning", detail=(
            f"The model was trained on {train_size} px head phantoms; this {zf.shape[0]}x{zf.shape[1]} image is "
            "outside its validated range (aliasing spans more pixels), so check it against the zero-filled image.")))
    window = percentile_window(reference if reference is not None else image)
    panels = [(f"zero-filled ({realised:.1f}x)", zf, window), ("U-Net + data consistency", image, window)]
    if reference is not None:
        q, qz = mr_quality(image, reference.astype(np.float32)), mr_quality(zf, reference.astype(np.float32))
        result.psnr_db, result.ssim = q["psnr_db"], q["ssim"]
        result.zero_filled_psnr_db, result.zero_filled_ssim = qz["psnr_db"], qz["ssim"]
        panels.append(("fully sampled reference", reference, window))
        if q["psnr_db"] < qz["psnr_db"]:
            result.flags.append(Flag(type="warning", detail=(
                f"On this image the learned reconstruction scored below zero-filling ({q['psnr_db']:.1f} vs "
                f"{qz['psnr_db']:.1f} dB PSNR): it is outside what the model was trained on; do not rely on it.")))
        quality = (f"PSNR {qz['psnr_db']:.2f} dB zero-filled -> {q['psnr_db']:.2f} dB, "
                   f"SSIM {qz['ssim']:.3f} -> {q['ssim']:.3f} against the fully sampled image")
    else:
        change = float(np.mean(np.abs(image - zf)) / (np.mean(np.abs(zf)) or 1.0))
        quality = f"no fully sampled reference; mean change from zero-filled {100 * change:.1f}%"
    paths, artifacts = write_output(
        image, source=source, tool="reconstruct_mri", checkpoint=checkpoint, seed=result.seed,
        description=f"MRI reconstructed from {realised:.1f}x undersampled k-space ({origin})",
        modality="MR", panels=panels, title=f"reconstruct_mri: {quality}", out=args.out,
        extra={"acceleration": round(realised, 3), "mask_type": result.mask_type, "mask_seed": result.mask_seed,
               "kspace_source": origin},
    )
    result.image, result.dicom, result.comparison = paths["image"], paths["dicom"], paths["comparison"]
    result.artifacts = artifacts
    result.summary = (f"Reconstructed a {zf.shape[0]}x{zf.shape[1]} MR image from {realised:.1f}x undersampled "
                      f"k-space ({origin}): {quality}. SYNTHETIC output.")
    return result
