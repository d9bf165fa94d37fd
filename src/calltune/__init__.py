"""calltune: function calling for open LLMs, end to end."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["Agent", "Toolbox", "tool", "load_engine", "get_format", "ToolCall", "ParseResult", "__version__"]


def __getattr__(name: str) -> Any:  # lazy: importing calltune must not import torch or llama.cpp
    if name == "tool":
        from .tools import tool

        return tool
    if name == "Toolbox":
        from .tools import Toolbox

        return Toolbox
    if name == "Agent":
        from .agent import Agent

        return Agent
    if name == "load_engine":
        from .engines import load_engine

        return load_engine
    if name == "get_format":
        from .formats import get_format

        return get_format
    if name in ("ToolCall", "ParseResult"):
        from . import types

        return getattr(types, name)
    raise AttributeError(name)
