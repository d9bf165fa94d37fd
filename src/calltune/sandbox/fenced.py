"""Run the ```python blocks a code model writes instead of calling the ``python`` tool.

Code models (the default Qwen2.5-Coder among them) often answer "run this code" with a fenced
```` ```python ```` block rather than a tool call. :class:`CodeBlockFallback` wraps any chat
format: when the ``python`` tool is offered and a turn has no tool call, its ```` ```python ````
blocks become interpreter code (``ParseResult.code``), which the agent runs through the same
``python`` tool, exactly like ChatGLM3's ``<|assistant|>interpreter`` role. Everything else
(rendering, encoding, stop strings, the calls) is the wrapped format's; streaming holds back
content from a fence on while the fenced code may still turn out to be code.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from ..formats import get_format
from ..formats.base import ChatFormat, StreamParser
from ..formats.streaming import held_suffix
from ..formats.wrapper import FormatWrapper
from ..types import Delta, ParseResult

FENCE = "```"

_BLOCK = re.compile(r"```[ \t]*(?:python3?|py|ipython)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)


def fenced_python_blocks(text: str) -> list[str]:
    """The non-empty ```` ```python ```` (or ``py``/``python3``/``ipython``) blocks of ``text``, in
    order; an unterminated last block counts (generation may stop inside it)."""
    return [m.group(1).strip("\n") for m in _BLOCK.finditer(text) if m.group(1).strip()]


class CodeBlockFallback(FormatWrapper):
    """``format`` plus: fenced Python in a turn without tool calls runs as interpreter code
    when ``tool`` (default ``"python"``) is among the offered tools. Only the first
    ``max_blocks`` blocks run (default 1: models tend to follow the real code with optional
    variations, e.g. "to drop the missing rows: ...", whose output would mislead them)."""

    def __init__(self, format: ChatFormat, tool: str = "python", max_blocks: int = 1) -> None:
        if max_blocks < 1:
            raise ValueError(f"max_blocks must be >= 1, got {max_blocks}")
        super().__init__(format)
        self.tool = tool
        self.max_blocks = max_blocks

    def applies(self, tool_names: Collection[str] | None) -> bool:
        return tool_names is not None and self.tool in tool_names

    def fallback(self, result: ParseResult, tool_names: Collection[str] | None) -> ParseResult:
        """``result`` of the wrapped format, with its fenced Python as code when that applies."""
        if result.tool_calls or result.errors or result.code or not self.applies(tool_names):
            return result
        blocks = fenced_python_blocks(result.content)
        if not blocks:
            return result
        before = result.content[: result.content.find(FENCE)].strip()
        return ParseResult(content=before, code=blocks[: self.max_blocks])

    def parse(self, text: str, tool_names: Collection[str] | None = None) -> ParseResult:
        return self.fallback(self.base.parse(text, tool_names), tool_names)

    def stream_parser(self, tool_names: Collection[str] | None = None) -> StreamParser:
        return _FallbackStreamParser(self, tool_names)


class _FallbackStreamParser(StreamParser):
    """The wrapped format's stream parser. While the fallback may apply, content from the first
    fence on is held back until the end (and dropped when it turns out to be code), so the
    content deltas add up to ``result().content``, as for every format."""

    def __init__(self, fmt: CodeBlockFallback, tool_names: Collection[str] | None) -> None:
        self._fmt, self._names = fmt, tool_names
        self._inner = fmt.base.stream_parser(tool_names)
        self._hold = fmt.applies(tool_names)
        self._content = ""  # the wrapped parser's content so far
        self._sent = 0  # how much of it went out

    def feed(self, chunk: str) -> list[Delta]:
        return self._relay(self._inner.feed(chunk))

    def finish(self) -> list[Delta]:
        out = self._relay(self._inner.finish())
        final = self.result().content
        if len(final) > self._sent:
            out.append(Delta("content", final[self._sent :]))
            self._sent = len(final)
        return out

    def result(self) -> ParseResult:
        return self._fmt.fallback(self._inner.result(), self._names)

    def _relay(self, deltas: list[Delta]) -> list[Delta]:
        out: list[Delta] = []
        for d in deltas:
            if d.kind == "content":
                self._content += d.text
                continue
            if d.kind in ("tool_call_end", "error"):  # the fallback no longer applies
                self._hold = False
            out += self._release()
            out.append(d)
        return out + self._release()

    def _release(self) -> list[Delta]:
        text, end = self._content, len(self._content)
        if self._hold:  # what is sure to stay content: up to a fence, without trailing space
            fence = text.find(FENCE)
            end = len(text[: fence if fence != -1 else end - held_suffix(text, [FENCE])].rstrip())
        if end <= self._sent:
            return []
        piece, self._sent = text[self._sent : end], end
        return [Delta("content", piece)]


def with_code_fallback(format: ChatFormat | str, tool: str = "python", max_blocks: int = 1) -> ChatFormat:
    """Wrap ``format`` (an object or a name for :func:`calltune.formats.get_format`)."""
    format = get_format(format)
    if isinstance(format, CodeBlockFallback):
        return format
    return CodeBlockFallback(format, tool, max_blocks)
