"""The decode loop shared by the engines that run a model in this process.

A :class:`LocalEngine` subclass says how its model makes tokens — start generating after
a prompt (:meth:`~LocalEngine.start_decoding`, the only method that touches the model),
which tokens end generation, how tokens read as text — and this module does the rest
once for all of them: the ``max_tokens`` budget, stop strings
(:class:`~calltune.engines.stops.StopMatcher`), end-of-generation tokens, the guided
constraint's logits processor, first-token timing, the usage dict, the engine lock, and
stopping promptly when the caller closes the stream.
"""

from __future__ import annotations

import contextlib
import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator
from typing import Any

from .base import Chunk, Engine, EngineError, SamplingParams
from .stops import StopMatcher, TextDecoder


def timing_usage(
    prompt_tokens: int, completion_tokens: int, t0: float, t_first: float | None, t_end: float, **extra: Any
) -> dict[str, Any]:
    """The usage dict of a last chunk: token counts, ``extra`` (e.g. ``cached_tokens``), and
    ``prefill_s`` (start → first token) and ``decode_s`` (first token → end)."""
    first = t_end if t_first is None else t_first
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        **extra,
        "prefill_s": round(first - t0, 6),
        "decode_s": round(t_end - first, 6),
    }


class LocalEngine(Engine):
    """An engine whose model runs here, token by token (llama.cpp, transformers).

    Subclasses set ``_lock`` (one generation at a time) and implement :meth:`_prompt_ids`,
    :meth:`start_decoding`, :meth:`is_eog`, :meth:`token_text`, :meth:`text_decoder` and
    :meth:`_call_constraint_hook`.
    """

    supports_constraints = True
    #: the engine-specific hook a constraint without ``logits_processor_for(engine)`` may offer
    constraint_hook: str = ""
    _lock: threading.Lock
    #: set by :meth:`close`: no generation starts, a running one stops at its next token
    _closing: bool = False
    #: requests between their open-check and their decode (tokenizing, building a constraint's
    #: processor): they read the model outside ``_lock``, so it is not freed under them either
    _users: int = 0
    #: guards ``_users`` (one lock for every engine: it is held only to count, never over model work)
    _users_lock = threading.Lock()

    def close(self) -> None:
        """Free the model. A generation running in another thread stops at its next token with
        an :class:`EngineError`, and the model is freed as it leaves (never under a running
        decode: llama.cpp would read freed memory)."""
        self._closing = True
        self._free_when_idle()

    def _free_when_idle(self) -> None:
        with self._users_lock:
            if self._users:  # the last one out frees it
                return
        if self._lock.acquire(blocking=False):  # held: the generation frees it on its way out
            try:
                self._free()
            finally:
                self._lock.release()

    def _free(self) -> None:  # noqa: B027 - engines with native memory override it
        """Release the model (called once no generation runs; may be called again)."""

    def _check_open(self) -> None:
        if self._closing:
            raise EngineError(f"the engine ({getattr(self, 'model_id', '?')}) is closed")

    @contextlib.contextmanager
    def _in_use(self) -> Iterator[None]:
        """Mark a stretch that reads the model outside ``_lock``: a :meth:`close` meanwhile
        frees the model only after it (and fails it here if the engine is already closed)."""
        with self._users_lock:
            self._check_open()
            self._users += 1
        try:
            yield
        finally:
            with self._users_lock:
                self._users -= 1
            if self._closing:
                self._free_when_idle()

    # ------------------------------------------------------------------ the backend

    @abstractmethod
    def _prompt_ids(self, prompt: str | list[int]) -> list[int]:
        """The token ids the model sees for ``prompt`` (BOS added when the model wants one)."""

    @abstractmethod
    def start_decoding(
        self, ids: list[int], params: SamplingParams, processor: Any
    ) -> tuple[Iterator[int], int]:
        """Start generating after ``ids`` with ``params``' sampling and the logits
        ``processor`` (or None) applied at every step. Returns the sampled token ids (an
        iterator the loop closes to stop the model; it is read only while the lock is
        held) and how many prompt tokens were taken from a cache."""

    @abstractmethod
    def is_eog(self, token: int) -> bool:
        """Whether ``token`` ends generation (end of turn / end of text)."""

    @abstractmethod
    def token_text(self, token: int) -> str:
        """One token as text (special tokens as their marker)."""

    @abstractmethod
    def text_decoder(self) -> TextDecoder:
        """A fresh decoder for one generation's tokens."""

    @abstractmethod
    def _call_constraint_hook(self, hook: Callable[..., Any]) -> Any:
        """Call a constraint's engine-specific hook (``constraint_hook``) with this engine's model."""

    # ------------------------------------------------------------------ the engine API

    def count_tokens(self, prompt: str | list[int]) -> int:
        """Tokens the model will see for ``prompt`` (markers in text count as one token)."""
        with self._in_use():
            return len(self._prompt_ids(prompt))

    def logits_processor(self, constraint: Any) -> Any:
        """The per-step logits processor of a guided-decoding constraint for this engine:
        ``constraint.logits_processor_for(engine)``, or the engine-specific hook named by
        ``constraint_hook`` for constraints that only have that. None without a constraint."""
        if constraint is None:
            return None
        for_engine = getattr(constraint, "logits_processor_for", None)
        if for_engine is not None:
            return for_engine(self)
        hook = getattr(constraint, self.constraint_hook, None)
        if hook is None:
            raise EngineError(
                f"constraint {type(constraint).__name__} has no logits_processor_for(engine) "
                f"or {self.constraint_hook} hook"
            )
        return self._call_constraint_hook(hook)

    def stream(
        self, prompt: str | list[int], params: SamplingParams, constraint: Any = None
    ) -> Iterator[Chunk]:
        with self._in_use():
            ids = self._prompt_ids(prompt)
            self.check_context(len(ids))
            processor = self.logits_processor(constraint)
        return self._decode(ids, params, processor)

    def _decode(self, ids: list[int], params: SamplingParams, processor: Any) -> Iterator[Chunk]:
        budget = min(params.max_tokens, self.context_length - len(ids))
        matcher = StopMatcher(params.stop)
        text = self.text_decoder()
        n_out, cached = 0, 0
        hit: str | None = None
        eog_seen, eog_stop, tail = False, None, ""
        try:
            with self._lock:
                self._check_open()  # closed while this request waited
                t0 = time.perf_counter()
                t_first: float | None = None
                tokens: Iterator[int] = iter(())
                try:
                    if budget > 0:
                        tokens, cached = self.start_decoding(ids, params, processor)
                    for tok in tokens:
                        if self._closing:
                            raise EngineError("the engine was closed during the generation")
                        if t_first is None:
                            t_first = time.perf_counter()
                        n_out += 1
                        if self.is_eog(tok):
                            eog_seen = True
                            piece = self.token_text(tok)
                            eog_stop = piece if piece in matcher.stops else None
                            break
                        piece, hit = matcher.feed(text.feed(tok))
                        if hit is not None:
                            tail = piece
                            break
                        if piece:
                            yield Chunk(piece)
                        if n_out >= budget:
                            break
                    if hit is None:
                        tail, hit = matcher.feed(text.flush())
                        if hit is None:
                            tail += matcher.flush()
                            hit = eog_stop
                finally:
                    close = getattr(tokens, "close", None)
                    if close is not None:
                        close()
                t_end = time.perf_counter()
        finally:
            if self._closing:
                self._free_when_idle()
        finish = "stop" if (hit is not None or eog_seen) else "length"
        usage = timing_usage(len(ids), n_out, t0, t_first, t_end, cached_tokens=cached)
        # the last chunk is sent after the lock is released: a consumer that stops reading
        # once it has seen finish_reason does not block the next request
        yield Chunk(tail, finish_reason=finish, stop=hit, usage=usage)
