"""The chat-format contract. One object renders what the model sees and parses what it writes.

Inference, the server, training and evaluation all go through the same object
(DESIGN.md §4), so a model is trained on exactly the tokens it sees at inference.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..types import Delta, ParseResult


@dataclass
class Segment:
    """A piece of a rendered dialogue.

    ``special``: a role marker that must be encoded as one special-token id (never
    built from user text). ``loss``: the *unshifted* loss mask of DESIGN.md §3 —
    True for what the model generates at inference. Training shifts it by one
    (``labels[i]`` is set when ``loss`` of token ``i-1`` is True).
    ``role``: the message role the segment belongs to (for display and stats).
    """

    text: str
    special: bool = False
    loss: bool = False
    role: str = ""


@runtime_checkable
class TokenizerAdapter(Protocol):
    """The two things a format needs from a tokenizer."""

    def encode_text(self, text: str) -> list[int]:
        """Token ids of plain text; special-token strings in it are NOT turned into special ids."""

    def special_id(self, marker: str) -> int | None:
        """The id of ``marker`` if the vocabulary has it as one (special) token, else None."""


class StreamParser(ABC):
    """Incremental parser: feed text chunks, get :class:`Delta` events.

    Content that might be the beginning of a call is held back until it is clear,
    and released as content if it turns out not to be a call (never withheld forever:
    ``finish()`` flushes everything). Call arguments are emitted as JSON chunks whose
    concatenation equals ``ToolCall.arguments_json()`` of the final parse.
    """

    @abstractmethod
    def feed(self, chunk: str) -> list[Delta]: ...

    @abstractmethod
    def finish(self) -> list[Delta]: ...

    @abstractmethod
    def result(self) -> ParseResult:
        """The final parse (valid after ``finish()``); equals ``format.parse(full_text)``."""


class ChatFormat(ABC):
    """Base class for a chat protocol. Subclasses: chatglm3, hermes, glm4."""

    name: str = ""
    #: strings that end an assistant turn; engines stop on them
    stop: list[str] = []
    #: role markers the format needs; encode() inserts them by id when the vocab has them
    special_tokens: list[str] = []

    @abstractmethod
    def segments(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        add_generation_prompt: bool = True,
    ) -> list[Segment]:
        """Render messages (OpenAI schema; a message may carry ``"loss": bool``) and tools
        (OpenAI tool dicts ``{"type": "function", "function": {...}}``) into segments."""

    def render(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        add_generation_prompt: bool = True,
    ) -> str:
        return "".join(s.text for s in self.segments(messages, tools, add_generation_prompt))

    def encode(
        self,
        messages: Sequence[dict[str, Any]],
        tokenizer: TokenizerAdapter,
        tools: Sequence[dict[str, Any]] | None = None,
        add_generation_prompt: bool = True,
    ) -> list[int]:
        ids, _ = self.encode_segments(self.segments(messages, tools, add_generation_prompt), tokenizer)
        return ids

    def encode_segments(
        self, segments: Sequence[Segment], tokenizer: TokenizerAdapter
    ) -> tuple[list[int], list[bool]]:
        """Token ids and the per-token unshifted loss mask. Special segments become their
        single id when the vocab has it; text segments are encoded as plain text."""
        ids: list[int] = []
        mask: list[bool] = []
        for seg in segments:
            if not seg.text:
                continue
            sid = tokenizer.special_id(seg.text) if seg.special else None
            piece = [sid] if sid is not None else tokenizer.encode_text(seg.text)
            ids.extend(piece)
            mask.extend([seg.loss] * len(piece))
        return ids, mask

    @abstractmethod
    def parse(self, text: str) -> ParseResult:
        """Parse one assistant turn as generated (without the stop string)."""

    @abstractmethod
    def stream_parser(self) -> StreamParser: ...

    def stop_means_call(self, stop: str | None) -> bool:
        """True when generation stopped on a string that signals a tool call (ChatGLM3's
        ``<|observation|>``); used by the runtime to tell 'turn over' from 'call made'."""
        return False
