"""calltune: function calling for open LLMs, end to end."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "CalltuneError",
    "Named",
    "ParseResult",
    "ToolCall",
    "ToolChoice",
    "Toolbox",
    "Turn",
    "TurnSettings",
    "__version__",
    "get_format",
    "load_engine",
    "tool",
]

_LAZY = {
    "tool": "tools",
    "Toolbox": "tools",
    "Agent": "agent",
    "load_engine": "engines",
    "get_format": "formats",
    "ToolCall": "types",
    "ParseResult": "types",
    "CalltuneError": "errors",
    "Named": "turn",
    "ToolChoice": "turn",
    "Turn": "turn",
    "TurnSettings": "turn",
}


def __getattr__(name: str) -> Any:  # lazy: importing calltune must not import torch or llama.cpp
    if name not in _LAZY:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
