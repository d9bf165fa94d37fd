"""The systems under test: calltune itself and what a user would pick instead.

Each system answers one prepared BFCL case (messages + OpenAI tool specs) with the
calls it made. All of them see the same messages and the same converted tools.

- :class:`CalltuneSystem`: the chat format renders messages + tools exactly as
  ``calltune run`` does (no BFCL-specific prompt), the engine generates (guided or
  not), the format parses.
- :class:`LlamaCppNativeSystem`: llama-cpp-python's own ``create_chat_completion``
  with ``tools`` and ``tool_choice="auto"`` on the same ``Llama`` object, as a user
  would call it.
- :class:`OpenAIEndpointSystem`: any OpenAI-compatible ``/v1/chat/completions``
  (vLLM, Ollama, llama.cpp's server, ``calltune serve``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..agent.continuation import continue_calls, generate_until_repeat, parse_with_tools, should_continue
from ..agent.relevance import filter_relevant, last_user_text
from ..engines.base import Engine, EngineError, SamplingParams
from ..types import ParseError, ToolCall

#: a generic tool-use system prompt (no benchmark content) measured as the
#: ``calltune+sysprompt`` system against the format's own default
TOOL_USE_SYSTEM_PROMPT = (
    "You are a helpful assistant with access to functions. "
    "Call a function only when one of them really fits the user's request; if none fits, "
    "answer in plain text without calling any. "
    "If the request asks for several things (the same function for different inputs, or different "
    "functions), make all of the calls in this reply, one call for each."
)


@dataclass
class SystemOutput:
    """What a system did with one case."""

    raw: str
    calls: list[ToolCall] = field(default_factory=list)
    prompt: str = ""
    parse_errors: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    finish_reason: str = "stop"
    guided: bool = False
    #: the output before call continuation added to it (None when there was no continuation)
    raw_first: str | None = None
    completion_tokens_first: int | None = None
    #: the relevance check's verdicts and the functions whose calls it dropped
    relevance: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    #: the output with the calls the check dropped, when the turn was generated again
    raw_called: str | None = None


class System(Protocol):
    """A system under test. ``name`` labels its results (file names, tables)."""

    name: str

    def answer(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> SystemOutput: ...


def merge_consecutive(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join back-to-back messages of the same plain role (system/user), which some BFCL cases
    have and which chat protocols forbid (ChatGLM3: never two user messages in a row)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if out and m["role"] in ("user", "system") and out[-1]["role"] == m["role"]:
            out[-1] = {**out[-1], "content": f"{out[-1].get('content') or ''}\n\n{m.get('content') or ''}"}
        else:
            out.append(dict(m))
    return out


class CalltuneSystem:
    """calltune's own path: format.render/encode → engine.generate (optionally guided) → format.parse.

    ``guided``: None = guided decoding where calltune turns it on by default, True =
    always (error if the engine cannot constrain), False = never. ``system`` adds a
    system message only when given (the default is the format's own tool prompt).
    ``continue_calls``: let the model go on after its last call, as the agent does by default
    (the record keeps the output before continuation as ``raw_first``). ``check_relevance``:
    the agent's relevance check of the called functions; when it drops every call the turn is
    generated again without tools, as the agent does.
    """

    def __init__(
        self,
        engine: Engine,
        format: Any = None,
        guided: bool | None = None,
        name: str | None = None,
        max_tokens: int = 384,
        system: str | None = None,
        continue_calls: bool = True,
        check_relevance: bool = True,
    ):
        from ..formats.base import ChatFormat

        self.engine = engine
        if isinstance(format, ChatFormat):
            self.format = format
        else:
            from ..formats import get_format

            self.format = get_format(format or getattr(engine, "default_format", None) or "hermes")
        self.guided = guided
        self.max_tokens = max_tokens
        self.system = system
        self.continue_calls = continue_calls
        self.check_relevance = check_relevance
        suffix = {None: "", True: "+guided", False: "-unguided"}[guided]
        self.name = name or f"calltune{suffix}"

    def _constraint(self, tools: list[dict[str, Any]]) -> Any:
        if self.guided is False or not tools:
            return None
        try:
            from ..guided import build_constraint, resolve_guided
        except ImportError:
            if self.guided:
                raise EngineError("guided decoding is not available (calltune.guided is missing)") from None
            return None
        if not resolve_guided(self.guided, "auto", self.engine):
            return None
        return build_constraint(self.format, tools, "auto", parallel=True)

    def _parse(self, text: str, tools: list[dict[str, Any]]) -> Any:
        return parse_with_tools(self.format, text, tools)

    def answer(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> SystemOutput:
        msgs = merge_consecutive(messages)
        if self.system and not any(m["role"] == "system" for m in msgs):
            msgs.insert(0, {"role": "system", "content": self.system})
        prompt_text = self.format.render(msgs, tools or None, add_generation_prompt=True)
        tok = getattr(self.engine, "tokenizer", None)
        prompt: str | list[int] = (
            self.format.encode(msgs, tok, tools or None, add_generation_prompt=True)
            if tok is not None
            else prompt_text
        )
        constraint = self._constraint(tools)
        params = SamplingParams(max_tokens=self.max_tokens, temperature=0.0, stop=list(self.format.stop))
        t0 = time.perf_counter()
        if constraint is not None:  # a grammar that allows only calls can make a model cycle
            comp = generate_until_repeat(
                self.engine, self.format, prompt, params, constraint, [t["function"]["name"] for t in tools]
            )
        else:
            comp = self.engine.generate(prompt, params, constraint)
        raw = comp.text
        parsed = self._parse(raw, tools)
        completion_tokens = comp.completion_tokens
        raw_first: str | None = None
        if (
            self.continue_calls
            and constraint is None
            and should_continue(self.format, parsed, comp.finish_reason, comp.stop)
        ):
            raw_first = raw
            raw, parsed, extra = continue_calls(
                self.engine,
                self.format,
                prompt,
                raw,
                parsed,
                lambda t: self._parse(t, tools),
                params,
                tool_names=[t["function"]["name"] for t in tools],
            )
            completion_tokens += extra["completion_tokens"]
        verdicts: list[dict[str, Any]] = []
        dropped: list[str] = []
        raw_called: str | None = None
        if self.check_relevance and parsed.tool_calls and tools:
            parsed.tool_calls, dropped, checked = filter_relevant(
                self.engine, self.format, last_user_text(msgs), tools, parsed.tool_calls
            )
            verdicts = [v.to_dict() for v in checked]
            if dropped and not parsed.tool_calls and not parsed.errors:
                # as the agent does: the turn again, with no tools on offer
                bare = (
                    self.format.encode(msgs, tok, None, True)
                    if tok is not None
                    else self.format.render(msgs, None, True)
                )
                raw_called = raw
                # its text is not judged, only that it makes no call: a short budget will do
                short = SamplingParams(max_tokens=min(self.max_tokens, 96), temperature=0.0, stop=params.stop)
                again = self.engine.generate(bare, short)
                completion_tokens += again.completion_tokens
                raw = again.text
                parsed = self.format.parse(raw)
                parsed.tool_calls = []  # no tools were offered: nothing can be called
        latency = time.perf_counter() - t0
        return SystemOutput(
            raw=raw,
            calls=list(parsed.tool_calls),
            prompt=prompt_text,
            parse_errors=[e.to_dict() if isinstance(e, ParseError) else dict(e) for e in parsed.errors],
            prompt_tokens=comp.prompt_tokens,
            completion_tokens=completion_tokens,
            latency_s=latency,
            finish_reason=comp.finish_reason,
            guided=constraint is not None,
            raw_first=raw_first,
            completion_tokens_first=comp.completion_tokens if raw_first is not None else None,
            relevance=verdicts,
            dropped=dropped,
            raw_called=raw_called,
        )


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
