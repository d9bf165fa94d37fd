"""Shared machinery for incremental parsers.

Every format parses through its stream parser (``parse(text)`` is ``feed(text)`` +
``finish()``), so the streamed deltas and the final parse can never disagree. A
subclass implements :meth:`BufferedStreamParser._step`, which looks at the undecided
tail ``self._buf``, consumes what is decided (emitting content, calls or errors) and
returns True while it makes progress.

Content rules shared by all formats: the content is made of *pieces* (one per
``<|assistant|>`` segment in GLM formats; one for the whole turn in Hermes); leading and
trailing whitespace of each piece is dropped and non-empty pieces are joined with
``piece_sep``. Trailing whitespace is held back while streaming until it is known not to
be trailing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..types import Delta, ParseError, ParseResult, ToolCall
from .base import StreamParser


def held_suffix(text: str, markers: Sequence[str]) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of one of ``markers``
    (text that must be held back because it may turn into a marker)."""
    best = 0
    for m in markers:
        for k in range(min(len(m) - 1, len(text)), best, -1):
            if text.endswith(m[:k]):
                best = k
                break
    return best


class MarkerScan:
    """Incremental search of a growing buffer for the first of ``markers`` that is not inside
    a quoted string, so that a call's argument may contain the format's own markers.
    ``quotes``: the characters that open and close a string (none: plain search); inside a
    string a backslash escapes the next character. An unterminated string hides every marker
    after it. :meth:`find` may be called again after the buffer grew (it goes on where it
    stopped); the buffer must not lose its head meanwhile."""

    def __init__(self, markers: Sequence[str], quotes: str = "", start: int = 0) -> None:
        self.markers = tuple(markers)
        self._pos = start
        self._quote = ""  # the quote character of the string being read, "" outside strings
        alternatives = [re.escape(m) for m in self.markers] + ([f"[{re.escape(quotes)}]"] if quotes else [])
        self._outside = re.compile("|".join(alternatives))
        self._inside = {q: re.compile(r"\\[\s\S]?|" + re.escape(q)) for q in quotes}
        self._longest = max(len(m) for m in self.markers)

    def find(self, text: str) -> tuple[int, str] | None:
        """(index, marker) of the first marker outside strings, or None when there is none yet."""
        while True:
            if self._quote:
                m = self._inside[self._quote].search(text, self._pos)
                if m is None or m.group() == "\\":  # the string goes on (or an escape is cut)
                    self._pos = len(text) if m is None else m.start()
                    return None
                self._pos = m.end()
                if m.group() == self._quote:
                    self._quote = ""
                continue
            m = self._outside.search(text, self._pos)
            if m is None:  # keep a tail that may grow into a marker
                tail = text[max(self._pos, len(text) - self._longest) :]
                self._pos = len(text) - held_suffix(tail, self.markers)
                return None
            if m.group() in self.markers:
                self._pos = m.start()
                return m.start(), m.group()
            self._quote, self._pos = m.group(), m.end()


class BufferedStreamParser(StreamParser):
    """Base class: content emission with whitespace rules, call/error bookkeeping."""

    piece_sep = "\n"

    def __init__(self) -> None:
        self._buf = ""
        self._out: list[Delta] = []
        self._content: list[str] = []
        self._pending_ws = ""
        self._piece_started = False
        self._calls: list[ToolCall] = []
        self._errors: list[ParseError] = []
        self._code: list[str] = []
        self._finished = False

    # -- public API -------------------------------------------------------------------------
    def feed(self, chunk: str) -> list[Delta]:
        if self._finished:
            raise RuntimeError("feed() after finish()")
        if chunk:
            self._buf += chunk
            self._run(final=False)
        return self._take()

    def finish(self) -> list[Delta]:
        if not self._finished:
            self._run(final=True)
            self._end_piece()
            self._finished = True
        return self._take()

    def result(self) -> ParseResult:
        return ParseResult(
            content="".join(self._content),
            tool_calls=list(self._calls),
            errors=list(self._errors),
            code=list(self._code),
        )

    # -- for subclasses ---------------------------------------------------------------------
    def _step(self, final: bool) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def _run(self, final: bool) -> None:
        for _ in range(1_000_000):
            if not self._step(final):
                return
        raise RuntimeError("stream parser made no progress")  # pragma: no cover

    def _take(self) -> list[Delta]:
        out, self._out = self._out, []
        return out

    def _emit_content(self, text: str) -> None:
        """Decided content of the current piece."""
        if not text:
            return
        if not self._piece_started:
            text = text.lstrip()
            if not text:
                return
            self._piece_started = True
            if self._content:
                self._pending_ws = self.piece_sep
        body = text.rstrip()
        if not body:
            self._pending_ws += text
            return
        out = self._pending_ws + body
        self._pending_ws = text[len(body) :]
        self._content.append(out)
        self._out.append(Delta("content", out))

    def _emit_all_but_marker_start(self, markers: Sequence[str], final: bool) -> None:
        """Emit the buffer as content except (unless ``final``) a tail that may be the start of
        one of ``markers``."""
        buf = self._buf
        keep = 0 if final else held_suffix(buf, markers)
        if len(buf) > keep:
            self._emit_content(buf[: len(buf) - keep])
            self._buf = buf[len(buf) - keep :]

    def _end_piece(self) -> None:
        self._pending_ws = ""
        self._piece_started = False

    def _emit_call(self, call: ToolCall) -> None:
        i = len(self._calls)
        self._calls.append(call)
        self._out.append(Delta("tool_call_start", index=i, id=call.id, name=call.name))
        self._out.append(
            Delta("tool_call_args", text=call.arguments_json(), index=i, id=call.id, name=call.name)
        )

    def _emit_error(self, err: ParseError) -> None:
        self._errors.append(err)
        self._out.append(Delta("error", text=err.message, index=len(self._errors) - 1, name=err.name))

    def _emit_code(self, code: str) -> None:
        self._code.append(code)
