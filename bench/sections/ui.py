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


class _AgentWorker:
    """The same turn as the CLI's chat runs it: in process, model warm, a fresh session of its own
    that starts like the browser's (a "hello" first), so both prompts carry the same history.

    It stays alive between requests so browser and CLI turns can alternate: on a shared machine,
    load changes over minutes, and alternating keeps the ratio fair.
    """

    CODE = (
        "import json,sys,time,uuid\n"
        "from agent.conversation import run_turn\n"
        "session='bench-cli-'+uuid.uuid4().hex[:8]\n"
        "run_turn(session, 'hello')\n"
        "print('ready', flush=True)\n"
        "for line in sys.stdin:\n"
        "    t=time.perf_counter(); run_turn(session, line.strip())\n"
        "    print(json.dumps(time.perf_counter()-t), flush=True)\n"
    )

    def __init__(self) -> None:
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        self.proc = subprocess.Popen([sys.executable, "-c", self.CODE], env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._read_until("ready")

    def _read_until(self, expected: str | None = None) -> str:
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the agent process exited")
            line = line.strip()
            if expected is None or line == expected:
                return line

    def turn(self, request: str) -> float:
        assert self.proc.stdin is not None
        self.proc.stdin.write(request + "\n")
        self.proc.stdin.flush()
        import json

        while True:
            line = self._read_until()
            try:
                return float(json.loads(line))
            except (ValueError, TypeError):
                continue  # a library's stray output line

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _browser_turn(page: Any, request: str) -> float:
    """Type, press Enter, and stop the clock when the page's status line says the turn is answered."""
    before = page.locator("#chat-status").inner_text()
    start = time.perf_counter()
    page.locator("#chat-input textarea").fill(request)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(before) => { const s = document.querySelector('#chat-status [data-state=done]');"
        " return s && s.innerText !== before; }", arg=before, timeout=300_000, polling=50)
    return time.perf_counter() - start


def _chat_pairs(browser: Any, url: str, repeats: int) -> tuple[list[float], list[float]]:
    """Alternate one browser turn and one agent turn, `repeats` times each, after one warm-up each."""
    page = browser.new_page()
    page.goto(url)
    page.wait_for_selector("#chat-input textarea", timeout=60_000)
    worker = _AgentWorker()
    try:
        _browser_turn(page, "hello")
        in_browser, via_agent = [], []
        for _ in range(repeats):
            in_browser.append(_browser_turn(page, CHAT_REQUEST))
            via_agent.append(worker.turn(CHAT_REQUEST))
    finally:
        worker.close()
        page.close()
    return in_browser, via_agent


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
            browser_turns, agent_turns = _chat_pairs(browser, url, repeats)
            browser.close()
        chat, cli = summarize(browser_turns), summarize(agent_turns)
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

