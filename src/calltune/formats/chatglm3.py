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
from collections.abc import Sequence
from typing import Any

from .base import Segment
from .common import call_arguments, function_dicts, is_code_call, prepare_messages, seg, strip_fence
from .glm_base import GLMFormatBase
from .pyliteral import LiteralError, parse_literal, parse_tool_call, render_tool_call

DEFAULT_TOOL_SYSTEM = (
    "Answer the following questions as best as you can. You have access to the following tools:"
)


def _fence(code: str, lang: str) -> str:
    return f"```{lang}\n{code}\n```"


class ChatGLM3Format(GLMFormatBase):
    name = "chatglm3"
    stop = ["<|user|>", "<|observation|>"]
    code_names = ("interpreter",)

    def segments(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        add_generation_prompt: bool = True,
    ) -> list[Segment]:
        msgs = prepare_messages(messages)
        funcs = function_dicts(tools)
        out: list[Segment] = []
        start = 0
        if funcs:
            if msgs and msgs[0][0]["role"] == "system":
                system, loss = msgs[0][0]["content"], msgs[0][1]
                start = 1
            else:
                system, loss = DEFAULT_TOOL_SYSTEM, False
            body = system + "\n" + json.dumps(funcs, indent=4, ensure_ascii=False)
            out += self.header("system", "", body, loss)
        code_ids: set[str] = set()
        last_code = False  # the previous assistant message was interpreter code
        for m, loss in msgs[start:]:
            role = m["role"]
            if role in ("system", "user"):
                out += self.header(role, "", m["content"], loss)
            elif role == "assistant":
                last_code = False
                content = m["content"]
                if m.get("name") == "interpreter":
                    code = content if content.lstrip().startswith("```") else _fence(content, "python")
                    out += self.header("assistant", "interpreter", code, loss)
                    last_code = True
                elif content or not m.get("tool_calls"):
                    out += self.header("assistant", "", content, loss)
                for call in m.get("tool_calls", []):
                    name, args = call_arguments(call)
                    if is_code_call(name, args):
                        code_ids.add(call["id"])
                        out += self.header("assistant", "interpreter", _fence(args["code"], "python"), loss)
                    else:
                        text = _fence(render_tool_call(args), "python")
                        out += self.header("assistant", name, text, loss)
            else:  # tool result
                content = m["content"]
                cid = m.get("tool_call_id")
                if cid in code_ids or (last_code and not cid):
                    content = _fence(content, "result")
                out += self.header("observation", "", content, loss, seg_role="tool")
        if add_generation_prompt:
            out.append(seg("<|assistant|>", "assistant", False, special=True))
        return out

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
