"""Perception benchmark, on held-out (test split) phantoms at 256 px.

- Dice of the embedded default segmenter with a tight box and with one central click, against the
  classical random-walker baseline on the same prompts (targets: box >= 0.90, point >= 0.80, and
  default - classical >= 0.05 Dice).
- Latency per prompt at 256 px on CPU: the first prompt on an image (encoder + decoder) and a
  further prompt with the image embedding cached (target: median <= 0.5 s), against the baseline;
  and for one click, which looks in four click-centred windows before its zoomed pass, a first
  click and a further click elsewhere on the same image (whole-image embedding cached).
- Describer findings: lesion presence and side accuracy of the finding classifier on chest
  phantoms (target >= 90%), against always answering the majority class.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from bench.stats import BenchRow

SECTION = "perception"
SIZE = 256
STRUCTURES = {"chest": ("left_lung", "right_lung", "heart", "nodule"), "head": ("brain", "ventricles", "lesion")}


def _cases(n_chest: int, n_head: int) -> list[tuple[np.ndarray, np.ndarray, str]]:
    from tools.perception.phantom_data import chest_masks
    from tools.perception.preprocess import normalize_for_model
    from tools.phantoms.dataset import phantom_split

    cases = []
    for p in phantom_split("chest", "test", n_chest, size=SIZE):
        masks = chest_masks(p)
        image = normalize_for_model(p.image, "CR")
        cases += [(image, masks[s], s) for s in STRUCTURES["chest"] if masks[s].sum() >= 6]
    for p in phantom_split("head", "test", n_head, size=SIZE):
        image = normalize_for_model(p.ct_hu, "CT")
        cases += [(image, np.asarray(p.masks[s], bool), s) for s in STRUCTURES["head"] if p.masks[s].sum() >= 6]
    return cases


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * float((a & b).sum()) / max(float(a.sum() + b.sum()), 1.0)


def _prompts(mask: np.ndarray):
    from scipy import ndimage as ndi

    from tools.perception.prompting import Prompt

    rows, cols = np.nonzero(mask)
    box = Prompt(box=np.array([cols.min(), rows.min(), cols.max(), rows.max()], np.float32))
    dist = ndi.distance_transform_edt(mask)
    y, x = np.unravel_index(int(dist.argmax()), mask.shape)
    point = Prompt(points=np.array([[x, y]], np.float32), labels=np.ones(1, np.int64))
    return {"box": box, "point": point}


def _row(metric: str, ours: list[float], base: list[float], unit: str, target: str, passed: bool,
         note: str = "", baseline: str = "classical random walker") -> BenchRow:
    med, bmed = statistics.median(ours), statistics.median(base)
    return BenchRow(section=SECTION, metric=metric, median=med, unit=unit, low=min(ours), high=max(ours),
                    baseline=baseline, baseline_median=bmed, ratio=(med / bmed) if bmed else None,
                    target=target, passed=passed, note=note)


def run(quick: bool) -> list[BenchRow]:
    from tools.perception.backends import get_backend

    default, warnings = get_backend("default")
    if default.name != "default":
        raise RuntimeError("the embedded segmenter checkpoint is missing: " + "; ".join(warnings))
    classical, _ = get_backend("classical")
    cases = _cases(4 if quick else 16, 2 if quick else 6)
    dice: dict[tuple[str, str], list[float]] = {}
    per_structure: dict[tuple[str, str], list[float]] = {}
    for image, mask, name in cases:
        for kind, prompt in _prompts(mask).items():
            for backend in (default, classical):
                score = _dice(backend.segment(image, prompt).mask, mask)
                dice.setdefault((backend.name, kind), []).append(score)
                if backend is default:
                    per_structure.setdefault((kind, name), []).append(score)
    rows = []
    for kind, target in (("box", 0.90), ("point", 0.80)):
        ours, base = dice[("default", kind)], dice[("classical", kind)]
        mean, bmean = float(np.mean(ours)), float(np.mean(base))
        rows.append(_row(f"Dice, {kind} prompt (default segmenter)", ours, base, "Dice", f">= {target:.2f} (mean)",
                         mean >= target, note=f"mean {mean:.3f} vs classical {bmean:.3f}; n={len(ours)}"))
        rows.append(BenchRow(section=SECTION, metric=f"Dice gain over classical, {kind} prompt", median=mean - bmean,
                             unit="Dice", target=">= 0.05", passed=(mean - bmean) >= 0.05,
                             note="difference of means, same prompts, same images"))
    for kind in ("box", "point"):
        means = {name: float(np.mean(v)) for (k, name), v in sorted(per_structure.items()) if k == kind}
        rows.append(BenchRow(section=SECTION, metric=f"Dice by structure, {kind} prompt (default)",
                             median=statistics.median(means.values()), unit="Dice",
                             note="; ".join(f"{name} {value:.3f}" for name, value in means.items())))
    rows += _latency(default, classical, cases[: 6 if quick else 20])
    rows += _findings(40 if quick else 200)
    return rows


def _latency(default, classical, cases) -> list[BenchRow]:
    from tools.perception.backends.embedded import CACHE

    first, cached, base = [], [], []
    click_first, click_further, click_base = [], [], []
    for image, mask, _ in cases:
        prompts = _prompts(mask)
        CACHE.clear()
        start = time.perf_counter()
        default.segment(image, prompts["point"])
        click_first.append(time.perf_counter() - start)
        other = _prompts(np.roll(mask, (7, 7), axis=(0, 1)))["point"]  # a different click, same image
        start = time.perf_counter()
        default.segment(image, other)
        click_further.append(time.perf_counter() - start)
        start = time.perf_counter()
        classical.segment(image, prompts["point"])
        click_base.append(time.perf_counter() - start)
        CACHE.clear()
        start = time.perf_counter()
        default.segment(image, prompts["box"])
        first.append(time.perf_counter() - start)
        start = time.perf_counter()
        default.segment(image, prompts["box"])  # same image and window: decoder only
        cached.append(time.perf_counter() - start)
        start = time.perf_counter()
        classical.segment(image, prompts["box"])
        base.append(time.perf_counter() - start)
    return [
        _row("latency per prompt at 256 px, first prompt (encoder + decoder)", first, base, "s", "<= 0.5 s",
             statistics.median(first) <= 0.5),
        _row("latency per prompt at 256 px, embedding cached", cached, base, "s", "<= 0.5 s",
             statistics.median(cached) <= 0.5),
        _row("latency, one click at 256 px, first on the image", click_first, click_base, "s", "<= 0.5 s",
             statistics.median(click_first) <= 0.5),
        _row("latency, one click at 256 px, further click (whole-image embedding cached)", click_further, click_base,
             "s", "<= 0.5 s", statistics.median(click_further) <= 0.5),
    ]


def _findings(n: int) -> list[BenchRow]:
    """The describer's lesion facts come from `analyse` (localiser + per-lung lesion classifier)."""
    from tools.perception.analysis import analyse
    from tools.perception.preprocess import normalize_for_model
    from tools.phantoms.dataset import phantom_split

    presence, side, strict, truth_present, truth_side = [], [], [], [], []
    for p in phantom_split("chest", "test", n, size=SIZE):
        best = analyse(normalize_for_model(p.image, "CR"), "chest").best_lesion
        present = bool(p.labels["lesion_present"]) and bool(p.masks["nodule"].any())
        said_present = best is not None and best.prob >= 0.5
        presence.append(said_present == present)
        truth_present.append(present)
        if present and p.labels["lesion_side"] in ("left", "right"):
            strict.append(said_present and best.side == p.labels["lesion_side"])
            if said_present:  # side is judged where the lesion was found
                side.append(best.side == p.labels["lesion_side"])
                truth_side.append(p.labels["lesion_side"])
    majority_presence = max(np.mean(truth_present), 1 - np.mean(truth_present))
    majority_side = max(truth_side.count("left"), truth_side.count("right")) / max(len(truth_side), 1)
    acc_p = float(np.mean(presence))
    acc_s = float(np.mean(side)) if side else float("nan")
    return [
        BenchRow(section=SECTION, metric="describer: lesion presence accuracy (chest phantoms)", median=acc_p, unit="fraction",
                 baseline="majority class", baseline_median=float(majority_presence),
                 ratio=acc_p / majority_presence if majority_presence else None, target=">= 0.90", passed=acc_p >= 0.9,
                 note=f"n={len(presence)}"),
        BenchRow(section=SECTION, metric="describer: lesion side accuracy (lesions found)",
                 median=acc_s, unit="fraction", baseline="majority side", baseline_median=float(majority_side),
                 ratio=acc_s / majority_side if majority_side else None, target=">= 0.90", passed=acc_s >= 0.9,
                 note=f"n={len(side)}; counting missed lesions as wrong: {np.mean(strict):.3f} (n={len(strict)})"),
    ]
