"""Logits processors that apply a compiled grammar during decoding.

Both keep one ``xgrammar.GrammarMatcher`` for one generation: on each call they
accept the tokens sampled since the previous call, fill the next-token bitmask and
set every disallowed logit to ``-inf``. Once the grammar is complete only its stop
tokens (the model's end-of-generation tokens) remain allowed, so generation ends.
A processor serves exactly one generation; build a new one per request.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import xgrammar as xgr

from .errors import GuidedError


class _MaskState:
    """The matcher, its bitmask and timing counters (shared by both processors)."""

    def __init__(self, compiled: xgr.CompiledGrammar, vocab_size: int):
        self.matcher = xgr.GrammarMatcher(compiled)
        self.vocab_size = vocab_size
        self.bitmask = np.full((1, (vocab_size + 31) // 32), -1, dtype=np.int32)
        self.stop_ids = list(compiled.tokenizer_info.stop_token_ids)
        self.seen: int | None = None
        self.calls = 0
        self.time_s = 0.0
        self.accepted: list[int] = []

    def advance(self, ids: Any) -> None:
        """Accept the tokens of ``ids`` (the whole sequence so far) that are new since last time."""
        n = len(ids)
        if self.seen is None:  # first call: ``ids`` is the prompt
            self.seen = n
            return
        for tok in ids[self.seen : n]:
            tok = int(tok)
            if self.matcher.is_terminated():
                break
            if not self.matcher.accept_token(tok):
                raise GuidedError(f"the sampled token {tok} violates the grammar (was the mask applied?)")
            self.accepted.append(tok)
        self.seen = n

    def allowed(self) -> np.ndarray:
        """Boolean mask over the vocabulary of the tokens allowed next."""
        if self.matcher.is_terminated():
            mask = np.zeros(self.vocab_size, dtype=bool)
            mask[[i for i in self.stop_ids if i < self.vocab_size]] = True
            return mask
        self.matcher.fill_next_token_bitmask(self.bitmask)
        bits = np.unpackbits(self.bitmask.view(np.uint8), bitorder="little")
        return bits[: self.vocab_size].astype(bool)

    @property
    def stats(self) -> dict[str, float]:
        return {
            "calls": self.calls,
            "time_s": self.time_s,
            "ms_per_token": 1e3 * self.time_s / max(self.calls, 1),
        }


class LlamaCppGrammarProcessor:
    """A llama-cpp-python logits processor: ``(input_ids, scores) -> scores`` (numpy, in place)."""

    def __init__(self, compiled: xgr.CompiledGrammar, vocab_size: int):
        self.state = _MaskState(compiled, vocab_size)

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        st = self.state
        st.advance(input_ids)
        allowed = st.allowed()
        n = min(len(scores), st.vocab_size)
        view = scores[:n]
        view[~allowed[:n]] = -np.inf
        if len(scores) > n:
            scores[n:] = -np.inf
        st.calls += 1
        st.time_s += time.perf_counter() - t0
        return scores

    @property
    def matcher(self) -> xgr.GrammarMatcher:
        return self.state.matcher

    @property
    def stats(self) -> dict[str, float]:
        return self.state.stats


def make_hf_processor(compiled: xgr.CompiledGrammar, vocab_size: int) -> Any:
    """A transformers ``LogitsProcessor`` for batch size 1 (``model.generate`` / a manual loop)."""
    import torch
    from transformers import LogitsProcessor

    class HFGrammarProcessor(LogitsProcessor):
        def __init__(self) -> None:
            self.state = _MaskState(compiled, vocab_size)

        def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
            t0 = time.perf_counter()
            if input_ids.shape[0] != 1:
                raise GuidedError("guided decoding on transformers supports batch size 1 only")
            st = self.state
            st.advance(input_ids[0].tolist())
            allowed = st.allowed()
            n = min(scores.shape[-1], st.vocab_size)
            blocked = np.ones(scores.shape[-1], dtype=bool)
            blocked[:n] = ~allowed[:n]
            if scores.device.type == "cpu" and scores.dtype == torch.float32:
                scores.detach().numpy()[0, blocked] = -np.inf  # in place; numpy is much faster here
            else:
                scores = scores.masked_fill(torch.from_numpy(blocked).to(scores.device), float("-inf"))
            st.calls += 1
            st.time_s += time.perf_counter() - t0
            return scores

        @property
        def stats(self) -> dict[str, float]:
            return self.state.stats

    return HFGrammarProcessor()
