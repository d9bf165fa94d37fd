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
from typing import Any

from .common import strip_fence
from .glm_base import GLMFormatBase
from .pyliteral import LiteralError, parse_literal, parse_tool_call
from .registry import register_format
from .segment import Segment, seg

GLM4_SYSTEM = (
    "你是一个名为 ChatGLM 的人工智能助手。你是基于智谱AI训练的语言模型 GLM-4 模型开发的，"
    "你的任务是针对用户的问题和要求提供适当的答复和支持。"
)
GLM4_CALL_HINT = "在调用上述函数时，请使用 Json 格式表示调用的参数。"


def _detect(chat_template: str, model_id: str) -> bool:
    t = chat_template
    if "[gMASK]<sop>" in t or ("<sop>" in t and "<|observation|>" in t):
        return True
    return ("glm-4" in model_id or "glm4" in model_id) and "chatglm3" not in model_id


# checked before chatglm3: GLM-4 templates have ChatGLM3's <|observation|> too
@register_format("glm4", aliases=("glm-4",), detect=_detect, priority=2)
class GLM4Format(GLMFormatBase):
    stop = ["<|user|>", "<|observation|>", "<|endoftext|>"]
    code_names = ("python", "interpreter")
    special_tokens = ["[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"]

    def render_prologue(self, system: str | None, loss: bool, funcs: list[dict[str, Any]]) -> list[Segment]:
        out = [seg("[gMASK]", "system", special=True), seg("<sop>", "system", special=True)]
        if funcs:
            text = GLM4_SYSTEM + "\n\n# 可用工具"
            for f in funcs:
                text += (
                    f"\n\n## {f['name']}\n\n{json.dumps(f, indent=4, ensure_ascii=False)}\n{GLM4_CALL_HINT}"
                )
            out += self.header("system", "", text, False)
        return out

    def render_call_body(self, args: dict[str, Any]) -> str:
        return json.dumps(args, ensure_ascii=False)

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
