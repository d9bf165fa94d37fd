"""The engine contract: prompt (text or token ids) in, streamed text out."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import CalltuneError
from ..formats.base import TokenizerAdapter


class EngineError(CalltuneError, RuntimeError):
    """An engine could not do what was asked (bad model path, prompt too long, ...)."""


class ContextLengthError(EngineError):
    """The prompt does not fit the model's context window."""


@dataclass
class SamplingParams:
    max_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: Sequence[str] = ()


@dataclass
class Chunk:
    """One streamed piece. The last chunk has ``finish_reason`` set ("stop" or "length"),
    ``stop`` = the stop string that ended generation (or None), and ``usage``."""

    text: str
    finish_reason: str | None = None
    stop: str | None = None
    usage: dict[str, Any] | None = None


@dataclass
class Completion:
    text: str
    finish_reason: str
    stop: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


def engine_prompt(
    engine: Any,
    fmt: Any,
    messages: Any,
    tools: Any = None,
    add_generation_prompt: bool = True,
    **kw: Any,
) -> str | list[int]:
    """The prompt ``engine`` takes for ``messages`` in chat format ``fmt``: token ids through its
    tokenizer (each role marker its special id), or the rendered text for an engine whose
    ``text_prompts`` is set (a remote server tokenizes the text itself; ids made on this side,
    one per byte when it has no ``/tokenize``, would be read as its vocabulary's ids)."""
    tok = getattr(engine, "tokenizer", None)
    if tok is None or getattr(engine, "text_prompts", False):
        return fmt.render(messages, tools, add_generation_prompt=add_generation_prompt, **kw)
    return fmt.encode(messages, tok, tools, add_generation_prompt=add_generation_prompt, **kw)


class Engine(ABC):
    """A local or remote text generator.

    Subclasses set ``model_id``, ``context_length``, ``chat_template`` (str or None),
    ``tokenizer`` (a :class:`TokenizerAdapter`) and ``default_format`` (a format name
    chosen from the chat template). ``stream`` must stop on any of ``params.stop``
    (the stop string is not part of the text and is reported in the last chunk) and
    must stop generating promptly when the iterator is closed (client disconnect).
    ``constraint`` is a guided-decoding object from :mod:`calltune.guided` or None.
    """

    model_id: str = ""
    context_length: int = 4096
    chat_template: str | None = None
    default_format: str = "hermes"
    tokenizer: TokenizerAdapter
    #: whether this engine can apply a guided-decoding constraint
    supports_constraints: bool = False

    @abstractmethod
    def stream(
        self, prompt: str | list[int], params: SamplingParams, constraint: Any = None
    ) -> Iterator[Chunk]: ...

    def generate(self, prompt: str | list[int], params: SamplingParams, constraint: Any = None) -> Completion:
        t0 = time.perf_counter()
        parts: list[str] = []
        last = Chunk("")
        for ch in self.stream(prompt, params, constraint):
            parts.append(ch.text)
            last = ch
        usage = last.usage or {}
        return Completion(
            text="".join(parts),
            finish_reason=last.finish_reason or "stop",
            stop=last.stop,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            latency_s=time.perf_counter() - t0,
            timings={k: v for k, v in usage.items() if k.endswith("_s")},
        )

    def check_context(self, n_prompt: int) -> None:
        """Raise :class:`ContextLengthError` when a prompt of ``n_prompt`` tokens leaves no room to generate."""
        if n_prompt >= self.context_length:
            raise ContextLengthError(
                f"prompt has {n_prompt} tokens, the context window is {self.context_length}"
            )

    def count_tokens(self, prompt: str | list[int]) -> int:
        return len(prompt) if isinstance(prompt, list) else len(self.tokenizer.encode_text(prompt))

    def close(self) -> None:  # noqa: B027 - optional hook
        """Free the model."""
