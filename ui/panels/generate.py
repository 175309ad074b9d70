"""Generation panel: synthetic images from the embedded generators, with quality and diversity figures."""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from agent.errors import RadagentError, ReviewRequiredError
from tools.registry import run_tool
from ui.context import acting_as, badge, error_html
from ui.identity import identify


def generate(model: str, condition: str, n: int, seed: int, steps: int, browser_id: str, request: gr.Request,
             progress: gr.Progress = gr.Progress()) -> tuple[list[str], str, dict[str, Any]]:
    ident = identify(request, browser_id)
    progress(0.05, desc=f"Sampling {int(n)} image(s) with {model}")
    args: dict[str, Any] = {"model": model, "condition": condition, "n": int(n), "seed": int(seed)}
    if model in ("ddpm", "ddim") and steps:
        args["steps"] = int(steps)
    try:
        with acting_as(ident):
            # Generating a synthetic cohort is high-impact: it runs only once an expert approved
            # this exact request (an expert's own request counts), as in the CLI and the chat.
            result = run_tool("generate_images", args, user=ident.user, require_approval=True,
                              role=ident.role).model_dump(mode="json")
    except ReviewRequiredError as err:
        return [], awaiting_approval(err.message), {"awaiting_approval": args}
    except RadagentError as err:
        return [], error_html(err.message, err.hint), {}
    status = badge("SYNTHETIC — not for diagnosis", "synthetic")
    status += "".join(badge(f"{f['type']}: {f['detail']}", f["type"]) for f in result.get("flags", []))
    return result.get("images", []), status, {k: v for k, v in result.items() if k not in ("images", "artifacts")}


def awaiting_approval(message: str) -> str:
    """Say what is waiting and how it goes on, in the page's own terms."""
    return (badge("awaiting expert approval", "pending")
            + f"<div class='ra-banner'>{html.escape(message)} An expert approves it in the Review tab "
              "(Actions awaiting approval); then press Generate again with the same settings.</div>")


def build(browser_id: gr.BrowserState) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            model = gr.Dropdown(["ddim", "ddpm", "vae", "gan"], value="ddim", label="Model")
            condition = gr.Textbox(label="Condition", placeholder="nodule in right lung, 12 mm", elem_id="gen-condition")
            n = gr.Slider(1, 16, value=4, step=1, label="How many")
            seed = gr.Number(value=0, precision=0, label="Seed")
            steps = gr.Slider(5, 1000, value=50, step=5, label="Diffusion steps")
            go = gr.Button("Generate", variant="primary", elem_id="gen-run")
        with gr.Column(scale=2):
            status = gr.HTML(elem_id="gen-status")
            gallery = gr.Gallery(label="Synthetic images", columns=4, height=420, elem_id="gen-gallery")
            quality = gr.JSON(label="Quality, diversity and memorization figures")
    go.click(generate, [model, condition, n, seed, steps, browser_id], [gallery, status, quality], api_name="generate")
