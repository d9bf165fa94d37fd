"""What ChatGLM3 and GLM-4 share: ``<|role|>{metadata}\\n`` headers and the parser that splits
an assistant turn on ``<|assistant|>`` (metadata before the first newline: empty = content,
a tool name = a call, the interpreter name = code). A call's block ends at its closing fence or
the next ``<|assistant|>`` outside the quoted strings of its arguments.

Streaming: a call's start goes out as soon as its body shows where the arguments begin (``{``,
or ChatGLM3's ``tool_call(``), and the arguments as canonical JSON while they are written
(:class:`~calltune.formats.argstream.ArgumentStream` reads the Python literals of
``tool_call(k='v')``)."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from ..types import ParseError, ToolCall
from .argstream import ArgumentStream
from .base import ChatFormat, StreamParser
from .common import FormatError, fence, is_code_call, strip_fence
from .pyliteral import MAX_CALL_CHARS, LiteralError
from .segment import Segment, seg
from .streaming import BufferedStreamParser, CallHead, MarkerScan, held_suffix

ASSISTANT = "<|assistant|>"
FENCE = "```"
MAX_NAME_CHARS = 128
# characters that never occur in a tool name; a first line containing them is content
_NOT_NAME = re.compile(r"[\s<>`{}()\[\]\"',;!?，。！？；、“”：]")
#: where a call's arguments begin in its block: a JSON object or ``tool_call(`` (maybe fenced)
_ARGS_START = re.compile(r"\s*(?:```[\w-]*[ \t]*\n\s*)?(?:(tool_call\s*\()|(?=\{))")


def is_name_like(meta: str) -> bool:
    return 0 < len(meta) <= MAX_NAME_CHARS and not _NOT_NAME.search(meta)


class GLMFormatBase(ChatFormat):
    """Common parts of the GLM formats: every message is ``<|role|>{metadata}\\n{content}``,
    a call is one ``<|assistant|>{name}`` block, code is one ``<|assistant|>{code_names[0]}``
    block. Subclasses set the names and implement the call body (render and parse)."""

    #: metadata values that mean "code for the interpreter" (the first is the one rendered)
    code_names: tuple[str, ...] = ()
    #: the quote characters of the strings in a call's arguments (a marker in them is text)
    call_quotes: str = '"'
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

    # -- rendering hooks ------------------------------------------------------------------------
    def render_call_body(self, args: dict[str, Any]) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def render_text_turn(self, role: str, content: str, loss: bool) -> list[Segment]:
        return self.header(role, "", content, loss)

    def render_assistant_text(self, content: str, loss: bool, has_calls: bool) -> list[Segment]:
        return self.header("assistant", "", content, loss) if content or not has_calls else []

    def render_assistant_code(self, code: str, loss: bool, has_calls: bool) -> list[Segment]:
        code = code if code.lstrip().startswith("```") else fence(code, "python")
        return self.header("assistant", self.code_names[0], code, loss)

    def render_tool_call(self, name: str, args: dict[str, Any], loss: bool, first: bool) -> list[Segment]:
        if is_code_call(name, args):
            return self.header("assistant", self.code_names[0], fence(args["code"], "python"), loss)
        return self.header("assistant", name, self.render_call_body(args), loss)

    def render_tool_result(
        self, content: str, loss: bool, *, code: bool, first: bool, last: bool
    ) -> list[Segment]:
        return self.header("observation", "", content, loss, seg_role="tool")

    def render_generation_prompt(self) -> list[Segment]:
        return [seg(ASSISTANT, "assistant", False, special=True)]

    # -- parsing --------------------------------------------------------------------------------
    def parse_call_body(self, name: str, body: str) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def stream_parser(self, tool_names: Collection[str] | None = None) -> StreamParser:
        """The GLM parser reads calls by their ``<|assistant|>{name}`` line; ``tool_names`` is
        not needed and ignored."""
        return GLMStreamParser(self)

    def stop_means_call(self, stop: str | None) -> bool:
        return stop == "<|observation|>"

    def call_head(self, name: str) -> CallHead:
        """Where the arguments of a call of ``name`` begin in its block. ``tool_call(...)`` is read
        only when the block's end is found outside single-quoted strings too (ChatGLM3), so that
        the stream never reads past the block."""

        def head(text: str) -> tuple[str, ArgumentStream] | None:
            m = _ARGS_START.match(text)
            if m is None:
                return None
            if m.group(1):
                if "'" not in self.call_quotes:
                    return None
                return name, ArgumentStream(m.end(), python=True, kwargs=True)
            return name, ArgumentStream(m.end())

        return head

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
        self._scan: MarkerScan | None = None  # the end of the block being read

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
        self._emit_all_but_marker_start([ASSISTANT], final)
        return False

    def _step_body(self, final: bool) -> bool:
        # a call or code block ends at a closing fence (when it opened with one) or at the next
        # <|assistant|>; in a call, markers inside its quoted strings do not count
        buf = self._buf
        if self._scan is None:
            s = buf.lstrip()
            if not final and FENCE.startswith(s):
                return False  # not known yet whether the block is fenced
            nl = s.find("\n") if s.startswith(FENCE) else -1
            mk = s.find(ASSISTANT)
            if s.startswith(FENCE) and nl == -1 and mk == -1 and not final:
                return False  # the fence's first line is not complete
            quotes = self._fmt.call_quotes if self._state == "call" else ""
            if self._state == "call":
                self._read_block(self._fmt.call_head(self._name))
            if nl != -1 and (mk == -1 or nl < mk):
                self._scan = MarkerScan((ASSISTANT, FENCE), quotes, len(buf) - len(s) + nl + 1)
            else:
                self._scan = MarkerScan((ASSISTANT,), quotes)
        hit = self._scan.find(buf)
        if hit is None and not final:
            self._read_more(buf)
            return False
        self._scan = None
        if hit is None:
            end, rest = len(buf), ""
        else:
            end = hit[0] + (len(FENCE) if hit[1] == FENCE else 0)
            rest = buf[end:]
        body = buf[:end]
        if self._state == "code":
            self._emit_code(strip_fence(body))
        else:
            out = self._fmt.call_from_body(self._name, body)
            if isinstance(out, ToolCall):
                self._settle_block(body, [out])
            else:
                self._settle_block(body, error=out)
        self._end_piece()
        self._buf = rest or ""
        self._state = "content"  # text after a closed block, up to the next <|assistant|>
        return True
