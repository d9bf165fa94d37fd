"""Chat formats: render messages + tools into what a model sees, parse what it writes back.

``get_format(name)`` returns a :class:`~calltune.formats.base.ChatFormat`;
``detect_format(chat_template, model_id)`` picks one for a model; ``list_formats()``.
"""

from __future__ import annotations

from .base import ChatFormat, Segment, StreamParser, TokenizerAdapter
from .chatglm3 import ChatGLM3Format
from .common import FormatError
from .glm4 import GLM4Format
from .hermes import HermesFormat

__all__ = [
    "ChatFormat",
    "ChatGLM3Format",
    "FormatError",
    "GLM4Format",
    "HermesFormat",
    "Segment",
    "StreamParser",
    "TokenizerAdapter",
    "detect_format",
    "get_format",
    "list_formats",
]

_FORMATS: dict[str, type[ChatFormat]] = {
    "chatglm3": ChatGLM3Format,
    "hermes": HermesFormat,
    "glm4": GLM4Format,
}
_ALIASES = {"qwen": "hermes", "qwen2": "hermes", "qwen2.5": "hermes", "chatml": "hermes", "glm-4": "glm4"}


def list_formats() -> list[str]:
    """Names accepted by :func:`get_format`."""
    return list(_FORMATS)


def get_format(name: str | ChatFormat) -> ChatFormat:
    """The chat format called ``name`` (a ChatFormat instance is returned unchanged)."""
    if isinstance(name, ChatFormat):
        return name
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _FORMATS:
        raise ValueError(f"unknown chat format {name!r}; choose one of {', '.join(_FORMATS)}")
    return _FORMATS[key]()


def detect_format(chat_template: str | None, model_id: str = "") -> str:
    """Pick a format name from a model's chat template (preferred) or its id.

    GLM-4 templates start with ``[gMASK]<sop>``; ChatGLM3 uses ``<|observation|>`` without
    it; everything else (``<tool_call>`` templates included) is ``hermes``.
    """
    t = chat_template or ""
    mid = model_id.lower()
    if t:
        if "[gMASK]<sop>" in t or ("<sop>" in t and "<|observation|>" in t):
            return "glm4"
        if "<|observation|>" in t:
            return "chatglm3"
        if "<tool_call>" in t or "<|im_start|>" in t:
            return "hermes"
    if "chatglm3" in mid:
        return "chatglm3"
    if "glm-4" in mid or "glm4" in mid:
        return "glm4"
    return "hermes"
