"""What a reasoning model thinks before it answers, kept apart from its answer and its calls.

Qwen3 (and DeepSeek-R1, QwQ, GLM-Z1) write ``<think>…</think>`` before the answer; when the
chat template opens the block itself (the prompt ends with ``<think>``), the output starts
inside it and only the closing tag shows. :class:`ReasoningSplitter` wraps any format's stream
parser: the thinking becomes ``reasoning`` deltas and :attr:`ParseResult.reasoning`, and only
what follows the closing tag reaches the format's parser — so a ``<tool_call>`` the model writes
while thinking is never a call, and the thinking is never content. A block is reasoning only at
the very start of the output (after whitespace); ``<think>`` later in an answer is text.
Without a closing tag (the budget ran out while thinking) everything is reasoning.

:func:`turn_parser` / :func:`read_turn` are how a turn reads a model's output: the splitter over
the format's parser (or over plain text, for a turn without tools).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from ..types import Delta, ParseResult
from .base import ChatFormat, StreamParser
from .streaming import held_suffix

#: the tags of the thinking block (Qwen3, DeepSeek-R1, QwQ, GLM-Z1)
THINK_TAGS = ("<think>", "</think>")


class TextParser(StreamParser):
    """The output as content, exactly as written (a turn with no tools on offer)."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def feed(self, chunk: str) -> list[Delta]:
        self._parts.append(chunk)
        return [Delta("content", chunk)] if chunk else []

    def finish(self) -> list[Delta]:
        return []

    def result(self) -> ParseResult:
        return ParseResult(content="".join(self._parts))


class ReasoningSplitter(StreamParser):
    """``inner`` (a format's stream parser) behind a split of the leading thinking block.

    ``tags``: the block's opening and closing tag; ``opened``: the prompt already opened the
    block, so the output starts inside it. The reasoning is stripped of the whitespace around
    it, and the whitespace after the closing tag is dropped."""

    def __init__(self, inner: StreamParser, tags: tuple[str, str] = THINK_TAGS, opened: bool = False) -> None:
        self.inner = inner
        self.open_tag, self.close_tag = tags
        self._state = "reasoning" if opened else "start"
        self._buf = ""
        self._reasoning: list[str] = []
        self._started = False  # reasoning text seen (leading whitespace is dropped)
        self._ws = ""  # trailing whitespace of the reasoning, held until more reasoning comes

    def feed(self, chunk: str) -> list[Delta]:
        self._buf += chunk
        return self._run(final=False)

    def finish(self) -> list[Delta]:
        out = self._run(final=True)
        return out + self.inner.finish()

    def result(self) -> ParseResult:
        return replace(self.inner.result(), reasoning="".join(self._reasoning))

    def _run(self, final: bool) -> list[Delta]:
        out: list[Delta] = []
        while True:
            buf = self._buf
            if self._state == "start":
                s = buf.lstrip()
                if s.startswith(self.open_tag):
                    self._buf, self._state = s[len(self.open_tag) :], "reasoning"
                    continue
                if not final and (not s or self.open_tag.startswith(s)):
                    return out  # whitespace, or what may become the opening tag
                self._state = "answer"
                continue
            if self._state == "reasoning":
                j = buf.find(self.close_tag)
                if j != -1:
                    out += self._think(buf[:j])
                    self._ws = ""
                    self._buf, self._state = buf[j + len(self.close_tag) :], "after"
                    continue
                keep = 0 if final else held_suffix(buf, [self.close_tag])
                out += self._think(buf[: len(buf) - keep])
                self._buf = buf[len(buf) - keep :]
                return out
            if self._state == "after":  # the whitespace between the block and the answer
                s = buf.lstrip()
                if not s:
                    self._buf = ""
                    return out
                self._buf, self._state = s, "answer"
                continue
            self._buf = ""
            return out + (self.inner.feed(buf) if buf else [])

    def _think(self, text: str) -> list[Delta]:
        if not self._started:
            text = text.lstrip()
            if not text:
                return []
            self._started = True
        body = text.rstrip()
        if not body:
            self._ws += text
            return []
        piece = self._ws + body
        self._ws = text[len(body) :]
        self._reasoning.append(piece)
        return [Delta("reasoning", piece)]


def opens_reasoning(fmt: ChatFormat, prompt_text: str) -> bool:
    """True when ``prompt_text`` (a rendered prompt) ends inside an opened thinking block, so
    that the model's output starts in it."""
    tags = getattr(fmt, "reasoning_tags", None)
    return bool(tags) and prompt_text.rstrip().endswith(tags[0])


def turn_parser(
    fmt: ChatFormat, tool_names: Collection[str] | None = None, *, calls: bool = True, opened: bool = False
) -> StreamParser:
    """The parser of one model turn: the thinking split off (when the format has
    ``reasoning_tags``), then the format's stream parser — or, ``calls=False``, the text as
    content."""
    inner = fmt.stream_parser(tool_names) if calls else TextParser()
    tags = getattr(fmt, "reasoning_tags", None)
    return ReasoningSplitter(inner, tags, opened) if tags else inner


def read_turn(
    fmt: ChatFormat,
    text: str,
    tool_names: Collection[str] | None = None,
    *,
    calls: bool = True,
    opened: bool = False,
) -> ParseResult:
    """:func:`turn_parser` fed ``text`` at once."""
    sp = turn_parser(fmt, tool_names, calls=calls, opened=opened)
    sp.feed(text)
    sp.finish()
    return sp.result()
