"""Guardrails benchmark: does the fidelity checker catch inserted errors, how fast, how good is
the grounding check, and what do default-model rewrites read like.

- Detection: tests/data/rewrite_pairs.jsonl, per split. "dev" is every pair the lexicon was
  built or tuned on and meets the targets (splits dev to dev5; dev3 to dev5 were earlier
  held-out splits whose failures were studied once measured). "dev6-21" are long reports (up to
  eight findings) with rewrites in new voices, written by authors who never saw the
  checker; dev7 to dev21 were the held-out splits heldout4 to heldout18 until each was measured
  once, and all sixteen are being studied. "heldout19" was written the same way, committed before
  the last round of checker changes, and is never tuned on, so its numbers are the honest
  estimate for new text. Detection counts any fidelity flag on an errored pair;
  "type-correct" counts a flag of the labelled type. False flags are fidelity flags on
  faithful pairs (readability is reported separately).
- Checker time per report: median over all pairs (embeddings loaded beforehand); baseline in
  the same run: the reading-grade computation alone.
- Grounding: precision/recall of the `ungrounded` flag on tests/data/grounding.jsonl at the
  stored threshold (in-sample) and two-fold cross-validated, and on its "contradiction"
  items alone (claims that reverse their snippet: an antonym or a negation).
- Rewrites with the default local model: mean reading grade next to the originals' grade,
  remaining fidelity flags, and latency p50 (3 reports with --quick).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from pathlib import Path

from bench.stats import BenchRow, summarize

SECTION = "guardrails"
DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
FIDELITY = ("omission", "addition", "negation", "laterality", "measurement")
SPLITS = {"dev": ("dev", "dev2", "dev3", "dev4", "dev5"),
          "dev6-21": tuple(f"dev{i}" for i in range(6, 22)),
          "heldout19": ("heldout19",)}
REWRITE_SPLIT = "dev5"  # default-model rewrites of reports no prompt was tuned on (the checker was, since)


def _pairs() -> list[dict]:
    return [json.loads(line) for line in (DATA / "rewrite_pairs.jsonl").read_text().splitlines() if line.strip()]


def _detection_rows(pairs: list[dict]) -> list[BenchRow]:
    from tools.reports.checker import check_rewrite

    rows: list[BenchRow] = []
    for split, members in SPLITS.items():
        chosen = [p for p in pairs if p.get("split", "dev") in members]
        if not chosen:
            continue
        detected, typed, totals, false_flags, faithful = Counter(), Counter(), Counter(), 0, 0
        for p in chosen:
            flags = {f.type for f in check_rewrite(p["original"], p["rewrite"], 99).flags} & set(FIDELITY)
            if p["errors"]:
                kind = p["errors"][0]["type"]
                totals[kind] += 1
                detected[kind] += bool(flags)
                typed[kind] += kind in flags
            else:
                faithful += 1
                false_flags += bool(flags)
        n_err = sum(totals.values())
        rate = sum(detected.values()) / n_err
        rows.append(BenchRow(SECTION, f"inserted-error detection ({split}, n={n_err})", 100 * rate, "%",
                             target=">= 95%", passed=rate >= 0.95,
                             extra={k: f"{detected[k]}/{totals[k]}" for k in FIDELITY}))
        for kind in FIDELITY:
            if totals[kind]:
                rows.append(BenchRow(SECTION, f"  {kind} detected / type-correct ({split})",
                                     100 * detected[kind] / totals[kind], "%",
                                     note=f"type-correct {100 * typed[kind] / totals[kind]:.0f}%"))
        fp = false_flags / faithful if faithful else 0.0
        rows.append(BenchRow(SECTION, f"false flags on faithful rewrites ({split}, n={faithful})", 100 * fp, "%",
                             target="<= 5%", passed=fp <= 0.05))
    return rows


def _timing_rows(pairs: list[dict], quick: bool) -> list[BenchRow]:
    from tools.reports.checker import check_rewrite
    from tools.reports.readability import flesch_kincaid_grade

    from agent.guardrails import embeddings

    embeddings.embed(["load the model outside the timing"])  # the fallback loads it lazily otherwise
    check_rewrite(pairs[0]["original"], pairs[0]["rewrite"])
    sample = pairs[::3] if quick else pairs
    checker, baseline = [], []
    for p in sample:
        t0 = time.perf_counter()
        check_rewrite(p["original"], p["rewrite"])
        t1 = time.perf_counter()
        flesch_kincaid_grade(p["rewrite"])
        flesch_kincaid_grade(p["original"])
        t2 = time.perf_counter()
        checker.append((t1 - t0) * 1000)
        baseline.append((t2 - t1) * 1000)
    c, b = summarize(checker), summarize(baseline)
    return [BenchRow(SECTION, f"checker time per report (n={len(sample)})", c.median, "ms", c.low, c.high,
                     baseline="reading grade only", baseline_median=b.median,
                     ratio=c.median / b.median if b.median else None, target="<= 100 ms", passed=c.median <= 100)]


def _fallback_rows() -> list[BenchRow]:
    """The checker's embedding-fallback threshold, re-derived from the development pairs."""
    from tools.reports.checker import FALLBACK_SIMILARITY
    from tools.reports.fallback_calibration import calibrate, development_pairs, labelled_similarities

    result = calibrate(labelled_similarities(development_pairs()))
    return [BenchRow(SECTION, "checker embedding-fallback threshold (calibrated on dev)", result.threshold, "cosine",
                     note=f"in use {FALLBACK_SIMILARITY}; accepts {100 * result.paraphrase_recall:.0f}% of "
                          f"{result.paraphrases} paraphrases, {100 * result.false_match_rate:.1f}% of "
                          f"{result.non_paraphrases} non-paraphrases")]


def _grounding_rows() -> list[BenchRow]:
    from agent.guardrails.calibration import cross_validated, load_items, precision_recall, scored_claims
    from agent.guardrails.grounding import GROUNDING_THRESHOLD

    items = load_items()
    rows = scored_claims(items)
    p, r = precision_recall(rows, GROUNDING_THRESHOLD)
    cvp, cvr = cross_validated(items)
    note = f"{len(rows)} claims, threshold {GROUNDING_THRESHOLD}"
    contra = scored_claims([it for it in items if it.get("kind") == "contradiction"])
    cp, cr = precision_recall(contra, GROUNDING_THRESHOLD)
    c_note = (f"{len(contra)} claims, {sum(1 for label, _, _ in contra if not label)} contradict their snippet; "
              "rules written with these items in view")
    return [BenchRow(SECTION, "grounding precision (in-sample)", 100 * p, "%", note=note),
            BenchRow(SECTION, "grounding recall (in-sample)", 100 * r, "%", note=note),
            BenchRow(SECTION, "grounding precision (2-fold CV)", 100 * cvp, "%"),
            BenchRow(SECTION, "grounding recall (2-fold CV)", 100 * cvr, "%"),
            BenchRow(SECTION, "contradiction items: precision", 100 * cp, "%", note=c_note),
            BenchRow(SECTION, "contradiction items: recall", 100 * cr, "%", note=c_note)]


def _rewrite_rows(pairs: list[dict], quick: bool) -> list[BenchRow]:
    from agent.errors import RadagentError
    from tools.reports.rewrite import rewrite_report
    from tools.reports.schemas import RewriteReportArgs

    originals = list(dict.fromkeys(p["original"] for p in pairs if p.get("split") == REWRITE_SPLIT))
    originals = originals[:3] if quick else originals[:8]
    grades, orig_grades, seconds, flagged = [], [], [], 0
    for text in originals:
        t0 = time.perf_counter()
        try:
            result = rewrite_report(RewriteReportArgs(report=text))
        except RadagentError as exc:
            return [BenchRow(SECTION, "default-model rewrites", 0.0, "", note=f"skipped: {exc.message}")]
        seconds.append(time.perf_counter() - t0)
        grades.append(result.grade)
        orig_grades.append(result.original_grade)
        flagged += any(f.type in FIDELITY for f in result.flags)
    s = summarize(seconds)
    mean_grade = statistics.mean(grades)
    return [BenchRow(SECTION, f"rewrite reading grade (default model, n={len(grades)})", mean_grade, "grade",
                     min(grades), max(grades), baseline="original reports", baseline_median=statistics.mean(orig_grades),
                     ratio=mean_grade / statistics.mean(orig_grades), target="<= 8", passed=mean_grade <= 8),
            BenchRow(SECTION, "rewrites with remaining fidelity flags", 100 * flagged / len(grades), "%",
                     note="after one checker-driven retry; flags are shown to the user"),
            BenchRow(SECTION, "rewrite latency p50 (CPU)", s.median, "s", s.low, s.high)]


def run(quick: bool) -> list[BenchRow]:
    pairs = _pairs()
    rows = _detection_rows(pairs)
    rows += _timing_rows(pairs, quick)
    if not quick:
        rows += _fallback_rows()
    rows += _grounding_rows()
    rows += _rewrite_rows(pairs, quick)
    return rows
