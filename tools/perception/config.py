"""Perception settings: which segmenter backend, SAM-family checkpoint paths (SAM, MedSAM, SAM 2), a multimodal describer.

Read from the `[perception]` table of the radagent TOML file and `RADAGENT_PERCEPTION__*`
environment variables (environment wins), so a site can point radagent at its own SAM or
MedSAM weights without code changes. Tool arguments override both.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

BackendName = Literal["default", "classical", "sam", "medsam"]


class PerceptionSettings(BaseModel):
    """Segmenter and describer configuration."""

    segmenter_backend: BackendName = "default"
    sam_checkpoint: Path | None = None  # HF SamModel/Sam2Model folder (config.json + weights) or an original SAM .pth
    medsam_checkpoint: Path | None = None  # MedSAM (SAM ViT-B architecture, box prompts only)
    vlm_model: Path | None = None  # llama.cpp multimodal GGUF (LLaVA-style)
    vlm_mmproj: Path | None = None  # its CLIP projector GGUF
    vlm_chat_format: str = "llava-1-5"  # llama_cpp chat handler name
    vlm_n_ctx: int = 4096


_ENV_PREFIX = "RADAGENT_PERCEPTION__"


def get_perception_settings() -> PerceptionSettings:
    """Defaults, then the TOML `[perception]` table, then the environment (read on every call)."""
    from agent.settings import config_file_path

    values: dict[str, object] = {}
    path = config_file_path()
    if path is not None and path.is_file():
        with path.open("rb") as handle:
            table = tomllib.load(handle).get("perception", {})
        if isinstance(table, dict):
            values.update(table)
    for key in PerceptionSettings.model_fields:
        env = os.environ.get(_ENV_PREFIX + key.upper())
        if env is not None and env != "":
            values[key] = env
    return PerceptionSettings.model_validate(values)
