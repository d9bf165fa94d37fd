"""Chat formats: render messages + tools into what a model sees, parse what it writes back.

``get_format(name)`` returns a :class:`~calltune.formats.base.ChatFormat`;
``detect_format(chat_template, model_id)`` picks one for a model; ``list_formats()``. Formats
register themselves with :func:`~calltune.formats.registry.register_format`.
"""

from __future__ import annotations

from .base import ChatFormat, Segment, StreamParser, TokenizerAdapter
from .common import FormatError
from .registry import detect_format, get_format, list_formats, register_format
from .wrapper import FormatWrapper

# isort: off
# importing a format registers it; this order is the order of list_formats()
from .chatglm3 import ChatGLM3Format
from .hermes import HermesFormat
from .glm4 import GLM4Format

# isort: on

__all__ = [
    "ChatFormat",
    "ChatGLM3Format",
    "FormatError",
    "FormatWrapper",
    "GLM4Format",
    "HermesFormat",
    "Segment",
    "StreamParser",
    "TokenizerAdapter",
    "detect_format",
    "get_format",
    "list_formats",
    "register_format",
]
