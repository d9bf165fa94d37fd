"""GLM-4 chat (glm-4-9b-chat): ChatGLM3's role markers with JSON calls.

Rendering::

    [gMASK]<sop><|system|>\\n{GLM-4 system text}\\n\\n# 可用工具\\n\\n## {name}\\n\\n{json, indent=4}
    在调用上述函数时，请使用 Json 格式表示调用的参数。   (one "## name" section per tool)
    <|system|>\\n{system message}<|user|>\\n{text}<|assistant|>\\n{text}
    <|assistant|>{tool name}\\n{"arg": ...}                 (one call per assistant block)
    <|observation|>\\n{result}
    <|assistant|>python\\n```python\\n{code}\\n```            (code interpreter)

Generation prompt ``<|assistant|>``; stops ``<|user|>``, ``<|observation|>`` (= a call),
``<|endoftext|>``. Parallel calls are several ``<|assistant|>name`` blocks in one turn.

Loss rule: as ChatGLM3 — an assistant message is trained on all its tokens including its
``<|assistant|>`` marker, so after the one-position shift the following ``<|user|>`` /
``<|observation|>`` is trained; system, user, observation and the generation prompt are
not. A message's ``"loss"`` key overrides the default.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .base import Segment
from .common import call_arguments, function_dicts, is_code_call, prepare_messages, seg, strip_fence
from .glm_base import GLMFormatBase
from .pyliteral import LiteralError, parse_literal, parse_tool_call

GLM4_SYSTEM = (
    "你是一个名为 ChatGLM 的人工智能助手。你是基于智谱AI训练的语言模型 GLM-4 模型开发的，"
    "你的任务是针对用户的问题和要求提供适当的答复和支持。"
)
GLM4_CALL_HINT = "在调用上述函数时，请使用 Json 格式表示调用的参数。"


class GLM4Format(GLMFormatBase):
    name = "glm4"
    stop = ["<|user|>", "<|observation|>", "<|endoftext|>"]
    code_names = ("python", "interpreter")
    special_tokens = ["[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"]

    def segments(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        add_generation_prompt: bool = True,
    ) -> list[Segment]:
        msgs = prepare_messages(messages)
        funcs = function_dicts(tools)
        out: list[Segment] = [seg("[gMASK]", "system", special=True), seg("<sop>", "system", special=True)]
        if funcs:
            text = GLM4_SYSTEM + "\n\n# 可用工具"
            for f in funcs:
                text += (
                    f"\n\n## {f['name']}\n\n{json.dumps(f, indent=4, ensure_ascii=False)}\n{GLM4_CALL_HINT}"
                )
            out += self.header("system", "", text, False)
        for m, loss in msgs:
            role = m["role"]
            if role in ("system", "user"):
                out += self.header(role, "", m["content"], loss)
            elif role == "assistant":
                content = m["content"]
                if m.get("name") == "interpreter":
                    code = content if content.lstrip().startswith("```") else f"```python\n{content}\n```"
                    out += self.header("assistant", "python", code, loss)
                elif content or not m.get("tool_calls"):
                    out += self.header("assistant", "", content, loss)
                for call in m.get("tool_calls", []):
                    name, args = call_arguments(call)
                    if is_code_call(name, args):
                        out += self.header("assistant", "python", f"```python\n{args['code']}\n```", loss)
                    else:
                        out += self.header("assistant", name, json.dumps(args, ensure_ascii=False), loss)
            else:
                out += self.header("observation", "", m["content"], loss, seg_role="tool")
        if add_generation_prompt:
            out.append(seg("<|assistant|>", "assistant", False, special=True))
        return out

    def parse_call_body(self, name: str, body: str) -> dict[str, Any]:
        text = strip_fence(body)
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            try:  # tolerated: Python-literal dict or ChatGLM3-style tool_call(...)
                value = parse_tool_call(text) if text.startswith("tool_call") else parse_literal(text)
            except LiteralError:
                raise LiteralError(f"arguments are not a JSON object ({e.msg} at position {e.pos})") from None
        except RecursionError:
            raise LiteralError("arguments nested too deep") from None
        if not isinstance(value, dict):
            raise LiteralError(f"arguments must be a JSON object, got {type(value).__name__}")
        return value
