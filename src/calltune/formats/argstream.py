"""A call's arguments as canonical JSON, written out while the model is still writing them.

A server streams ``function.arguments`` as the JSON string it finally sends,
``json.dumps(arguments, ensure_ascii=False)``. The model's own spelling may differ (other
whitespace, ``1E2`` for ``100.0``, escapes, or Python literals in ChatGLM3's
``tool_call(k='v')``), so :class:`ArgumentStream` reads the arguments as they grow and writes
that canonical JSON out piece by piece, as soon as a piece can no longer change: keys and the
structure at once, string values character by character, a number or ``true`` when the
character after it is read. Whatever it does not read with certainty (a Python tuple, ``**{}``,
an escape it does not know, a string written in two parts) makes it stop, and the rest comes
when the call is complete: every piece it wrote is a prefix of the canonical JSON of the value
it read, so a caller compares that prefix with the final parse (the format's own parser) and
sends the remainder.

A repeated key stops the stream before the key is written; keys are written only once they
are complete and new. The stream never writes anything because more text has not come yet
(a number is written when the character after it is read, never at the end of the text), so
what it writes depends only on the text, not on how the text was split into chunks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .pyliteral import MAX_CALL_CHARS, MAX_DEPTH, LiteralError, is_identifier, parse_literal

_WS = " \t\r\n"
_JSON_TOKEN = frozenset("0123456789+-.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_PY_TOKEN = _JSON_TOKEN | {"_"}
_JSON_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_PY_ESCAPES = {
    '"': '"',
    "'": "'",
    "\\": "\\",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "\n": "",  # a backslash at the end of a line continues the string
}
_HEX = re.compile(r"[0-9a-fA-F]+")
#: what ends a run of plain characters in a string: its quote, a backslash, or a character the
#: syntax does not allow unescaped (control characters in JSON, line breaks in Python)
_SPECIAL = {
    ('"', False): re.compile(r'["\\\x00-\x1f]'),
    ('"', True): re.compile(r'["\\\r\n]'),
    ("'", True): re.compile(r"['\\\r\n]"),
}


@dataclass
class _Frame:
    kind: str  # "obj" | "arr" | "kw" (the keyword arguments of tool_call(...))
    state: str  # what comes next: "key" | "colon" | "value" | "next" (a comma or the end)
    keys: set[str] = field(default_factory=set)
    first: bool = True  # nothing read in the container yet


@dataclass
class _String:
    quote: str
    key: bool
    chars: list[str] = field(default_factory=list)  # a key's characters (written when it closes)


class ArgumentStream:
    """Read one arguments value (a JSON object, a Python dict, or the inside of
    ``tool_call(...)`` when ``kwargs``) from ``start`` in a growing text, writing its canonical
    JSON. ``python``: the text is written in Python literals (both quotes, ``True``/``None``,
    trailing commas). :meth:`advance` takes the whole text so far (the same text, longer each
    time) and returns what it adds to :attr:`text`. :attr:`done`: the value is complete;
    :attr:`stopped`: the stream stopped before the end (see the module docstring)."""

    def __init__(self, start: int = 0, *, python: bool = False, kwargs: bool = False) -> None:
        self.pos = start
        self.limit = start + MAX_CALL_CHARS
        self.python = python
        self.done = False
        self.stopped = False
        self._parts: list[str] = []
        self._text = ""
        self._returned = 0  # how much of the text advance() has returned
        self._stack: list[_Frame] = []
        self._str: _String | None = None
        self._tok: str | None = None  # a number, literal or keyword name being read
        self._held = ""  # the closing quote of a string, written when what follows allows it
        self._comma = False  # a comma was read; ", " is written when the next member starts
        self._wait = False  # the step needs more text to decide
        self._token_chars = _PY_TOKEN if python else _JSON_TOKEN
        self._quotes = "\"'" if python else '"'
        if kwargs:
            self._write("{")
            self._stack.append(_Frame("kw", "key"))

    @property
    def text(self) -> str:
        """Everything written so far (a prefix of the arguments' canonical JSON)."""
        if self._parts:
            self._text += "".join(self._parts)
            self._parts = []
        return self._text

    def advance(self, text: str) -> str:
        """Read ``text`` (the whole text so far) from where the last call stopped; return the new
        canonical JSON (the first call also returns what the stream starts with)."""
        i, n = self.pos, min(len(text), self.limit)
        while i < n and not (self.done or self.stopped):
            if self._str is not None:
                i = self._string(text, i)
            elif self._tok is not None:
                i = self._token(text, i)
            else:
                i = self._structure(text, i)
            if self._wait:
                self._wait = False
                break
        self.pos = i
        if i >= self.limit and not self.done:
            self.stopped = True  # longer than a call may be (the parse rejects it too)
        text_out = self.text
        new, self._returned = text_out[self._returned :], len(text_out)
        return new

    # -- writing --------------------------------------------------------------------------------
    def _write(self, piece: str) -> None:
        if piece:
            self._parts.append(piece)

    def _stop(self, i: int) -> int:
        self.stopped = True
        return i

    def _more(self, i: int) -> int:
        self._wait = True
        return i

    def _separator(self) -> None:
        if self._comma:
            self._write(", ")
            self._comma = False

    # -- structure ------------------------------------------------------------------------------
    def _structure(self, text: str, i: int) -> int:
        c = text[i]
        if c in _WS:
            return i + 1
        if self._held:
            if c in self._quotes:  # two strings in a row: implicit concatenation
                return self._stop(i)
            self._write(self._held)
            self._held = ""
        if not self._stack:  # the value itself
            return self._value(text, i)
        f = self._stack[-1]
        closer = {"obj": "}", "arr": "]", "kw": ")"}[f.kind]
        if f.state == "next":
            if c == ",":
                self._comma, f.state = True, "value" if f.kind == "arr" else "key"
                return i + 1
            if c == closer:
                return self._close(i)
            return self._stop(i)
        if c == closer and f.state in ("key", "value") and (f.first or (self.python and self._comma)):
            self._comma = False  # an empty container, or a trailing comma (Python)
            return self._close(i)
        if f.state == "key":
            if f.kind == "obj" and c in self._quotes:
                return self._open_string(text, i, key=True)
            if f.kind == "kw" and c.isidentifier():
                self._tok = c
                return i + 1
            return self._stop(i)
        if f.state == "colon":
            if c == (":" if f.kind == "obj" else "="):
                self._write(": ")
                f.state = "value"
                return i + 1
            return self._stop(i)
        return self._value(text, i)  # state "value"

    def _value(self, text: str, i: int) -> int:
        c = text[i]
        if c in "{[":
            if len(self._stack) >= 4 * MAX_DEPTH:
                return self._stop(i)
            self._member_started()
            self._separator()
            self._write(c)
            self._stack.append(_Frame("obj" if c == "{" else "arr", "key" if c == "{" else "value"))
            return i + 1
        if c in self._quotes:
            return self._open_string(text, i, key=False)
        if c in self._token_chars:
            self._tok = c
            return i + 1
        return self._stop(i)  # a Python tuple, a call, anything else

    def _member_started(self) -> None:
        if self._stack:
            f = self._stack[-1]
            f.state, f.first = "next", False

    def _close(self, i: int) -> int:
        f = self._stack.pop()
        self._write("]" if f.kind == "arr" else "}")
        if not self._stack:
            self.done = True
        return i + 1

    # -- strings --------------------------------------------------------------------------------
    def _open_string(self, text: str, i: int, key: bool) -> int:
        q = text[i]
        if self.python:  # '' is an empty string, ''' a triple-quoted one (not read here)
            if i + 1 >= len(text) or (text[i + 1] == q and i + 2 >= len(text)):
                return self._more(i)
            if text[i + 1] == q and text[i + 2] == q:
                return self._stop(i)
        if key:
            f = self._stack[-1]
            f.state, f.first = "colon", False
        else:
            self._member_started()
            self._separator()
            self._write('"')
        self._str = _String(q, key)
        return i + 1

    def _string(self, text: str, i: int) -> int:
        s = self._str
        assert s is not None
        special = _SPECIAL[(s.quote, self.python)]
        j = i
        while True:
            m = special.search(text, j)
            if m is None:
                self._put(text[j:])
                return len(text)
            k = m.start()
            self._put(text[j:k])
            c = text[k]
            if c == s.quote:
                self._str = None
                if s.key:
                    return self._end_key("".join(s.chars), k + 1)
                self._held = '"'
                return k + 1
            if c != "\\":  # a line break (Python) or a control character (JSON) unescaped
                return self._stop(k)
            j = self._escape(text, k)
            if self._wait or self.stopped:
                return j

    def _put(self, chars: str) -> None:
        if not chars:
            return
        s = self._str
        assert s is not None
        if s.key:
            s.chars.append(chars)
        else:
            self._write(json.dumps(chars, ensure_ascii=False)[1:-1])

    def _escape(self, text: str, j: int) -> int:
        """Read the escape at ``text[j]`` (a backslash); the index after it."""
        n = len(text)
        if j + 1 >= n:
            return self._more(j)
        e = text[j + 1]
        table = _PY_ESCAPES if self.python else _JSON_ESCAPES
        if e in table:
            self._put(table[e])
            return j + 2
        width = {"u": 4, "x": 2, "U": 8}.get(e, 0) if self.python else (4 if e == "u" else 0)
        if not width:  # octal, \N{...}, an escape Python keeps as written, or not JSON
            return self._stop(j)
        end = j + 2 + width
        if end > n:
            return self._more(j)
        digits = text[j + 2 : end]
        if not _HEX.fullmatch(digits) or int(digits, 16) > 0x10FFFF:
            return self._stop(j)
        code = int(digits, 16)
        if not self.python and 0xD800 <= code <= 0xDBFF:  # JSON joins a surrogate pair
            if end >= n or (text[end] == "\\" and end + 6 > n):
                return self._more(j)
            low = text[end + 2 : end + 6] if text.startswith("\\u", end) else ""
            if _HEX.fullmatch(low) and 0xDC00 <= int(low, 16) <= 0xDFFF:
                code = 0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)
                end += 6
        self._put(chr(code))
        return end

    def _end_key(self, key: str, j: int) -> int:
        f = self._stack[-1]
        if key in f.keys:  # a repeated key: the parse keeps the last value, not this order
            return self._stop(j)
        f.keys.add(key)
        self._separator()
        self._write(json.dumps(key, ensure_ascii=False))
        return j

    # -- numbers, literals and keyword names ----------------------------------------------------
    def _token(self, text: str, i: int) -> int:
        tok = self._tok
        assert tok is not None
        f = self._stack[-1] if self._stack else None
        name = f is not None and f.kind == "kw" and f.state == "key"
        n, j = len(text), i
        if name:
            while j < n and (tok + text[j]).isidentifier():
                tok += text[j]
                j += 1
        else:
            while j < n and text[j] in self._token_chars:
                j += 1
            tok += text[i:j]
        self._tok = tok
        if j >= n:
            return j  # the token may go on
        self._tok = None
        if name:
            assert f is not None
            if not is_identifier(tok) or tok in f.keys:
                return self._stop(j)
            f.keys.add(tok)
            f.state, f.first = "colon", False
            self._separator()
            self._write(json.dumps(tok, ensure_ascii=False))
            return j
        try:
            value = parse_literal(tok) if self.python else json.loads(tok)
        except (LiteralError, ValueError):
            return self._stop(j)
        if isinstance(value, (str, list, dict)):
            return self._stop(j)
        self._member_started()
        self._separator()
        self._write(json.dumps(value))
        if not self._stack:
            self.done = True
        return j
