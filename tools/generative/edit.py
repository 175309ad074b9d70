"""`edit_image`: the inversion editor.

1. The image is brought to 64 px and measured by the independent attribute classifier, which
   gives its class (lesion present, side, size bucket).
2. Inversion into the conditional VAE: the encoder gives z; a residual on the decoder's first
   feature map is then optimised so that decoding reproduces the image. The PSNR/SSIM of that
   un-edited reconstruction says how faithful the inversion is.
3. The lesion is found by the generative models themselves (the diffusion anomaly map plus the
   VAE's lesion/no-lesion difference).
4. The edit:
   - lesion_presence / severity: the latent (z, class vector) moves along the attribute direction
     saved with the VAE checkpoint (class-mean differences of labelled training latents):
     (z, y) + strength * n, then decodes. Removing a lesion (lesion_presence < 0) instead inpaints
     its neighbourhood as 'no lesion' with the diffusion model (RePaint-style).
   - lesion_size: a global latent direction barely changes a 2-6 px nodule (its effect is spread
     over every position a nodule can take), so the nodule is instead rescaled radially about
     its located centre (strength 1 = 1.5x the diameter, negative shrinks), the warp fading back
     to the identity a few pixels outside it.
   The change (edited - reconstruction) is added to the ORIGINAL pixels, inside a feathered disk
   around the lesion when `local`, so everything else stays exactly as it was.
5. The result is measured again without the editing models: the nodule diameter in mm from a
   classical half-maximum segmentation at the lesion centre, and the attribute classifier.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import Field
from scipy import ndimage

from torch.nn import functional as F

from agent.errors import InvalidInputError, ModelUnavailableError
from tools.generative.conditions import SIDES, class_index
from tools.generative.schemas import EditImageArgs
from tools.schemas import Artifact, Flag, ToolResult

ATTRIBUTES = ("lesion_size", "lesion_presence", "severity")
INVERT_ITERS = 150  # Adam steps of the inversion (about 30 dB on 64 px phantoms)
REGION_RADIUS_PX = 6.0  # at 64 px (~33 mm): the largest phantom nodule plus room to grow
MAX_STRENGTH = 3.0
MIN_CHANGE = {"lesion_size": 1.0, "lesion_presence": 0.05, "severity": 0.05}  # below: "no measurable change"
SIZE_STEP = 0.5  # lesion_size: the diameter scales by 1 + SIZE_STEP * strength (1 / (1 + ...) when negative)
MODEL_MM_PER_PX = 350.0 / 64  # the phantoms' field of view at model size, when the image has no spacing
MEASURE_RADIUS_PX = 6.0  # the segmented nodule is confined to this disk around its centre


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
    size_before_mm: float | None = None  # segmented nodule diameter (independent of the editing models)
    size_after_mm: float | None = None
    inversion_seconds: float = 0.0
    checkpoint_sha256: str = ""


def psnr_ssim(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    """PSNR (dB) and SSIM of two model-space images, on the [0, 1] scale (MONAI metrics)."""
    from monai.metrics import PSNRMetric, SSIMMetric

    ua, ub = (a.clamp(-1, 1) + 1) / 2, (b.clamp(-1, 1) + 1) / 2
    psnr = float(PSNRMetric(max_val=1.0, reduction="mean")(ua, ub).mean())
    ssim = float(SSIMMetric(spatial_dims=2, data_range=1.0, win_size=7)(ua, ub).mean())
    return psnr, ssim


def disk_mask(center_xy: tuple[float, float], radius: float = REGION_RADIUS_PX, size: int = 64) -> torch.Tensor:
    """A feathered disk (1, 1, size, size): where a local edit may change pixels."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    d = np.sqrt((xx - center_xy[0]) ** 2 + (yy - center_xy[1]) ** 2)
    return torch.from_numpy(np.clip(radius + 1.0 - d, 0.0, 1.0))[None, None].float()


def side_half(side: str, size: int = 64) -> np.ndarray:
    """Columns of the patient's side in a PA view: patient right is on the image left."""
    mask = np.zeros((size, size), dtype=bool)
    if side == "right":
        mask[:, : size // 2] = True
    else:
        mask[:, size // 2:] = True
    return mask


def peak_in(field: np.ndarray, allowed: np.ndarray) -> tuple[float, float]:
    """(x, y) of the largest value of `field` inside `allowed`."""
    masked = np.where(allowed, ndimage.gaussian_filter(field, 1.0), -np.inf)
    y, x = np.unravel_index(int(np.argmax(masked)), masked.shape)
    return float(x), float(y)


def locate_lesion(x: torch.Tensor, side: str, class_map: np.ndarray | None = None) -> tuple[float, float]:
    """Where the lesion is, from the generative models themselves (not the judging classifier):
    the diffusion model's anomaly map (what a lesion-free reconstruction cannot explain), plus,
    when given, the VAE's class map (what changes when the decoder is told 'no lesion').
    Together they find the nodule far more often than either alone."""
    from tools.generative import diffusion

    healthy = diffusion.healthy_reconstruction(diffusion.load_diffusion(), x, t_start=300, steps=10, draws=2)
    field = ndimage.gaussian_filter((x - healthy).abs()[0, 0].numpy(), 1.0)
    field = field / max(float(field.max()), 1e-8)
    if class_map is not None:
        smooth = ndimage.gaussian_filter(class_map, 1.0)
        field = field + smooth / max(float(smooth.max()), 1e-8)
    return peak_in(field, side_half(side))


def nodule_diameter_mm(x: torch.Tensor, center_xy: tuple[float, float], mm_per_px: float = MODEL_MM_PER_PX) -> float:
    """The nodule's equivalent diameter (mm) by a classical measurement, no model involved:
    white top-hat (the nodule stands out of the lung background), the peak within 3 px of the
    centre, and the half-maximum region connected to it inside a disk of MEASURE_RADIUS_PX."""
    img = x[0, 0].detach().numpy().astype(np.float64)
    tophat = ndimage.gaussian_filter(img - ndimage.grey_opening(img, size=(9, 9)), 0.5)
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w]
    dist2 = (xx - center_xy[0]) ** 2 + (yy - center_xy[1]) ** 2
    peak = np.unravel_index(int(np.argmax(np.where(dist2 <= 9.0, tophat, -np.inf))), tophat.shape)
    if tophat[peak] <= 0:
        return 0.0
    region = (tophat >= tophat[peak] / 2) & (dist2 <= MEASURE_RADIUS_PX ** 2)
    labels, _ = ndimage.label(region)
    area = float((labels == labels[peak]).sum())
    return float(2.0 * np.sqrt(area / np.pi) * mm_per_px)


def size_factor(strength: float) -> float:
    """Diameter scale of a lesion_size edit: +50% per unit strength, the inverse when shrinking."""
    grow = 1.0 + SIZE_STEP * abs(strength)
    return grow if strength >= 0 else 1.0 / grow


def rescale_about(x: torch.Tensor, center_xy: tuple[float, float], radius_px: float, factor: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Radially rescale what lies within `radius_px` of the centre by `factor`; the warp eases back
    to the identity over the next 3 px. -> (warped image, feathered support mask)."""
    h, w = x.shape[-2:]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    dx, dy = xx - center_xy[0], yy - center_xy[1]
    d = np.sqrt(dx ** 2 + dy ** 2) + 1e-6
    inner = radius_px * factor
    outer = max(radius_px, inner) + 3.0
    src = np.where(d <= inner, d / factor,
                   np.where(d >= outer, d, radius_px + (d - inner) * (outer - radius_px) / (outer - inner)))
    warped = ndimage.map_coordinates(x[0, 0].detach().numpy().astype(np.float64),
                                     [center_xy[1] + dy / d * src, center_xy[0] + dx / d * src], order=3, mode="nearest")
    support = torch.from_numpy(np.clip(outer + 1.0 - d, 0.0, 1.0))[None, None].float()
    return torch.from_numpy(warped)[None, None].float().clamp(-1, 1), support


def attribute_value(attribute: str, measurement, raw_size: float) -> float:
    """The number the independent classifier reports for the edited attribute."""
    if attribute == "lesion_presence":
        return float(measurement.lesion_probability)
    if attribute == "severity":
        return float(measurement.severity_score)
    return float(raw_size)


def invert_vae(net, x: torch.Tensor, classes: torch.Tensor, iters: int = INVERT_ITERS) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(z, class vector, feature residual): encoder initialisation, then optimisation.

    z comes from the encoder; the residual r is added to the decoder's first 4x4 feature map and
    optimised (Adam) so that decode reproduces the image; z alone is too coarse for a faithful
    inversion. Edits move (z, y) and keep r.
    """
    y = F.one_hot(classes, net.classes).float()
    with torch.no_grad():
        z, _ = net.encode(x, classes)
        h0 = net.from_latent(torch.cat([z, y], 1))
    r = torch.zeros_like(h0, requires_grad=True)
    opt = torch.optim.Adam([r], lr=0.02)
    for p in net.parameters():
        p.requires_grad_(False)
    for _ in range(iters):
        out = net.decoder((h0 + r).view(-1, 4 * net.width, 4, 4))
        loss = ((out - x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return z, y, r.detach()


@torch.no_grad()
def decode_vae(net, z: torch.Tensor, y: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    return net.decoder((net.from_latent(torch.cat([z, y], 1)) + r).view(-1, 4 * net.width, 4, 4))


def run_edit(x: torch.Tensor, attribute: str, strength: float, local: bool = True, side: str | None = None,
             iters: int = INVERT_ITERS, mm_per_px: float = MODEL_MM_PER_PX) -> dict[str, Any]:
    """The editing pipeline on a model-space image (1, 1, 64, 64); used by the tool and the bench."""
    from tools.generative import classifier
    from tools.generative.vae import load_vae

    if attribute not in ATTRIBUTES:
        raise InvalidInputError(f"Unknown attribute '{attribute}'.", f"Valid attributes: {', '.join(ATTRIBUTES)}.")
    if not -MAX_STRENGTH <= strength <= MAX_STRENGTH:
        raise InvalidInputError(f"strength={strength} is outside the supported range.",
                                f"Use -{MAX_STRENGTH:g} to {MAX_STRENGTH:g}; negative values shrink or remove.")
    net, sha, extra = load_vae()
    if "directions" not in extra:
        raise ModelUnavailableError("The VAE checkpoint has no attribute directions.",
                                    "Run `radagent train vae` to rebuild it.")
    before = classifier.measure(x)[0]
    size_before = float(classifier.raw_size_mm(x)[0])
    has_lesion = before.lesion_probability >= 0.5
    if attribute in ("lesion_size", "severity") and not has_lesion:
        raise InvalidInputError(f"No lesion was found in this image, so there is no {attribute} to change.",
                                "Use attribute 'lesion_presence' with a positive strength to add one.")
    source_class = class_index(has_lesion, before.side, before.size_mm)
    edit_side = before.side if has_lesion else (side or "right")
    started = time.perf_counter()
    z, y, r = invert_vae(net, x, torch.tensor([source_class]), iters)
    recon = decode_vae(net, z, y, r)
    inversion_seconds = time.perf_counter() - started
    center = None
    if has_lesion:
        no_lesion = F.one_hot(torch.tensor([0]), net.classes).float()
        class_map = (recon - decode_vae(net, z, no_lesion, r)).abs()[0, 0].numpy()
        center = locate_lesion(x, edit_side, class_map)
    diameter_before = nodule_diameter_mm(x, center, mm_per_px) if center is not None else None
    if attribute == "lesion_size" and center is not None:
        radius = min(4.0, max(1.5, (diameter_before or before.size_mm) / 2 / mm_per_px)) + 0.5
        edited, support = rescale_about(x, center, radius, size_factor(strength))
        delta = edited - x
        mask = support if local else torch.ones_like(x)
    elif attribute == "lesion_presence" and strength < 0 and center is not None:
        # removal: the feature residual keeps fine detail (the lesion too), so the lesion's
        # neighbourhood is instead inpainted as 'no lesion' by the diffusion model, blended by |strength|
        from tools.generative import diffusion

        hole = disk_mask(center) > 0.5
        filled = diffusion.inpaint(diffusion.load_diffusion(), x, ~hole, torch.tensor([0]), seed=0, steps=25)
        delta = min(1.0, -strength) * (filled - x)
        mask = disk_mask(center) if local else torch.ones_like(x)
    else:
        n = torch.tensor(extra["directions"][attribute][SIDES.index(edit_side)], dtype=torch.float32)[None]
        edited = decode_vae(net, z + strength * n[:, :net.latent], y + strength * n[:, net.latent:], r)
        delta = edited - recon
        if center is None:  # adding a lesion: it appears where the change is largest on the asked side
            center = peak_in(delta[0, 0].abs().numpy(), side_half(edit_side))
        mask = disk_mask(center) if local else torch.ones_like(x)
    out = (x + delta * mask).clamp(-1, 1)
    delta = out - x
    after = classifier.measure(out)[0]
    size_after = float(classifier.raw_size_mm(out)[0])
    diameter_after = nodule_diameter_mm(out, center, mm_per_px)
    if attribute == "lesion_size":
        value_before, value_after = float(diameter_before or 0.0), diameter_after
    else:
        value_before = attribute_value(attribute, before, size_before)
        value_after = attribute_value(attribute, after, size_after)
    change = value_after - value_before
    psnr, ssim = psnr_ssim(recon, x)
    return {"out": out, "delta": delta, "recon": recon, "before": before, "after": after,
            "size_before": size_before, "size_after": size_after, "change": change,
            "as_requested": bool(change * np.sign(strength) > MIN_CHANGE[attribute]) if strength
            else abs(change) <= MIN_CHANGE[attribute],
            "psnr": psnr, "ssim": ssim, "area": int((mask[0, 0] > 0.5).sum()), "source_class": source_class,
            "side": edit_side, "center_xy": center, "inversion_seconds": inversion_seconds, "sha256": sha,
            "diameter_before": diameter_before, "diameter_after": diameter_after}


UNITS = {"lesion_size": "mm (segmented nodule diameter)", "lesion_presence": "lesion probability",
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
    flags = list(prep.flags)
    spacing = loaded.spacing_mm
    if spacing and all(v and v > 0 for v in spacing):
        mm_per_px = float(spacing[1]) * prep.original.shape[1] / prep.x.shape[-1]
    else:
        mm_per_px = MODEL_MM_PER_PX
        if args.attribute == "lesion_size":
            flags.append(Flag(type="warning", detail="The image has no pixel spacing; sizes in mm assume the "
                                                     "phantoms' 350 mm field of view."))
    res = run_edit(prep.x, args.attribute, args.strength, local=args.local, side=args.side, mm_per_px=mm_per_px)
    method = (f"lesion-centred radial rescaling x{size_factor(args.strength):.2f}" if args.attribute == "lesion_size"
              else "latent-space edit")
    edited_full = (prep.original + prep.delta_to_original(res["delta"])).astype(np.float32)
    out_path = Path(args.out).expanduser() if args.out else None
    derived = write_derived(
        edited_full, tool="edit_image", model="vae (latent inversion)", source=loaded, seed=None,
        checkpoint_sha256=res["sha256"],
        description=f"Edited: {args.attribute} x {args.strength:g} ({method}, SYNTHETIC)",
        out_dir=out_path.parent if out_path else None, spacing_mm=loaded.spacing_mm,
        extra_provenance={"attribute": args.attribute, "strength": args.strength, "local": args.local,
                          "source_class": res["source_class"], "side": res["side"],
                          "inversion": f"encoder + {INVERT_ITERS} Adam steps on the decoder feature residual",
                          "method": method, "lesion_center_xy_64px": res["center_xy"],
                          "reconstruction_psnr": round(res["psnr"], 2)})
    png = Path(derived.png_path)
    if out_path is not None and out_path.suffix.lower() == ".png" and out_path != png:
        import shutil

        shutil.copyfile(png, out_path)
        png = out_path
    if res["psnr"] < 28:
        flags.append(Flag(type="warning", detail=f"Inversion is imperfect (PSNR {res['psnr']:.1f} dB); "
                                                 "the edited image may differ beyond the edit."))
    if not res["as_requested"]:
        judge = "segmentation" if args.attribute == "lesion_size" else "classifier"
        flags.append(Flag(type="warning", detail=f"The independent {judge} did not measure a change in the "
                                                 "requested direction."))
    before, after = res["before"].as_dict(), res["after"].as_dict()
    before["size_mm_raw"], after["size_mm_raw"] = round(res["size_before"], 2), round(res["size_after"], 2)
    unit = UNITS[args.attribute]
    d0, d1 = res["diameter_before"], res["diameter_after"]
    if args.attribute == "lesion_size":
        measured = (f"nodule diameter {d0:.1f} mm -> {d1:.1f} mm ({res['change']:+.1f} mm, segmented independently of "
                    f"the editing models; classifier estimate {res['size_before']:.1f} -> {res['size_after']:.1f} mm)")
    else:
        measured = f"measured change {res['change']:+.2f} {unit} (independent classifier)"
    summary = (f"Edited {args.attribute} by strength {args.strength:g} ({method}): {measured}; "
               f"inversion PSNR {res['psnr']:.1f} dB. SYNTHETIC - not for diagnosis.")
    return EditImageResult(
        summary=summary, flags=flags, image=str(png), dicom=str(derived.dicom_path),
        artifacts=[Artifact(kind="png", path=str(png), description="edited image"),
                   Artifact(kind="dicom", path=str(derived.dicom_path), description="edited image")],
        attribute=args.attribute, strength=args.strength, reconstruction_psnr=round(res["psnr"], 2),
        reconstruction_ssim=round(res["ssim"], 4), attribute_before=before, attribute_after=after,
        measured_change=round(res["change"], 4), measured_change_unit=unit, changed_as_requested=res["as_requested"],
        edit_area_px=res["area"], size_before_mm=None if d0 is None else round(d0, 2),
        size_after_mm=None if d1 is None else round(d1, 2), inversion_seconds=round(res["inversion_seconds"], 2), checkpoint_sha256=res["sha256"])
