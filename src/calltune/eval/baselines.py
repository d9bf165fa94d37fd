"""The systems a user would pick instead of calltune, measured beside it.

- :class:`LlamaCppNativeSystem`: llama-cpp-python's own ``create_chat_completion``
  with ``tools`` and ``tool_choice="auto"`` on the same ``Llama`` object, as a user
  would call it.
- :class:`OpenAIEndpointSystem`: any OpenAI-compatible ``/v1/chat/completions``
  (vLLM, Ollama, llama.cpp's server, ``calltune serve``).
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..engines.base import EngineError, SamplingParams
from ..engines.openai_remote import ChatReply, OpenAIRemoteEngine, parse_chat_response
from .output import SystemOutput


def output_from_reply(reply: ChatReply, messages: list[dict[str, Any]], latency: float) -> SystemOutput:
    """A read chat-completion response → :class:`SystemOutput` (``raw`` is the message's
    content followed by its ``tool_calls`` as JSON)."""
    msg = reply.message
    raw = msg.get("content") or ""
    if msg.get("tool_calls"):
        raw = (raw + "\n" if raw else "") + json.dumps(msg["tool_calls"], ensure_ascii=False)
    return SystemOutput(
        raw=raw,
        calls=list(reply.result.tool_calls),
        prompt=json.dumps(messages, ensure_ascii=False),
        parse_errors=[e.to_dict() for e in reply.result.errors],
        prompt_tokens=int(reply.usage.get("prompt_tokens") or 0),
        completion_tokens=int(reply.usage.get("completion_tokens") or 0),
        latency_s=latency,
        finish_reason=str(reply.finish_reason or "stop"),
    )


def find_llama(engine: Any) -> Any:
    """The ``llama_cpp.Llama`` object inside calltune's llama.cpp engine (None if there is none)."""
    for attr in ("llama", "llm", "_llm", "_llama", "model", "_model"):
        obj = getattr(engine, attr, None)
        if obj is not None and hasattr(obj, "create_chat_completion"):
            return obj
    return None


class LlamaCppNativeSystem:
    """llama-cpp-python's own chat completion with ``tools`` + ``tool_choice="auto"``.

    ``llama`` is a ``llama_cpp.Llama`` (pass calltune's llama.cpp engine to reuse its
    model instead of loading the GGUF twice). The chat handler is the one llama-cpp-python
    picks itself (from the GGUF's chat template) unless ``chat_format`` is given.
    """

    def __init__(self, llama: Any, name: str = "llama-cpp-native", max_tokens: int = 384):
        obj = llama if hasattr(llama, "create_chat_completion") else find_llama(llama)
        if obj is None:
            raise EngineError(
                "llama-cpp-native needs a llama_cpp.Llama (or calltune's llama.cpp engine); got "
                f"{type(llama).__name__}"
            )
        self.llama = obj
        self.name = name
        self.max_tokens = max_tokens

    def answer(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> SystemOutput:
        kw: dict[str, Any] = {"messages": messages, "temperature": 0.0, "max_tokens": self.max_tokens}
        if tools:
            kw["tools"] = tools
            kw["tool_choice"] = "auto"
        t0 = time.perf_counter()
        resp = self.llama.create_chat_completion(**kw)
        return output_from_reply(parse_chat_response(dict(resp)), messages, time.perf_counter() - t0)


class OpenAIEndpointSystem:
    """Any OpenAI-compatible chat-completions endpoint (``base_url`` ends in ``/v1``), through
    :class:`~calltune.engines.openai_remote.OpenAIRemoteEngine`. ``model``: default the
    first one the server lists; ``api_key``: sent as a bearer token when given;
    ``transport``: an ``httpx`` transport (tests)."""

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key: str | None = None,
        name: str | None = None,
        max_tokens: int = 384,
        timeout: float = 600.0,
        transport: Any = None,
    ):
        # api_key "" (not None): the endpoint gets a key only when one is given here
        self.engine = OpenAIRemoteEngine(
            base_url, api_key=api_key or "", model=model, timeout=timeout, transport=transport
        )
        self.base_url = self.engine.base_url
        self.model = self.engine.model_id
        self.name = name or f"endpoint:{self.model}"
        self.max_tokens = max_tokens

    def answer(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> SystemOutput:
        params = SamplingParams(max_tokens=self.max_tokens, temperature=0.0)
        t0 = time.perf_counter()
        reply = self.engine.chat_completion(messages, tools or None, "auto" if tools else None, params)
        return output_from_reply(reply, messages, time.perf_counter() - t0)
