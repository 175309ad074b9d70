"""Web page benchmarks: page load, a routed chat turn in the browser vs the same turn through the
agent as the CLI runs it, and concurrent API sessions.

The page runs as `radagent ui` in a subprocess on a free loopback port; Chromium is Debian's.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import subprocess
import sys
import time
from typing import Any

from bench.stats import BenchRow, summarize

CHAT_REQUEST = "Search the knowledge base: why is DDIM faster than DDPM?"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
               "--disable-background-networking", "--disable-component-update"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(port: int) -> subprocess.Popen:
    """The installed product as a user runs it: default data dir (with its knowledge index)."""
    import urllib.request

    env = {**os.environ, "RADAGENT_UI__PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "ui"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return proc
        except Exception:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("radagent ui did not start")


def _bare_gradio_port() -> tuple[Any, int]:
    """A one-component Gradio page: the floor any Gradio page pays, measured in the same run."""
    import gradio as gr

    port = _free_port()
    with gr.Blocks() as bare:
        gr.Markdown("bare", elem_id="whoami")
    bare.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False)
    return bare, port


def _page_loads(browser: Any, url: str, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        page = browser.new_page()
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("#whoami", state="attached", timeout=60_000)
        samples.append(time.perf_counter() - start)
        page.close()
    return samples


def _browser_chat(browser: Any, url: str, repeats: int) -> list[float]:
    samples = []
    page = browser.new_page()
    page.goto(url)
    page.wait_for_selector("#chat-input textarea", timeout=60_000)
    for _ in range(repeats):
        before = page.locator("#chatbot .message").count()
        start = time.perf_counter()
        page.locator("#chat-input textarea").fill(CHAT_REQUEST)
        page.keyboard.press("Enter")
        # Done when the submit button is back (the turn finished streaming) and new messages arrived.
        page.wait_for_function(f"document.querySelectorAll('#chatbot .message').length > {before + 1}",
                               timeout=300_000)
        page.wait_for_selector("#chat-input textarea:not([disabled])", timeout=300_000)
        page.wait_for_function("!document.querySelector('#chatbot .pending, #chatbot .generating')", timeout=300_000)
        samples.append(time.perf_counter() - start)
    page.close()
    return samples


def _agent_turns(repeats: int) -> list[float]:
    """The same turn as the CLI's chat runs it: in process, model warm, same session store."""
    code = (
        "import json,sys,time\n"
        "from agent.conversation import run_turn\n"
        "run_turn('bench-cli', 'hello')\n"
        "out=[]\n"
        f"for _ in range({repeats}):\n"
        "    t=time.perf_counter(); run_turn('bench-cli', sys.argv[2]); out.append(time.perf_counter()-t)\n"
        "print(json.dumps(out))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code, "unused", CHAT_REQUEST],
                          env=env, capture_output=True, text=True, check=True)
    import json

    return json.loads(done.stdout.strip().splitlines()[-1])


def _concurrent_sessions(url: str, n: int) -> tuple[int, int, float]:
    """n gradio_client sessions, each one chat turn at once; returns (ok, lost, seconds)."""
    from gradio_client import Client

    def one(i: int) -> bool:
        client = Client(url + "/", verbose=False)
        marker = f"hello from session {i}"
        history, *_ = client.predict({"text": marker, "files": []}, [], f"bench-browser-{i}", api_name="/chat")
        texts = [m.get("content") for m in history if isinstance(m, dict)]
        return any(marker in str(t) for t in texts) and len(texts) >= 2

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(lambda i: _safe(one, i), range(n)))
    return sum(results), n - sum(results), time.perf_counter() - start


def _safe(fn: Any, i: int) -> bool:
    try:
        return bool(fn(i))
    except Exception:
        return False


def run(quick: bool) -> list[BenchRow]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return [BenchRow("ui", "page load", float("nan"), "s", note="chromium not installed")]
    from playwright.sync_api import sync_playwright

    repeats = 3 if quick else 5
    rows: list[BenchRow] = []
    port = _free_port()
    proc = _start(port)
    bare, bare_port = _bare_gradio_port()
    url = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
            loads = summarize(_page_loads(browser, url, repeats))
            base = summarize(_page_loads(browser, f"http://127.0.0.1:{bare_port}", repeats))
            rows.append(BenchRow("ui", "page load (to the signed-in banner)", loads.median, "s", loads.low,
                                 loads.high, "bare one-component Gradio page", base.median,
                                 loads.median / base.median))
            chat = summarize(_browser_chat(browser, url, repeats))
            browser.close()
        cli = summarize(_agent_turns(repeats))
        rows.append(BenchRow("ui", "routed chat turn in the browser", chat.median, "s", chat.low, chat.high,
                             "same turn via the agent as the CLI runs it", cli.median, chat.median / cli.median,
                             "≤ 1.2×", chat.median / cli.median <= 1.2, note=CHAT_REQUEST))
        ok, lost, seconds = _concurrent_sessions(url, 10)
        rows.append(BenchRow("ui", "10 concurrent API chat sessions: completed", ok, "sessions",
                             target="10, none lost", passed=(ok == 10 and lost == 0),
                             note=f"{lost} lost, {seconds:.0f} s wall"))
    finally:
        bare.close()
        proc.terminate()
        proc.wait(timeout=30)
    return rows

