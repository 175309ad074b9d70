"""Prompt -> full-resolution mask with the embedded segmenter: find the extent, then a zoomed pass.

A box gives the extent directly. Points are looked at in windows of several sizes centred on them;
each window's candidate masks come with predicted IoUs that count any part of the structure
beyond the window as missed (that is how the model was trained), so a window that cuts the
structure off scores low. The smallest window holding a confident candidate (predicted IoU >=
CONFIDENT_IOU) wins, best candidate first, as it sees the structure at the highest resolution;
without one, the most confident candidate of any window. Its box then seeds the zoomed pass.

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
from tools.perception.zoom import POINT_WINDOW_FRACTIONS, Crop, extract, paste

WINDOW_FRACTIONS = POINT_WINDOW_FRACTIONS  # windows tried around a point, as shares of the longer side
# A window candidate this confident is the structure under the click (chosen on validation phantoms).
CONFIDENT_IOU = 0.5


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

    def _decode_all(self, image: np.ndarray, image_key: str, crop: Crop, prompt: Prompt,
                    tokens: list[int]) -> list[tuple[torch.Tensor, float]]:
        """Crop-frame mask logits and predicted IoU for each of the decoder's mask `tokens`."""
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
        return [(masks[0, k].cpu(), float(iou[0, k].clamp(0, 1))) for k in tokens]

    def _decode(self, image: np.ndarray, image_key: str, crop: Crop, prompt: Prompt, multimask: bool):
        """The single mask (token 0), or the best-scoring of the three candidates for a lone point."""
        found = self._decode_all(image, image_key, crop, prompt, [1, 2, 3] if multimask else [0])
        return max(found, key=lambda item: item[1])

    def _point_candidates(self, image: np.ndarray, key: str, prompt: Prompt) -> list[list[tuple[float, np.ndarray]]]:
        """Per window, smallest first: (predicted IoU, box) of each non-empty candidate mask."""
        height, width = image.shape
        cx, cy = prompt.positive_points.mean(axis=0)
        longest = max(height, width)
        tokens = [1, 2, 3] if prompt.kind == "point" else [0]
        windows = []
        for fraction in WINDOW_FRACTIONS:
            crop = Crop(float(cx) + 0.5, float(cy) + 0.5, fraction * longest) if fraction < 1 else Crop.whole(height, width)
            found = []
            for logits, score in self._decode_all(image, key, crop, prompt, tokens):
                mask = paste(logits, crop, height, width) > 0
                if mask.any():
                    rows, cols = np.nonzero(mask)
                    found.append((score, np.array([cols.min(), rows.min(), cols.max(), rows.max()], np.float32)))
            windows.append(found)
        return windows

    def predict(self, image: np.ndarray, prompt: Prompt) -> Prediction:
        height, width = image.shape
        key = pixel_hash(image)
        if prompt.box is not None:
            return self._refine(image, key, prompt, prompt.box)
        # Points only: the extent comes from the smallest window with a confident candidate.
        windows = self._point_candidates(image, key, prompt)
        everything = [c for found in windows for c in found]
        if not everything:
            return Prediction(np.full((height, width), -20.0, np.float32), 0.0, 0.0)
        confident = next((found for found in windows if any(s >= CONFIDENT_IOU for s, _ in found)), everything)
        window_score, box = max(confident, key=lambda item: item[0])
        refined = self._refine(image, key, prompt, box)
        return Prediction(refined.logits, refined.score, window_score)

    def _refine(self, image: np.ndarray, key: str, prompt: Prompt, box: np.ndarray) -> Prediction:
        height, width = image.shape
        crop = Crop.around_box(box, height, width)
        refined = Prompt(prompt.points, prompt.labels, np.asarray(box, np.float32))
        logits, score = self._decode(image, key, crop, refined, multimask=False)
        return Prediction(paste(logits, crop, height, width), score)
