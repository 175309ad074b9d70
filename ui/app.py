"""The radagent web page: chat, study viewer, report rewrite, generation and review, as one Blocks app.

Every panel calls the same agent and the same `run_tool` as the CLI; nothing here re-implements a tool.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from agent.errors import AccessDeniedError
from agent.settings import Settings, get_settings
from ui.identity import check_login, new_browser_id
from ui.panels import chat, generate, knowledge, report, review, viewer

CSS_PATH = Path(__file__).with_name("style.css")

HEADER = (
    "## radagent\n"
    "<span class='ra-banner'>Research assistant for medical imaging, running locally. "
    "Images it makes or changes are marked <b>SYNTHETIC — not for diagnosis</b>; outputs that could "
    "inform care stay <b>pending</b> until an expert confirms them.</span>"
)


def build_app() -> gr.Blocks:
    """Lay out the page. Handlers look up the user per request, so one app serves many sessions."""
    with gr.Blocks(title="radagent") as app:
        browser_id = gr.BrowserState(None, storage_key="radagent-browser-id")
        with gr.Row():
            gr.Markdown(HEADER)
            whoami = gr.HTML(elem_id="whoami")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chat_hooks = chat.build(browser_id)
            with gr.Tab("Study viewer", id="viewer"):
                viewer_hooks = viewer.build(browser_id)
            with gr.Tab("Report rewrite", id="report"):
                report.build(browser_id)
            with gr.Tab("Generate", id="generate"):
                generate.build(browser_id)
            with gr.Tab("Knowledge", id="knowledge"):
                knowledge.build(browser_id)
            with gr.Tab("Review", id="review", elem_id="tab-review"):
                review_hooks = review.build(browser_id)

        def ensure_browser_id(current: str | None) -> str:
            return current or new_browser_id()

        # On load: give this browser an id (kept in localStorage, so a reload keeps its history),
        # then fill in who is signed in, the history, the images and the queue.
        hidden = {"api_visibility": "undocumented"}
        loaded = app.load(ensure_browser_id, browser_id, browser_id, **hidden)
        fn, inputs, outputs = review_hooks["whoami"]
        loaded = loaded.then(fn, inputs, outputs, **hidden).then(fn, inputs, whoami, **hidden)
        refreshers = [chat_hooks["refresh"], viewer_hooks["refresh"], review_hooks["refresh"],
                      review_hooks["refresh_actions"]]
        for fn, inputs, outputs in refreshers:
            loaded = loaded.then(fn, inputs, outputs, **hidden)
    return app


def launch_kwargs(settings: Settings) -> dict:
    """Security defaults: loopback, logins when exposed, size-limited uploads, only outputs served."""
    host = settings.ui.host
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.ui.users:
        raise AccessDeniedError(
            f"Refusing to serve on {host} without logins: anyone on the network could read the studies.",
            "Configure [[ui.users]] (name, password, role) in radagent.toml, or keep the default 127.0.0.1.",
        )
    settings.ensure_dirs()
    return {
        "server_name": host,
        "server_port": settings.ui.port,
        "auth": check_login if settings.ui.users else None,
        "auth_message": "Sign in to radagent. Experts confirm findings; viewers can only look.",
        "allowed_paths": [str(settings.outputs_dir)],
        "max_file_size": f"{int(settings.ui.max_upload_mb)}mb",
        "css_paths": [CSS_PATH],
        "footer_links": [],
        "ssr_mode": False,
        "show_error": False,
        "share": False,
    }


def serve(prevent_thread_lock: bool = False, **overrides) -> gr.Blocks:
    """Build and launch with the queue's concurrency limit so users do not corrupt each other's state."""
    settings = get_settings()
    app = build_app()
    app.queue(default_concurrency_limit=settings.ui.concurrency_limit)
    kwargs = launch_kwargs(settings)
    kwargs.update(overrides)
    app.launch(prevent_thread_lock=prevent_thread_lock, **kwargs)
    return app
