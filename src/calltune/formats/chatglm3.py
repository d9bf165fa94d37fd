"""ChatGLM3's dialogue protocol (DESIGN.md §2).

Rendering::

    <|system|>\\n{system}\\n{json.dumps(functions, indent=4, ensure_ascii=False)}
    <|user|>\\n{text}
    <|assistant|>\\n{text}
    <|assistant|>{tool name}\\n```python\\ntool_call(k='v', ...)\\n```
    <|observation|>\\n{result}
    <|assistant|>interpreter\\n```python\\n{code}\\n```      (code interpreter)
    <|observation|>\\n```result\\n{output}\\n```

(no separator between messages; each ``<|role|>`` is one special token). The generation
prompt is ``<|assistant|>``; generation stops at ``<|user|>`` (turn over) or
``<|observation|>`` (a call was made, :meth:`ChatGLM3Format.stop_means_call`).

Loss rule (unshifted ``Segment.loss``): system, user and observation messages are False;
an assistant message is True on *all* its tokens including its ``<|assistant|>`` marker
and metadata line. After the trainer's one-position shift the role token that follows a
trained message (``<|user|>`` / ``<|observation|>``) is trained — how the model learns to
stop — while the ``<|assistant|>`` marker itself is not (it is inserted by the runtime).
The generation prompt is not trained. A message's ``"loss"`` key overrides the default.

Parsing: the turn is split on ``<|assistant|>``; the metadata before the first newline
decides: empty → content, ``interpreter`` → code (``ParseResult.code``), a tool name → a
call whose ``tool_call(...)`` is parsed as literals only (:mod:`.pyliteral`).
"""

from __future__ import annotations

import json
from typing import Any

from .common import fence, strip_fence
from .glm_base import GLMFormatBase
from .pyliteral import LiteralError, parse_literal, parse_tool_call, render_tool_call
from .registry import register_format
from .segment import Segment

DEFAULT_TOOL_SYSTEM = (
    "Answer the following questions as best as you can. You have access to the following tools:"
)


def _detect(chat_template: str, model_id: str) -> bool:
    return "<|observation|>" in chat_template or "chatglm3" in model_id


@register_format("chatglm3", detect=_detect, priority=1)
class ChatGLM3Format(GLMFormatBase):
    stop = ["<|user|>", "<|observation|>"]
    code_names = ("interpreter",)
    call_quotes = "\"'"  # tool_call(...) arguments are Python literals

    def takes_system(self, funcs: list[dict[str, Any]]) -> bool:
        return bool(funcs)  # the tool list is appended to the first system message

    def render_prologue(self, system: str | None, loss: bool, funcs: list[dict[str, Any]]) -> list[Segment]:
        if not funcs:
            return []
        body = (DEFAULT_TOOL_SYSTEM if system is None else system) + "\n"
        return self.header("system", "", body + json.dumps(funcs, indent=4, ensure_ascii=False), loss)

    def render_call_body(self, args: dict[str, Any]) -> str:
        return fence(render_tool_call(args), "python")

    def render_tool_result(
        self, content: str, loss: bool, *, code: bool, first: bool, last: bool
    ) -> list[Segment]:
        content = fence(content, "result") if code else content
        return super().render_tool_result(content, loss, code=code, first=first, last=last)

    def parse_call_body(self, name: str, body: str) -> dict[str, Any]:
        code = strip_fence(body)
        if not code:
            raise LiteralError("empty call, expected tool_call(...)")
        if code.startswith("{"):  # tolerated: the arguments written as a dict
            try:
                value = json.loads(code)
            except json.JSONDecodeError:
                value = parse_literal(code)
            if not isinstance(value, dict):
                raise LiteralError("arguments must be an object")
            return value
        return parse_tool_call(code)
