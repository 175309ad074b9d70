"""Prompt -> full-resolution mask with the embedded segmenter: whole-image pass, then zoomed pass.

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


@dataclass
class Prediction:
    logits: np.ndarray  # (H, W) full-resolution logits
    score: float  # predicted IoU of the chosen mask
    coarse_score: float | None = None  # predicted IoU of the whole-image pass (point prompts)


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

    def predict(self, image: np.ndarray, prompt: Prompt) -> Prediction:
        height, width = image.shape
        key = pixel_hash(image)
        coarse_score = None
        box = prompt.box
        if box is None:  # a point prompt: find the extent on the whole image first
            whole = Crop.whole(height, width)
            logits, coarse_score = self._decode(image, key, whole, prompt, multimask=prompt.kind == "point")
            coarse = paste(logits, whole, height, width) > 0
            if not coarse.any():
                return Prediction(np.full((height, width), -20.0, np.float32), coarse_score, coarse_score)
            rows, cols = np.nonzero(coarse)
            box = np.array([cols.min(), rows.min(), cols.max(), rows.max()], np.float32)
        crop = Crop.around_box(box, height, width)
        refined = Prompt(prompt.points, prompt.labels, np.asarray(box, np.float32))
        logits, score = self._decode(image, key, crop, refined, multimask=False)
        return Prediction(paste(logits, crop, height, width), score, coarse_score)
