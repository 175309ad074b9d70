"""`segment_image`: promptable segmentation from a point, points, a box or a named structure.

The image is loaded through the imaging layer (CT in HU, spacing in mm), mapped to model
intensities, prompted, segmented by the chosen backend at the model's size and the mask mapped
back to full resolution. The mask is written as a PNG, and as a DICOM SEG plus an overlay through
the derived-output writer (marked SYNTHETIC, with provenance). Area comes in pixels and, where
the spacing is known, in mm².
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tools.perception.prompting import Prompt, build_prompt
from tools.perception.schemas import SegmentImageArgs, SegmentImageResult
from tools.schemas import Artifact, Flag

LOW_SCORE = 0.5
TINY_FRACTION = 0.0005  # masks smaller than this share of the image are suspicious


def segment_image(args: SegmentImageArgs) -> SegmentImageResult:
    from tools.imaging.load import load_image
    from tools.perception.preprocess import normalize_for_model, to_grayscale_2d

    loaded = load_image(args.image)
    gray, warnings = to_grayscale_2d(loaded.pixels, args.slice_index)
    image = normalize_for_model(gray, loaded.modality)
    height, width = image.shape
    prompt, label, prompt_source, prompt_warnings, anatomical = _prompt(args, image)
    warnings += prompt_warnings
    if anatomical:  # the localiser's box is coarse: fit it to the structure
        outcome, prompt, rounds = segment_structure(image, prompt, args.target or label, backend=args.backend,
                                                    checkpoint=args.checkpoint)
        if rounds > 1:
            prompt_source += f"; box fitted to the segmented structure in {rounds} rounds"
    else:
        outcome = run_segmentation(image, prompt, backend=args.backend, checkpoint=args.checkpoint)
    warnings += outcome.warnings
    mask = outcome.mask
    warnings += quality_warnings(mask, prompt, outcome.score)

    spacing = loaded.spacing_mm
    area_px = int(mask.sum())
    area_mm2 = None
    if spacing and all(s and s > 0 for s in spacing):
        area_mm2 = round(area_px * float(spacing[0]) * float(spacing[1]), 1)
    else:
        warnings.append("The image has no usable pixel spacing, so the area is given in pixels only.")

    mask_path = _write_mask_png(mask, args.out, label)
    derived = _write_derived(mask, loaded, gray, outcome, label, prompt, args)
    bbox, centroid = _geometry(mask)
    backend_name = outcome.backend
    summary = (f"{label or 'structure'} segmented by the {backend_name} segmenter: {area_px} px"
               + (f" ({area_mm2:g} mm²)" if area_mm2 is not None else "") + f", confidence {outcome.score:.2f}.")
    artifacts = [Artifact(kind="mask", path=str(mask_path), description=f"binary mask of {label or 'the structure'}")]
    if derived is not None:
        artifacts += [Artifact(kind="dicom", path=str(derived.dicom_path), description=f"DICOM {derived.dicom_type} of the mask"),
                      Artifact(kind="overlay", path=str(derived.png_path), description="mask overlay on the image")]
    return SegmentImageResult(
        summary=summary, artifacts=artifacts, flags=[Flag(type="warning", detail=w) for w in warnings],
        mask=str(mask_path), dicom=str(derived.dicom_path) if derived else None,
        overlay=str(derived.png_path) if derived else None, area_px=area_px, area_mm2=area_mm2,
        score=round(outcome.score, 4), backend=backend_name, model=outcome.model, label=label,
        prompt=prompt.to_json(), prompt_source=prompt_source, image_size=(width, height), bbox=bbox, centroid=centroid,
    )


class Outcome:
    def __init__(self, mask: np.ndarray, score: float, backend: str, model: str, warnings: list[str],
                 checkpoint_sha256: str | None) -> None:
        self.mask, self.score, self.backend, self.model = mask, score, backend, model
        self.warnings, self.checkpoint_sha256 = warnings, checkpoint_sha256


def run_segmentation(image: np.ndarray, prompt: Prompt, *, backend: str | None = None,
                     checkpoint: str | None = None) -> Outcome:
    """One prompt through the chosen backend; `image` is 2-D in [0, 1]. Used by the tool and bench."""
    from tools.perception.backends import get_backend

    chosen, warnings = get_backend(backend, checkpoint)
    out = chosen.segment(image, prompt)
    return Outcome(out.mask.astype(bool), float(out.score), chosen.name, out.model, warnings + out.warnings,
                   out.checkpoint_sha256)


def segment_structure(image: np.ndarray, prompt: Prompt, target: str, *, backend: str | None = None,
                      checkpoint: str | None = None) -> tuple[Outcome, Prompt, int]:
    """A named anatomical structure from the localiser's box, the box fitted to the structure
    with the segmenter's own masks (`tools.perception.extent`). -> outcome, final box prompt, rounds."""
    from tools.perception.extent import fit_to_structure
    from tools.perception.targets import canonical_target

    last: list[Outcome] = []

    def call(box_prompt: Prompt) -> tuple[np.ndarray, float]:
        last.append(run_segmentation(image, box_prompt, backend=backend, checkpoint=checkpoint))
        return last[-1].mask, last[-1].score

    one_sided = canonical_target(target)[1] in (("left_lung",), ("right_lung",))
    fitted = fit_to_structure(image, prompt.box, call, one_sided=one_sided)
    return last[-1], Prompt(box=fitted.box), fitted.rounds


def _prompt(args: SegmentImageArgs, image: np.ndarray) -> tuple[Prompt, str, str, list[str], bool]:
    """The prompt, its label and source, warnings, and whether it is a localised anatomical structure."""
    height, width = image.shape
    has_prompt = args.point is not None or bool(args.points) or args.box is not None
    if has_prompt or not args.target:
        prompt, warnings = build_prompt(height=height, width=width, point=args.point, points=args.points,
                                        labels=args.labels, box=args.box)
        label = args.target.strip() if args.target else ""
        return prompt, label, "user prompt", warnings, False
    from tools.perception.findings import get_findings_model
    from tools.perception.targets import is_lesion_target, locate_lesion, locate_target

    anatomical = not is_lesion_target(args.target)
    if not anatomical:
        from tools.perception.analysis import analyse

        located = locate_lesion(args.target, analyse(image), height, width)
    else:
        located = locate_target(args.target, get_findings_model().predict(image), height, width)
    warnings = []
    if located.confidence < 0.7:
        warnings.append(f"The {located.label} was localised with low confidence ({located.confidence:.2f}); check the box.")
    return located.prompt, located.label, located.source, warnings, anatomical


def quality_warnings(mask: np.ndarray, prompt: Prompt, score: float) -> list[str]:
    """Say when the mask should not be trusted: empty, tiny, missing the clicked point, low score."""
    out: list[str] = []
    area = int(mask.sum())
    if area == 0:
        return ["No structure was found at the prompt (empty mask); the point may be on background. "
                "Try a point on the structure or a box around it."]
    if area < TINY_FRACTION * mask.size:
        out.append(f"The mask is tiny ({area} px); the prompt may be on background or noise.")
    for x, y in prompt.positive_points:
        if not mask[min(int(round(y)), mask.shape[0] - 1), min(int(round(x)), mask.shape[1] - 1)]:
            out.append(f"The positive point ({x:g}, {y:g}) is not inside the mask.")
    if score < LOW_SCORE:
        out.append(f"Low confidence ({score:.2f}): the segmenter is unsure about this mask; review it carefully.")
    return out


def _geometry(mask: np.ndarray) -> tuple[tuple[int, int, int, int] | None, tuple[float, float] | None]:
    if not mask.any():
        return None, None
    rows, cols = np.nonzero(mask)
    return ((int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())),
            (round(float(cols.mean()), 1), round(float(rows.mean()), 1)))


def _write_mask_png(mask: np.ndarray, out: str | None, label: str) -> Path:
    from agent.settings import get_settings

    if out:
        path = Path(out).expanduser()
        if path.suffix.lower() != ".png":
            path = path.with_suffix(".png")
    else:
        folder = get_settings().outputs_dir
        folder.mkdir(parents=True, exist_ok=True)
        stem = "-".join((label or "mask").split()) or "mask"
        index = 1
        while (folder / f"segment-{stem}-{index}.png").exists():
            index += 1
        path = folder / f"segment-{stem}-{index}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((mask.astype(np.uint8) * 255)).save(path)
    return path


def _write_derived(mask, loaded, gray, outcome: Outcome, label: str, prompt: Prompt, args: SegmentImageArgs):
    from tools.imaging.derived import write_derived_mask

    background = None if loaded.pixels.ndim == 2 else gray
    return write_derived_mask(
        mask, source=loaded, tool="segment_image", model=outcome.model or outcome.backend,
        label=label or "structure", description=f"segmentation of {label or 'a prompted structure'}",
        checkpoint_sha256=outcome.checkpoint_sha256, background=background,
        extra_provenance={"backend": outcome.backend, "prompt": prompt.to_json(), "score": round(outcome.score, 4)},
    )
