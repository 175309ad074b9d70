"""Grammar-constrained sampling that checks the likeliest tokens first.

llama.cpp's grammar sampler tests every vocabulary entry against the grammar at every step;
over Qwen's 151k-token vocabulary that costs more than the forward pass on a CPU. This sampler
applies the grammar to the top-k tokens only (one array, one call), and falls back to the whole
vocabulary in the rare step where none of them fits, so the result is what full grammar
sampling would give while the usual step costs a fraction of it. It never accepts a token the
grammar rejects (llama.cpp aborts the process on that).
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


class GrammarFirstSampler:
    """Duck-types `llama_cpp._internals.LlamaSampler` for `Llama.generate` (sample/close)."""

    def __init__(self, llama: Any, grammar: Any, *, temp: float = 0.0, seed: int = 0, top_k: int = 1024) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self._grammar = llama_cpp.llama_sampler_init_grammar(
            llama._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8"))
        if not self._grammar:
            raise ValueError("llama.cpp rejected the grammar")
        self.n_vocab = llama.n_vocab()
        self.eos = llama.token_eos()
        self.temp = temp
        self.top_k = min(top_k, self.n_vocab)
        self.rng = np.random.default_rng(seed)
        self.fallbacks = 0  # steps that needed the whole vocabulary (for tests and tuning)

    def _apply_grammar(self, ids: np.ndarray, logits: np.ndarray) -> np.ndarray:
        """Logits of `ids` with the tokens the grammar rejects set to -inf."""
        buf = np.empty(len(ids), dtype=_TOKEN_DATA)
        buf["id"], buf["logit"], buf["p"] = ids, logits, 0.0
        array = self._lib.llama_token_data_array(
            data=buf.ctypes.data_as(self._lib.llama_token_data_p), size=len(ids), selected=-1, sorted=False)
        self._lib.llama_sampler_apply(self._grammar, ctypes.byref(array))
        return buf["logit"]

    def _choose(self, ids: np.ndarray, logits: np.ndarray) -> int:
        if self.temp <= 0.0:
            return int(ids[int(np.argmax(logits))])
        scaled = (logits - logits[np.isfinite(logits)].max()) / self.temp
        weights = np.where(np.isfinite(scaled), np.exp(scaled), 0.0)
        return int(self.rng.choice(ids, p=weights / weights.sum()))

    def sample(self, ctx: Any, idx: int = -1) -> int:
        raw = self._lib.llama_get_logits_ith(ctx.ctx, idx)
        logits = np.ctypeslib.as_array(raw, shape=(self.n_vocab,))
        top = np.argpartition(logits, -self.top_k)[-self.top_k:].astype(np.intc)
        checked = self._apply_grammar(top, logits[top])
        if not np.isfinite(checked).any():
            self.fallbacks += 1
            top = np.arange(self.n_vocab, dtype=np.intc)
            checked = self._apply_grammar(top, logits.copy())
            if not np.isfinite(checked).any():
                return self.eos  # the grammar is complete: end here, never accept a rejected token
        token = self._choose(top, checked)
        self._lib.llama_sampler_accept(self._grammar, token)
        return token

    def accept(self, token: int) -> None:  # llama_sampler_sample semantics: sample() already accepted
        pass

    def reset(self) -> None:
        self._lib.llama_sampler_reset(self._grammar)

    def close(self) -> None:
        if self._grammar:
            self._lib.llama_sampler_free(self._grammar)
            self._grammar = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
