"""`describe_image`: what is in an image, as facts each traceable to a measurement.

Facts come from the de-identified header (modality, view, size, spacing), intensity statistics,
the structure localiser + segmenter (areas in mm² and sides) and the finding classifier (lesion
present, side, size class). The answer to the user's question is worded by the LLM with the facts
attached as fenced data, so guardrails can check the wording against them; when the LLM is
unavailable or fails, the deterministic facts-only text is returned and the result says so.
"""

from __future__ import annotations

import json
import math

import numpy as np

from agent.errors import RadagentError
from tools.perception.facts import FactSheet, fmt, intensity_facts, numbers_not_in_facts, rounded
from tools.perception.schemas import DescribeImageArgs, DescribeImageResult
from tools.schemas import Flag

STRUCTURES = {"chest": ("right lung", "left lung", "heart"), "head": ("brain", "ventricles")}
LESION_WORD = {"chest": "nodule", "head": "lesion"}
HEADER = "DICOM header (de-identified)"
CLASSIFIER = "image-family classifier (findings_cnn, trained on phantoms)"
LOCALISER = "structure localiser (findings_cnn)"
LESION = "lesion classifier (lesion_cnn, per lung or brain half, trained on phantoms)"


def describe_image(args: DescribeImageArgs) -> DescribeImageResult:
    from tools.imaging.load import load_image
    from tools.perception.preprocess import normalize_for_model, to_grayscale_2d

    backend = (args.backend or "facts").lower()
    if backend == "vlm":  # fail fast, before any measuring, when the multimodal model is not there
        from tools.perception.vlm import resolve_paths

        resolve_paths(args.vlm_model, args.vlm_mmproj)
    loaded = load_image(args.image)
    gray, warnings = to_grayscale_2d(loaded.pixels)
    modality = (loaded.modality or "OT").upper()
    sheet = FactSheet()
    _header_facts(sheet, loaded, gray.shape)
    intensity_facts(sheet, gray, modality)
    image = normalize_for_model(gray, modality)
    try:
        _model_facts(sheet, loaded, image, warnings)
    except RadagentError as err:  # a missing checkpoint must not hide the measured facts
        warnings.append(f"Structure and finding facts are missing: {err.message} {err.hint}".strip())

    facts_text = " ".join(f.statement for f in sheet.facts)
    result = DescribeImageResult(facts=sheet.facts, facts_text=facts_text, text=facts_text, worded_by="facts",
                                 question=args.question)
    if backend == "vlm":
        from tools.perception.vlm import describe_with_vlm

        result.vlm_text = describe_with_vlm(gray, args.question, model=args.vlm_model, mmproj=args.vlm_mmproj)
        warnings.append("The multimodal model's text (vlm_text) is not checked against the measurements.")
    worded, note = _word_with_llm(sheet, args.question)
    if worded:
        result.text, result.worded_by = worded, "llm"
        stray = numbers_not_in_facts(worded, sheet)
        if stray:
            result.flags.append(Flag(type="ungrounded", detail=f"The wording has numbers no fact states: {', '.join(stray)}."))
    else:
        warnings.append(note)
    result.flags.extend(Flag(type="warning", detail=w) for w in warnings)
    result.summary = result.text
    return result


# -- facts -------------------------------------------------------------------------------------
def _header_facts(sheet: FactSheet, loaded, shape: tuple[int, int]) -> None:
    from tools.perception.facts import MODALITY_NAMES

    meta = loaded.metadata or {}
    modality = (loaded.modality or "OT").upper()
    sheet.add("modality", f"Modality: {modality} ({MODALITY_NAMES.get(modality, 'unknown')}).", modality, "", HEADER)
    view = meta.get("view_position")
    if isinstance(view, str) and view.isalpha() and len(view) <= 4:
        sheet.add("view", f"View: {view.upper()}.", view.upper(), "", HEADER)
    body = (meta.get("text") or {}).get("body_part") or {}
    part = body.get("untrusted_text") if isinstance(body, dict) and not body.get("suspicious") else None
    if isinstance(part, str) and part.replace(" ", "").isalpha() and len(part) <= 16:
        sheet.add("body_part", f"Body part in the header: {part.upper()}.", part.upper(), "", HEADER)
    height, width = shape
    sheet.add("size", f"Image size: {width} x {height} pixels.", f"{width} x {height}", "px", HEADER)
    spacing = _spacing(loaded)
    if spacing:
        sheet.add("spacing", f"Pixel spacing: {fmt(spacing[0], 3)} x {fmt(spacing[1], 3)} mm.",
                  f"{fmt(spacing[0], 3)} x {fmt(spacing[1], 3)}", "mm", HEADER)
    else:
        sheet.add("spacing", "Pixel spacing is unknown, so sizes are given in pixels.", None, "", HEADER)


def _spacing(loaded) -> tuple[float, float] | None:
    sp = loaded.spacing_mm
    if sp and all(s and s > 0 for s in sp):
        return float(sp[0]), float(sp[1])
    return None


def _family(loaded, prediction) -> tuple[str | None, str]:
    meta = loaded.metadata or {}
    part = str(((meta.get("text") or {}).get("body_part") or {}).get("untrusted_text", "")).upper()
    modality = (loaded.modality or "").upper()
    if modality in ("CR", "DX") or "CHEST" in part or "THORAX" in part:
        return "chest", HEADER
    if "HEAD" in part or "BRAIN" in part:
        return "head", HEADER
    if prediction.family_prob >= 0.8:
        return prediction.family, CLASSIFIER
    return None, CLASSIFIER


def _patient_left_is_image_right(loaded) -> bool:
    """Radiological display (patient's left on the image right) unless the header says otherwise."""
    orientation = (loaded.metadata or {}).get("patient_orientation") or []
    return not (len(orientation) >= 1 and str(orientation[0]).upper().startswith("R"))


def _model_facts(sheet: FactSheet, loaded, image: np.ndarray, warnings: list[str]) -> None:
    from tools.perception.analysis import analyse
    from tools.perception.findings import get_findings_model
    from tools.perception.segment import run_segmentation, segment_structure
    from tools.perception.targets import locate_lesion, locate_target

    prediction = get_findings_model().predict(image)
    family, family_source = _family(loaded, prediction)
    if family is None:
        sheet.add("family", "The image is neither recognisably a chest radiograph nor a head slice, "
                            "so no structures or findings were measured.", None, "", CLASSIFIER)
        return
    if family_source == CLASSIFIER:
        prob = rounded(prediction.family_prob, 2)
        sheet.add("family", f"The image looks like a {family} image (classifier probability {fmt(prob, 2)}).",
                  family, "", CLASSIFIER)
    spacing = _spacing(loaded)
    height, width = image.shape
    left_on_right = _patient_left_is_image_right(loaded)
    for name in STRUCTURES[family]:
        try:
            located = locate_target(name, prediction, height, width)
        except RadagentError:
            sheet.add(f"structure_{name.replace(' ', '_')}", f"The {name} was not found by the structure localiser.",
                      False, "", LOCALISER)
            continue
        outcome, _, _ = segment_structure(image, located.prompt, name)
        _area_fact(sheet, f"structure_{name.replace(' ', '_')}", f"The {name}", outcome.mask, spacing, outcome.backend)

    analysis = analyse(image, family)
    lesion_word = LESION_WORD[family]
    best = analysis.best_lesion
    if best is None:
        sheet.add("lesion_present", f"The regions a {lesion_word} is looked for in were not found, "
                                    f"so no {lesion_word} finding was made.", None, "", LESION)
        return
    prob = rounded(best.prob, 2)
    if best.prob < 0.5:
        sheet.add("lesion_present", f"No {lesion_word} was detected (highest classifier probability of a "
                                    f"{lesion_word} {fmt(prob, 2)}).", False, "", LESION)
        return
    sheet.add("lesion_present", f"A {lesion_word} is probably present (classifier probability {fmt(prob, 2)}).",
              True, "", LESION)
    sheet.add("lesion_side", f"The {lesion_word} is on the patient's {best.side} side "
                             f"(found in the {best.side} {'lung' if family == 'chest' else 'half of the brain'}).",
              best.side, "", LESION)
    size_prob = rounded(best.size_prob, 2)
    sheet.add("lesion_size_class", f"The {lesion_word} size class is {best.size_class} "
                                   f"(classifier probability {fmt(size_prob, 2)}).", best.size_class, "", LESION)
    try:
        located = locate_lesion(lesion_word, analysis, height, width)
    except RadagentError:
        warnings.append(f"The {lesion_word} could not be localised for measurement.")
        return
    outcome = run_segmentation(image, located.prompt)
    if not outcome.mask.any():
        warnings.append(f"The segmenter found no {lesion_word} outline at the localised position.")
        return
    _area_fact(sheet, "lesion_area", f"The segmented {lesion_word}", outcome.mask, spacing, outcome.backend,
               organ=False)
    cols = np.nonzero(outcome.mask)[1]
    on_image_right = cols.mean() > width / 2
    side = "left" if on_image_right == left_on_right else "right"
    sheet.add("lesion_mask_side", f"The segmented {lesion_word} lies in the patient's {side} half of the image.",
              side, "", f"segmenter ({outcome.backend}) mask position")
    if spacing:
        area = float(outcome.mask.sum()) * spacing[0] * spacing[1]
        diameter = rounded(2 * math.sqrt(area / math.pi))
        sheet.add("lesion_diameter", f"The segmented {lesion_word} has an equivalent diameter of {fmt(diameter)} mm.",
                  diameter, "mm", f"segmenter ({outcome.backend}) mask area")


def _area_fact(sheet: FactSheet, id: str, subject: str, mask: np.ndarray, spacing, backend: str,
               organ: bool = True) -> None:
    pixels = int(mask.sum())
    source = f"segmenter ({backend}) mask"
    if spacing and organ:
        area = rounded(pixels * spacing[0] * spacing[1] / 100.0)  # cm² reads better for organs
        sheet.add(id, f"{subject} measures {fmt(area)} cm² in this image.", area, "cm²", source)
    elif spacing:
        area = rounded(pixels * spacing[0] * spacing[1])
        sheet.add(id, f"{subject} measures {fmt(area)} mm² in this image.", area, "mm²", source)
    else:
        sheet.add(id, f"{subject} covers {pixels} pixels in this image.", pixels, "px", source)


# -- wording -----------------------------------------------------------------------------------
def _word_with_llm(sheet: FactSheet, question: str) -> tuple[str | None, str]:
    """(answer, "") from the LLM, or (None, why not) so the caller keeps the facts-only text."""
    from agent.prompts import load_prompt

    # One compact line per fact (its statement already carries the value and unit): a short prompt
    # keeps a small local model fast.
    facts = _neutralise("\n".join(json.dumps({"id": f.id, "fact": f.statement}, ensure_ascii=False) for f in sheet.facts))
    user = load_prompt("describe_image_user.md").format(question=_neutralise(question.strip()) or "(none: describe the image)",
                                                         facts=facts)
    messages = [{"role": "system", "content": load_prompt("describe_image.md")}, {"role": "user", "content": user}]
    try:
        from agent.llm.runtime import get_llm

        text = get_llm().chat(messages, max_tokens=220, json_schema=None).strip()
    except Exception as exc:  # no model, a broken model, a server down: keep the facts-only text
        return None, f"The LLM was unavailable ({type(exc).__name__}: {exc}); the description is the facts-only text."
    if not text:
        return None, "The LLM returned nothing; the description is the facts-only text."
    return text, ""


def _neutralise(text: str) -> str:
    try:
        from knowledge.fencing import neutralise

        return neutralise(text)
    except ImportError:
        return text.replace("<<<", "< ").replace(">>>", "> ")
