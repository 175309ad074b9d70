"""The embedded default: the small SAM-style segmenter trained on phantoms (`tiny_sam.pt`).

Image embeddings are cached per image (pixel hash) and window, so a further prompt on the same
image runs only the decoder (and, for a new window, the small encoder on that crop). A lone point
is ambiguous, so the whole-image pass takes the best of three candidate masks by predicted IoU,
as SAM does; the zoomed pass then refines the chosen structure at the model's full resolution.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.perception.backends.base import BackendOutput
from tools.perception.cache import EmbeddingCache
from tools.perception.checkpoints import load_checkpoint
from tools.perception.predictor import TinySamPredictor
from tools.perception.prompting import Prompt
from tools.perception.tinysam import TinySam, TinySamConfig

NAME = "tiny_sam"
CACHE = EmbeddingCache(max_items=16)


class EmbeddedBackend:
    name = "default"

    def __init__(self, checkpoint: Path | None = None, device: str | None = None) -> None:
        from tools.device import pick_device

        ckpt = load_checkpoint(NAME, checkpoint)
        self.cfg = TinySamConfig.from_dict(ckpt.config)
        model = TinySam(self.cfg)
        model.load_state_dict(ckpt.state_dict)
        self.device = device or pick_device()
        self.sha256 = ckpt.sha256
        self.metrics = ckpt.metrics
        self.predictor = TinySamPredictor(model.to(self.device), device=self.device, cache=CACHE,
                                          model_key=f"{NAME}:{self.sha256}")

    @property
    def encoder_calls(self) -> int:
        return self.predictor.encoder_calls

    def segment(self, image: np.ndarray, prompt: Prompt) -> BackendOutput:
        pred = self.predictor.predict(image, prompt)
        return BackendOutput(mask=pred.logits > 0, score=pred.score,
                             model=f"{NAME} (SAM-style, {self.cfg.image_size} px, zoomed)", checkpoint_sha256=self.sha256)
