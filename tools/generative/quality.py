"""Quality and pitfalls of generated images, made measurable.

  - realism / distribution match: FID in the feature space of our own phantom attribute classifier
    (penultimate layer), plus k-NN precision/recall of the feature distributions (precision works
    per sample, so it is meaningful even for a handful of images);
  - mode collapse: mean pairwise MS-SSIM of the samples next to that of real images (collapsed
    generators make samples that look alike, i.e. a higher MS-SSIM than real data);
  - memorization: each sample's nearest-neighbour distance to the training set, flagged as a
    near-copy when closer than real held-out images ever come (the 1st percentile of their NN distance).
The real-data side (train thumbnails, reference features and thresholds) is precomputed once into
`checkpoints/quality-reference.npz` by `radagent train quality-reference`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.metrics.regression import compute_ms_ssim
from scipy import linalg
from torch.nn import functional as F

from agent.errors import ModelUnavailableError
from tools.generative.checkpoints import CHECKPOINT_DIR, log_path, sha256_of

NAME = "quality-reference"
REFERENCE_PATH = CHECKPOINT_DIR / f"{NAME}.npz"
THUMB = 32  # memorization is checked on 32 px thumbnails (near-copies are near at any scale)
MS_SSIM_WEIGHTS = (0.0711, 0.4532, 0.4757)  # the first three standard scales, renormalised for 64 px
KNN_K = 3


def thumbnails(images: torch.Tensor) -> np.ndarray:
    """(N, 1, 64, 64) in [-1, 1] -> (N, 32*32) float32 in [0, 1]."""
    small = F.avg_pool2d((images.float().clamp(-1, 1) + 1) / 2, 64 // THUMB)
    return small.flatten(1).numpy().astype(np.float32)


def pairwise_ms_ssim(images: torch.Tensor, max_pairs: int = 300, seed: int = 0) -> float | None:
    """Mean MS-SSIM over (up to max_pairs random) distinct pairs; None for fewer than two images."""
    n = images.shape[0]
    if n < 2:
        return None
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    if len(pairs) > max_pairs:
        rng = np.random.default_rng(seed)
        pairs = [pairs[k] for k in rng.choice(len(pairs), max_pairs, replace=False)]
    a = (images[[p[0] for p in pairs]].float().clamp(-1, 1) + 1) / 2
    b = (images[[p[1] for p in pairs]].float().clamp(-1, 1) + 1) / 2
    values = compute_ms_ssim(a, b, spatial_dims=2, data_range=1.0, kernel_size=7, weights=MS_SSIM_WEIGHTS)
    return float(torch.nan_to_num(values, nan=0.0).mean())


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """||mu1-mu2||^2 + Tr(C1 + C2 - 2 sqrt(C1 C2)), the FID formula."""
    covmean, _ = linalg.sqrtm(cov1 @ cov2, disp=False)
    if not np.isfinite(covmean).all():
        eps = np.eye(cov1.shape[0]) * 1e-6
        covmean = linalg.sqrtm((cov1 + eps) @ (cov2 + eps))
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(cov1) + np.trace(cov2) - 2 * np.trace(covmean))


def fid(real_features: np.ndarray, fake_features: np.ndarray) -> float:
    return frechet_distance(real_features.mean(0), np.cov(real_features, rowvar=False),
                            fake_features.mean(0), np.cov(fake_features, rowvar=False))


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances (len(a), len(b)) without materialising the difference tensor."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    sq = (a64 ** 2).sum(1)[:, None] + (b64 ** 2).sum(1)[None] - 2 * a64 @ b64.T
    return np.sqrt(np.maximum(sq, 0.0))


def _knn_radius(features: np.ndarray, k: int = KNN_K) -> np.ndarray:
    d = pairwise_distances(features, features)
    return np.sort(d, axis=1)[:, k]  # index 0 is the point itself


def precision_recall(real: np.ndarray, fake: np.ndarray, real_radius: np.ndarray | None = None) -> tuple[np.ndarray, float | None]:
    """Per-sample precision (inside some real sample's k-NN ball) and recall (None for < 2k+1 samples)."""
    real_radius = _knn_radius(real) if real_radius is None else real_radius
    d = pairwise_distances(fake, real)
    inside = (d <= real_radius[None]).any(1)
    recall = None
    if fake.shape[0] > 2 * KNN_K:
        fake_radius = _knn_radius(fake)
        recall = float((d.T <= fake_radius[None]).any(1).mean())
    return inside, recall


# --------------------------------------------------------------------------------- reference data


def build_reference(seed: int = 0, out: Path | None = None, quick: bool = False) -> Path:
    """Precompute the real-data side of every quality figure (needs the attribute classifier)."""
    import json

    from tools.generative import classifier
    from tools.generative.data import load_chest

    out = out or REFERENCE_PATH
    train = load_chest("train", 256 if quick else 4000, seed)
    val = load_chest("val", 128 if quick else 500, seed)
    thumbs = thumbnails(train.images)
    val_thumbs = thumbnails(val.images)
    nn_val = pairwise_distances(val_thumbs, thumbs).min(1)
    real_feats = classifier.features(val.images)
    _, clf_sha = classifier.load_classifier()
    stats = {"real_ms_ssim": pairwise_ms_ssim(val.images[:200]),
             "nn_copy_threshold": float(np.percentile(nn_val, 1)), "nn_val_median": float(np.median(nn_val)),
             "train_n": len(train), "val_n": len(val), "classifier_sha256": clf_sha, "seed": seed}
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, train_thumbs=(thumbs * 255).round().astype(np.uint8),
                        real_features=real_feats.astype(np.float32), stats=json.dumps(stats))
    log_path(out.with_suffix(".pt")).write_text(json.dumps(stats) + "\n")
    return out


@lru_cache(maxsize=1)
def load_reference() -> dict[str, Any]:
    import json

    from tools.generative import classifier

    if not REFERENCE_PATH.is_file():
        raise ModelUnavailableError("The quality reference data is missing.",
                                    "Run `radagent train quality-reference` to build it.")
    try:
        data = np.load(REFERENCE_PATH)
        ref = {"train_thumbs": data["train_thumbs"].astype(np.float32) / 255.0,
               "real_features": data["real_features"].astype(np.float64),
               **json.loads(str(data["stats"]))}
    except Exception as exc:
        raise ModelUnavailableError(f"The quality reference data is unreadable: {exc}.",
                                    "Run `radagent train quality-reference` to rebuild it.") from exc
    if ref.get("classifier_sha256") != classifier.load_classifier()[1]:
        raise ModelUnavailableError("The quality reference was built with another attribute classifier.",
                                    "Run `radagent train quality-reference` to rebuild it.")
    ref["real_radius"] = _knn_radius(ref["real_features"])
    ref["sha256"] = sha256_of(REFERENCE_PATH)
    return ref


def assess(images: torch.Tensor, fid_min_n: int = 32) -> dict[str, Any]:
    """Every quality figure for a batch of generated images (model space, (N, 1, 64, 64))."""
    from tools.generative import classifier

    ref = load_reference()
    feats = classifier.features(images)
    inside, recall = precision_recall(ref["real_features"], feats, ref["real_radius"])
    thumbs = thumbnails(images)
    nn = pairwise_distances(thumbs, ref["train_thumbs"]).min(1)
    copies = nn < ref["nn_copy_threshold"]
    diversity = pairwise_ms_ssim(images)
    collapse = diversity is not None and diversity > ref["real_ms_ssim"] + 0.1
    n = images.shape[0]
    return {
        "fid": round(fid(ref["real_features"], feats), 3) if n >= fid_min_n else None,
        "fid_note": "" if n >= fid_min_n else f"FID needs at least {fid_min_n} samples; see `radagent bench`.",
        "precision": round(float(inside.mean()), 3),
        "recall": None if recall is None else round(recall, 3),
        "realistic": [bool(v) for v in inside],
        "diversity_ms_ssim": None if diversity is None else round(diversity, 4),
        "real_ms_ssim": round(ref["real_ms_ssim"], 4),
        "mode_collapse_suspected": bool(collapse),
        "nn_distance": [round(float(v), 4) for v in nn],
        "nn_copy_threshold": round(ref["nn_copy_threshold"], 4),
        "near_copies": int(copies.sum()),
        "memorized": [bool(v) for v in copies],
    }


def kid(real_features: np.ndarray, fake_features: np.ndarray) -> float:
    """Kernel Inception Distance (unbiased MMD^2, cubic polynomial kernel): usable with few samples."""
    d = real_features.shape[1]

    def k(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a @ b.T / d + 1.0) ** 3

    m, n = len(real_features), len(fake_features)
    krr, kff, krf = k(real_features, real_features), k(fake_features, fake_features), k(real_features, fake_features)
    return float((krr.sum() - np.trace(krr)) / (m * (m - 1)) + (kff.sum() - np.trace(kff)) / (n * (n - 1))
                 - 2 * krf.mean())
