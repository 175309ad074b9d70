"""Optional multimodal describer: a llama.cpp LLaVA-style model (GGUF + mmproj) the user configures.

Its text comes alongside the measured facts, never instead of them, and is marked as unchecked.
Paths come from the tool arguments or `[perception] vlm_model` / `vlm_mmproj`; nothing is
downloaded. Without both files the call stops with a clear error.
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from agent.errors import InvalidInputError, ModelUnavailableError

HANDLERS = {
    "llava-1-5": "Llava15ChatHandler",
    "llava-1-6": "Llava16ChatHandler",
    "moondream": "MoondreamChatHandler",
    "nanollava": "NanoLlavaChatHandler",
    "minicpm-v-2.6": "MiniCPMv26ChatHandler",
    "qwen2.5-vl": "Qwen25VLChatHandler",
}


def resolve_paths(model: str | None, mmproj: str | None) -> tuple[Path, Path, str]:
    """The model and projector files (arguments first, then settings), checked to exist."""
    from tools.perception.config import get_perception_settings

    settings = get_perception_settings()
    model_path = Path(model).expanduser() if model else settings.vlm_model
    mmproj_path = Path(mmproj).expanduser() if mmproj else settings.vlm_mmproj
    hint = ("Give --vlm-model MODEL.gguf and --vlm-mmproj MMPROJ.gguf, or set [perception] vlm_model and "
            "vlm_mmproj in radagent.toml; the facts-only describer needs neither (omit --backend vlm).")
    if model_path is None or mmproj_path is None:
        missing = " and ".join(n for n, p in (("the model GGUF", model_path), ("the mmproj GGUF", mmproj_path)) if p is None)
        raise ModelUnavailableError(f"No multimodal model is configured: {missing} is missing.", hint)
    for what, path in (("model", model_path), ("mmproj", mmproj_path)):
        if not Path(path).is_file():
            raise ModelUnavailableError(f"The multimodal {what} file does not exist: {path}.", hint)
    if settings.vlm_chat_format not in HANDLERS:
        raise InvalidInputError(f"Unknown multimodal chat format '{settings.vlm_chat_format}'.",
                                f"Use one of: {', '.join(HANDLERS)}.")
    return Path(model_path), Path(mmproj_path), settings.vlm_chat_format


def image_data_uri(gray: np.ndarray) -> str:
    """The image as a PNG data URI (percentile-windowed, at most 672 px), as llama.cpp's handlers take it."""
    from tools.perception.preprocess import normalize_intensity

    picture = Image.fromarray((normalize_intensity(gray) * 255).astype(np.uint8)).convert("RGB")
    picture.thumbnail((672, 672))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def build_messages(gray: np.ndarray, question: str) -> list[dict]:
    from agent.prompts import load_prompt

    content = [{"type": "image_url", "image_url": {"url": image_data_uri(gray)}},
               {"type": "text", "text": question.strip() or "Describe this image."}]
    return [{"role": "system", "content": load_prompt("describe_vlm.md")}, {"role": "user", "content": content}]


@lru_cache(maxsize=1)
def _load(model: str, mmproj: str, chat_format: str, n_ctx: int):
    import llama_cpp
    import llama_cpp.llama_chat_format as formats

    handler = getattr(formats, HANDLERS[chat_format])(clip_model_path=mmproj, verbose=False)
    return llama_cpp.Llama(model_path=model, chat_handler=handler, n_ctx=n_ctx, verbose=False, logits_all=False)


def describe_with_vlm(gray: np.ndarray, question: str, *, model: str | None = None, mmproj: str | None = None) -> str:
    from tools.perception.config import get_perception_settings

    model_path, mmproj_path, chat_format = resolve_paths(model, mmproj)
    try:
        llm = _load(str(model_path), str(mmproj_path), chat_format, get_perception_settings().vlm_n_ctx)
    except Exception as exc:
        raise ModelUnavailableError(f"The multimodal model could not be loaded: {exc}",
                                    "Check that the GGUF and its mmproj belong together and match the chat format.") from exc
    reply = llm.create_chat_completion(messages=build_messages(gray, question), max_tokens=200, temperature=0.0)
    return str(reply["choices"][0]["message"]["content"]).strip()
