"""The one interface every segmentation backend implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from tools.perception.prompting import Prompt


@dataclass
class BackendOutput:
    """A full-resolution boolean mask, a confidence in [0, 1] and what the backend wants said."""

    mask: np.ndarray
    score: float
    warnings: list[str] = field(default_factory=list)
    model: str = ""  # name/version for provenance
    checkpoint_sha256: str | None = None


class SegmentationBackend(Protocol):
    """`segment(image, prompt)`: `image` is 2-D float in [0, 1] at full resolution, prompt in its pixels."""

    name: str

    def segment(self, image: np.ndarray, prompt: Prompt) -> BackendOutput: ...
