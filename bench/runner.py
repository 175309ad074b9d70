"""Runs each capability's benchmark section and prints one markdown table.

A section is a module in `bench.sections` with `run(quick: bool) -> list[BenchRow]`.
Sections whose capability is missing are reported as skipped, not silently dropped.
"""

from __future__ import annotations

import importlib
import json
import platform
import time
import traceback
from pathlib import Path

from bench.stats import BenchRow

SECTIONS = (
    "bench.sections.llm",
    "bench.sections.knowledge",
    "bench.sections.imaging",
    "bench.sections.generative",
    "bench.sections.perception",
    "bench.sections.restoration",
    "bench.sections.guardrails",
    "bench.sections.ui",
)


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    if value == 0 or 0.01 <= abs(value) < 10_000:
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return f"{value:.2e}"


def to_markdown(rows: list[BenchRow]) -> str:
    lines = [
        "| section | metric | median | min–max | unit | baseline (same run) | ratio | target | ok |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        rng = f"{_fmt(r.low)}–{_fmt(r.high)}" if r.low is not None else ""
        base = f"{r.baseline}: {_fmt(r.baseline_median)}" if r.baseline else ""
        ok = "" if r.passed is None else ("yes" if r.passed else "no")
        lines.append(f"| {r.section} | {r.metric} | {_fmt(r.median)} | {rng} | {r.unit} | {base} | "
                     f"{_fmt(r.ratio)} | {r.target or ''} | {ok} |")
    return "\n".join(lines)


def run(quick: bool, only: list[str] | None = None, out: Path | None = None) -> tuple[list[BenchRow], list[str]]:
    rows: list[BenchRow] = []
    notes: list[str] = []
    for module_name in SECTIONS:
        short = module_name.rsplit(".", 1)[-1]
        if only and short not in only:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                notes.append(f"{short}: no benchmark section yet")
                continue
            raise
        started = time.perf_counter()
        try:
            rows.extend(module.run(quick=quick))
        except Exception as exc:  # a failing section must not hide the others' numbers
            notes.append(f"{short}: failed: {exc!r}")
            traceback.print_exc()
        notes.append(f"{short}: {time.perf_counter() - started:.1f} s")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({
            "quick": quick, "machine": platform.platform(), "processor": platform.processor(),
            "rows": [r.to_dict() for r in rows], "notes": notes,
        }, indent=2))
    return rows, notes
