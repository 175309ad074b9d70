"""`edit_image`: the inversion editor.

1. The image is brought to 64 px and measured by the independent attribute classifier, which
   gives its class (lesion present, side, size bucket).
2. DDIM inversion with that class maps the image to x_T; decoding x_T again gives the
   reconstruction, whose PSNR/SSIM against the input says how faithful the inversion is.
3. The class embedding moves along the attribute direction saved with the diffusion checkpoint
   (class-mean differences of labelled training latents): e' = e + strength * n, and x_T is decoded
   with e'.
4. The change (edited - reconstruction) is added to the ORIGINAL pixels, only where it happened when
   `local` (a feathered mask around the largest change), so everything else stays exactly as it was.
5. The classifier measures the result again: the reported change is the independent measurement.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import Field
from scipy import ndimage

from agent.errors import InvalidInputError
from tools.generative.conditions import class_index
from tools.generative.schemas import EditImageArgs
from tools.schemas import Artifact, Flag, ToolResult

ATTRIBUTES = ("lesion_size", "lesion_presence", "severity")
INVERSION_STEPS = 50
REFINE = 4
MAX_STRENGTH = 3.0


class EditImageResult(ToolResult):
    image: str = ""
    dicom: str = ""
    attribute: str = ""
    strength: float = 0.0
    reconstruction_psnr: float = 0.0
    reconstruction_ssim: float = 0.0
    attribute_before: dict[str, Any] = Field(default_factory=dict)
    attribute_after: dict[str, Any] = Field(default_factory=dict)
    measured_change: float = 0.0
    measured_change_unit: str = ""
    changed_as_requested: bool = False
    edit_area_px: int = 0
    inversion_seconds: float = 0.0
    checkpoint_sha256: str = ""


def psnr_ssim(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    """PSNR (dB) and SSIM of two model-space images, on the [0, 1] scale (MONAI metrics)."""
    from monai.metrics import PSNRMetric, SSIMMetric

    ua, ub = (a.clamp(-1, 1) + 1) / 2, (b.clamp(-1, 1) + 1) / 2
    psnr = float(PSNRMetric(max_val=1.0, reduction="mean")(ua, ub).mean())
    ssim = float(SSIMMetric(spatial_dims=2, data_range=1.0, kernel_size=7)(ua, ub).mean())
    return psnr, ssim


def local_mask(delta: torch.Tensor, rel_threshold: float = 0.25) -> torch.Tensor:
    """Feathered mask of the connected region around the largest change (the edited lesion)."""
    mag = ndimage.gaussian_filter(delta[0, 0].abs().numpy(), 1.0)
    peak = float(mag.max())
    if peak <= 1e-6:
        return torch.zeros_like(delta)
    labels, _ = ndimage.label(mag > rel_threshold * peak)
    region = labels == labels[np.unravel_index(int(mag.argmax()), mag.shape)]
    region = ndimage.binary_dilation(region, iterations=2)
    soft = np.clip(ndimage.gaussian_filter(region.astype(np.float32), 1.0) * 1.5, 0, 1)
    return torch.from_numpy(soft)[None, None].float()


def attribute_value(attribute: str, measurement, raw_size: float) -> float:
    """The number the independent classifier reports for the edited attribute."""
    if attribute == "lesion_presence":
        return float(measurement.lesion_probability)
    if attribute == "severity":
        return float(measurement.severity)
    return float(raw_size)


def run_edit(x: torch.Tensor, attribute: str, strength: float, local: bool = True, side: str | None = None,
             steps: int = INVERSION_STEPS, refine: int = REFINE) -> dict[str, Any]:
    """The editing pipeline on a model-space image (1, 1, 64, 64); used by the tool and the bench."""
    from tools.generative import classifier, diffusion

    if attribute not in ATTRIBUTES:
        raise InvalidInputError(f"Unknown attribute '{attribute}'.", f"Valid attributes: {', '.join(ATTRIBUTES)}.")
    if not -MAX_STRENGTH <= strength <= MAX_STRENGTH:
        raise InvalidInputError(f"strength={strength} is outside the supported range.",
                                f"Use -{MAX_STRENGTH:g} to {MAX_STRENGTH:g}; negative values shrink or remove.")
    dm = diffusion.load_diffusion()
    before = classifier.measure(x)[0]
    size_before = float(classifier.raw_size_mm(x)[0])
    has_lesion = before.lesion_probability >= 0.5
    if attribute == "lesion_size" and not has_lesion:
        raise InvalidInputError("No lesion was found in this image, so there is no size to change.",
                                "Use attribute 'lesion_presence' with a positive strength to add one.")
    source_class = class_index(has_lesion, before.side, before.size_mm)
    edit_side = before.side if has_lesion else (side or "right")
    started = time.perf_counter()
    e_src = dm.embedding(torch.tensor([source_class]))
    x_t = diffusion.invert_ddim(dm, x, e_src, steps=steps, refine=refine)
    recon = diffusion.sample_ddim(dm, e_src, x_t=x_t, steps=steps, clip=False)
    inversion_seconds = time.perf_counter() - started
    e_new = e_src + strength * dm.direction(attribute, edit_side)[None]
    edited = diffusion.sample_ddim(dm, e_new, x_t=x_t, steps=steps, clip=False)
    delta = edited - recon
    mask = local_mask(delta) if local else torch.ones_like(delta)
    delta = delta * mask
    out = (x + delta).clamp(-1, 1)
    delta = out - x
    after = classifier.measure(out)[0]
    size_after = float(classifier.raw_size_mm(out)[0])
    value_before = attribute_value(attribute, before, size_before)
    value_after = attribute_value(attribute, after, size_after)
    change = value_after - value_before
    psnr, ssim = psnr_ssim(recon, x)
    return {"out": out, "delta": delta, "recon": recon, "before": before, "after": after,
            "size_before": size_before, "size_after": size_after, "change": change,
            "as_requested": bool(change * np.sign(strength) > 0) if strength else abs(change) < 1e-6,
            "psnr": psnr, "ssim": ssim, "area": int((mask[0, 0] > 0.5).sum()), "source_class": source_class,
            "side": edit_side, "inversion_seconds": inversion_seconds, "sha256": dm.sha256}


UNITS = {"lesion_size": "mm (classifier size estimate)", "lesion_presence": "lesion probability",
         "severity": "grade (0-3)"}


def edit_image(args: EditImageArgs) -> EditImageResult:
    """Invert, move along the attribute direction, decode, blend locally, and measure independently."""
    from tools.generative.prep import prepare
    from tools.imaging.derived import write_derived
    from tools.imaging.load import load_image

    if args.attribute not in ATTRIBUTES:
        raise InvalidInputError(f"Unknown attribute '{args.attribute}'.", f"Valid attributes: {', '.join(ATTRIBUTES)}.")
    loaded = load_image(args.image)
    prep = prepare(loaded, "edit_image")
    res = run_edit(prep.x, args.attribute, args.strength, local=args.local, side=args.side)
    edited_full = (prep.original + prep.delta_to_original(res["delta"])).astype(np.float32)
    out_path = Path(args.out).expanduser() if args.out else None
    derived = write_derived(
        edited_full, tool="edit_image", model="ddpm (DDIM inversion)", source=loaded, seed=None,
        checkpoint_sha256=res["sha256"],
        description=f"Edited: {args.attribute} x {args.strength:g} (latent-space edit, SYNTHETIC)",
        out_dir=out_path.parent if out_path else None, spacing_mm=loaded.spacing_mm,
        extra_provenance={"attribute": args.attribute, "strength": args.strength, "local": args.local,
                          "source_class": res["source_class"], "side": res["side"],
                          "inversion": f"DDIM {INVERSION_STEPS} steps, {REFINE} fixed-point refinements",
                          "reconstruction_psnr": round(res["psnr"], 2)})
    png = Path(derived.png_path)
    if out_path is not None and out_path.suffix.lower() == ".png" and out_path != png:
        import shutil

        shutil.copyfile(png, out_path)
        png = out_path
    flags = list(prep.flags)
    if res["psnr"] < 28:
        flags.append(Flag(type="warning", detail=f"Inversion is imperfect (PSNR {res['psnr']:.1f} dB); "
                                                 "the edited image may differ beyond the edit."))
    if not res["as_requested"]:
        flags.append(Flag(type="warning", detail="The independent classifier did not measure a change in the "
                                                 "requested direction."))
    before, after = res["before"].as_dict(), res["after"].as_dict()
    before["size_mm_raw"], after["size_mm_raw"] = round(res["size_before"], 2), round(res["size_after"], 2)
    unit = UNITS[args.attribute]
    summary = (f"Edited {args.attribute} by strength {args.strength:g}: measured change {res['change']:+.2f} {unit} "
               f"(independent classifier); inversion PSNR {res['psnr']:.1f} dB. SYNTHETIC - not for diagnosis.")
    return EditImageResult(
        summary=summary, flags=flags, image=str(png), dicom=str(derived.dicom_path),
        artifacts=[Artifact(kind="png", path=str(png), description="edited image"),
                   Artifact(kind="dicom", path=str(derived.dicom_path), description="edited image")],
        attribute=args.attribute, strength=args.strength, reconstruction_psnr=round(res["psnr"], 2),
        reconstruction_ssim=round(res["ssim"], 4), attribute_before=before, attribute_after=after,
        measured_change=round(res["change"], 4), measured_change_unit=unit, changed_as_requested=res["as_requested"],
        edit_area_px=res["area"], inversion_seconds=round(res["inversion_seconds"], 2), checkpoint_sha256=res["sha256"])
