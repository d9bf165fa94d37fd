"""Run the ```python blocks a code model writes instead of calling the ``python`` tool.

Code models (the default Qwen2.5-Coder among them) often answer "run this code" with a fenced
```` ```python ```` block rather than a tool call. :class:`CodeBlockFallback` wraps any chat
format: when the ``python`` tool is offered and a turn has no tool call, its ```` ```python ````
blocks become interpreter code (``ParseResult.code``), which the agent runs through the same
``python`` tool, exactly like ChatGLM3's ``<|assistant|>interpreter`` role. Everything else
(rendering, encoding, streaming, stop strings) is the wrapped format's.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Collection, Sequence
from typing import Any

from ..formats.base import ChatFormat, Segment, StreamParser, TokenizerAdapter
from ..types import ParseResult

_BLOCK = re.compile(r"```[ \t]*(?:python3?|py|ipython)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)


def fenced_python_blocks(text: str) -> list[str]:
    """The non-empty ```` ```python ```` (or ``py``/``python3``/``ipython``) blocks of ``text``, in
    order; an unterminated last block counts (generation may stop inside it)."""
    return [m.group(1).strip("\n") for m in _BLOCK.finditer(text) if m.group(1).strip()]


class CodeBlockFallback(ChatFormat):
    """``format`` plus: fenced Python in a turn without tool calls runs as interpreter code
    when ``tool`` (default ``"python"``) is among the offered tools. Only the first
    ``max_blocks`` blocks run (default 1: models tend to follow the real code with optional
    variations, e.g. "to drop the missing rows: ...", whose output would mislead them)."""

    def __init__(self, format: ChatFormat, tool: str = "python", max_blocks: int = 1) -> None:
        if max_blocks < 1:
            raise ValueError(f"max_blocks must be >= 1, got {max_blocks}")
        self.base = format
        self.tool = tool
        self.max_blocks = max_blocks
        self.name = format.name
        self.stop = list(format.stop)
        self.special_tokens = list(format.special_tokens)
        self._base_takes_names = "tool_names" in inspect.signature(format.parse).parameters

    def segments(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        add_generation_prompt: bool = True,
    ) -> list[Segment]:
        return self.base.segments(messages, tools, add_generation_prompt)

    def render(self, messages: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]] | None = None, add_generation_prompt: bool = True) -> str:  # fmt: skip
        return self.base.render(messages, tools, add_generation_prompt)

    def encode(
        self,
        messages: Sequence[dict[str, Any]],
        tokenizer: TokenizerAdapter,
        tools: Sequence[dict[str, Any]] | None = None,
        add_generation_prompt: bool = True,
    ) -> list[int]:
        return self.base.encode(messages, tokenizer, tools, add_generation_prompt)

    def encode_segments(self, segments: Sequence[Segment], tokenizer: TokenizerAdapter) -> tuple[list[int], list[bool]]:  # fmt: skip
        return self.base.encode_segments(segments, tokenizer)

    def stream_parser(self, *args: Any, **kwargs: Any) -> StreamParser:
        return self.base.stream_parser(*args, **kwargs)

    def stop_means_call(self, stop: str | None) -> bool:
        return self.base.stop_means_call(stop)

    def parse(self, text: str, tool_names: Collection[str] | None = None) -> ParseResult:
        result = (
            self.base.parse(text, tool_names=tool_names) if self._base_takes_names else self.base.parse(text)
        )
        if result.tool_calls or result.errors or result.code:
            return result
        if tool_names is None or self.tool not in tool_names:
            return result
        blocks = fenced_python_blocks(result.content)
        if not blocks:
            return result
        before = result.content[: result.content.find("```")].strip()
        return ParseResult(content=before, code=blocks[: self.max_blocks])

    def __getattr__(self, name: str) -> Any:  # anything else the wrapped format offers
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)


def with_code_fallback(format: ChatFormat | str, tool: str = "python", max_blocks: int = 1) -> ChatFormat:
    """Wrap ``format`` (an object or a name for :func:`calltune.formats.get_format`)."""
    if isinstance(format, str):
        from ..formats import get_format

        format = get_format(format)
    if isinstance(format, CodeBlockFallback):
        return format
    return CodeBlockFallback(format, tool, max_blocks)
