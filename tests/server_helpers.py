"""Shared helpers for the server tests: a scripted server driven by the official openai client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from openai import OpenAI

from calltune.engines import Chunk, Engine, SamplingParams, ScriptedEngine
from calltune.server import create_app
from calltune.server.background import BackgroundServer

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given city",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}
LOCAL_TIME = {
    "type": "function",
    "function": {
        "name": "get_local_time",
        "description": "Get the current local time in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
WEATHER_Q = "What's the weather like in Paris today?"


class RecordingEngine(ScriptedEngine):
    """A ScriptedEngine that also keeps the sampling parameters of each call."""

    def __init__(self, outputs: list[str], **kw: Any) -> None:
        kw.setdefault("default_format", "hermes")
        super().__init__(outputs, **kw)
        self.params: list[SamplingParams] = []

    def stream(self, prompt: Any, params: SamplingParams, constraint: Any = None) -> Iterator[Chunk]:
        self.params.append(params)
        return super().stream(prompt, params, constraint)


def hermes() -> Any:
    from calltune.formats import get_format

    return get_format("hermes")


def call_text(name: str, args: dict[str, Any]) -> str:
    """A Hermes tool call as a model writes it."""
    return (
        "<tool_call>\n" + json.dumps({"name": name, "arguments": args}, ensure_ascii=False) + "\n</tool_call>"
    )


def prompt_text(engine: ScriptedEngine, i: int = -1) -> str:
    p = engine.prompts[i]
    return p if isinstance(p, str) else engine.tokenizer.decode(p)


@contextmanager
def served(
    outputs: list[str] | Engine, api_key: str | None = None, **kw: Any
) -> Iterator[tuple[Any, OpenAI, BackgroundServer]]:
    """A scripted engine behind a real uvicorn server on loopback, and an openai client for it."""
    engine = outputs if isinstance(outputs, Engine) else ScriptedEngine(outputs, default_format="hermes")
    kw.setdefault("format", hermes())
    app = create_app(engine, model_name="test-model", api_key=api_key, **kw)
    with BackgroundServer(app) as srv:
        client = OpenAI(base_url=srv.base_url + "/v1", api_key=api_key or "unused", max_retries=0, timeout=30)
        yield engine, client, srv
