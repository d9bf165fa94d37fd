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

from ..engines.base import EngineError
from ..types import ToolCall
from .output import SystemOutput


def _calls_from_openai_message(message: dict[str, Any]) -> tuple[list[ToolCall], list[dict[str, Any]]]:
    calls: list[ToolCall] = []
    errors: list[dict[str, Any]] = []
    raw_calls = list(message.get("tool_calls") or [])
    if message.get("function_call"):
        raw_calls.append({"type": "function", "function": message["function_call"]})
    for c in raw_calls:
        fn = c.get("function") or {}
        name = str(fn.get("name") or "")
        args_raw = fn.get("arguments")
        try:
            args = json.loads(args_raw) if isinstance(args_raw, str) else (args_raw or {})
        except json.JSONDecodeError as e:
            errors.append(
                {"message": f"arguments are not JSON: {e}", "raw": str(args_raw)[:500], "name": name}
            )
            continue
        if not isinstance(args, dict):
            errors.append(
                {"message": "arguments are not a JSON object", "raw": str(args_raw)[:500], "name": name}
            )
            continue
        kw = {"id": c["id"]} if c.get("id") else {}
        calls.append(ToolCall(name, args, **kw))
    return calls, errors


def _output_from_response(
    resp: dict[str, Any], messages: list[dict[str, Any]], latency: float
) -> SystemOutput:
    choice = (resp.get("choices") or [{}])[0]
    msg = choice.get("message") or {}
    calls, errors = _calls_from_openai_message(msg)
    raw = msg.get("content") or ""
    if msg.get("tool_calls"):
        raw = (raw + "\n" if raw else "") + json.dumps(msg["tool_calls"], ensure_ascii=False)
    usage = resp.get("usage") or {}
    return SystemOutput(
        raw=raw,
        calls=calls,
        prompt=json.dumps(messages, ensure_ascii=False),
        parse_errors=errors,
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        latency_s=latency,
        finish_reason=str(choice.get("finish_reason") or "stop"),
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
        return _output_from_response(dict(resp), messages, time.perf_counter() - t0)


class OpenAIEndpointSystem:
    """Any OpenAI-compatible chat-completions endpoint (``base_url`` ends in ``/v1``)."""

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
        import httpx

        self.base_url = base_url.rstrip("/")
        if not self.base_url.endswith("/v1"):
            self.base_url += "/v1"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )
        self.model = model or self._first_model()
        self.name = name or f"endpoint:{self.model}"
        self.max_tokens = max_tokens

    def _first_model(self) -> str:
        try:
            r = self.client.get("/models")
            r.raise_for_status()
            data = r.json().get("data") or []
            return str(data[0]["id"]) if data else "default"
        except Exception:  # noqa: BLE001 - a server without /v1/models still works with any name
            return "default"

    def answer(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> SystemOutput:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": 0.0,
            "max_tokens": self.max_tokens,
        }
        if tools:
            body["tools"] = tools
            body["tool_choice"] = "auto"
        t0 = time.perf_counter()
        r = self.client.post("/chat/completions", json=body)
        latency = time.perf_counter() - t0
        if r.status_code >= 400:
            raise EngineError(f"endpoint {self.base_url} answered {r.status_code}: {r.text[:300]}")
        return _output_from_response(r.json(), messages, latency)
