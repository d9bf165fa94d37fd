"""Any OpenAI-compatible server as an engine: vLLM, SGLang, Ollama, llama.cpp server,
OpenAI, or another ``calltune serve``.

``stream()`` sends the already rendered prompt to ``/v1/completions`` (raw completion
mode; vLLM, SGLang, llama.cpp server and calltune support it): calltune's chat format
decides what the model sees. ``chat()`` sends messages and tools to
``/v1/chat/completions`` and lets the server apply its own chat template and parser;
``chat_completion()`` does the same and also returns the raw assistant message.

This module is calltune's one HTTP client for such servers (the BFCL endpoint baseline
goes through it too). ``transport=`` takes an ``httpx`` transport, e.g.
``httpx.MockTransport(handler)`` to answer requests in-process.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..turn.choice import ToolChoice, parse_tool_choice, to_openai
from ..types import ParseError, ParseResult, ToolCall
from .base import Chunk, ContextLengthError, Engine, EngineError, SamplingParams
from .decode import timing_usage
from .deps import require
from .stops import StopMatcher

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"


@dataclass(frozen=True)
class ResponseSchema:
    """A JSON Schema a completion must follow, as the ``constraint`` of
    :meth:`OpenAIRemoteEngine.stream`: sent as the request's ``response_format`` for the server's
    own guided decoding (calltune serve and vLLM take it on ``/v1/completions``)."""

    schema: dict[str, Any]
    name: str = "reply"

    def to_openai(self) -> dict[str, Any]:
        return {"type": "json_schema", "json_schema": {"name": self.name, "schema": self.schema}}


class ResponseFormatRefusedError(EngineError):
    """The server refused a request's ``response_format`` (HTTP 400 naming it): it cannot
    enforce that schema, or has no guided decoding."""


def _httpx() -> Any:
    return require("httpx", "the remote engine", "openai")


def normalize_base_url(url: str) -> str:
    """``http://host:port`` or ``http://host:port/v1`` (with or without a trailing slash)
    → ``http://host:port/v1``."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise EngineError(f"not an http(s) URL: {url!r}")
    if url.endswith(("/completions", "/chat/completions")):
        raise EngineError(f"give the base URL (ending in /v1), not an endpoint: {url!r}")
    if not url.rsplit("/", 1)[-1].startswith("v"):
        url += "/v1"
    return url


class RemoteTokenizer:
    """Token counts from the server's ``/tokenize`` (vLLM, SGLang, llama.cpp server) when it
    has one, else one id per UTF-8 byte (an upper bound). Remote prompts are sent as text,
    so the role markers never need special ids here."""

    def __init__(self, engine: OpenAIRemoteEngine):
        self._engine = engine
        self._remote: bool | None = None

    def encode_text(self, text: str) -> list[int]:
        if not text:
            return []
        if self._remote is not False:
            ids = self._engine._tokenize(text)
            self._remote = ids is not None
            if ids is not None:
                return ids
        return list(text.encode("utf-8"))

    def special_id(self, marker: str) -> int | None:
        return None


class OpenAIRemoteEngine(Engine):
    """An OpenAI-compatible server.

    ``base_url``: e.g. ``http://127.0.0.1:8000/v1`` (default ``$OPENAI_BASE_URL``, else
    that address). ``api_key``: default ``$OPENAI_API_KEY`` (sent as a bearer token when
    set). ``model``: the served model name (default: the first one ``/v1/models`` lists).
    ``extra_body``: extra JSON fields for every request (e.g. vLLM's
    ``{"skip_special_tokens": False}``). ``transport``: an ``httpx`` transport to send the
    requests through (default: the network).
    """

    supports_constraints = False
    #: a :class:`ResponseSchema` constraint is sent as ``response_format`` (the server enforces it)
    supports_response_schema = True
    #: prompts go as text (:func:`~calltune.engines.base.engine_prompt`): the server tokenizes
    text_prompts = True

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        model: str | None = None,
        default_format: str = "hermes",
        n_ctx: int | None = None,
        timeout: float = 600.0,
        extra_body: dict[str, Any] | None = None,
        chat_template: str | None = None,
        transport: Any = None,
    ):
        httpx = _httpx()
        self.base_url = normalize_base_url(base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL)
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )
        self.extra_body = dict(extra_body or {})
        self.default_format = default_format
        self.chat_template = chat_template
        self.tokenizer = RemoteTokenizer(self)
        # no lock around requests: httpx.Client is thread-safe, and a server batches concurrent
        # requests (`calltune data generate --concurrency 16` against vLLM ran one at a time)
        info = self._model_info(model)
        self.model_id = model or info.get("id") or "default"
        max_len = info.get("max_model_len") or info.get("context_length") or info.get("context_window")
        self.context_length = int(n_ctx or max_len or 32768)

    # ------------------------------------------------------------------ http helpers

    def _model_info(self, model: str | None) -> dict[str, Any]:
        httpx = _httpx()
        try:
            r = self._client.get("/models")
        except httpx.HTTPError as e:
            raise EngineError(f"cannot reach the server at {self.base_url}: {e}") from e
        if r.status_code == 401:
            raise EngineError(f"{self.base_url} refused the API key (401); set OPENAI_API_KEY")
        if r.status_code >= 400:
            return {}  # some servers have no /models; the model name must then be given
        try:
            data = r.json().get("data") or []
        except (ValueError, AttributeError):
            return {}
        for m in data:
            if model is None or m.get("id") == model:
                return m
        if model is not None and data:
            names = ", ".join(str(m.get("id")) for m in data)
            raise EngineError(f"the server at {self.base_url} does not serve {model!r}; it serves: {names}")
        return {}

    def _tokenize(self, text: str) -> list[int] | None:
        root = self.base_url.rsplit("/", 1)[0]
        httpx = _httpx()
        bodies = (
            {"model": self.model_id, "prompt": text, "add_special_tokens": False},  # vLLM / SGLang
            {"content": text, "add_special": False},  # llama.cpp server
        )
        for body in bodies:
            try:
                r = self._client.post(f"{root}/tokenize", json=body)
            except httpx.HTTPError:
                return None
            if r.status_code < 400:
                try:
                    toks = r.json().get("tokens")
                except ValueError:
                    return None
                if isinstance(toks, list):
                    return [int(t) if not isinstance(t, dict) else int(t.get("id", 0)) for t in toks]
        return None

    def _raise_for(self, r: Any) -> None:
        if r.status_code < 400:
            return
        try:
            body = r.read().decode("utf-8", errors="replace")
        except Exception:  # noqa: BLE001
            body = ""
        msg = body
        try:
            err = json.loads(body).get("error")
            msg = err.get("message", body) if isinstance(err, dict) else str(err or body)
        except (ValueError, AttributeError):
            pass
        low = msg.lower()
        if r.status_code == 400 and ("context" in low and ("length" in low or "window" in low)):
            raise ContextLengthError(f"server: {msg}")
        if r.status_code == 400 and ("response_format" in body or "guided" in low):
            raise ResponseFormatRefusedError(f"server refused the response_format: {msg[:500]}")
        raise EngineError(f"{r.request.method} {r.request.url} → HTTP {r.status_code}: {msg[:500]}")

    def _sampling_body(self, params: SamplingParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model_id,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if params.stop:
            body["stop"] = list(params.stop)
        return body

    # ------------------------------------------------------------------ completions

    def stream(
        self, prompt: str | list[int], params: SamplingParams, constraint: Any = None
    ) -> Iterator[Chunk]:
        if constraint is not None and not isinstance(constraint, ResponseSchema):
            raise EngineError(
                "the remote engine cannot apply a local guided-decoding constraint; give a "
                "ResponseSchema (sent as response_format) or use a local engine"
            )
        body = {
            **self._sampling_body(params),
            "prompt": prompt,
            "stream": True,
            "stream_options": {"include_usage": True},
            **self.extra_body,
        }
        if constraint is not None:
            body["response_format"] = constraint.to_openai()
        return self._stream(body, params)

    def _stream(self, body: dict[str, Any], params: SamplingParams) -> Iterator[Chunk]:
        matcher = StopMatcher(params.stop)
        t0 = time.perf_counter()
        t_first: float | None = None
        finish: str | None = None
        hit: str | None = None
        usage: dict[str, Any] = {}
        n_chunks = 0
        with self._client.stream("POST", "/completions", json=body) as r:
            self._raise_for(r)
            for data in _sse_events(r.iter_lines()):
                if data.get("usage"):
                    usage = dict(data["usage"])
                for choice in data.get("choices") or []:
                    text = choice.get("text") or ""
                    if text:
                        if t_first is None:
                            t_first = time.perf_counter()
                        n_chunks += 1
                        out, hit = matcher.feed(text)
                        if out:
                            yield Chunk(out)
                        if hit is not None:
                            finish = "stop"
                            break
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
                        reason = choice.get("stop_reason")  # vLLM: the stop string that matched
                        if isinstance(reason, str) and reason in matcher.stops:
                            hit = reason
                        elif finish == "stop" and len(matcher.stops) == 1:
                            hit = matcher.stops[0]  # the server stopped on it and cut it off
                if hit is not None and finish == "stop" and matcher.hit is not None:
                    break  # stopped on our side: closing the response aborts the server's generation
        t_end = time.perf_counter()
        tail = matcher.flush() if matcher.hit is None else ""
        n_prompt = usage.get("prompt_tokens")
        if n_prompt is None:  # stopped on our side before the server sent its usage
            n_prompt = self.count_tokens(body["prompt"])
        out_usage = timing_usage(
            int(n_prompt),
            int(usage.get("completion_tokens", n_chunks)),
            t0,
            t_first,
            t_end,
        )
        yield Chunk(tail, finish_reason="length" if finish == "length" else "stop", stop=hit, usage=out_usage)

    # ------------------------------------------------------------------ chat

    def chat_completion(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: ToolChoice | str | dict[str, Any] | None = None,
        params: SamplingParams | None = None,
    ) -> ChatReply:
        """One ``/v1/chat/completions`` call; the server formats and parses. ``tool_choice``:
        any spelling :func:`~calltune.turn.parse_tool_choice` reads. The usage has ``latency_s``."""
        params = params or SamplingParams()
        body: dict[str, Any] = {**self._sampling_body(params), "messages": list(messages), **self.extra_body}
        if tools:
            body["tools"] = list(tools)
        if tool_choice is not None:
            body["tool_choice"] = to_openai(parse_tool_choice(tool_choice))
        t0 = time.perf_counter()
        httpx = _httpx()
        try:
            r = self._client.post("/chat/completions", json=body)
        except httpx.HTTPError as e:
            raise EngineError(f"request to {self.base_url} failed: {e}") from e
        self._raise_for(r)
        reply = parse_chat_response(r.json())
        reply.usage["latency_s"] = round(time.perf_counter() - t0, 6)
        return reply

    def chat(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: str | dict[str, Any] | None = None,
        params: SamplingParams | None = None,
    ) -> tuple[ParseResult, dict[str, Any]]:
        """:meth:`chat_completion` as (the assistant turn as a :class:`ParseResult`, the usage
        with ``latency_s`` and ``finish_reason``)."""
        reply = self.chat_completion(messages, tools, tool_choice, params)
        return reply.result, {**reply.usage, "finish_reason": reply.finish_reason}

    def close(self) -> None:
        self._client.close()


@dataclass
class ChatReply:
    """An OpenAI chat-completion response, read: the first choice's raw assistant
    ``message``, it parsed (``result``), its ``finish_reason`` and the token ``usage``."""

    message: dict[str, Any]
    result: ParseResult
    finish_reason: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)


def parse_chat_response(data: dict[str, Any]) -> ChatReply:
    """A ``/v1/chat/completions`` response body (or llama-cpp-python's
    ``create_chat_completion`` result) → :class:`ChatReply`; :class:`EngineError` when it has
    no choices."""
    choices = data.get("choices") or []
    if not choices:
        raise EngineError(f"the server returned no choices: {str(data)[:300]}")
    message = dict(choices[0].get("message") or {})
    u = data.get("usage") or {}
    usage = {
        "prompt_tokens": int(u.get("prompt_tokens") or 0),
        "completion_tokens": int(u.get("completion_tokens") or 0),
    }
    return ChatReply(message, parse_chat_message(message), choices[0].get("finish_reason"), usage)


def parse_chat_message(msg: dict[str, Any]) -> ParseResult:
    """An OpenAI assistant message (``content``, ``tool_calls`` or legacy ``function_call``)
    → :class:`ParseResult`; arguments that are not a JSON object become :class:`ParseError`
    (missing or empty arguments are ``{}``)."""
    calls: list[ToolCall] = []
    errors: list[ParseError] = []
    raw_calls = list(msg.get("tool_calls") or [])
    if msg.get("function_call"):
        raw_calls.append({"type": "function", "function": msg["function_call"]})
    for tc in raw_calls:
        fn = tc.get("function") or {}
        name = fn.get("name") or ""
        args = fn.get("arguments")
        if args is None:
            args = {}
        elif isinstance(args, str):
            try:
                args = json.loads(args) if args.strip() else {}
            except ValueError as e:
                errors.append(
                    ParseError(f"arguments are not valid JSON: {e}", raw=fn.get("arguments", ""), name=name)
                )
                continue
        if not isinstance(args, dict):
            errors.append(ParseError("arguments are not a JSON object", raw=json.dumps(args), name=name))
            continue
        call = ToolCall(name=name, arguments=args)
        if tc.get("id"):
            call.id = tc["id"]
        calls.append(call)
    return ParseResult(content=msg.get("content") or "", tool_calls=calls, errors=errors)


def _sse_events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """JSON payloads of a server-sent-event stream, up to ``data: [DONE]``."""
    for line in lines:
        line = line.strip()
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            event = json.loads(payload)
        except ValueError as e:
            raise EngineError(f"bad event from the server: {payload[:200]!r}") from e
        if isinstance(event, dict) and event.get("error"):
            err = event["error"]
            raise EngineError(f"server error: {err.get('message') if isinstance(err, dict) else err}")
        yield event
