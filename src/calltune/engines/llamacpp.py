"""GGUF models on llama.cpp (llama-cpp-python).

Generation uses ``Llama.generate``, which keeps the tokens of the previous request
and evaluates only what differs from them: a second request that shares a prefix
with the previous one (system prompt + tool list) skips that prefix's prefill.
Tokens are read byte-exactly (:class:`~calltune.engines.stops.ByteTokenDecoder`); the token
budget, stop strings and usage are the shared decode loop's
(:class:`~calltune.engines.decode.LocalEngine`).
"""

from __future__ import annotations

import ctypes
import os
import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .base import EngineError, SamplingParams
from .decode import LocalEngine
from .deps import require
from .loading import detect_default_format, loading_status
from .stops import ByteTokenDecoder, TextDecoder

DEFAULT_N_CTX = 8192
#: bytes of KV state kept for prompts the engine switched away from (see ``prefix_cache_bytes``)
DEFAULT_PREFIX_CACHE_BYTES = 1 << 30
#: a context is kept, and a kept one restored, only when that saves at least this many tokens
PREFIX_MIN_TOKENS = 256


def _llama_cpp() -> Any:
    return require("llama_cpp", "the llama.cpp engine", "llamacpp", package="llama-cpp-python")


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def gguf_context_length(path: str | os.PathLike[str]) -> int | None:
    """``<arch>.context_length`` from a GGUF file's header (None when absent or unreadable).

    Reads the key/value section only as far as that key, without loading the model."""
    import struct

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
    try:
        with open(path, "rb") as f:

            def read(fmt: str) -> Any:
                fmt = "<" + fmt
                return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]

            def read_str() -> str:
                return f.read(read("Q")).decode("utf-8", errors="replace")

            def skip(vtype: int) -> None:
                if vtype in scalar:
                    f.seek(struct.calcsize(scalar[vtype]), 1)
                elif vtype == 8:
                    f.seek(read("Q"), 1)
                elif vtype == 9:
                    etype, count = read("I"), read("Q")
                    if etype in scalar:
                        f.seek(struct.calcsize(scalar[etype]) * count, 1)
                    else:
                        for _ in range(count):
                            skip(etype)
                else:
                    raise ValueError(f"unknown GGUF value type {vtype}")

            if f.read(4) != b"GGUF":
                return None
            version = read("I")
            if version < 2:
                return None
            read("Q")  # tensor count
            n_kv = read("Q")
            arch = None
            for _ in range(n_kv):
                key, vtype = read_str(), read("I")
                if key == "general.architecture" and vtype == 8:
                    arch = read_str()
                elif arch is not None and key == f"{arch}.context_length" and vtype in scalar:
                    return int(read(scalar[vtype]))
                else:
                    skip(vtype)
    except (OSError, ValueError, struct.error):
        return None
    return None


class LlamaCppTokenizer:
    """:class:`~calltune.formats.base.TokenizerAdapter` over a ``llama_cpp.Llama``."""

    def __init__(self, llama: Any):
        self._llama = llama
        self._lib = _llama_cpp()
        self._cache: dict[str, int | None] = {}

    def encode_text(self, text: str) -> list[int]:
        """Plain text ids: no BOS, special-token strings in ``text`` stay text."""
        if not text:
            return []
        return list(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def special_id(self, marker: str) -> int | None:
        """The id of ``marker`` when it is one control / user-defined token of the vocabulary."""
        if marker in self._cache:
            return self._cache[marker]
        llama_cpp = self._lib
        ids = self._llama.tokenize(marker.encode("utf-8"), add_bos=False, special=True)
        sid: int | None = None
        if len(ids) == 1:
            attr = self._llama._model.token_get_attr(ids[0])
            if attr & (llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED):
                sid = int(ids[0])
        self._cache[marker] = sid
        return sid

    def decode(self, ids: list[int]) -> str:
        return self._llama.detokenize(list(ids), special=True).decode("utf-8", errors="replace")

    def token_bytes(self, token: int) -> bytes:
        """The bytes of one token as generated (special tokens rendered as their text)."""
        import ctypes

        llama_cpp = self._lib
        size = 64
        while True:
            buf = ctypes.create_string_buffer(size)
            n = llama_cpp.llama_token_to_piece(self._llama._model.vocab, token, buf, size, 0, True)
            if n >= 0:
                return buf.raw[:n]
            size = -n


class LlamaCppEngine(LocalEngine):
    """A GGUF model on llama.cpp.

    ``model_path``: the .gguf file. ``n_ctx``: context window (default 8192, or the
    model's training context if smaller). ``n_threads``: CPU threads (default: all
    cores this process may use). ``n_gpu_layers``: layers to offload when
    llama-cpp-python was built with a GPU backend (-1 = all).
    ``prefix_cache_bytes``: llama.cpp keeps one context; a request that shares little with
    it (an agent's short side question between two steps of a long conversation) would throw
    the long one away, and the next step would prefill its whole tool list again. Before that
    happens the engine saves the long context's state (llama-cpp-python's ``LlamaRAMCache``,
    this many bytes, least recently used first out) and restores it when a later prompt
    shares more of it than of the current context. 0 turns this off.
    """

    constraint_hook = "llamacpp_logits_processor"

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        n_ctx: int | None = None,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        n_batch: int = 512,
        model_id: str | None = None,
        default_format: str | None = None,
        progress: bool | None = None,
        prefix_cache_bytes: int = DEFAULT_PREFIX_CACHE_BYTES,
        **llama_kwargs: Any,
    ):
        llama_cpp = _llama_cpp()
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise EngineError(f"GGUF file not found: {path}")
        self.model_path = path
        self.model_id = model_id or path.stem
        threads = n_threads or _cpu_count()
        with loading_status(
            f"Loading {path.name} ({path.stat().st_size / 1e9:.2f} GB) on llama.cpp", progress
        ):
            if n_ctx is None:
                n_ctx = min(DEFAULT_N_CTX, gguf_context_length(path) or DEFAULT_N_CTX)
            try:
                self.llama = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=n_ctx,
                    n_threads=threads,
                    n_threads_batch=threads,
                    n_batch=n_batch,
                    n_gpu_layers=n_gpu_layers,
                    verbose=False,
                    **llama_kwargs,
                )
            except (ValueError, RuntimeError) as e:
                raise EngineError(f"llama.cpp could not load {path}: {e}") from e
        self.context_length = int(self.llama.n_ctx())
        self.chat_template = self.llama.metadata.get("tokenizer.chat_template")
        self.default_format = default_format or detect_default_format(self.chat_template, self.model_id)
        self.tokenizer = LlamaCppTokenizer(self.llama)
        self._is_eog = llama_cpp.llama_vocab_is_eog
        self._lock = threading.Lock()
        self._prefix_cache: Any = None
        if prefix_cache_bytes > 0:
            from llama_cpp.llama_cache import LlamaRAMCache

            self._prefix_cache = LlamaRAMCache(capacity_bytes=prefix_cache_bytes)
        #: how often a kept context was saved and restored (for benches and tests)
        self.prefix_cache_stats = {"saved": 0, "restored": 0, "restored_tokens": 0}

    # ------------------------------------------------------------------ generation

    def _prompt_ids(self, prompt: str | list[int]) -> list[int]:
        """Token ids of a prompt. Text is tokenized with its special-token markers parsed
        (a rendered prompt holds the format's role markers as text); token ids are taken
        as given. BOS is put in front when the model wants one and it is not there."""
        if isinstance(prompt, str):
            ids = list(self.llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))
        else:
            ids = [int(t) for t in prompt]
            n_vocab = self.llama.n_vocab()
            bad = [t for t in ids if not 0 <= t < n_vocab]
            if bad:  # llama.cpp would crash on them
                raise EngineError(f"token ids out of the vocabulary (size {n_vocab}): {bad[:5]}")
        if not ids:
            raise EngineError("empty prompt")
        model = self.llama._model
        if model.add_bos_token():
            bos = int(model.token_bos())
            if bos >= 0 and ids[0] != bos:
                ids.insert(0, bos)
        return ids

    def start_decoding(
        self, ids: list[int], params: SamplingParams, processor: Any
    ) -> tuple[Iterator[int], int]:
        llama = self.llama
        current = list(llama._input_ids) if llama.n_tokens else []
        cached = _reused_prefix(current, ids)
        if self._prefix_cache is not None:
            cached = self._swap_context(current, ids, cached)
        llama.set_seed(params.seed if params.seed is not None else random.randrange(2**31))
        processors = _llama_cpp().LogitsProcessorList([processor]) if processor is not None else None
        # Llama.generate keeps the previous request's tokens and evaluates only what differs
        tokens = llama.generate(
            ids,
            top_k=0,
            top_p=params.top_p,
            min_p=0.0,
            typical_p=1.0,
            temp=params.temperature,
            repeat_penalty=1.0,
            logits_processor=processors,
        )
        return tokens, cached

    def _swap_context(self, current: list[int], ids: list[int], cached: int) -> int:
        """Keep the current context if this request would discard a long part of it; restore a
        kept one that shares a longer prefix with ``ids``. Returns the prefix length reused."""
        cache, llama = self._prefix_cache, self.llama
        if len(current) - cached >= PREFIX_MIN_TOKENS:
            cache[current] = save_context(llama)
            self.prefix_cache_stats["saved"] += 1
        key = cache._find_longest_prefix_key(tuple(ids))
        if key is None:
            return cached
        shared = _reused_prefix(list(key), ids)
        if shared - cached < PREFIX_MIN_TOKENS:
            return cached
        load_context(llama, cache[key])
        self.prefix_cache_stats["restored"] += 1
        self.prefix_cache_stats["restored_tokens"] += shared
        return shared

    def is_eog(self, token: int) -> bool:
        return bool(self._is_eog(self.llama._model.vocab, token))

    def token_text(self, token: int) -> str:
        return self.tokenizer.token_bytes(token).decode("utf-8", errors="replace")

    def text_decoder(self) -> TextDecoder:
        return ByteTokenDecoder(self.tokenizer.token_bytes)

    def _call_constraint_hook(self, hook: Callable[..., Any]) -> Any:
        return hook(self.llama)

    def reset_cache(self) -> None:
        """Forget the KV cache: the next request evaluates its whole prompt.

        Reusing a cached prefix changes the arithmetic slightly (the last prompt token is
        evaluated alone instead of in a batch), so seeded sampling is reproducible for the
        same prompt *and* the same cache state; call this before each request when you
        need bit-identical results."""
        with self._lock:
            self._check_open()
            self.llama.reset()
            if self._prefix_cache is not None:
                self._prefix_cache.cache_state.clear()

    def _free(self) -> None:
        llama = getattr(self, "llama", None)
        if llama is not None:
            llama.close()
            self.llama = None  # type: ignore[assignment]


def common_prefix(a: list[int], b: list[int]) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def save_context(llama: Any) -> Any:
    """The KV state of ``llama``'s context, for :meth:`LlamaCppEngine._swap_context`.

    ``Llama.save_state`` also copies the context's rows of ``Llama.scores``: up to ``n_batch``
    rows of ``n_vocab`` floats (512 x 262,144 x 4 B = 512 MB for Gemma 3) that
    ``LlamaRAMCache`` does not count against its capacity, and that nothing reads when the
    model was loaded without ``logits_all``. An eval that switched contexts a few dozen times
    grew by that much each time until the kernel killed it. This saves the KV state alone."""
    import numpy as np  # llama-cpp-python's own dependency

    llama_cpp = _llama_cpp()
    ctx = llama._ctx.ctx
    size = int(llama_cpp.llama_state_get_size(ctx))
    buf = (ctypes.c_uint8 * size)()
    n = int(llama_cpp.llama_state_get_data(ctx, buf, size))
    if n > size:
        raise EngineError("llama.cpp could not copy the context's state")
    return llama_cpp.LlamaState(
        input_ids=llama.input_ids[: llama.n_tokens].copy(),
        scores=np.empty((0, llama.n_vocab()), dtype=np.single),
        n_tokens=llama.n_tokens,
        llama_state=bytes(memoryview(buf)[:n]),
        llama_state_size=n,
        seed=llama._seed,
    )


def load_context(llama: Any, state: Any) -> None:
    """Restore a state from :func:`save_context` (``Llama.load_state`` without ``scores``)."""
    llama_cpp = _llama_cpp()
    llama.input_ids[: state.n_tokens] = state.input_ids
    llama.n_tokens = state.n_tokens
    llama._requires_eval = True
    llama._seed = state.seed
    size = state.llama_state_size
    buf = (ctypes.c_uint8 * size).from_buffer_copy(state.llama_state)
    if llama_cpp.llama_state_set_data(llama._ctx.ctx, buf, size) != size:
        raise EngineError("llama.cpp could not restore a kept context")


def _reused_prefix(cached: list[int], ids: list[int]) -> int:
    """How many prompt tokens ``Llama.generate`` will take from its KV cache."""
    n = common_prefix(cached, ids)
    if n == len(ids) and len(cached) != len(ids):
        n -= 1  # the last token is evaluated again to get fresh logits
    return n
