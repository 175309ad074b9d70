"""`generate_images`: sample SYNTHETIC chest images from a trained generator, with quality figures."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import Field

from agent.errors import InvalidInputError
from tools.generative.conditions import Condition, class_parts, parse_condition, sample_classes, SIZE_BUCKETS
from tools.generative.data import to_unit
from tools.generative.schemas import GenerateImagesArgs
from tools.schemas import Artifact, Flag, ToolResult

DEFAULT_STEPS = {"ddim": 50, "ddpm": 1000}
MODEL_SIZE = 64
OUTPUT_SIZE = 256  # written 4x upsampled so the image and its SYNTHETIC banner are readable
FIELD_OF_VIEW_MM = 350.0  # the chest phantoms' field of view
DISPLAY_MAX = 4095.0  # written as 12-bit radiograph values (display windows assume integer-scale data)


class GenerateImagesResult(ToolResult):
    images: list[str] = Field(default_factory=list)
    image_ids: list[str] = Field(default_factory=list)
    dicoms: list[str] = Field(default_factory=list)
    seed: int = 0
    model: str = ""
    steps: int | None = None
    condition: str = ""
    condition_parsed: str = ""
    classes: list[str] = Field(default_factory=list)
    checkpoint_sha256: str = ""
    quality: dict[str, Any] = Field(default_factory=dict)
    measured: list[dict[str, Any]] = Field(default_factory=list)
    seconds: float = 0.0


def class_label(index: int) -> str:
    present, side, bucket = class_parts(int(index))
    return "no lesion" if not present else f"nodule, {side} lung, {SIZE_BUCKETS[bucket]}"  # type: ignore[index]


def sample(model: str, classes: torch.Tensor, seed: int, steps: int | None) -> tuple[torch.Tensor, str, int | None]:
    """(images in model space, checkpoint sha256, steps used) for one generator."""
    torch.manual_seed(seed)
    if model == "vae":
        from tools.generative.vae import load_vae, sample_vae

        net, sha, _ = load_vae()
        return sample_vae(net, classes, seed), sha, None
    if model == "gan":
        from tools.generative.gan import load_gan, sample_gan

        net, sha, _ = load_gan()
        return sample_gan(net, classes, seed), sha, None
    from tools.generative import diffusion

    dm = diffusion.load_diffusion()
    used = steps or DEFAULT_STEPS[model]
    if model == "ddpm":
        return diffusion.sample_ddpm(dm, classes, seed, used), dm.sha256, used
    return diffusion.sample_ddim(dm, classes, seed, used).clamp(-1, 1), dm.sha256, used


def class_prior(model: str) -> np.ndarray | None:
    if model in ("ddpm", "ddim"):
        from tools.generative.diffusion import load_diffusion

        return load_diffusion().class_prior
    if model == "vae":
        from tools.generative.vae import load_vae

        return np.asarray(load_vae()[2].get("class_prior"))
    from tools.generative.gan import load_gan

    return np.asarray(load_gan()[2].get("class_prior"))


def condition_agreement(condition: Condition, measured: list[dict[str, Any]]) -> float | None:
    """Fraction of samples in which the independent classifier sees what was asked (presence and side)."""
    if condition.lesion_present is None:
        return None
    hits = 0
    for m in measured:
        seen = m["lesion_probability"] >= 0.5
        ok = seen == condition.lesion_present
        if ok and condition.side is not None:
            ok = m["side"] == condition.side
        hits += ok
    return round(hits / max(len(measured), 1), 3)


def _out_dir(args: GenerateImagesArgs) -> Path:
    if args.out_dir:
        return Path(args.out_dir).expanduser()
    from agent.settings import get_settings

    return get_settings().outputs_dir / "generate" / time.strftime("%Y%m%d-%H%M%S")


def generate_images(args: GenerateImagesArgs) -> GenerateImagesResult:
    """Sample n images (seeded), write each as a SYNTHETIC derived image, and judge the batch."""
    from agent.settings import get_settings
    from tools.generative import classifier, quality
    from tools.imaging.derived import write_derived

    cap = get_settings().imaging.max_generate_n
    if args.n > cap:
        raise InvalidInputError(f"n={args.n} is above the limit of {cap} images per request.",
                                f"Ask for at most {cap} (imaging.max_generate_n).")
    condition = parse_condition(args.condition)
    flags: list[Flag] = []
    steps = args.steps
    if args.model in ("vae", "gan") and steps is not None:
        flags.append(Flag(type="warning", detail=f"{args.model} samples in one pass; steps={steps} was ignored."))
        steps = None
    if steps is not None and steps > 1000:
        raise InvalidInputError(f"steps={steps} is above the 1000 training timesteps.", "Use 1-1000 steps.")
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    classes = torch.as_tensor(sample_classes(condition, args.n, rng, class_prior(args.model)), dtype=torch.long)
    images, sha, used_steps = sample(args.model, classes, args.seed, steps)
    seconds = time.perf_counter() - started
    measured = [m.as_dict() for m in classifier.measure(images)]
    q = quality.assess(images)
    q["condition_agreement"] = condition_agreement(condition, measured)
    if q["near_copies"]:
        flags.append(Flag(type="warning", detail=f"{q['near_copies']} sample(s) are near-copies of training images."))
    if q["mode_collapse_suspected"]:
        flags.append(Flag(type="warning", detail="Samples are much more alike than real images (mode collapse?)."))
    out_dir = _out_dir(args)
    pngs: list[str] = []
    dicoms: list[str] = []
    artifacts: list[Artifact] = []
    ids: list[str] = []
    upsampled = torch.nn.functional.interpolate(images, size=(OUTPUT_SIZE, OUTPUT_SIZE), mode="bicubic",
                                                align_corners=False)
    spacing = FIELD_OF_VIEW_MM / OUTPUT_SIZE
    for i, pixels in enumerate(to_unit(upsampled)):
        derived = write_derived(
            pixels * DISPLAY_MAX, tool="generate_images", model=args.model, source=None, seed=args.seed,
            checkpoint_sha256=sha, description=f"Synthetic chest radiograph phantom ({class_label(int(classes[i]))})",
            out_dir=out_dir, modality="DX", spacing_mm=(spacing, spacing),
            extra_provenance={"condition": args.condition, "condition_parsed": condition.describe(),
                              "class": class_label(int(classes[i])), "index": i, "n": args.n, "steps": used_steps,
                              "model_resolution_px": MODEL_SIZE, "written_resolution_px": OUTPUT_SIZE})
        pngs.append(str(derived.png_path))
        dicoms.append(str(derived.dicom_path))
        if derived.image_id:
            ids.append(derived.image_id)
        artifacts += [Artifact(kind="png", path=str(derived.png_path), description=f"sample {i}"),
                      Artifact(kind="dicom", path=str(derived.dicom_path), description=f"sample {i}")]
    agreement = q["condition_agreement"]
    summary = (f"Generated {args.n} SYNTHETIC chest image(s) with {args.model}"
               f"{f' ({used_steps} steps)' if used_steps else ''}, seed {args.seed}, condition: {condition.describe()}."
               f" Precision {q['precision']:.2f}, near-copies {q['near_copies']}"
               + (f", diversity MS-SSIM {q['diversity_ms_ssim']:.2f} (real images {q['real_ms_ssim']:.2f})"
                  if q["diversity_ms_ssim"] is not None else "")
               + (f", classifier agrees with the condition in {agreement:.0%}" if agreement is not None else "") + ".")
    return GenerateImagesResult(
        summary=summary, artifacts=artifacts, flags=flags, images=pngs, image_ids=ids, dicoms=dicoms, seed=args.seed,
        model=args.model, steps=used_steps, condition=args.condition, condition_parsed=condition.describe(),
        classes=[class_label(int(c)) for c in classes], checkpoint_sha256=sha, quality=q, measured=measured,
        seconds=round(seconds, 3))
