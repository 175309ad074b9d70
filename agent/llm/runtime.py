"""The process-wide language model behind one small interface: `get_llm().chat(...)` / `.stream(...)`.

Two backends: llama.cpp in process (the default, offline, CPU) and any OpenAI-compatible server
(llama.cpp server, vLLM) selected by `settings.llm.backend`. Both take a JSON schema or a GBNF
grammar for constrained decoding.

Prompt processing is the slow part on a CPU, so the in-process backend keeps snapshots of the
KV state after each request and, before the next one, restores the snapshot sharing the longest
token prefix with the new prompt: a byte-identical static prefix (system prompt, tool list) is
evaluated once and reused by every later turn, even when other prompts ran in between.
`prefill(..., persist=True)` also stores a prefix's state on disk so a fresh process skips it.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from agent.errors import InvalidInputError, ModelUnavailableError

Message = dict[str, Any]
_log = logging.getLogger(__name__)


@dataclass
class CallStats:
    """What one request cost: how much of the prompt was actually evaluated, and how long it took."""

    prompt_tokens: int = 0
    prompt_tokens_evaluated: int = 0  # prompt tokens run through the model (the rest came from cache)
    completion_tokens: int = 0
    prompt_seconds: float = 0.0  # until the first generated token
    total_seconds: float = 0.0
    restored_snapshot: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class LLM(ABC):
    """A chat model. `chat` returns the whole reply; `stream` yields it piece by piece."""

    last_stats: CallStats | None = None

    def chat(self, messages: list[Message], *, max_tokens: int | None = None,
             temperature: float | None = None, json_schema: dict | None = None,
             grammar: str | None = None, stop: list[str] | None = None) -> str:
        return "".join(self.stream(messages, max_tokens=max_tokens, temperature=temperature,
                                   json_schema=json_schema, grammar=grammar, stop=stop))

    @abstractmethod
    def stream(self, messages: list[Message], *, max_tokens: int | None = None,
               temperature: float | None = None, json_schema: dict | None = None,
               grammar: str | None = None, stop: list[str] | None = None) -> Iterator[str]:
        """Yield the reply as it is generated."""

    @abstractmethod
    def info(self) -> dict[str, Any]:
        """Backend, model and runtime parameters, for `config`, the UI and benchmarks."""

    def prefill(self, messages: list[Message], *, persist: bool = False) -> int:
        """Evaluate a static prompt prefix ahead of time; returns the tokens evaluated (0 if cached)."""
        return 0

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)


def _check_messages(messages: list[Message]) -> None:
    if not messages:
        raise InvalidInputError("No messages to send to the language model.", "Give at least one message.")
    for message in messages:
        if message.get("role") not in {"system", "user", "assistant", "tool"}:
            raise InvalidInputError(f"Unknown message role {message.get('role')!r}.",
                                    "Use system, user, assistant or tool.")


# -- llama.cpp in process ------------------------------------------------------------------

def _common_prefix(a: Any, b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


@dataclass
class _Snapshot:
    tokens: tuple[int, ...]
    state: bytes


@lru_cache(maxsize=32)
def _grammar_from_schema(schema_json: str) -> Any:
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_json_schema(schema_json, verbose=False)


@lru_cache(maxsize=32)
def _grammar_from_gbnf(gbnf: str) -> Any:
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(gbnf, verbose=False)


class LlamaCppLLM(LLM):
    """llama-cpp-python in process; one request at a time (the context is not thread-safe)."""

    def __init__(self, model_path: Path, *, n_ctx: int = 4096, n_threads: int | None = None,
                 n_gpu_layers: int = -1, seed: int = 0, temperature: float = 0.0,
                 max_tokens: int = 512, snapshot_budget_bytes: int = 1 << 30,
                 max_snapshots: int = 8, prefix_cache_dir: Path | None = None) -> None:
        try:
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as exc:  # pragma: no cover - the package is a dependency
            raise ModelUnavailableError("llama-cpp-python is not installed.",
                                        "pip install llama-cpp-python (or set llm.backend = 'openai').") from exc
        self.model_path = Path(model_path)
        self.n_threads = n_threads or os.cpu_count() or 1
        self.seed = seed
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.n_gpu_layers = n_gpu_layers
        started = time.perf_counter()
        try:
            self._llama = Llama(model_path=str(self.model_path), n_ctx=n_ctx, n_threads=self.n_threads,
                                n_threads_batch=self.n_threads, n_gpu_layers=n_gpu_layers, seed=seed,
                                verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise ModelUnavailableError(f"llama.cpp could not load {self.model_path}: {exc}.",
                                        "Re-run `radagent setup` to re-verify the model file.") from exc
        self.load_seconds = time.perf_counter() - started
        self.n_ctx = self._llama.n_ctx()
        template = self._llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelUnavailableError(f"{self.model_path.name} has no chat template.",
                                        "Use a chat/instruct GGUF model.")
        model = self._llama._model
        eos_id, bos_id = self._llama.token_eos(), self._llama.token_bos()
        eos = model.token_get_text(eos_id) if eos_id != -1 else ""
        bos = model.token_get_text(bos_id) if bos_id != -1 else ""
        self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos,
                                              stop_token_ids=[eos_id])
        self._prefix_formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos,
                                                     add_generation_prompt=False)
        self._lock = threading.Lock()
        self._snapshots: OrderedDict[tuple[int, ...], _Snapshot] = OrderedDict()
        self._snapshot_budget = snapshot_budget_bytes
        self._max_snapshots = max_snapshots
        self._prefix_cache_dir = prefix_cache_dir
        self._evals: list[int] = []
        original_eval = self._llama.eval

        def counting_eval(tokens: Any) -> None:  # the first eval of a request is the prompt
            self._evals.append(len(tokens))
            original_eval(tokens)

        self._llama.eval = counting_eval  # type: ignore[method-assign]
        default_sampler = self._llama._init_sampler

        def sampler_with_cheap_grammar(**kwargs: Any) -> Any:
            grammar = kwargs.get("grammar")
            if grammar is None or kwargs.get("logits_processor") is not None:
                return default_sampler(**kwargs)
            return self._grammar_sampler(grammar, kwargs.get("temp", 0.0))

        self._llama._init_sampler = sampler_with_cheap_grammar  # type: ignore[method-assign]
        self.last_stats = None

    GRAMMAR_TOP_K = 1024

    def _grammar_sampler(self, grammar: Any, temp: float) -> Any:
        """Grammar checked on the 1,024 likeliest tokens first (see agent.llm.grammar_sampler)."""
        from agent.llm.grammar_sampler import GrammarFirstSampler

        return GrammarFirstSampler(self._llama, grammar, temp=temp, seed=self.seed, top_k=self.GRAMMAR_TOP_K)

    # prompt building -----------------------------------------------------------------------
    def _tokens(self, text: str) -> list[int]:
        return self._llama.tokenize(text.encode("utf-8"), add_bos=True, special=True)

    def prompt_tokens(self, messages: list[Message]) -> list[int]:
        """The exact tokens a request with these messages evaluates."""
        return self._tokens(self._formatter(messages=messages).prompt)

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    # KV snapshots --------------------------------------------------------------------------
    def _current_tokens(self) -> Any:
        return self._llama.input_ids[: self._llama.n_tokens]

    def _save_snapshot(self) -> None:
        ctx = self._llama._ctx.ctx
        import llama_cpp

        n = self._llama.n_tokens
        if n == 0:
            return
        size = llama_cpp.llama_state_get_size(ctx)
        buffer = (ctypes.c_uint8 * int(size))()
        written = llama_cpp.llama_state_get_data(ctx, buffer, size)
        key = tuple(int(t) for t in self._llama.input_ids[:n])
        for old in [k for k in self._snapshots if k == key[: len(k)]]:
            del self._snapshots[old]  # superseded: the new state extends it
        self._snapshots[key] = _Snapshot(key, bytes(memoryview(buffer)[: int(written)]))
        while (len(self._snapshots) > self._max_snapshots
               or sum(len(s.state) for s in self._snapshots.values()) > self._snapshot_budget):
            self._snapshots.popitem(last=False)

    def _load_snapshot(self, snap: _Snapshot) -> None:
        import llama_cpp

        buffer = (ctypes.c_uint8 * len(snap.state)).from_buffer_copy(snap.state)
        if llama_cpp.llama_state_set_data(self._llama._ctx.ctx, buffer, len(snap.state)) != len(snap.state):
            raise RuntimeError("llama.cpp refused a saved state")
        self._llama.input_ids[: len(snap.tokens)] = snap.tokens
        self._llama.n_tokens = len(snap.tokens)
        self._llama._requires_eval = True

    def _restore_best(self, tokens: list[int]) -> bool:
        """Load the snapshot that shares the longest prefix with `tokens`, if it beats the live state."""
        live = _common_prefix(self._current_tokens(), tokens)
        best, best_len = None, live
        for key, snap in self._snapshots.items():
            shared = _common_prefix(key, tokens)
            if shared > best_len:
                best, best_len = snap, shared
        if best is None or best_len - live < 8:
            return False
        self._load_snapshot(best)
        self._snapshots.move_to_end(best.tokens)
        return True

    # generation ----------------------------------------------------------------------------
    def _grammar(self, json_schema: dict | None, grammar: str | None) -> Any:
        if grammar is not None:
            return _grammar_from_gbnf(grammar)
        if json_schema is not None:
            return _grammar_from_schema(json.dumps(json_schema))
        return None

    def stream(self, messages: list[Message], *, max_tokens: int | None = None,
               temperature: float | None = None, json_schema: dict | None = None,
               grammar: str | None = None, stop: list[str] | None = None) -> Iterator[str]:
        _check_messages(messages)
        formatted = self._formatter(messages=messages)
        tokens = self._tokens(formatted.prompt)
        limit = max_tokens or self.max_tokens
        if len(tokens) + limit > self.n_ctx:
            raise InvalidInputError(
                f"The conversation is too long for the model ({len(tokens)} prompt tokens + {limit} to "
                f"generate > context {self.n_ctx}).",
                "Start a new session or shorten the input.")
        compiled = self._grammar(json_schema, grammar)
        stops = list(dict.fromkeys([*(formatted.stop or []), *(stop or [])]))
        return self._generate(tokens, limit, temperature, compiled, stops)

    def _generate(self, tokens: list[int], limit: int, temperature: float | None, compiled: Any,
                  stops: list[str]) -> Iterator[str]:
        with self._lock:
            stats = CallStats(prompt_tokens=len(tokens))
            started = time.perf_counter()
            stats.restored_snapshot = self._restore_best(tokens)
            self._evals = []
            pieces = self._llama.create_completion(
                prompt=tokens, max_tokens=limit, stream=True, stop=stops or None, grammar=compiled,
                temperature=self.temperature if temperature is None else temperature,
                top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0, seed=self.seed,
            )
            try:
                first = True
                for chunk in pieces:
                    if first:
                        stats.prompt_seconds = time.perf_counter() - started
                        first = False
                    choice = chunk["choices"][0]
                    text = choice.get("text") or ""
                    if text:
                        yield text
            finally:
                pieces.close()
                stats.prompt_tokens_evaluated = self._evals[0] if self._evals else 0
                stats.completion_tokens = max(0, self._llama.n_tokens - len(tokens) + 1) if self._evals else 0
                stats.total_seconds = time.perf_counter() - started
                self.last_stats = stats
                self._save_snapshot()

    # benchmarking ---------------------------------------------------------------------------
    def rewind(self, n_tokens: int) -> None:
        """Drop the KV state after the first `n_tokens` (so two measurements start alike)."""
        with self._lock:
            keep = min(n_tokens, self._llama.n_tokens)
            self._llama._ctx.kv_cache_seq_rm(-1, keep, -1)
            self._llama.n_tokens = keep

    def raw_generate(self, tokens: list[int], max_tokens: int) -> CallStats:
        """llama.cpp's own completion on `tokens`: no template, grammar, snapshots or parsing.

        The baseline the benchmark compares the agent's calls against.
        """
        with self._lock:
            stats = CallStats(prompt_tokens=len(tokens))
            self._evals = []
            started = time.perf_counter()
            first = True
            for _ in self._llama.create_completion(prompt=tokens, max_tokens=max_tokens, stream=True,
                                                   temperature=0.0, repeat_penalty=1.0, seed=self.seed):
                if first:
                    stats.prompt_seconds, first = time.perf_counter() - started, False
            stats.total_seconds = time.perf_counter() - started
            stats.prompt_tokens_evaluated = self._evals[0] if self._evals else 0
            stats.completion_tokens = max(0, self._llama.n_tokens - len(tokens) + 1)
            return stats

    # static prefixes -----------------------------------------------------------------------
    def _prefix_file(self, tokens: list[int]) -> Path | None:
        if self._prefix_cache_dir is None:
            return None
        import llama_cpp

        stat = self.model_path.stat()
        digest = hashlib.sha256()
        digest.update(f"{self.model_path.name}|{stat.st_size}|{self.n_ctx}|{self.n_gpu_layers}|"
                      f"{llama_cpp.__version__}|".encode())
        digest.update(json.dumps(tokens).encode())
        return self._prefix_cache_dir / f"{digest.hexdigest()[:24]}.kvstate"

    def prefill(self, messages: list[Message], *, persist: bool = False) -> int:
        """Evaluate the rendered `messages` (no generation prompt) and keep their KV state.

        With `persist`, the state is also written to disk and read back by later processes, so a
        cold start does not pay for the static prefix again.
        """
        _check_messages(messages)
        tokens = self._tokens(self._prefix_formatter(messages=messages).prompt)
        with self._lock:
            if any(_common_prefix(key, tokens) == len(tokens) for key in self._snapshots):
                return 0
            path = self._prefix_file(tokens) if persist else None
            if path is not None and path.is_file():
                try:
                    self._load_snapshot(_Snapshot(tuple(tokens), path.read_bytes()))
                    self._save_snapshot()
                    return 0
                except (OSError, RuntimeError):
                    path.unlink(missing_ok=True)  # stale or damaged: rebuild below
                    self._llama.reset()
            self._restore_best(tokens)
            shared = min(_common_prefix(self._current_tokens(), tokens), len(tokens) - 1)
            self._llama._ctx.kv_cache_seq_rm(-1, shared, -1)
            self._llama.n_tokens = shared
            self._evals = []
            self._llama.eval(tokens[shared:])
            self._save_snapshot()
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".tmp{os.getpid()}")
                tmp.write_bytes(self._snapshots[tuple(tokens)].state)
                os.replace(tmp, path)
            return len(tokens) - shared

    def info(self) -> dict[str, Any]:
        return {"backend": "llama_cpp", "model_path": str(self.model_path), "n_ctx": self.n_ctx,
                "n_threads": self.n_threads, "n_gpu_layers": self.n_gpu_layers, "seed": self.seed,
                "load_seconds": round(self.load_seconds, 3), "snapshots": len(self._snapshots),
                "snapshot_bytes": sum(len(s.state) for s in self._snapshots.values())}


# -- OpenAI-compatible server --------------------------------------------------------------

class OpenAICompatLLM(LLM):
    """Any OpenAI-compatible chat endpoint; the server keeps its own prefix cache.

    Servers disagree on how a JSON schema is passed: OpenAI and vLLM take
    `response_format={"type": "json_schema", ...}`, llama-cpp-python's server only
    `{"type": "json_object", "schema": ...}`, and llama.cpp-based servers also accept a GBNF
    `grammar`. The first constrained call tries these in that order and keeps the first form the
    server accepts; a server that accepts none gets unconstrained requests, which is logged and
    shown in `info()["structured_output"]` (the planner then parses free text and retries once).
    """

    SCHEMA_FORMS = ("json_schema", "json_object", "grammar")

    def __init__(self, base_url: str, model: str, api_key: str = "not-needed", *,
                 temperature: float = 0.0, max_tokens: int = 512, seed: int = 0) -> None:
        from openai import OpenAI

        self.base_url, self.model = base_url, model
        self.temperature, self.max_tokens, self.seed = temperature, max_tokens, seed
        self._client = OpenAI(base_url=base_url, api_key=api_key, timeout=120.0, max_retries=1)
        self.schema_form: str | None = None  # learnt on the first constrained call
        self.last_stats = None

    def stream(self, messages: list[Message], *, max_tokens: int | None = None,
               temperature: float | None = None, json_schema: dict | None = None,
               grammar: str | None = None, stop: list[str] | None = None) -> Iterator[str]:
        _check_messages(messages)
        request: dict[str, Any] = {
            "model": self.model, "messages": messages, "stream": True, "seed": self.seed,
            "max_tokens": max_tokens or self.max_tokens,
            "temperature": self.temperature if temperature is None else temperature,
        }
        if stop:
            request["stop"] = stop
        if grammar is not None:
            request["extra_body"] = {"grammar": grammar}  # llama.cpp server extension
        if json_schema is not None:
            return self._stream_constrained(request, json_schema)
        return self._stream(request)

    @staticmethod
    def _with_schema(request: dict[str, Any], form: str, schema: dict) -> dict[str, Any] | None:
        """`request` carrying `schema` in one server dialect (None: that form cannot be built here)."""
        out = dict(request)
        if form == "json_schema":
            out["response_format"] = {"type": "json_schema",
                                      "json_schema": {"name": "response", "schema": schema, "strict": True}}
        elif form == "json_object":
            out["response_format"] = {"type": "json_object", "schema": schema}
        elif form == "grammar":
            try:
                from llama_cpp.llama_grammar import json_schema_to_gbnf
            except ImportError:
                return None
            out["extra_body"] = {**out.get("extra_body", {}), "grammar": json_schema_to_gbnf(json.dumps(schema))}
        return out

    def _stream_constrained(self, request: dict[str, Any], schema: dict) -> Iterator[str]:
        import openai

        if self.schema_form is not None:
            constrained = self._with_schema(request, self.schema_form, schema) if self.schema_form != "none" else None
            yield from self._stream(constrained or request)
            return
        for form in self.SCHEMA_FORMS:
            constrained = self._with_schema(request, form, schema)
            if constrained is None:
                continue
            pieces = self._raw_stream(constrained)
            try:
                first = next(pieces, None)  # a refused form fails here, before any text is yielded
            except openai.APIStatusError as exc:
                if not _refuses_form(exc):
                    raise _status_error(exc) from exc  # a real failure (context full, bad model), not the form
                continue
            except openai.APIConnectionError as exc:
                raise _connection_error(self.base_url) from exc
            self.schema_form = form
            if first is not None:
                yield first
            yield from self._translated(pieces)
            return
        self.schema_form = "none"
        _log.warning("%s accepts no JSON-schema or grammar constraint; constrained calls run unconstrained "
                     "and their replies are parsed as free text.", self.base_url)
        yield from self._stream(request)

    def _stream(self, request: dict[str, Any]) -> Iterator[str]:
        return self._translated(self._raw_stream(request))

    def _translated(self, pieces: Iterator[str]) -> Iterator[str]:
        """`pieces` with the client's errors turned into the project's clear errors."""
        import openai

        try:
            yield from pieces
        except openai.APIConnectionError as exc:
            raise _connection_error(self.base_url) from exc
        except openai.APIStatusError as exc:
            raise _status_error(exc) from exc

    def _raw_stream(self, request: dict[str, Any]) -> Iterator[str]:
        started = time.perf_counter()
        stats = CallStats()
        try:
            response = self._client.chat.completions.create(**request)
            first = True
            chunks = 0
            for chunk in response:
                chunks += 1
                if not chunk.choices:
                    continue
                text = chunk.choices[0].delta.content or ""
                if text:
                    if first:
                        stats.prompt_seconds, first = time.perf_counter() - started, False
                    stats.completion_tokens += 1
                    yield text
            if chunks == 0:  # llama-cpp-python's server reports errors inside a stream this way
                raise ModelUnavailableError(
                    f"The language model server at {self.base_url} ended the stream without a reply.",
                    "Most often the prompt is longer than the server's context (its --n_ctx); "
                    "check the server's logs.")
        finally:
            stats.total_seconds = time.perf_counter() - started
            self.last_stats = stats

    def info(self) -> dict[str, Any]:
        return {"backend": "openai", "base_url": self.base_url, "model": self.model,
                "structured_output": self.schema_form or "not yet probed"}


def _connection_error(base_url: str) -> ModelUnavailableError:
    return ModelUnavailableError(f"Cannot reach the language model server at {base_url}.",
                                 "Start it, or set llm.backend = 'llama_cpp' to run locally.")


def _refuses_form(exc: Any) -> bool:
    """Whether a server error is about the constraint's form (llama-cpp-python answers 500 for that)."""
    if exc.status_code not in (400, 415, 422, 500):
        return False
    text = f"{exc.message} {getattr(exc, 'body', '')}".lower()
    return any(word in text for word in ("response_format", "json_schema", "json_object", "grammar", "schema"))


def _status_error(exc: Any) -> ModelUnavailableError:
    return ModelUnavailableError(f"The language model server answered {exc.status_code}: {exc.message}.",
                                 "Check llm.api_model and the server's logs.")


# -- the process-wide instance -------------------------------------------------------------

_instance: LLM | None = None
_instance_lock = threading.Lock()


def load_llm(model: str | None = None) -> LLM:
    """Build a new LLM from the settings (`model` overrides llm.model)."""
    from agent.llm.models import ensure_model
    from agent.settings import get_settings

    settings = get_settings()
    cfg = settings.llm
    if cfg.backend == "openai":
        return OpenAICompatLLM(cfg.base_url, cfg.api_model, cfg.api_key, temperature=cfg.temperature,
                               max_tokens=cfg.max_tokens, seed=cfg.seed)
    path = ensure_model(model or cfg.model)
    return LlamaCppLLM(path, n_ctx=cfg.n_ctx, n_threads=cfg.n_threads, n_gpu_layers=cfg.n_gpu_layers,
                       seed=cfg.seed, temperature=cfg.temperature, max_tokens=cfg.max_tokens,
                       prefix_cache_dir=Path(settings.model_dir) / "prefix-cache")


def get_llm() -> LLM:
    """The process-wide model, loaded on first use (thread-safe)."""
    global _instance
    if _instance is None:
        with _instance_lock:
            if _instance is None:
                _instance = load_llm()
    return _instance


def set_llm(llm: LLM | None) -> None:
    """Replace the process-wide model (tests inject fakes; None forces a reload)."""
    global _instance
    with _instance_lock:
        _instance = llm
