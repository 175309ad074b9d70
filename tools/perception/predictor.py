"""Prompt -> full-resolution mask with the embedded segmenter: find the extent, then a zoomed pass.

A box gives the extent directly. Points are looked at in windows of several sizes centred on them;
each proposes an extent, whose box seeds a zoomed pass, and the jointly most confident one wins.

Encoder outputs are cached per (pixels, window), so a further prompt on the same image reuses the
whole-image embedding, and a prompt in the same window reuses that window's embedding too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tools.perception.cache import EmbeddingCache
from tools.perception.preprocess import pixel_hash
from tools.perception.prompting import Prompt
from tools.perception.tinysam import BOX_BR, BOX_TL, TinySam
from tools.perception.zoom import Crop, extract, paste

WINDOW_FRACTIONS = (0.15, 0.3, 0.6, 1.0)  # windows tried around a point, as shares of the longer side


@dataclass
class Prediction:
    logits: np.ndarray  # (H, W) full-resolution logits
    score: float  # predicted IoU of the chosen mask
    coarse_score: float | None = None  # predicted IoU of the window pass that found the extent (points)


class TinySamPredictor:
    def __init__(self, model: TinySam, *, device: str = "cpu", cache: EmbeddingCache | None = None,
                 model_key: str = "tiny_sam") -> None:
        self.model = model.eval()
        self.device = device
        self.cache = cache or EmbeddingCache(max_items=16)
        self.model_key = model_key
        self.encoder_calls = 0

    def _features(self, image: np.ndarray, image_key: str, crop: Crop):
        def compute():
            self.encoder_calls += 1
            with torch.no_grad():
                return self.model.encode(extract(image, crop, self.model.cfg.image_size).to(self.device))

        return self.cache.get_or_compute(self.model_key, f"{image_key}@{crop.key()}", compute)

    def _decode(self, image: np.ndarray, image_key: str, crop: Crop, prompt: Prompt, multimask: bool):
        size = self.model.cfg.image_size
        coords, labels = [crop.to_crop(prompt.points, size).reshape(-1, 2)], [prompt.labels.reshape(-1)]
        if prompt.box is not None:
            x0, y0, x1, y1 = prompt.box
            coords.append(crop.to_crop(np.array([[x0, y0], [x1, y1]]), size))
            labels.append(np.array([BOX_TL, BOX_BR]))
        points = torch.from_numpy(np.concatenate(coords).astype(np.float32))[None].to(self.device)
        lab = torch.from_numpy(np.concatenate(labels).astype(np.int64))[None].to(self.device)
        with torch.no_grad():
            masks, iou = self.model.decode(self._features(image, image_key, crop), points, lab)
        index = int(iou[0, 1:].argmax()) + 1 if multimask else 0
        return masks[0, index].cpu(), float(iou[0, index].clamp(0, 1))

    def _point_candidates(self, image: np.ndarray, key: str, prompt: Prompt) -> list[tuple[float, np.ndarray, float]]:
        """(window score, box, window score) of the structure under the points, one per window size."""
        height, width = image.shape
        cx, cy = prompt.positive_points.mean(axis=0)
        longest = max(height, width)
        found = []
        for fraction in WINDOW_FRACTIONS:
            crop = Crop(float(cx) + 0.5, float(cy) + 0.5, fraction * longest) if fraction < 1 else Crop.whole(height, width)
            logits, score = self._decode(image, key, crop, prompt, multimask=prompt.kind == "point")
            mask = paste(logits, crop, height, width) > 0
            if mask.any():
                rows, cols = np.nonzero(mask)
                found.append((score, np.array([cols.min(), rows.min(), cols.max(), rows.max()], np.float32)))
        return found

    def predict(self, image: np.ndarray, prompt: Prompt) -> Prediction:
        height, width = image.shape
        key = pixel_hash(image)
        if prompt.box is not None:
            return self._refine(image, key, prompt, prompt.box)
        # Points only: each window proposes an extent; keep the one whose window and zoomed passes
        # are jointly most confident (predicted IoUs), as SAM picks among its candidate masks.
        best: Prediction | None = None
        best_value = -1.0
        for window_score, box in self._point_candidates(image, key, prompt):
            candidate = self._refine(image, key, prompt, box)
            value = window_score * candidate.score
            if value > best_value:
                best, best_value = Prediction(candidate.logits, candidate.score, window_score), value
        if best is None:
            return Prediction(np.full((height, width), -20.0, np.float32), 0.0, 0.0)
        return best

    def _refine(self, image: np.ndarray, key: str, prompt: Prompt, box: np.ndarray) -> Prediction:
        height, width = image.shape
        crop = Crop.around_box(box, height, width)
        refined = Prompt(prompt.points, prompt.labels, np.asarray(box, np.float32))
        logits, score = self._decode(image, key, crop, refined, multimask=False)
        return Prediction(paste(logits, crop, height, width), score)
