"""Study viewer: uploaded images by id, slices, windows, prompts by click, and tool results side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from agent.errors import RadagentError
from tools.registry import run_tool
from ui.context import acting_as, badge, error_html
from ui.identity import identify
from ui.rendering import WINDOW_PRESETS, draw_prompts, pick_slice, window

EMPTY_PROMPTS: dict[str, Any] = {"points": [], "box": None, "corner": None}


def upload_images(files: list[str] | None, browser_id: str, request: gr.Request) -> tuple[Any, str]:
    """Add uploads to this browser's workspace; a bad file is reported and the rest still land."""
    from tools.imaging.workspace import get_workspace

    ident = identify(request, browser_id)
    messages: list[str] = []
    with acting_as(ident):
        workspace = get_workspace(ident.session)
        for name in files or []:
            try:
                entry = workspace.add(Path(name), trusted=True)  # a Gradio upload, not a user-typed path
                messages.append(f"{Path(name).name} → <b>{entry.id}</b>")
            except RadagentError as err:
                messages.append(error_html(f"{Path(name).name}: {err.message}", err.hint))
        choices = [e.id for e in workspace.list()]
    selected = choices[-1] if choices else None
    return gr.update(choices=choices, value=selected), "<br>".join(messages)


def list_images(browser_id: str, request: gr.Request) -> Any:
    from tools.imaging.workspace import get_workspace

    ident = identify(request, browser_id)
    with acting_as(ident):
        choices = [e.id for e in get_workspace(ident.session).list()]
    return gr.update(choices=choices, value=choices[-1] if choices else None)


def _load(image_id: str, browser_id: str, request: gr.Request):
    from tools.imaging.load import load_image

    ident = identify(request, browser_id)
    with acting_as(ident):
        return load_image(image_id)


def show_image(image_id: str | None, slice_index: int, preset: str, level: float, width: float,
               prompts: dict[str, Any], browser_id: str, request: gr.Request) -> tuple[Any, Any, Any, str]:
    """Render the selected image with its window and prompts; returns image, slider, info, error."""
    if not image_id:
        return None, gr.update(visible=False), {}, ""
    try:
        loaded = _load(image_id, browser_id, request)
    except RadagentError as err:
        return None, gr.update(visible=False), {}, error_html(err.message, err.hint)
    frame = pick_slice(loaded.pixels, int(slice_index))
    center_width = WINDOW_PRESETS.get(preset)
    if preset == "custom":
        center_width = (level, width)
    shown = window(frame, *(center_width or (None, None)))
    shown = draw_prompts(shown, prompts.get("points", []), prompts.get("box"))
    n_slices = loaded.pixels.shape[0] if loaded.is_volume else 1
    slider = gr.update(visible=n_slices > 1, maximum=max(1, n_slices - 1))
    info = {"id": image_id, "modality": loaded.modality, "shape": list(loaded.pixels.shape),
            "spacing_mm": loaded.spacing_mm, **{k: v for k, v in loaded.metadata.items() if k != "modality"}}
    return shown, slider, info, ""


def add_prompt(mode: str, prompts: dict[str, Any], evt: gr.SelectData) -> dict[str, Any]:
    """A click adds a positive/negative point, or sets one corner of a box (two clicks make a box)."""
    x, y = float(evt.index[0]), float(evt.index[1])
    prompts = {"points": list(prompts.get("points", [])), "box": prompts.get("box"), "corner": prompts.get("corner")}
    if mode == "box (2 clicks)":
        if prompts["corner"] is None:
            prompts["corner"], prompts["box"] = (x, y), None
        else:
            x0, y0 = prompts["corner"]
            prompts["box"] = (min(x0, x), min(y0, y), max(x0, x), max(y0, y))
            prompts["corner"] = None
    else:
        prompts["points"].append((x, y, 0 if "negative" in mode else 1))
    return prompts


def _mask_from(result: dict[str, Any], shape: tuple[int, int]) -> np.ndarray | None:
    from PIL import Image

    path = result.get("mask")
    if not path or not Path(path).is_file():
        return None
    mask = np.asarray(Image.open(path).convert("L")) > 127
    if mask.shape != shape:
        mask = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize(shape[::-1], Image.NEAREST)) > 127
    return mask


def segment(image_id: str | None, target: str, backend: str, prompts: dict[str, Any], slice_index: int,
            preset: str, level: float, width: float, browser_id: str, request: gr.Request,
            progress: gr.Progress = gr.Progress()) -> tuple[Any, str, dict[str, Any]]:
    """Run segment_image with the clicked prompts or the named target; show the overlay and its review state."""
    if not image_id:
        return None, error_html("Upload or select an image first."), {}
    args: dict[str, Any] = {"image": image_id}
    points = prompts.get("points", [])
    if target.strip():
        args["target"] = target.strip()
    elif prompts.get("box"):
        args["box"] = list(prompts["box"])
    elif len(points) == 1 and points[0][2] == 1:
        args["point"] = [points[0][0], points[0][1]]
    elif points:
        args["points"] = [[p[0], p[1]] for p in points]
        args["labels"] = [p[2] for p in points]
    else:
        return None, error_html("Click on the image to place a point or a box, or name a structure.",
                                "For example: left lung, right lung, heart, nodule."), {}
    if backend and backend != "default":
        args["backend"] = backend
    ident = identify(request, browser_id)
    progress(0.1, desc="Segmenting (the first run loads the model)")
    try:
        with acting_as(ident):
            result = run_tool("segment_image", args, user=ident.user).model_dump(mode="json")
        loaded = _load(image_id, browser_id, request)
    except RadagentError as err:
        return None, error_html(err.message, err.hint), {}
    frame = pick_slice(loaded.pixels, int(slice_index))
    cw = WINDOW_PRESETS.get(preset) if preset != "custom" else (level, width)
    base = window(frame, *(cw or (None, None)))
    mask = _mask_from(result, base.shape[:2])
    label = args.get("target") or "segmentation"
    if "area_mm2" in result and result["area_mm2"] is not None:
        label += f" ({result['area_mm2']:.0f} mm²)"
    annotated = (base, [(mask, label)]) if mask is not None else (base, [])
    status = badge(f"review: {result.get('review')}", result.get("review", "pending"))
    status += badge("SYNTHETIC / derived", "synthetic")
    status += "".join(badge(f"{f['type']}: {f['detail']}", f["type"]) for f in result.get("flags", []))
    return annotated, status, result


def restore(kind: str, image_id: str | None, browser_id: str, request: gr.Request,
            progress: gr.Progress = gr.Progress()) -> tuple[Any, str, dict[str, Any]]:
    """Run a restoration tool and show original and derived side by side."""
    if not image_id:
        return None, error_html("Upload or select an image first."), {}
    tool, args = {
        "Denoise (low-dose CT)": ("denoise_image", {}),
        "Reconstruct MRI (4×)": ("reconstruct_mri", {"acceleration": 4}),
        "Translate to CT": ("translate_modality", {"target_modality": "CT"}),
        "Translate to MR": ("translate_modality", {"target_modality": "MR"}),
        "Anomaly map": ("detect_anomaly", {}),
    }[kind]
    ident = identify(request, browser_id)
    progress(0.1, desc=f"{kind} (the first run loads the model)")
    try:
        with acting_as(ident):
            result = run_tool(tool, {"image": image_id, **args}, user=ident.user).model_dump(mode="json")
            loaded = _load(image_id, browser_id, request)
    except RadagentError as err:
        return None, error_html(err.message, err.hint), {}
    derived = next((a["path"] for a in result.get("artifacts", []) if a["kind"] in ("png", "image")), None)
    original = window(pick_slice(loaded.pixels, 0), None, None)
    status = badge(f"review: {result.get('review')}", result.get("review", "pending")) + badge("SYNTHETIC", "synthetic")
    status += "".join(badge(f"{f['type']}: {f['detail']}", f["type"]) for f in result.get("flags", []))
    return ((original, derived) if derived else None), status, result


def build(browser_id: gr.BrowserState) -> dict[str, Any]:
    """Lay out the viewer; returns components other panels link to."""
    prompts = gr.State(dict(EMPTY_PROMPTS))
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            upload = gr.File(label="Upload DICOM / PNG / NIfTI / ZIP", file_count="multiple",
                             file_types=[".dcm", ".png", ".jpg", ".jpeg", ".nii", ".gz", ".zip", ".npz"],
                             elem_id="viewer-upload")
            upload_status = gr.HTML(elem_id="viewer-upload-status")
            image_id = gr.Dropdown(label="Images in this session", choices=[], elem_id="viewer-image-id",
                                   allow_custom_value=True)
            info = gr.JSON(label="De-identified info")
        with gr.Column(scale=2):
            shown = gr.Image(label="Click to place prompts", interactive=False, elem_id="viewer-image",
                             type="numpy", height=480)
            slice_index = gr.Slider(0, 1, step=1, value=0, label="Slice", visible=False)
            with gr.Row():
                preset = gr.Radio(list(WINDOW_PRESETS) + ["custom"], value="auto", label="Window")
            with gr.Row():
                level = gr.Slider(-1000, 2000, value=40, label="Level (custom)")
                width = gr.Slider(1, 4000, value=400, label="Width (custom)")
            error = gr.HTML()
        with gr.Column(scale=2):
            with gr.Row():
                mode = gr.Radio(["point (positive)", "point (negative)", "box (2 clicks)"],
                                value="point (positive)", label="Click places")
            with gr.Row():
                target = gr.Textbox(label="…or name a structure", placeholder="left lung", elem_id="viewer-target")
                backend = gr.Dropdown(["default", "classical", "sam"], value="default", label="Segmenter")
            with gr.Row():
                seg_btn = gr.Button("Segment", variant="primary", elem_id="viewer-segment")
                clear_btn = gr.Button("Clear prompts")
            overlay = gr.AnnotatedImage(label="Mask overlay", elem_id="viewer-overlay", height=360)
            seg_status = gr.HTML(elem_id="viewer-seg-status")
            seg_result = gr.JSON(label="Numbers behind it")
    with gr.Accordion("Restore or translate (original vs derived)", open=False):
        with gr.Row():
            restore_kind = gr.Dropdown(["Denoise (low-dose CT)", "Reconstruct MRI (4×)", "Translate to CT",
                                        "Translate to MR", "Anomaly map"], value="Denoise (low-dose CT)", label="Tool")
            restore_btn = gr.Button("Run")
        compare = gr.ImageSlider(label="Original | derived (SYNTHETIC)", type="filepath")
        restore_status = gr.HTML()
        restore_result = gr.JSON(label="Quality figures")

    view_inputs = [image_id, slice_index, preset, level, width, prompts, browser_id]
    upload.upload(upload_images, [upload, browser_id], [image_id, upload_status], api_name="upload")
    hidden = {"api_visibility": "undocumented"}
    view_outputs = [shown, slice_index, info, error]
    for comp in (image_id, slice_index, preset, level, width):
        comp.change(show_image, view_inputs, view_outputs, **hidden)
    image_id.change(lambda: dict(EMPTY_PROMPTS), None, prompts, **hidden)
    shown.select(add_prompt, [mode, prompts], prompts, **hidden).then(show_image, view_inputs, view_outputs, **hidden)
    clear_btn.click(lambda: dict(EMPTY_PROMPTS), None, prompts, **hidden) \
        .then(show_image, view_inputs, view_outputs, **hidden)
    seg_btn.click(segment, [image_id, target, backend, prompts, slice_index, preset, level, width, browser_id],
                  [overlay, seg_status, seg_result], api_name="segment")
    restore_btn.click(restore, [restore_kind, image_id, browser_id], [compare, restore_status, restore_result],
                      api_name="restore")
    return {"image_id": image_id, "refresh": (list_images, [browser_id], image_id)}
