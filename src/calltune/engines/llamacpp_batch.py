"""Several generations at once on one llama.cpp model: continuous batching.

One decode step of a small model on a CPU costs about the same for one sequence as for
eight (it is bound by reading the weights, not by arithmetic: ``bench/batched_decode.py``
measures it), so requests that arrive together — the concurrent trajectories of
``calltune data generate --concurrency N``, the cases of ``calltune eval bfcl
--concurrency N``, a server's concurrent clients — are decoded together: every step
evaluates one token of every running sequence, plus a chunk of any prompt still being
read, in one ``llama_decode`` call.

The context holds ``slots`` sequences, each with its own KV cache of ``n_ctx`` cells
(llama.cpp's ``n_seq_max`` with ``kv_unified`` off: measured here, a unified cache makes every
sequence's attention walk all sequences' cells, and reading a prompt beside three other
1024-token sequences fell from 40 to 29 tokens/s; split, it stays at 39). Each sequence lives in a *slot* that keeps
its tokens after the request ends; a new request takes the free slot sharing the longest
prefix with its prompt (an agent's next step finds its conversation still there and
reads only the new turn), else the least recently used one. ``slots`` (default
2 × ``parallel``) may exceed ``parallel`` so that a short side request does not evict a
long conversation. At most ``parallel`` requests run; the others wait their turn.

Greedy decoding (temperature 0) gives the same tokens as :class:`LlamaCppEngine`
up to floating-point differences of batched arithmetic; sampling at temperature > 0 uses
NumPy's generator seeded by ``seed`` (top-p applies), not llama.cpp's sampler.
"""

from __future__ import annotations

import contextlib
import ctypes
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .base import EngineError, SamplingParams
from .llamacpp import LlamaCppEngine, _llama_cpp, common_prefix

#: a free slot is reused for its prefix only when it shares at least this many tokens
MIN_REUSE_TOKENS = 32
_END = object()


class _NoLock(contextlib.AbstractContextManager):
    """The decode loop's per-engine lock, made a no-op: the scheduler serialises the model."""

    def __exit__(self, *exc: object) -> None:
        return None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return True

    def release(self) -> None:
        return None


@dataclass
class _Request:
    ids: list[int]
    params: SamplingParams
    processor: Any
    budget: int
    out: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    cancelled: bool = False
    slot: int = -1
    cached: int = 0
    admitted: threading.Event = field(default_factory=threading.Event)
    # set by the scheduler
    read: int = 0  # prompt tokens in the KV cache
    tokens: list[int] = field(default_factory=list)  # prompt + sampled (what the processor sees)
    pending: int | None = None  # sampled, not yet evaluated
    n_out: int = 0
    rng: Any = None


class BatchedLlamaCppEngine(LlamaCppEngine):
    """A GGUF model on llama.cpp that decodes up to ``parallel`` requests together.

    Takes :class:`LlamaCppEngine`'s arguments (``n_ctx``: each sequence's window, default the
    model's up to 8192; the KV cache holds ``slots`` of them) plus ``parallel`` (the
    sequences decoded at once) and ``slots`` (sequences whose KV cache is kept between
    requests; default ``2 * parallel``)."""

    #: a request reuses the prompt prefix a finished one kept, or what a running one has read so
    #: far; requests admitted together each read their whole prompt, so a caller with many
    #: requests over one prefix does better to run them one after another
    shares_running_prefixes = False

    def __init__(
        self,
        model_path: Any,
        *,
        parallel: int = 4,
        slots: int | None = None,
        n_ctx: int | None = None,
        n_threads: int | None = None,
        n_batch: int = 512,
        **kwargs: Any,
    ):
        if parallel < 1:
            raise EngineError(f"parallel must be at least 1, got {parallel}")
        kwargs.pop("prefix_cache_bytes", None)
        # the Llama object carries the model, vocabulary and metadata; its own context is
        # kept tiny, and the sequences run in a context of their own built below
        super().__init__(
            model_path, n_ctx=256, n_threads=n_threads, n_batch=256, prefix_cache_bytes=0, **kwargs
        )
        llama_cpp = _llama_cpp()
        from .llamacpp import DEFAULT_N_CTX, _cpu_count, gguf_context_length

        if n_ctx is None:
            n_ctx = min(DEFAULT_N_CTX, gguf_context_length(self.model_path) or DEFAULT_N_CTX)
        self.parallel = parallel
        self.n_slots = max(parallel, slots if slots is not None else 2 * parallel)
        if self.n_slots > int(llama_cpp.llama_max_parallel_sequences()):
            raise EngineError(
                f"llama.cpp holds at most {llama_cpp.llama_max_parallel_sequences()} sequences, asked for {self.n_slots}"
            )
        threads = n_threads or _cpu_count()
        # the settings of LlamaCppEngine's context (flash attention and the rest), so both
        # engines compute the same way; only the size and the sequence count differ
        params = llama_cpp.llama_context_params()
        ctypes.memmove(ctypes.byref(params), ctypes.byref(self.llama.context_params), ctypes.sizeof(params))
        params.n_ctx = n_ctx * self.n_slots
        params.n_batch = n_batch
        params.n_ubatch = n_batch
        params.n_seq_max = self.n_slots
        params.kv_unified = False
        params.n_threads = threads
        params.n_threads_batch = threads
        from llama_cpp import _internals

        try:
            self._bctx = _internals.LlamaContext(model=self.llama._model, params=params, verbose=False)
        except ValueError as e:
            raise EngineError(f"llama.cpp could not make a context of {n_ctx} tokens: {e}") from e
        #: each sequence's window: the longest one request may be (prompt + completion)
        self.context_length = int(llama_cpp.llama_n_ctx(self._bctx.ctx)) // self.n_slots
        self.n_batch = n_batch
        self._n_vocab = int(self.llama.n_vocab())
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self._lock = _NoLock()  # type: ignore[assignment]
        self._cond = threading.Condition()
        self._waiting: list[_Request] = []
        self._running: list[_Request] = []
        self._slot_tokens: list[list[int]] = [[] for _ in range(self.n_slots)]
        self._slot_used = [0.0] * self.n_slots
        self._slot_busy = [False] * self.n_slots
        self._closed = False
        self._streams = 0  # token iterators not yet closed
        self._resets: list[threading.Event] = []
        #: counters for benches and tests
        self.stats = {"steps": 0, "tokens": 0, "max_running": 0, "reused_tokens": 0, "copied_tokens": 0}
        self._thread = threading.Thread(target=self._loop, name="llamacpp-batch", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ the LocalEngine hooks

    def start_decoding(
        self, ids: list[int], params: SamplingParams, processor: Any
    ) -> tuple[Iterator[int], int]:
        budget = min(params.max_tokens, self.context_length - len(ids))
        req = _Request(ids=ids, params=params, processor=processor, budget=budget)
        if params.temperature > 0:
            req.rng = np.random.default_rng(params.seed)
        with self._cond:
            if self._closed:
                raise EngineError("the engine is closed")
            self._waiting.append(req)
            self._cond.notify_all()
        req.admitted.wait()
        return self._tokens(req), req.cached

    def _tokens(self, req: _Request) -> Iterator[int]:
        with self._cond:
            self._streams += 1
        try:
            while True:
                item = req.out.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            with self._cond:
                req.cancelled = True
                self._streams -= 1
                self._cond.notify_all()

    def _call_constraint_hook(self, hook: Callable[..., Any]) -> Any:
        return hook(self.llama)

    def reset_cache(self) -> None:
        """Forget every idle slot's KV cache (running requests keep theirs). Done by the
        scheduler between two steps: the KV cache is never touched while it decodes."""
        done = threading.Event()
        with self._cond:
            if self._closed:
                return
            self._resets.append(done)
            self._cond.notify_all()
        done.wait()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        thread = getattr(self, "_thread", None)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
        # a stream still being read looks tokens up in the model: free it only once they ended
        with self._cond:
            if not self._cond.wait_for(lambda: self._streams == 0, timeout=30):
                return  # leaked rather than freed under a reader
        bctx = getattr(self, "_bctx", None)
        if bctx is not None:
            _llama_cpp().llama_batch_free(self._batch)
            bctx.close()
            self._bctx = None
        super().close()

    # ------------------------------------------------------------------ the scheduler

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._drop_finished()
                self._admit()
                while not self._running and not self._closed:
                    self._cond.wait()
                    self._drop_finished()
                    self._admit()
                if self._closed:
                    for req in self._running + self._waiting:
                        req.out.put(EngineError("the engine was closed"))
                        req.admitted.set()
                    self._running, self._waiting = [], []
                    for done in self._resets:
                        done.set()
                    return
                running = list(self._running)
            try:
                self._step(running)
            except Exception as e:  # noqa: BLE001 - the requests in this step get the error
                with self._cond:
                    for req in running:
                        req.out.put(e if isinstance(e, EngineError) else EngineError(f"llama.cpp: {e}"))
                        req.cancelled = True
                        self._forget_slot(req.slot)

    def _drop_finished(self) -> None:
        while self._resets:
            for s in range(self.n_slots):
                if not self._slot_busy[s] and self._slot_tokens[s]:
                    self._forget_slot(s)
            self._resets.pop().set()
        keep = []
        for req in self._running:
            if req.cancelled:
                self._slot_busy[req.slot] = False
                self._slot_used[req.slot] = time.monotonic()
            else:
                keep.append(req)
        self._running = keep

    def _admit(self) -> None:
        while self._waiting and len(self._running) < self.parallel:
            req = self._waiting[0]
            free = [s for s in range(self.n_slots) if not self._slot_busy[s]]
            shared = {s: common_prefix(self._slot_tokens[s], req.ids) for s in free}
            best = max(free, key=lambda s: (shared[s], -self._slot_used[s]))
            if shared[best] < MIN_REUSE_TOKENS:  # keep the long contexts: take an empty or the oldest slot
                best = min(free, key=lambda s: (len(self._slot_tokens[s]) > 0, self._slot_used[s]))
            self._waiting.pop(0)
            n = min(shared[best], len(req.ids) - 1)  # the last prompt token is read again for logits
            donor, given = self._donor(req.ids, shared[best])
            if donor is not None:
                n = self._copy_prefix(donor, best, min(given, len(req.ids) - 1))
            _llama_cpp().llama_memory_seq_rm(self._bctx.memory, best, n, -1)
            self._slot_tokens[best] = self._slot_tokens[best][:n]
            self._slot_busy[best] = True
            req.slot, req.read, req.cached = best, n, n
            req.tokens = list(req.ids)
            self.stats["reused_tokens"] += n
            if req.budget <= 0:
                req.out.put(_END)
                self._slot_busy[best] = False
            else:
                self._running.append(req)
            self.stats["max_running"] = max(self.stats["max_running"], len(self._running))
            req.admitted.set()

    def _donor(self, ids: list[int], have: int) -> tuple[int | None, int]:
        """A running slot whose evaluated tokens share a prefix with ``ids`` longer, by at least
        :data:`MIN_REUSE_TOKENS`, than the ``have`` tokens a free slot offers (requests over
        one tool list sent at once), and that prefix's length; (None, 0) when there is none."""
        busy = [s for s in range(self.n_slots) if self._slot_busy[s]]
        if not busy:
            return None, 0
        shared = {s: common_prefix(self._slot_tokens[s], ids) for s in busy}
        donor = max(busy, key=lambda s: shared[s])
        if shared[donor] < max(MIN_REUSE_TOKENS, have + MIN_REUSE_TOKENS):
            return None, 0
        return donor, shared[donor]

    def _copy_prefix(self, src: int, dst: int, n: int) -> int:
        """Give slot ``dst`` the first ``n`` evaluated tokens of running slot ``src``: llama.cpp
        copies a sequence across split KV caches only whole (at the next decode), so the copy
        is cut back to ``n`` right after. Returns ``n``."""
        llama_cpp = _llama_cpp()
        llama_cpp.llama_memory_seq_cp(self._bctx.memory, src, dst, -1, -1)
        self._slot_tokens[dst] = list(self._slot_tokens[src])
        self.stats["copied_tokens"] += n
        return n

    def _forget_slot(self, s: int) -> None:
        _llama_cpp().llama_memory_seq_rm(self._bctx.memory, s, -1, -1)
        self._slot_tokens[s] = []

    def _step(self, running: list[_Request]) -> None:
        """One ``llama_decode``: each decoding request's pending token, then prompt chunks."""
        llama_cpp = _llama_cpp()
        batch = self._batch
        n = 0
        want: list[tuple[_Request, int]] = []  # (request, batch index whose logits it samples from)

        def add(req: _Request, tok: int, logits: bool) -> None:
            nonlocal n
            slot_toks = self._slot_tokens[req.slot]
            batch.token[n] = tok
            batch.pos[n] = len(slot_toks)
            batch.n_seq_id[n] = 1
            batch.seq_id[n][0] = req.slot
            batch.logits[n] = 1 if logits else 0
            slot_toks.append(tok)
            if logits:
                want.append((req, n))
            n += 1

        for req in running:
            if req.pending is not None:
                add(req, req.pending, True)
                req.pending = None
        for req in running:
            if req.read < len(req.ids) and n < self.n_batch:
                take = min(self.n_batch - n, len(req.ids) - req.read)
                for i in range(req.read, req.read + take):
                    add(req, req.ids[i], i == len(req.ids) - 1)
                req.read += take
        if n == 0:
            return
        batch.n_tokens = n
        t0 = time.perf_counter()
        rc = llama_cpp.llama_decode(self._bctx.ctx, batch)
        self.stats["decode_s"] = self.stats.get("decode_s", 0.0) + time.perf_counter() - t0
        if rc != 0:
            raise EngineError(f"llama_decode failed ({rc}{': no room in the KV cache' if rc == 1 else ''})")
        self.stats["steps"] += 1
        self.stats["tokens"] += n
        for req, i in want:
            ptr = llama_cpp.llama_get_logits_ith(self._bctx.ctx, i)
            scores = np.ctypeslib.as_array(ptr, shape=(self._n_vocab,)).copy()
            if req.processor is not None:
                scores = req.processor(req.tokens, scores)
            tok = self._sample(req, scores)
            req.tokens.append(tok)
            req.n_out += 1
            req.out.put(tok)
            if req.n_out >= req.budget or self.is_eog(tok):
                req.out.put(_END)
                with self._cond:
                    req.cancelled = True
            else:
                req.pending = tok
        with self._cond:
            self._drop_finished()

    @staticmethod
    def _sample(req: _Request, scores: np.ndarray) -> int:
        t = req.params.temperature
        if t <= 0 or req.rng is None:
            return int(np.argmax(scores))
        z = scores.astype(np.float64) / t
        z -= z.max()
        p = np.exp(z)
        p /= p.sum()
        top_p = req.params.top_p
        if 0 < top_p < 1:
            order = np.argsort(-p)
            cum = np.cumsum(p[order])
            cut = order[: int(np.searchsorted(cum, top_p)) + 1]
            q = np.zeros_like(p)
            q[cut] = p[cut]
            p = q / q.sum()
        return int(req.rng.choice(len(p), p=p))


__all__ = ["BatchedLlamaCppEngine"]
