"""LLM benchmark: cold start to a first plan, warm plan latency, routing and argument accuracy on
tests/data/routing.jsonl, and the agent's overhead over raw llama.cpp generating the same tokens.

Everything runs on the configured model (default qwen2.5-coder-1.5b) in this process, except the
cold start, which is a fresh `radagent plan` subprocess (its baseline: `radagent --help`, the
same interpreter and imports without a model).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.stats import BenchRow, summarize

SECTION = "llm"
LATENCY_REQUESTS = [
    ("outline the left lung in this image", "img-1"), ("hello", None), ("LDCT denoise pls", "img-1"),
    ("what is the difference between DDPM and DDIM?", None), ("recon img-2 at 8x acceleration", None),
    ("make 2 synthetic chest x-rays with the gan", None), ("is the heart enlarged?", "img-1"),
    ("thanks!", None), ("convert this MR to a synthetic CT", "img-1"), ("find anomalies in img-3", None),
    ("show the pixel spacing", "img-1"), ("explain latent diffusion", None),
]

# Different from the latency requests, so no saved KV state covers them.
OVERHEAD_REQUESTS = [
    ("segment the liver", "img-1"), ("good evening", None), ("run anomaly detection", "img-1"),
    ("how does classifier-free guidance work?", None), ("translate img-4 to MR", None),
    ("describe the image", "img-2"), ("generate 3 vae samples", None), ("denoise img-5 at strength 0.3", None),
]


def _cli() -> list[str]:
    exe = Path(sys.executable).with_name("radagent")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "agent.cli"]


def _wall(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, timeout=1800, env=os.environ.copy())
    return time.perf_counter() - started


def cold_start(repeats: int) -> BenchRow:
    cold = [_wall(_cli() + ["plan", "segment the heart", "--image", "img-1", "--json"]) for _ in range(repeats)]
    base = [_wall(_cli() + ["--help"]) for _ in range(repeats)]
    t, b = summarize(cold), summarize(base)
    return BenchRow(SECTION, "cold start to first plan (new process)", t.median, "s", t.low, t.high,
                    baseline="radagent --help", baseline_median=b.median, ratio=t.median / b.median,
                    note="model load + static prefix state from disk + one plan")


def routing(quick: bool) -> list[BenchRow]:
    from agent.planner import plan
    from agent.planner_eval import RoutingScore, load_cases

    cases = load_cases()
    if quick:
        cases = cases[::4]
    score = RoutingScore()
    times = []
    for case in cases:
        started = time.perf_counter()
        decision = plan(case["q"], image=case.get("image")).to_dict()
        times.append(time.perf_counter() - started)
        score.add(case, decision)
    extra = {"errors": score.errors[:40], "n": score.total}
    t = summarize(times)
    return [
        BenchRow(SECTION, "plan latency over the routing set", t.median, "s", t.low, t.high,
                 note=f"{len(times)} requests, warm model; includes retries and re-plans"),
        BenchRow(SECTION, "routing accuracy (tool choice)", score.tool_accuracy, "fraction",
                 target=">= 0.90", passed=score.tool_accuracy >= 0.90, note=f"{score.total} requests", extra=extra),
        BenchRow(SECTION, "argument accuracy (correctly routed)", score.args_accuracy, "fraction",
                 target=">= 0.85", passed=score.args_accuracy >= 0.85, note=f"{score.args_total} requests"),
    ]


def latency_and_overhead(quick: bool) -> list[BenchRow]:
    from agent.llm.runtime import LlamaCppLLM, _common_prefix, get_llm
    from agent.planner import plan, static_prompt, user_message, warm

    llm = get_llm()
    warm(llm)
    requests = LATENCY_REQUESTS[: 6 if quick else len(LATENCY_REQUESTS)]
    times = []
    for request, image in requests:
        started = time.perf_counter()
        plan(request, image=image)
        times.append(time.perf_counter() - started)
    t = summarize(times)
    rows = [BenchRow(SECTION, "warm plan latency", t.median, "s", t.low, t.high, target="p50 <= 4 s",
                     passed=t.median <= 4.0, note=f"{len(times)} requests; {llm.info().get('n_threads')} thread(s)")]
    if not isinstance(llm, LlamaCppLLM):
        return rows
    system = [{"role": "system", "content": static_prompt()}]
    # The static prefix: what the prompts of two different requests share.
    prefix_len = _common_prefix(llm.prompt_tokens([*system, {"role": "user", "content": "a"}]),
                                llm.prompt_tokens([*system, {"role": "user", "content": "b"}]))
    agent_s, raw_s, agent_tok, raw_tok = [], [], [], []
    for request, image in OVERHEAD_REQUESTS[: 5 if quick else len(OVERHEAD_REQUESTS)]:
        messages = [*system, {"role": "user", "content": user_message(request, bool(image))}]
        llm.rewind(prefix_len)
        started = time.perf_counter()
        plan(request, image=image)
        agent_s.append(time.perf_counter() - started)
        generated = max(1, llm.last_stats.completion_tokens)
        agent_tok.append(generated)
        llm.rewind(prefix_len)
        raw = llm.raw_generate(llm.prompt_tokens(messages), generated)
        # Same prompt; the raw run may stop at EOS early, so scale its generation to the same count.
        per_token = (raw.total_seconds - raw.prompt_seconds) / max(1, raw.completion_tokens)
        raw_s.append(raw.prompt_seconds + per_token * generated)
        raw_tok.append(raw.completion_tokens)
    a, r = statistics.median(agent_s), statistics.median(raw_s)
    rows.append(BenchRow(SECTION, "plan call vs raw llama.cpp, same prompt and token count", a, "s",
                         min(agent_s), max(agent_s), baseline="raw llama.cpp completion", baseline_median=r,
                         ratio=a / r, target="<= 1.15x", passed=a / r <= 1.15,
                         note=f"generated tokens median {statistics.median(agent_tok)} (raw {statistics.median(raw_tok)}); "
                              "overhead = templating, grammar, KV snapshots, validation",
                         extra={"agent_s": agent_s, "raw_s": raw_s}))
    return rows


def run(quick: bool) -> list[BenchRow]:
    rows = [cold_start(1 if quick else 2)]
    rows += latency_and_overhead(quick)
    rows += routing(quick)
    return rows
