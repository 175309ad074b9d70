"""`detect_anomaly`: where two generative models, asked for a lesion-free chest, cannot give the image back.

Two healthy reconstructions of the image:
  - the conditional VAE, encoded and decoded as class 'no lesion' (one pass, smooth);
  - the diffusion model, noised part of the way (t = T_START) and denoised with DDIM as
    'no lesion', averaged over a few noise draws (AnoDDPM-style).
Both also fail on healthy anatomy (rib edges, lung borders), so the raw error is a poor score.
Each model's signed error (image - reconstruction; nodules are denser, so brighter) is therefore
z-scored per pixel against a healthy atlas: the mean and standard deviation of that error over
lesion-free training phantoms. The two z-maps are summed, lightly smoothed, and read only inside
the lung region where nodules occur (the atlas's nodule-frequency map from training labels).
The image score is the largest value there. `radagent train anomaly-calibration` builds the
atlas and picks the operating threshold on validation phantoms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import ndimage

from agent.errors import ModelUnavailableError
from tools.generative.checkpoints import CHECKPOINT_DIR, log_path, sha256_of
from tools.generative.schemas import DetectAnomalyArgs
from tools.schemas import Artifact, Flag, ToolResult

T_START = 300
STEPS = 10
DRAWS = 2
SMOOTH_PX = 0.7
REGION_MIN_FREQUENCY = 0.002  # nodule-frequency map (smoothed) above this: where nodules occur
SD_FLOOR = 0.05  # fraction of the mean std added to every pixel's std: no division by ~0
ATLAS_N = 512  # lesion-free training phantoms per model
CALIBRATION_PATH = CHECKPOINT_DIR / "anomaly-calibration.json"
ATLAS_PATH = CHECKPOINT_DIR / "anomaly-atlas.npz"
RETRAIN = "Run `radagent train anomaly-calibration` to build it."


class DetectAnomalyResult(ToolResult):
    anomaly_score: float = 0.0
    threshold: float | None = None
    anomalous: bool | None = None
    peak_xy: tuple[int, int] | None = None  # (x, y) on the original grid
    map: str = ""
    dicom: str = ""
    checkpoint_sha256: str = ""


@dataclass
class Atlas:
    """Per-pixel healthy statistics of each model's reconstruction error, and where to look."""

    vae_mean: np.ndarray
    vae_std: np.ndarray
    ddpm_mean: np.ndarray
    ddpm_std: np.ndarray
    region: np.ndarray  # bool (64, 64)
    stats: dict[str, Any]


@torch.no_grad()
def vae_healthy(x: torch.Tensor) -> torch.Tensor:
    """The VAE's 'no lesion' reconstruction: encode and decode the posterior mean as class 0."""
    from tools.generative.vae import load_vae

    net, _, _ = load_vae()
    out = []
    for i in range(0, x.shape[0], 256):
        chunk = x[i:i + 256]
        healthy = torch.zeros(chunk.shape[0], dtype=torch.long)
        mu, _ = net.encode(chunk, healthy)
        out.append(net.decode(mu, healthy))
    return torch.cat(out)


@torch.no_grad()
def error_maps(x: torch.Tensor, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Signed errors (image - healthy reconstruction), (N, 64, 64) each: VAE, diffusion."""
    from tools.generative import diffusion

    dm = diffusion.load_diffusion()
    vae_err = (x - vae_healthy(x))[:, 0].numpy()
    ddpm = torch.cat([diffusion.healthy_reconstruction(dm, x[i:i + 32], t_start=T_START, steps=STEPS, draws=DRAWS,
                                                       seed=seed) for i in range(0, x.shape[0], 32)])
    return vae_err, (x - ddpm)[:, 0].numpy()


def _mean_std(errors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    std = errors.std(0)
    return errors.mean(0).astype(np.float32), (std + SD_FLOOR * std.mean() + 1e-4).astype(np.float32)


def z_maps(vae_err: np.ndarray, ddpm_err: np.ndarray, atlas: Atlas) -> np.ndarray:
    """Summed per-pixel z-scores of both models' errors, smoothed; zero outside the nodule region."""
    z = (vae_err - atlas.vae_mean) / atlas.vae_std + (ddpm_err - atlas.ddpm_mean) / atlas.ddpm_std
    z = np.stack([ndimage.gaussian_filter(m, SMOOTH_PX) for m in z])
    return np.where(atlas.region[None], z, 0.0).astype(np.float32)


def anomaly_maps(x: torch.Tensor, seed: int = 0, atlas: Atlas | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(z-maps (N, 64, 64), scores (N,)) for model-space images (N, 1, 64, 64)."""
    atlas = atlas or load_atlas()
    maps = z_maps(*error_maps(x, seed), atlas)
    return maps, maps[:, atlas.region].max(1)


def _model_shas() -> dict[str, str]:
    from tools.generative.diffusion import load_diffusion
    from tools.generative.vae import load_vae

    return {"vae_sha256": load_vae()[1], "diffusion_sha256": load_diffusion().sha256}


@lru_cache(maxsize=1)
def _load_atlas(path: str) -> Atlas:
    file = Path(path)
    if not file.is_file():
        raise ModelUnavailableError(f"The anomaly atlas is missing ({file}).", RETRAIN)
    try:
        data = np.load(file)
        atlas = Atlas(vae_mean=data["vae_mean"], vae_std=data["vae_std"], ddpm_mean=data["ddpm_mean"],
                      ddpm_std=data["ddpm_std"], region=data["region"].astype(bool), stats=json.loads(str(data["stats"])))
    except Exception as exc:  # any unreadable file is the same problem for the user
        raise ModelUnavailableError(f"The anomaly atlas is unreadable ({file}: {exc}).", RETRAIN) from exc
    return atlas


def load_atlas(path: Path | None = None) -> Atlas:
    """The healthy atlas; refused when it was built for other VAE/diffusion checkpoints."""
    atlas = _load_atlas(str(path or ATLAS_PATH))
    shas = _model_shas()
    if any(atlas.stats.get(k) != v for k, v in shas.items()):
        raise ModelUnavailableError("The anomaly atlas was built with other VAE/diffusion checkpoints.", RETRAIN)
    return atlas


@lru_cache(maxsize=1)
def calibration() -> dict[str, Any] | None:
    """The operating threshold chosen on validation phantoms, if calibrated."""
    if not CALIBRATION_PATH.is_file():
        return None
    try:
        return json.loads(CALIBRATION_PATH.read_text())
    except (OSError, ValueError):
        return None


def build_atlas(seed: int = 0, n: int = ATLAS_N) -> Atlas:
    """Healthy error statistics from lesion-free TRAINING phantoms and the nodule region from
    the training labels (never the validation or test split)."""
    from tools.generative.data import load_chest

    train = load_chest("train", 4000, seed)
    frequency = ndimage.gaussian_filter(train.nodule_masks[:, 0].float().mean(0).numpy(), 1.5)
    healthy = train.images[train.presence < 0.5][:n]
    vae_err, ddpm_err = error_maps(healthy, seed)
    vae_mean, vae_std = _mean_std(vae_err)
    ddpm_mean, ddpm_std = _mean_std(ddpm_err)
    stats = {"atlas_n": int(healthy.shape[0]), "t_start": T_START, "steps": STEPS, "draws": DRAWS,
             "smooth_px": SMOOTH_PX, "region_min_frequency": REGION_MIN_FREQUENCY, "seed": seed, **_model_shas()}
    return Atlas(vae_mean, vae_std, ddpm_mean, ddpm_std, frequency > REGION_MIN_FREQUENCY, stats)


def calibrate(seed: int = 0, out: Path | None = None, quick: bool = False) -> Path:
    """Build the healthy atlas, then pick the score threshold on validation phantoms (Youden's J)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    from tools.generative.data import load_chest

    out = out or CALIBRATION_PATH
    atlas_path = out.with_name(ATLAS_PATH.name)
    atlas = build_atlas(seed, 64 if quick else ATLAS_N)
    val = load_chest("val", 64 if quick else 300, seed)
    scores = np.concatenate([anomaly_maps(val.images[i:i + 32], seed, atlas)[1] for i in range(0, len(val), 32)])
    labels = val.presence.numpy()
    fpr, tpr, thr = roc_curve(labels, scores)
    best = int(np.argmax(tpr - fpr))
    result = {"threshold": float(thr[best]), "val_auroc": float(roc_auc_score(labels, scores)),
              "val_tpr": float(tpr[best]), "val_fpr": float(fpr[best]), "val_n": len(val), **atlas.stats}
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(atlas_path, vae_mean=atlas.vae_mean, vae_std=atlas.vae_std, ddpm_mean=atlas.ddpm_mean,
                        ddpm_std=atlas.ddpm_std, region=atlas.region, stats=json.dumps(atlas.stats))
    result["atlas_sha256"] = sha256_of(atlas_path)
    out.write_text(json.dumps(result, indent=2) + "\n")
    log_path(out.with_suffix(".pt")).write_text(json.dumps(result) + "\n")
    calibration.cache_clear()
    _load_atlas.cache_clear()
    return out


def detect_anomaly(args: DetectAnomalyArgs) -> DetectAnomalyResult:
    """Anomaly map and score for one chest radiograph; the map is written as a SYNTHETIC derived image."""
    from tools.generative.prep import prepare
    from tools.imaging.derived import write_derived
    from tools.imaging.load import load_image

    loaded = load_image(args.image)
    prep = prepare(loaded, "detect_anomaly")
    atlas = load_atlas()
    maps, scores = anomaly_maps(prep.x, atlas=atlas)
    sha = _model_shas()["diffusion_sha256"]
    score = float(scores[0])
    cal = calibration()
    atlas_sha = sha256_of(ATLAS_PATH)
    threshold = cal["threshold"] if cal and cal.get("atlas_sha256") == atlas_sha else None
    h, w = prep.original.shape
    full = torch.nn.functional.interpolate(torch.from_numpy(maps[:1, None]), size=(h, w), mode="bilinear",
                                           align_corners=False)[0, 0].numpy()
    peak_y, peak_x = np.unravel_index(int(full.argmax()), full.shape)
    heat = (np.clip(full / max(score, 1e-6), 0, 1) * 1000.0).astype(np.float32)  # 0-1000: integer-scale display
    out_path = Path(args.out).expanduser() if args.out else None
    derived = write_derived(
        heat, tool="detect_anomaly", model="vae + ddpm healthy reconstructions, z-scored against a healthy atlas",
        source=loaded, seed=0, checkpoint_sha256=sha,
        description="Anomaly map: reconstruction error in healthy-atlas z-scores (bright = unexplained)",
        out_dir=out_path.parent if out_path else None, spacing_mm=loaded.spacing_mm,
        extra_provenance={"t_start": T_START, "steps": STEPS, "draws": DRAWS, "score": round(score, 4),
                          "vae_sha256": atlas.stats.get("vae_sha256"), "atlas_sha256": atlas_sha})
    png = Path(derived.png_path)
    if out_path is not None and out_path.suffix.lower() == ".png" and out_path != png:
        import shutil

        shutil.copyfile(png, out_path)
        png = out_path
    flags = list(prep.flags)
    if threshold is None:
        flags.append(Flag(type="warning", detail="No calibrated threshold for this atlas; "
                                                 "run `radagent train anomaly-calibration`."))
    anomalous = None if threshold is None else score >= threshold
    verdict = "" if anomalous is None else (" - above" if anomalous else " - below") + f" the threshold {threshold:.2f}"
    summary = (f"Anomaly score {score:.2f} (healthy-atlas z-score){verdict}; the brightest spot is at x={peak_x}, "
               f"y={peak_y}. Unsupervised screening aid on models trained on phantoms; an expert must review.")
    return DetectAnomalyResult(
        summary=summary, flags=flags, anomaly_score=round(score, 4), threshold=threshold, anomalous=anomalous,
        peak_xy=(int(peak_x), int(peak_y)), map=str(png), dicom=str(derived.dicom_path), checkpoint_sha256=sha,
        artifacts=[Artifact(kind="overlay", path=str(png), description="anomaly map"),
                   Artifact(kind="dicom", path=str(derived.dicom_path), description="anomaly map")])
