"""What ChatGLM3 and GLM-4 share: ``<|role|>{metadata}\\n`` headers and the parser that splits
an assistant turn on ``<|assistant|>`` (metadata before the first newline: empty = content,
a tool name = a call, the interpreter name = code)."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from ..types import ParseError, ParseResult, ToolCall
from .base import ChatFormat, Segment, StreamParser
from .common import FormatError, seg, strip_fence
from .pyliteral import MAX_CALL_CHARS, LiteralError
from .streaming import BufferedStreamParser, held_suffix

ASSISTANT = "<|assistant|>"
MAX_NAME_CHARS = 128
# characters that never occur in a tool name; a first line containing them is content
_NOT_NAME = re.compile(r"[\s<>`{}()\[\]\"',;!?，。！？；、“”：]")


def is_name_like(meta: str) -> bool:
    return 0 < len(meta) <= MAX_NAME_CHARS and not _NOT_NAME.search(meta)


class GLMFormatBase(ChatFormat):
    """Common parts of the GLM formats; subclasses set names and implement the body parser."""

    #: metadata values that mean "code for the interpreter"
    code_names: tuple[str, ...] = ()
    special_tokens = ["<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"]

    def header(self, role: str, metadata: str, content: str, loss: bool, seg_role: str = "") -> list[Segment]:
        if "\n" in metadata or "<|" in metadata:
            raise FormatError(
                f"{self.name}: a tool name cannot contain a newline or a role marker: {metadata!r}"
            )
        r = seg_role or role
        return [
            seg(f"<|{role}|>", r, loss, special=True),
            seg(f"{metadata}\n", r, loss),
            seg(content, r, loss),
        ]

    def parse_call_body(self, name: str, body: str) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def parse(self, text: str, tool_names: Collection[str] | None = None) -> ParseResult:
        """Parse one generated assistant turn (without the stop string)."""
        sp = self.stream_parser(tool_names)
        sp.feed(text)
        sp.finish()
        return sp.result()

    def stream_parser(self, tool_names: Collection[str] | None = None) -> StreamParser:
        return GLMStreamParser(self)

    def stop_means_call(self, stop: str | None) -> bool:
        return stop == "<|observation|>"

    def call_from_body(self, name: str, body: str) -> ToolCall | ParseError:
        if len(body) > MAX_CALL_CHARS:
            return ParseError(
                f"call of {name!r} is longer than {MAX_CALL_CHARS} characters", body[:500], name
            )
        try:
            args = self.parse_call_body(name, body)
        except (LiteralError, ValueError) as e:
            return ParseError(f"cannot parse the arguments of {name!r}: {e}", body, name)
        return ToolCall(name=name, arguments=args)


class GLMStreamParser(BufferedStreamParser):
    """States: ``start`` (reading a segment's metadata line), ``content``, ``call``, ``code``."""

    def __init__(self, fmt: GLMFormatBase) -> None:
        super().__init__()
        self._fmt = fmt
        self._state = "start"
        self._name = ""

    def _step(self, final: bool) -> bool:
        if self._state == "start":
            return self._step_start(final)
        if self._state == "content":
            return self._step_content(final)
        return self._step_body(final)

    def _step_start(self, final: bool) -> bool:
        buf = self._buf
        if not buf:
            return False
        if buf.startswith(ASSISTANT):  # an empty segment
            self._buf = buf[len(ASSISTANT) :]
            return True
        nl = buf.find("\n")
        mk = buf.find(ASSISTANT)
        if mk != -1 and (nl == -1 or mk < nl):  # a segment without a newline is content
            self._state = "content"
            return True
        if nl != -1:
            meta = buf[:nl].strip()
            if not meta:
                self._buf = buf[nl + 1 :]
                self._state = "content"
            elif meta in self._fmt.code_names:
                self._buf = buf[nl + 1 :]
                self._state, self._name = "code", meta
            elif is_name_like(meta):
                self._buf = buf[nl + 1 :]
                self._state, self._name = "call", meta
            else:
                self._state = "content"
            return True
        cand = buf[: len(buf) - held_suffix(buf, [ASSISTANT])].strip()
        if final or (cand and not is_name_like(cand)):
            self._state = "content"
            return True
        return False

    def _step_content(self, final: bool) -> bool:
        buf = self._buf
        mk = buf.find(ASSISTANT)
        if mk != -1:
            self._emit_content(buf[:mk])
            self._end_piece()
            self._buf = buf[mk + len(ASSISTANT) :]
            self._state = "start"
            return True
        keep = 0 if final else held_suffix(buf, [ASSISTANT])
        if len(buf) > keep:
            self._emit_content(buf[: len(buf) - keep])
            self._buf = buf[len(buf) - keep :]
        return False

    def _step_body(self, final: bool) -> bool:
        buf = self._buf
        end = rest = None
        mk = buf.find(ASSISTANT)
        s = buf.lstrip()
        if s.startswith("```"):
            off = len(buf) - len(s)
            nl = s.find("\n")
            close = s.find("```", nl + 1) if nl != -1 else -1
            if close != -1 and (mk == -1 or off + close < mk):
                end = off + close + 3
                rest = buf[end:]
        if end is None:
            if mk != -1:
                end, rest = mk, buf[mk:]
            elif final:
                end, rest = len(buf), ""
            else:
                return False
        body = buf[:end]
        if self._state == "code":
            self._emit_code(strip_fence(body))
        else:
            out = self._fmt.call_from_body(self._name, body)
            if isinstance(out, ToolCall):
                self._emit_call(out)
            else:
                self._emit_error(out)
        self._end_piece()
        self._buf = rest or ""
        self._state = "content"  # text after a closed block, up to the next <|assistant|>
        return True
