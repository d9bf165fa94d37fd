"""Hermes / Qwen2.5 tool calling on ChatML (``<|im_start|>role\\n...<|im_end|>\\n``).

Rendering follows Qwen2.5's chat template: tools go into the system message (the
``# Tools`` block with one JSON tool per line inside ``<tools></tools>``), assistant calls
are ``<tool_call>\\n{"name": ..., "arguments": {...}}\\n</tool_call>``, tool results are
sent back in a user turn as ``<tool_response>\\n...\\n</tool_response>`` (consecutive results
share one turn). The text is exactly what the chat template embedded in the default model's GGUF
(Qwen2.5-Coder-1.5B-Instruct) produces — including its literal ``{{"name": ...}}`` example
with doubled braces. Like that template, the default system prompt
``You are Qwen, created by Alibaba Cloud. You are a helpful assistant.`` is used when the
dialogue has no system message (set ``default_system=None`` to leave it out).

Loss rule (unshifted ``Segment.loss``): for a trained assistant message the mask is True
from the ``\\n`` that ends its ``<|im_start|>assistant\\n`` header through the last token
of its content and calls, and False on ``<|im_start|>assistant``, ``<|im_end|>`` and the
newline after it. After the trainer's one-position shift exactly what the model generates
at inference is trained: the content, the calls and the ``<|im_end|>`` end marker — not
the header, which the generation prompt supplies. Everything else is False by default;
a message's ``"loss"`` key overrides the default.

Parsing is tolerant of what real models emit: several ``<tool_call>`` blocks, a missing
closing tag at the end, ``"parameters"`` for ``"arguments"``, arguments as a JSON string, a
JSON list of calls, a fenced ```json block that holds only the call(s), or the whole output
being the call JSON. Fenced and bare JSON count as calls only when they have a string
``"name"`` and an ``"arguments"``/``"parameters"`` object (and, when ``tool_names`` is given,
a known name), so prose that merely contains JSON stays content. A ``</tool_call>`` or
``<tool_call>`` inside a JSON string of a call is text and does not end the call, nor does a
```` ``` ```` inside a JSON string of a fenced call.

Streaming: a ``<tool_call>`` block or a fenced JSON block that starts with
``{"name": "...", "arguments": {`` (``"parameters"`` too) sends the call's start there and its
arguments as they are written (:class:`~calltune.formats.argstream.ArgumentStream`); a fenced
block only for a known tool when ``tool_names`` is given. Other spellings (a list, the doubled
braces, arguments as a string or before the name, bare JSON) are sent when they are complete.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

from ..errors import CalltuneError
from ..types import ParseError, ToolCall
from .argstream import ArgumentStream
from .base import ChatFormat, StreamParser
from .common import strip_fence
from .pyliteral import MAX_CALL_CHARS, MAX_DEPTH, LiteralError, parse_literal
from .registry import register_format
from .segment import Segment, seg, split_markers
from .streaming import BufferedStreamParser, CallHead, MarkerScan

IM_START, IM_END = "<|im_start|>", "<|im_end|>"
TC_OPEN, TC_CLOSE = "<tool_call>", "</tool_call>"
TR_OPEN, TR_CLOSE = "<tool_response>", "</tool_response>"
FENCE = "```"
#: the tools-list tags of the system prompt, which small models sometimes wrap their calls in
TOOLS_OPEN, TOOLS_CLOSE = "<tools>", "</tools>"
QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
TOOLS_INTRO = (
    "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
TOOLS_OUTRO = (
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments "
    'within <tool_call></tool_call> XML tags:\n<tool_call>\n{{"name": <function-name>, '
    '"arguments": <args-json-object>}}\n</tool_call>'
)
#: fence info strings that may hold a call
_CALL_LANGS = ("", "json", "tool_call", "tool_calls", "json5")


class CallShapeError(CalltuneError, ValueError):
    pass


def _one_call(obj: Any, strict: bool, tool_names: Collection[str] | None) -> ToolCall:
    if not isinstance(obj, dict):
        raise CallShapeError(f"a call must be a JSON object, got {type(obj).__name__}")
    if isinstance(obj.get("function"), dict) and "name" not in obj:  # OpenAI shape
        obj = obj["function"]
    name = obj.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CallShapeError('a call needs a string "name"')
    name = name.strip()
    key = "arguments" if "arguments" in obj else "parameters" if "parameters" in obj else None
    if key is None:
        if strict:
            raise CallShapeError(f'call of {name!r} has no "arguments"')
        args: Any = {}
    else:
        args = obj[key]
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError as e:
            raise CallShapeError(f"arguments of {name!r} are a string that is not JSON: {e.msg}") from None
    if args is None and not strict:
        args = {}
    if not isinstance(args, dict):
        raise CallShapeError(f"arguments of {name!r} must be a JSON object, got {type(args).__name__}")
    if tool_names is not None and strict and name not in tool_names:
        raise CallShapeError(f"unknown tool {name!r}")
    return ToolCall(name=name, arguments=args)


_DECODER = json.JSONDecoder()


def _json_sequence(text: str) -> list[Any]:
    """The JSON values in ``text`` one after another (whitespace or commas between them), as
    small models write several calls in one block. A value spelled with doubled braces,
    ``{{"name": ..., "arguments": {...}}}`` (copied from the template's own example), is read
    without its extra braces. Raises ``json.JSONDecodeError`` when any part is not JSON."""
    values: list[Any] = []
    i, n = 0, len(text)
    while True:
        while i < n and (text[i].isspace() or text[i] == ","):
            i += 1
        if i >= n:
            return values
        doubled = text.startswith("{{", i)
        obj, i = _DECODER.raw_decode(text, i + 1 if doubled else i)
        values.append(obj)
        if doubled:  # the closing half of the doubling (the model often writes one too many)
            while i < n and text[i] == "}":
                i += 1


def calls_from_json(text: str, strict: bool, tool_names: Collection[str] | None = None) -> list[ToolCall]:
    """Calls in ``text``: one call object, a list of them, or several call objects one after
    another (doubled-brace spelling tolerated). Raises ValueError when the text is not a call;
    ``strict`` requires ``arguments``/``parameters`` and a known name."""
    if len(text) > MAX_CALL_CHARS:
        raise CallShapeError(f"call text is longer than {MAX_CALL_CHARS} characters")
    try:
        values = _json_sequence(text)
    except json.JSONDecodeError as e:
        if strict:
            raise CallShapeError(f"not JSON: {e.msg}") from None
        try:  # tolerated inside <tool_call>: Python-literal spelling (single quotes, True/None)
            values = [parse_literal(text)]
        except LiteralError:
            raise CallShapeError(f"not valid JSON: {e.msg} at position {e.pos}") from None
    except RecursionError:
        raise CallShapeError("JSON nested too deep") from None
    if not values:
        raise CallShapeError("no call")
    calls: list[ToolCall] = []
    for obj in values:
        if isinstance(obj, list):
            if not obj:
                raise CallShapeError("empty list of calls")
            calls += [_one_call(o, strict, tool_names) for o in obj]
        else:
            calls.append(_one_call(obj, strict, tool_names))
    return calls


class _JSONEnd:
    """Incremental scan for the end of one JSON value (strings and bracket balance only)."""

    def __init__(self) -> None:
        self.pos = 0
        self.stack: list[str] = []
        self.in_str = False
        self.esc = False

    def advance(self, text: str) -> tuple[str, int]:
        i, n = self.pos, len(text)
        while i < n:
            ch = text[i]
            if self.in_str:
                if self.esc:
                    self.esc = False
                elif ch == "\\":
                    self.esc = True
                elif ch == '"':
                    self.in_str = False
            elif ch == '"':
                self.in_str = True
            elif ch == "{" or ch == "[":
                self.stack.append("}" if ch == "{" else "]")
                if len(self.stack) > 4 * MAX_DEPTH:
                    return "invalid", i
            elif ch == "}" or ch == "]":
                if not self.stack or self.stack.pop() != ch:
                    return "invalid", i
                if not self.stack:
                    self.pos = i + 1
                    return "done", i + 1
            i += 1
        self.pos = n
        return "incomplete", n


#: the start of a call object whose arguments can be streamed: name first, then the arguments
_CALL_HEAD = re.compile(
    r'\s*(?:```[\w-]*[ \t]*\n\s*)?\{\s*"name"\s*:\s*"((?:[^"\\\n]|\\.)*)"\s*,'
    r'\s*"(?:arguments|parameters)"\s*:\s*(?=\{)'
)


def call_head(tool_names: Collection[str] | None) -> CallHead:
    """Where the arguments of a ``{"name": ..., "arguments": {...}}`` block begin (a known name
    only, when ``tool_names`` is given)."""

    def head(text: str) -> tuple[str, ArgumentStream] | None:
        m = _CALL_HEAD.match(text)
        if m is None:
            return None
        try:
            name = json.loads(f'"{m.group(1)}"').strip()
        except ValueError:
            return None
        if not name or (tool_names is not None and name not in tool_names):
            return None
        return name, ArgumentStream(m.end())

    return head


class HermesStreamParser(BufferedStreamParser):
    """States: start, bare (whole output may be JSON), content, tag, fence, fjson, pass."""

    def __init__(self, tool_names: Collection[str] | None = None) -> None:
        super().__init__()
        self._names = set(tool_names) if tool_names is not None else None
        self._state = "start"
        self._scan: _JSONEnd | None = None
        self._scan_tag: MarkerScan | None = None
        self._scan_fence: MarkerScan | None = None
        self._bare_end: int | None = None

    def _step(self, final: bool) -> bool:
        return getattr(self, "_st_" + self._state)(final)

    def _to_content(self) -> bool:
        self._state = "content"
        return True

    def _st_start(self, final: bool) -> bool:
        s = self._buf.lstrip()
        if not s:
            if final:
                self._buf = ""
            return False
        self._buf = s
        if s[0] in "{[":
            self._state, self._scan = "bare", _JSONEnd()
            return True
        return self._to_content()

    def _st_bare(self, final: bool) -> bool:
        # the whole output may be call JSON: one value, a list, or several values in a row
        assert self._scan is not None
        if self._bare_end is None:
            status, end = self._scan.advance(self._buf)
            if status == "incomplete" and final and self._buf.startswith("{{"):
                # the doubled-brace spelling closed as a plain object (one brace short)
                return self._bare_calls(self._buf.strip())
            if status == "invalid" or (status == "incomplete" and final):
                return self._to_content()
            if status == "incomplete":
                return False
            try:  # JSON that is not call-shaped is content at once
                calls_from_json(self._buf[:end], True, self._names)
            except ValueError:
                return self._to_content()
            self._bare_end = end
        rest = self._buf[self._bare_end :].lstrip()
        if rest and rest[0] not in "{[,}":
            return self._to_content()  # prose after the JSON: all of it is content
        if not final:
            return False
        return self._bare_calls(self._buf.strip())

    def _bare_calls(self, text: str) -> bool:
        """The whole (final) output as bare call JSON, or all of it content when it is not."""
        try:
            calls = calls_from_json(text, True, self._names)
        except ValueError:
            return self._to_content()
        for c in calls:
            self._emit_call(c)
        self._buf = ""
        self._state = "content"
        return False

    def _st_content(self, final: bool) -> bool:
        buf = self._buf
        hits = [j for j in (buf.find(TC_OPEN), buf.find(FENCE), buf.find(TOOLS_OPEN)) if j != -1]
        if hits:
            j = min(hits)
            self._emit_content(buf[:j])
            if buf.startswith(TC_OPEN, j):
                self._buf, self._state = buf[j + len(TC_OPEN) :], "tag"
            elif buf.startswith(TOOLS_OPEN, j):
                self._buf, self._state = buf[j:], "tools"
            else:
                self._buf, self._state = buf[j:], "fence"
            return True
        self._emit_all_but_marker_start([TC_OPEN, FENCE, TOOLS_OPEN], final)
        return False

    def _st_tag(self, final: bool) -> bool:
        # the block ends at </tool_call> or at the next <tool_call>, not inside a JSON string
        buf = self._buf
        if self._scan_tag is None:
            self._scan_tag = MarkerScan((TC_CLOSE, TC_OPEN), '"')
            self._read_block(call_head(None))
        hit = self._scan_tag.find(buf)
        if hit is None and not final:
            self._read_more(buf)
            return False
        self._scan_tag = None
        if hit is None:
            body, self._buf = buf, ""
        elif hit[1] == TC_CLOSE:
            body, self._buf = buf[: hit[0]], buf[hit[0] + len(TC_CLOSE) :]
        else:
            body, self._buf = buf[: hit[0]], buf[hit[0] :]
        self._tag_body(body)
        return self._to_content()

    def _st_tools(self, final: bool) -> bool:
        # <tools> ... </tools> holding only calls counts as calls; an empty pair is dropped
        # (the model then often writes its calls bare); anything else stays content
        buf = self._buf  # starts with <tools>
        close = buf.find(TOOLS_CLOSE)
        if close == -1 and not final:
            return False
        end = len(buf) if close == -1 else close + len(TOOLS_CLOSE)
        body = strip_fence(buf[len(TOOLS_OPEN) : close if close != -1 else len(buf)])
        if not body:
            self._buf = buf[end:]
            self._state = "start" if not self._content else "content"
            return True
        try:
            calls = calls_from_json(body, True, self._names)
        except ValueError:
            self._emit_content(buf[:end])
            self._buf = buf[end:]
            return self._to_content()
        for c in calls:
            self._emit_call(c)
        self._buf = buf[end:]
        return self._to_content()

    def _tag_body(self, body: str) -> None:
        text = strip_fence(body)
        if not text:
            self._settle_block(body, error=ParseError("empty <tool_call> block", body))
            return
        try:
            calls = calls_from_json(text, False)
        except ValueError as e:
            name = None
            try:
                obj = json.loads(text)
                name = obj.get("name") if isinstance(obj, dict) else None
            except (ValueError, RecursionError):
                pass
            self._settle_block(body, error=ParseError(f"cannot parse <tool_call>: {e}", text, name))
            return
        self._settle_block(body, calls)

    def _st_fence(self, final: bool) -> bool:
        buf = self._buf  # starts with ```
        nl = buf.find("\n")
        if self._scan_fence is None:
            info = (buf[3:] if nl == -1 else buf[3:nl]).strip().lower()
            if "`" in info or not any(lang.startswith(info) for lang in _CALL_LANGS):
                return self._to_pass()
            if nl == -1:
                if final:
                    return self._to_pass()
                return False
            if info not in _CALL_LANGS:
                return self._to_pass()
            first = buf[nl + 1 :].lstrip()[:1]
            if not first:
                if final:
                    return self._to_pass()
                return False
            if first not in "{[":
                return self._to_pass()
            # JSON: the block ends at a closing fence outside its strings
            self._scan_fence = MarkerScan((FENCE,), '"', nl + 1)
            self._read_block(call_head(self._names))
        body = buf[nl + 1 :]
        hit = self._scan_fence.find(buf)
        if hit is None and not final:
            self._read_more(body)
            return False
        self._scan_fence = None
        inner = body if hit is None else buf[nl + 1 : hit[0]]
        try:
            calls = calls_from_json(inner.strip(), True, self._names)
        except ValueError:
            self._settle_block(inner)
            return self._to_pass()
        self._settle_block(inner, calls)
        self._buf = "" if hit is None else buf[hit[0] + len(FENCE) :]
        return self._to_content()

    def _to_pass(self) -> bool:
        self._emit_content(FENCE)
        self._buf = self._buf[len(FENCE) :]
        self._state = "pass"
        return True

    def _st_pass(self, final: bool) -> bool:
        buf = self._buf
        close = buf.find(FENCE)
        if close != -1:
            self._emit_content(buf[: close + len(FENCE)])
            self._buf = buf[close + len(FENCE) :]
            return self._to_content()
        self._emit_all_but_marker_start([FENCE], final)
        return False


def _detect(chat_template: str, model_id: str) -> bool:
    return TC_OPEN in chat_template or IM_START in chat_template


@register_format("hermes", aliases=("qwen", "qwen2", "qwen2.5", "chatml"), detect=_detect)
class HermesFormat(ChatFormat):
    stop = [IM_END, "<|endoftext|>"]
    special_tokens = [IM_START, IM_END, TC_OPEN, TC_CLOSE, TR_OPEN, TR_CLOSE]
    default_system: str | None = QWEN_DEFAULT_SYSTEM
    #: extra instructions appended to the tool block of the system message (after the
    #: template's own ``<tool_call>`` example); None renders exactly what the template renders
    tool_guidance: str | None = None

    def __init__(self, tool_guidance: str | None | type[Ellipsis] = ...) -> None:  # type: ignore[valid-type]
        if tool_guidance is not ...:
            self.tool_guidance = tool_guidance  # type: ignore[assignment]

    def takes_system(self, funcs: list[dict[str, Any]]) -> bool:
        return True  # the system turn is always first: the given one, else the default one

    def render_prologue(self, system: str | None, loss: bool, funcs: list[dict[str, Any]]) -> list[Segment]:
        if system is None:
            system = self.default_system
        if not funcs:
            return [] if system is None else self.render_text_turn("system", system, loss)
        lines = "".join(
            "\n" + json.dumps({"type": "function", "function": f}, ensure_ascii=False) for f in funcs
        )
        text = (system or "") + TOOLS_INTRO + lines + TOOLS_OUTRO
        if self.tool_guidance:
            text += "\n\n" + self.tool_guidance
        return [
            seg(IM_START, "system", False, special=True),
            seg("system\n", "system", False),
            *split_markers(text, [TC_OPEN, TC_CLOSE], "system", loss),
            seg(IM_END, "system", False, special=True),
            seg("\n", "system", False),
        ]

    def render_text_turn(self, role: str, content: str, loss: bool) -> list[Segment]:
        return [
            seg(IM_START, role, False, special=True),
            seg(f"{role}\n", role, False),
            seg(content, role, loss),
            seg(IM_END, role, False, special=True),
            seg("\n", role, False),
        ]

    def render_assistant_open(self, loss: bool) -> list[Segment]:
        return [
            seg(IM_START, "assistant", False, special=True),
            seg("assistant", "assistant", False),
            seg("\n", "assistant", loss),
        ]

    def render_assistant_text(self, content: str, loss: bool, has_calls: bool) -> list[Segment]:
        return [seg(content, "assistant", loss)] if content else []

    def render_tool_call(self, name: str, args: dict[str, Any], loss: bool, first: bool) -> list[Segment]:
        js = json.dumps({"name": name, "arguments": args}, ensure_ascii=False)
        return [
            *([] if first else [seg("\n", "assistant", loss)]),
            seg(TC_OPEN, "assistant", loss, special=True),
            seg(f"\n{js}\n", "assistant", loss),
            seg(TC_CLOSE, "assistant", loss, special=True),
        ]

    def render_assistant_close(self, loss: bool) -> list[Segment]:
        return [seg(IM_END, "assistant", False, special=True), seg("\n", "assistant", False)]

    def render_tool_result(
        self, content: str, loss: bool, *, code: bool, first: bool, last: bool
    ) -> list[Segment]:
        # consecutive results share one user turn
        return [
            *([seg(IM_START, "tool", False, special=True), seg("user", "tool", False)] if first else []),
            seg("\n", "tool", loss),
            seg(TR_OPEN, "tool", loss, special=True),
            seg("\n" + content + "\n", "tool", loss),
            seg(TR_CLOSE, "tool", loss, special=True),
            *([seg(IM_END, "tool", False, special=True), seg("\n", "tool", False)] if last else []),
        ]

    def render_generation_prompt(self) -> list[Segment]:
        return [seg(IM_START, "assistant", False, special=True), seg("assistant\n", "assistant", False)]

    def stream_parser(self, tool_names: Collection[str] | None = None) -> StreamParser:
        return HermesStreamParser(tool_names)
