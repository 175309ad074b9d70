"""Which torch device the imaging tools use: CUDA when present, else CPU, overridable in settings."""

from __future__ import annotations


def pick_device() -> str:
    """`imaging.device` from settings; `auto` picks CUDA when torch sees a GPU."""
    import torch

    from agent.settings import get_settings

    choice = get_settings().imaging.device
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return choice
