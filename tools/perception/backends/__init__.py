"""Segmentation backends behind one interface: the embedded default, SAM-family checkpoints, classical."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from agent.errors import InvalidInputError, ModelUnavailableError
from tools.perception.backends.base import BackendOutput, SegmentationBackend

__all__ = ["BackendOutput", "SegmentationBackend", "get_backend"]

BACKENDS = ("default", "classical", "sam", "medsam")


def get_backend(name: str | None = None, checkpoint: str | Path | None = None) -> tuple[SegmentationBackend, list[str]]:
    """The backend to use and any warnings (e.g. a fallback to the classical baseline).

    `name` None means the configured default. `checkpoint` points the default or a SAM backend at
    other weights. The embedded default falls back to the classical baseline, with a warning, only
    when its checkpoint is missing; an explicitly requested SAM/MedSAM never silently falls back.
    """
    from tools.perception.config import get_perception_settings

    settings = get_perception_settings()
    name = (name or settings.segmenter_backend).lower()
    if name not in BACKENDS:
        raise InvalidInputError(f"Unknown segmentation backend '{name}'.", f"Use one of: {', '.join(BACKENDS)}.")
    if name == "classical":
        return _classical(), []
    if name in ("sam", "medsam"):
        path = checkpoint or (settings.medsam_checkpoint if name == "medsam" else settings.sam_checkpoint)
        if path is None and name == "medsam":
            path = settings.sam_checkpoint
        if path is None:
            raise ModelUnavailableError(
                f"No {name.upper() if name == 'sam' else 'MedSAM'} checkpoint is configured.",
                f"Pass --checkpoint PATH, or set [perception] {name}_checkpoint in radagent.toml "
                f"(or RADAGENT_PERCEPTION__{name.upper()}_CHECKPOINT).",
            )
        return _sam(str(Path(path).expanduser().resolve()), name == "medsam"), []
    try:
        return _embedded(str(Path(checkpoint).resolve()) if checkpoint else None), []
    except ModelUnavailableError as exc:
        if checkpoint:
            raise
        return _classical(), [f"The embedded segmenter is unavailable ({exc.message}); the classical "
                              f"random-walker baseline was used instead. {exc.hint}"]


@lru_cache(maxsize=1)
def _classical():
    from tools.perception.backends.classical import ClassicalBackend

    return ClassicalBackend()


@lru_cache(maxsize=2)
def _embedded(checkpoint: str | None):
    from tools.perception.backends.embedded import EmbeddedBackend

    return EmbeddedBackend(Path(checkpoint) if checkpoint else None)


@lru_cache(maxsize=2)
def _sam(checkpoint: str, medsam: bool):
    from tools.perception.backends.sam import SamBackend

    return SamBackend(Path(checkpoint), medsam=medsam)


def clear_backend_cache() -> None:
    """Forget loaded models (tests, or after retraining a checkpoint)."""
    _embedded.cache_clear()
    _sam.cache_clear()
