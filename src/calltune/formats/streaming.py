"""Shared machinery for incremental parsers.

Every format parses through its stream parser (``parse(text)`` is ``feed(text)`` +
``finish()``), so the streamed deltas and the final parse can never disagree. A
subclass implements :meth:`BufferedStreamParser._step`, which looks at the undecided
tail ``self._buf``, consumes what is decided (emitting content, calls or errors) and
returns True while it makes progress.

Calls are streamed while they are written: a subclass starts a :class:`CallReader` when a
call block begins (:meth:`BufferedStreamParser._read_block`), shows it the block's text as it
grows (:meth:`~BufferedStreamParser._read_more`: the call's start goes out once its name and the
start of its arguments are read, then the arguments' canonical JSON piece by piece) and settles
the block when it is complete (:meth:`~BufferedStreamParser._settle_block`: the rest of the
arguments and the call's end, or the call withdrawn when the block was not a call after all).
What the reader writes is a prefix of the final arguments JSON; a block whose arguments parse to
something else (a key given twice, with two values) is a parse error, however the text was split.

Content rules shared by all formats: the content is made of *pieces* (one per
``<|assistant|>`` segment in GLM formats; one for the whole turn in Hermes); leading and
trailing whitespace of each piece is dropped and non-empty pieces are joined with
``piece_sep``. Trailing whitespace is held back while streaming until it is known not to
be trailing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ..types import Delta, ParseError, ParseResult, ToolCall, new_call_id
from .argstream import ArgumentStream
from .base import StreamParser

#: a call's name and the start of its arguments must show within its block's first characters
HEAD_CHARS = 512


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


#: ``head(text)`` → ``(name, ArgumentStream)`` once a call block's text shows the call's name and
#: where its arguments begin (the stream starting there), else None
CallHead = Callable[[str], "tuple[str, ArgumentStream] | None"]


class CallReader:
    """The call block being read: its name and arguments as soon as ``head`` finds them. ``head``
    sees at most the block's first :data:`HEAD_CHARS` characters, so what the reader finds
    depends only on the block's text."""

    def __init__(self, head: CallHead) -> None:
        self._head = head
        self.name = ""
        self.args: ArgumentStream | None = None

    @property
    def started(self) -> bool:
        return self.args is not None

    def advance(self, body: str) -> str:
        """Read the block's text so far; the new arguments JSON."""
        if self.args is None:
            found = self._head(body[:HEAD_CHARS])
            if found is None:
                return ""
            self.name, self.args = found
        return self.args.advance(body)


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
        self._reader: CallReader | None = None
        self._live: tuple[int, str, int] | None = None  # (index, id, args length sent) of a call going out

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
        args = call.arguments_json()
        self._out.append(Delta("tool_call_args", text=args, index=i, id=call.id, name=call.name))
        self._out.append(Delta("tool_call_end", text=args, index=i, id=call.id, name=call.name))

    # -- calls streamed while they are written -----------------------------------------------------
    def _read_block(self, head: CallHead) -> None:
        """A call block begins here; ``head`` finds its name and arguments (see :class:`CallReader`)."""
        self._reader = CallReader(head)

    def _read_more(self, body: str) -> None:
        """The block's text so far (always the same text, longer each time): send the call's start
        once it is known, then each new piece of its arguments."""
        r = self._reader
        if r is None:
            return
        piece = r.advance(body)
        if r.started and self._live is None:
            self._live = (len(self._calls), new_call_id(), 0)
            i, cid, _ = self._live
            self._out.append(Delta("tool_call_start", index=i, id=cid, name=r.name))
        if piece and self._live is not None:
            i, cid, sent = self._live
            self._live = (i, cid, sent + len(piece))
            self._out.append(Delta("tool_call_args", text=piece, index=i, id=cid, name=r.name))

    def _settle_block(
        self, body: str, calls: Sequence[ToolCall] = (), error: ParseError | None = None
    ) -> None:
        """The block is complete: it holds ``calls``, or failed with ``error``, or (neither) it
        was content after all. A call whose start went out is finished or withdrawn."""
        r, self._reader = self._reader, None
        live, self._live = self._live, None
        calls = list(calls)
        if r is not None:
            r.advance(body)  # the whole block, as a parse of the whole text reads it
            if calls and r.args is not None:
                first = calls[0]
                if first.name != r.name or not first.arguments_json().startswith(r.args.text):
                    error = ParseError(
                        f"the arguments of {first.name!r} parse differently from how they are written "
                        "(a key given twice?)",
                        body,
                        first.name,
                    )
                    calls = []
        if live is not None and not calls:
            self._out.append(Delta("tool_call_abort", index=live[0], id=live[1], name=r.name if r else None))
            live = None
        for k, call in enumerate(calls):
            if k == 0 and live is not None:
                i, cid, sent = live
                call.id = cid
                self._calls.append(call)
                args = call.arguments_json()
                if len(args) > sent:
                    self._out.append(
                        Delta("tool_call_args", text=args[sent:], index=i, id=cid, name=call.name)
                    )
                self._out.append(Delta("tool_call_end", text=args, index=i, id=cid, name=call.name))
            else:
                self._emit_call(call)
        if error is not None:
            self._emit_error(error)

    def _emit_error(self, err: ParseError) -> None:
        self._errors.append(err)
        self._out.append(Delta("error", text=err.message, index=len(self._errors) - 1, name=err.name))

    def _emit_code(self, code: str) -> None:
        self._code.append(code)
