"""`translate_modality`: MR->CT (and CT->MR) with the unpaired-trained CycleGAN generators.

The image is resampled so that its longer side matches the training size (phantom head slices
fill the field of view), padded to the generator's multiple, translated and returned at the input's
exact shape. The intensity-mapping baseline stored with the checkpoint runs on the same input, so
every result says how far the learned translation departs from a plain intensity lookup and, when
a true target image is given, which of the two is closer to it.
"""

from __future__ import annotations

import numpy as np

from agent.errors import InvalidInputError
from tools.restoration.baselines import apply_intensity_mapping
from tools.restoration.checkpoints import Checkpoint, load_checkpoint
from tools.restoration.compare import percentile_window
from tools.restoration.cyclegan import NORMALISATION, ct_to_unit, mr_to_unit, unit_to_ct, unit_to_mr
from tools.restoration.io import load_slice, write_output
from tools.restoration.networks import DEPTH_MULTIPLE, build_generator
from tools.restoration.padding import crop_back, pad_to_multiple
from tools.restoration.results import TranslateResult
from tools.restoration.schemas import TranslateModalityArgs

MODEL_NAME = "mr_ct_cyclegan"
CT_WINDOW = (-200.0, 1500.0)  # shows brain, scalp and bone together
SOURCE_OF = {"CT": "MR", "MR": "CT"}


def load_generator(direction: str) -> tuple[Checkpoint, object]:
    """direction: "mr_to_ct" or "ct_to_mr"."""
    from agent.errors import ModelUnavailableError

    checkpoint = load_checkpoint(MODEL_NAME)
    states = checkpoint.payload["state_dict"]
    if direction not in states:
        raise ModelUnavailableError(f"The '{MODEL_NAME}' checkpoint has no {direction} generator.",
                                    f"Run `radagent train {MODEL_NAME}` to recreate it.")
    if checkpoint.config.get("normalisation") != NORMALISATION:
        raise ModelUnavailableError(f"The '{MODEL_NAME}' checkpoint was trained with another intensity normalisation.",
                                    f"Run `radagent train {MODEL_NAME}` to recreate it.")
    net = build_generator(**checkpoint.config.get("net", {}))
    try:
        net.load_state_dict(states[direction])
    except RuntimeError as exc:
        raise ModelUnavailableError(f"The '{MODEL_NAME}' checkpoint does not match its network.",
                                    f"Run `radagent train {MODEL_NAME}` to recreate it.") from exc
    return checkpoint, net.eval()


def run_generator(unit: np.ndarray, net: object, train_size: int, device: str = "cpu") -> np.ndarray:
    """Resample to the training scale, pad, translate, crop and resample back to the input's shape."""
    import torch
    from skimage.transform import resize

    h, w = unit.shape
    scale = train_size / max(h, w)
    shape = (max(16, round(h * scale)), max(16, round(w * scale)))
    small = resize(unit, shape, order=1, anti_aliasing=scale < 1, preserve_range=True).astype(np.float32)
    padded, crop = pad_to_multiple(small, DEPTH_MULTIPLE)
    with torch.no_grad():
        y = net.to(device)(torch.from_numpy(np.ascontiguousarray(padded))[None, None].to(device))
    out = crop_back(y[0, 0].cpu().numpy(), crop)
    return resize(out, (h, w), order=1, preserve_range=True).astype(np.float32)


def translate_modality(args: TranslateModalityArgs) -> TranslateResult:
    from tools.device import pick_device

    target = args.target_modality
    source_modality = SOURCE_OF[target]
    sl = load_slice(args.image, (source_modality,), "translate_modality",
                    f"to synthesise {target} it needs an {source_modality} image")
    checkpoint, net = load_generator("mr_to_ct" if target == "CT" else "ct_to_mr")
    train_size = int(checkpoint.config.get("size", 128))
    image = sl.pixels
    unit = mr_to_unit(image) if source_modality == "MR" else ct_to_unit(image)
    translated = run_generator(unit, net, train_size, pick_device())
    mapping = checkpoint.config["intensity_mapping"]  # MR unit -> HU, fitted on unpaired marginals
    if target == "CT":
        output, baseline = unit_to_ct(translated), apply_intensity_mapping(unit, mapping)
        window, input_window = CT_WINDOW, percentile_window(image)
    else:
        inverse = {"source": mapping["target"], "target": mapping["source"]}
        output, baseline = unit_to_mr(translated), unit_to_mr(apply_intensity_mapping(image, inverse))
        window, input_window = (0.0, 1.0), (-200.0, 1500.0)
    result = TranslateResult(source_modality=source_modality, target_modality=target, model=MODEL_NAME,
                             checkpoint_sha256=checkpoint.sha256, input_shape=list(image.shape), flags=list(sl.flags),
                             difference_from_baseline=round(float(np.mean(np.abs(output - baseline))), 3))
    unit_name = "HU" if target == "CT" else "(normalised)"
    quality = f"mean |CycleGAN - intensity mapping| {result.difference_from_baseline:.3g} {unit_name}"
    panels = [(f"input {source_modality}", image, input_window), (f"CycleGAN {target}", output, window),
              (f"intensity-mapping {target}", baseline, window)]
    if args.reference:
        ref = load_slice(args.reference, (target,), "translate_modality", f"the reference must be the true {target}").pixels
        if ref.shape != image.shape:
            raise InvalidInputError(f"The reference's shape {ref.shape} differs from the input's {image.shape}.",
                                    "Give the true target image in the same geometry as the input.")
        if target == "CT":
            result.mae_hu = round(float(np.mean(np.abs(output - ref))), 2)
            result.baseline_mae_hu = round(float(np.mean(np.abs(baseline - ref))), 2)
            quality = f"MAE {result.mae_hu:.1f} HU (intensity mapping {result.baseline_mae_hu:.1f} HU) against the true CT"
        else:
            ref_unit = unit_to_mr(mr_to_unit(ref))
            result.mae = round(float(np.mean(np.abs(output - ref_unit))), 4)
            result.baseline_mae = round(float(np.mean(np.abs(baseline - ref_unit))), 4)
            quality = f"MAE {result.mae:.3f} (intensity mapping {result.baseline_mae:.3f}) against the true MR, [0, 1] scale"
        panels.append((f"true {target}", ref, window))
    paths, artifacts = write_output(
        output, source=sl.loaded, tool="translate_modality", checkpoint=checkpoint, seed=None,
        description=f"Synthetic {target} translated from {source_modality} (CycleGAN, unpaired training)",
        modality=target, panels=panels, title=f"translate_modality: {quality}", out=args.out,
        extra={"direction": f"{source_modality}->{target}", "training": "unpaired CycleGAN"},
    )
    result.image, result.dicom, result.comparison = paths["image"], paths["dicom"], paths["comparison"]
    result.artifacts = artifacts
    result.summary = (f"Translated a {image.shape[0]}x{image.shape[1]} {source_modality} slice to a synthetic {target}: "
                      f"{quality}. SYNTHETIC output, not a measured {target}.")
    return result
