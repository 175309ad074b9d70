"""`detect_anomaly`: where the diffusion model, asked for a lesion-free chest, cannot give the image back.

The image is noised part of the way (t = T_START) and denoised with DDIM conditioned on 'no lesion',
for a few noise draws. Healthy anatomy survives that round trip; a lesion does not, so it stands out
in |image - reconstruction|, smoothed at nodule scale. The score is the map's maximum.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import Field
from scipy import ndimage

from tools.generative.checkpoints import CHECKPOINT_DIR
from tools.generative.schemas import DetectAnomalyArgs
from tools.schemas import Artifact, Flag, ToolResult

T_START = 300
STEPS = 10
DRAWS = 2
SMOOTH_PX = 1.0
CALIBRATION_PATH = CHECKPOINT_DIR / "anomaly-calibration.json"


class DetectAnomalyResult(ToolResult):
    anomaly_score: float = 0.0
    threshold: float | None = None
    anomalous: bool | None = None
    peak_xy: tuple[int, int] | None = None  # (x, y) on the original grid
    map: str = ""
    dicom: str = ""
    checkpoint_sha256: str = ""


@torch.no_grad()
def anomaly_maps(x: torch.Tensor, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(maps (N, 64, 64) in model-space units, scores (N,)) for model-space images (N, 1, 64, 64)."""
    from tools.generative import diffusion

    dm = diffusion.load_diffusion()
    recon = diffusion.healthy_reconstruction(dm, x, t_start=T_START, steps=STEPS, draws=DRAWS, seed=seed)
    err = (x - recon).abs()[:, 0].numpy()
    maps = np.stack([ndimage.gaussian_filter(e, SMOOTH_PX) for e in err])
    return maps, maps.reshape(len(maps), -1).max(1)


@lru_cache(maxsize=1)
def calibration() -> dict[str, Any] | None:
    """The operating threshold chosen on validation phantoms, if calibrated."""
    if not CALIBRATION_PATH.is_file():
        return None
    try:
        return json.loads(CALIBRATION_PATH.read_text())
    except (OSError, ValueError):
        return None


def calibrate(seed: int = 0, out: Path | None = None, quick: bool = False) -> Path:
    """Pick the score threshold on validation phantoms (Youden's J) and record its AUROC."""
    from sklearn.metrics import roc_auc_score, roc_curve

    from tools.generative.data import load_chest
    from tools.generative.diffusion import load_diffusion

    val = load_chest("val", 64 if quick else 300, seed)
    scores = np.concatenate([anomaly_maps(val.images[i:i + 32])[1] for i in range(0, len(val), 32)])
    labels = val.presence.numpy()
    fpr, tpr, thr = roc_curve(labels, scores)
    best = int(np.argmax(tpr - fpr))
    out = out or CALIBRATION_PATH
    result = {"threshold": float(thr[best]), "val_auroc": float(roc_auc_score(labels, scores)),
              "val_tpr": float(tpr[best]), "val_fpr": float(fpr[best]), "val_n": len(val),
              "t_start": T_START, "steps": STEPS, "draws": DRAWS, "diffusion_sha256": load_diffusion().sha256}
    out.write_text(json.dumps(result, indent=2) + "\n")
    calibration.cache_clear()
    return out


def detect_anomaly(args: DetectAnomalyArgs) -> DetectAnomalyResult:
    """Anomaly map and score for one chest radiograph; the map is written as a SYNTHETIC derived image."""
    from tools.generative.diffusion import load_diffusion
    from tools.generative.prep import prepare
    from tools.imaging.derived import write_derived
    from tools.imaging.load import load_image

    loaded = load_image(args.image)
    prep = prepare(loaded, "detect_anomaly")
    maps, scores = anomaly_maps(prep.x)
    sha = load_diffusion().sha256
    score = float(scores[0])
    cal = calibration()
    threshold = cal["threshold"] if cal and cal.get("diffusion_sha256") == sha else None
    h, w = prep.original.shape
    full = torch.nn.functional.interpolate(torch.from_numpy(maps[:1, None]), size=(h, w), mode="bilinear",
                                           align_corners=False)[0, 0].numpy()
    peak_y, peak_x = np.unravel_index(int(full.argmax()), full.shape)
    heat = (np.clip(full / max(score, 1e-6), 0, 1) * 1000.0).astype(np.float32)  # 0-1000: integer-scale display
    out_path = Path(args.out).expanduser() if args.out else None
    derived = write_derived(
        heat, tool="detect_anomaly", model="ddpm (partial-noise healthy reconstruction)", source=loaded,
        seed=0, checkpoint_sha256=sha, description="Anomaly map: reconstruction error (bright = unexplained)",
        out_dir=out_path.parent if out_path else None, spacing_mm=loaded.spacing_mm,
        extra_provenance={"t_start": T_START, "steps": STEPS, "draws": DRAWS, "score": round(score, 4)})
    png = Path(derived.png_path)
    if out_path is not None and out_path.suffix.lower() == ".png" and out_path != png:
        import shutil

        shutil.copyfile(png, out_path)
        png = out_path
    flags = list(prep.flags)
    if threshold is None:
        flags.append(Flag(type="warning", detail="No calibrated threshold for this checkpoint; "
                                                 "run `radagent train anomaly-calibration`."))
    anomalous = None if threshold is None else score >= threshold
    verdict = "" if anomalous is None else (" - above" if anomalous else " - below") + f" the threshold {threshold:.3f}"
    summary = (f"Anomaly score {score:.3f}{verdict}; the brightest spot is at x={peak_x}, y={peak_y}. "
               "Unsupervised screening aid on a model trained on phantoms; an expert must review.")
    return DetectAnomalyResult(
        summary=summary, flags=flags, anomaly_score=round(score, 4), threshold=threshold, anomalous=anomalous,
        peak_xy=(int(peak_x), int(peak_y)), map=str(png), dicom=str(derived.dicom_path), checkpoint_sha256=sha,
        artifacts=[Artifact(kind="overlay", path=str(png), description="anomaly map"),
                   Artifact(kind="dicom", path=str(derived.dicom_path), description="anomaly map")])
