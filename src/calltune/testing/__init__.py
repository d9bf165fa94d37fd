"""Test kit: what calltune's tests, benchmarks and your own tests of calltune code share.

``import calltune.testing`` is cheap: nothing here imports torch, transformers, FastAPI,
uvicorn or openai until a helper needs them (``free_port`` and ``served`` load on first use).

Engines (:mod:`calltune.testing.engines`)
    ``ScriptedEngine(outputs)`` replays scripted model outputs (honouring stop strings and
    ``max_tokens`` like a real engine, keeping each prompt in ``.prompts``); ``CharTokenizer``
    is its one-token-per-character tokenizer.
Call text (:mod:`calltune.testing.calls`)
    ``hermes_call(name, args)``: a Hermes ``<tool_call>`` block as a model writes it, to script
    an engine with; ``model_turn(fmt, calls, content)``: an assistant turn in any format's own
    syntax (rendered by the format, without its stop string).
Sample tools (:mod:`calltune.testing.tools`)
    ``get_current_weather``, ``get_local_time``, ``convert_currency``: ``@tool`` functions with
    deterministic fake results; ``WEATHER``, ``LOCAL_TIME``, ``CONVERT`` their OpenAI tool dicts,
    ``SAMPLE_TOOLS`` / ``SAMPLE_SPECS`` all three; ``WEATHER_Q`` a question that wants the weather tool.
Network (:mod:`calltune.testing.net`)
    ``free_port()``: a free loopback TCP port; ``served(outputs_or_engine, api_key=None, **kw)``:
    a context manager running ``create_app`` on uvicorn on a free loopback port in a thread,
    yielding ``(engine, openai_client, server)`` (needs the ``server`` extra and ``openai``).
MCP (:mod:`calltune.testing.mcp_server`)
    a small MCP server written with the official SDK (``python -m calltune.testing.mcp_server``:
    add, get_weather, divide, echo, pid, crash, hang); ``toy_mcp_command(*args)`` its stdio command
    line, ``mcp_http_server(command)`` any MCP server command on a free loopback port over HTTP
    (needs the ``mcp`` extra).
Tiny models (:mod:`calltune.testing.models`)
    ``tiny_model(vocab_size)``: a 2-layer random-weight Gemma 3 text model; ``build_tiny_model(dir)``:
    a 2-layer random Qwen2 with a byte-level tokenizer, saved to ``dir`` (no model files needed);
    ``build_tiny_llama(dir)``: a 2-layer random Llama with a 1,000-piece tokenizer that llama.cpp's
    GGUF converter reads (a student that trains and exports in seconds); ``fresh_tokenizer()``
    a private copy of the real Gemma 3 tokenizer (from the installed GGUF, cached on disk under
    ``$CALLTUNE_TEST_CACHE``); ``glm_tokenizer()`` that tokenizer with the chatglm3 markers
    (shared, do not mutate); ``save_tiny(dir)`` both written as an HF directory. They need the
    ``train`` extra and raise :class:`TestAssetMissing` when the Gemma 3 GGUF is not installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .calls import hermes_call, model_turn
from .engines import CharTokenizer, ScriptedEngine
from .models import (
    TestAssetMissing,
    build_tiny_llama,
    build_tiny_model,
    fresh_tokenizer,
    glm_tokenizer,
    save_tiny,
    tiny_model,
)
from .tools import (
    CONVERT,
    LOCAL_TIME,
    SAMPLE_SPECS,
    SAMPLE_TOOLS,
    WEATHER,
    WEATHER_Q,
    convert_currency,
    get_current_weather,
    get_local_time,
)

if TYPE_CHECKING:  # pragma: no cover
    from .mcp_server import mcp_http_server, toy_mcp_command
    from .net import free_port, served

__all__ = [
    "CONVERT",
    "LOCAL_TIME",
    "SAMPLE_SPECS",
    "SAMPLE_TOOLS",
    "WEATHER",
    "WEATHER_Q",
    "CharTokenizer",
    "ScriptedEngine",
    "TestAssetMissing",
    "convert_currency",
    "free_port",
    "fresh_tokenizer",
    "get_current_weather",
    "get_local_time",
    "glm_tokenizer",
    "hermes_call",
    "mcp_http_server",
    "model_turn",
    "save_tiny",
    "served",
    "tiny_model",
    "toy_mcp_command",
    "build_tiny_llama",
    "build_tiny_model",
]

#: loaded on first use: they need the ``server`` extra (FastAPI, uvicorn) or the ``mcp`` extra
_LAZY = {
    "free_port": "net",
    "served": "net",
    "mcp_http_server": "mcp_server",
    "toy_mcp_command": "mcp_server",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value
