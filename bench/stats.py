"""Timing helpers: medians and ranges over repeats, never a single noisy number."""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable


@dataclass
class BenchRow:
    """One line of the benchmark table: a measurement, its baseline from the same run, and the target."""

    section: str
    metric: str
    median: float
    unit: str
    low: float | None = None
    high: float | None = None
    baseline: str | None = None
    baseline_median: float | None = None
    ratio: float | None = None  # median / baseline_median
    target: str | None = None
    passed: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Timing:
    median: float
    low: float
    high: float
    samples: list[float]


def time_call(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> Timing:
    """Run `fn` warmup + repeats times; return the median and range of the timed repeats in seconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return Timing(statistics.median(samples), min(samples), max(samples), samples)


def summarize(values: list[float]) -> Timing:
    return Timing(statistics.median(values), min(values), max(values), list(values))
