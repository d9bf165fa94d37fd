"""Chat-completion requests → one :class:`~calltune.turn.Turn` on the engine → OpenAI responses.

Both the streamed and the non-streamed response are built from the same stream of
:class:`~calltune.types.Delta` events of the turn, so the concatenated argument chunks of a
stream equal the non-streamed ``arguments``. Calls are streamed while the model writes them
when the turn cannot take them back (:mod:`calltune.turn.live`); a call whose arguments went
out and then broke off ends the stream with an error event (``length`` when the token budget
ran out). The thinking of a reasoning model is ``reasoning_content``. The server returns calls;
it never executes the client's tools.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from pydantic import ValidationError

from ..engines.base import Engine, SamplingParams
from ..errors import CalltuneError
from ..messages import normalize_messages
from ..turn import Turn, TurnPlan, TurnResult, TurnSettings, parse_tool_choice
from ..types import Delta, ToolCall
from .errors import api_error
from .schemas import APIError, ChatCompletionRequest, error_body
from .streaming import EngineRunner, SSEResponse, sse
from .tools import validate_tools

log = logging.getLogger("calltune.server")

DEFAULT_MAX_TOKENS = 1024
MAX_STOP = 16


@dataclass
class Outcome:
    """What one request produced: the turn's deltas as they came, then its result."""

    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: names of the calls that were withdrawn after their start went out (broken off)
    broken: list[str] = field(default_factory=list)
    result: TurnResult | None = None

    def add(self, d: Delta) -> None:
        if d.kind == "content":
            self.content.append(d.text)
        elif d.kind == "reasoning":
            self.reasoning.append(d.text)
        elif d.kind == "tool_call_start":
            self.calls[d.index] = {"id": d.id, "name": d.name, "args": []}
        elif d.kind == "tool_call_args":
            self.calls.setdefault(d.index, {"id": d.id, "name": d.name, "args": []})["args"].append(d.text)
        elif d.kind == "tool_call_abort":
            gone = self.calls.pop(d.index, None)
            self.broken.append(str((gone or {}).get("name") or d.name or ""))

    def tool_calls(self) -> list[ToolCall]:
        out = []
        for i in sorted(self.calls):
            c = self.calls[i]
            args = json.loads("".join(c["args"]) or "{}")
            out.append(ToolCall(name=c["name"] or "", arguments=args, id=c["id"]))
        return out

    @property
    def finish_reason(self) -> str:
        return self.result.finish_reason if self.result else "stop"

    def usage(self) -> dict[str, int]:
        if self.result is None:
            return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        return self.result.usage


@dataclass
class Prepared:
    """A validated request, ready to generate."""

    req: ChatCompletionRequest
    messages: list[dict[str, Any]]
    plan: TurnPlan
    params: SamplingParams
    explicit_max_tokens: bool
    legacy: bool = False
    include_usage: bool = False
    outcome: Outcome | None = None


def _enable_thinking(kwargs: dict[str, Any] | None) -> bool | None:
    """The chat template's thinking switch from a request's ``chat_template_kwargs`` (vLLM's
    spelling), or None when the request does not set it."""
    value = (kwargs or {}).get("enable_thinking")
    if value is not None and not isinstance(value, bool):
        raise APIError(
            "'chat_template_kwargs.enable_thinking' must be true or false",
            param="chat_template_kwargs",
            code="invalid_value",
        )
    return value


def _validation_param(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()) if not str(p).startswith("function-")) or None
    # pydantic reports union members in loc (e.g. "tool_choice.literal['none','auto','required']")
    if loc:
        loc = loc.split(".literal[")[0].split(".dict[")[0].split(".str")[0].split(".list[")[0]
    msg = err.get("msg", "invalid value")
    return loc or "", f"invalid value for '{loc}': {msg}" if loc else msg


class ChatService:
    """Turns chat-completion requests into turns on the engine and OpenAI responses."""

    def __init__(
        self,
        engine: Engine,
        fmt: Any,
        model_name: str,
        *,
        default_max_tokens: int = DEFAULT_MAX_TOKENS,
        settings: TurnSettings | None = None,
    ) -> None:
        self.engine = engine
        self.format = fmt
        self.model_name = model_name
        self.runner = EngineRunner(engine)
        self.default_max_tokens = default_max_tokens
        self.settings = settings or TurnSettings()
        self.turn = Turn(engine, fmt, self.settings)

    # -- validation -----------------------------------------------------------------------
    def prepare(self, body: Any) -> Prepared:
        if not isinstance(body, dict):
            raise APIError("the request body must be a JSON object")
        try:
            req = ChatCompletionRequest.model_validate(body)
        except ValidationError as exc:
            param, msg = _validation_param(exc)
            raise APIError(msg, param=param or None, code="invalid_value") from None
        if req.n not in (None, 1):
            raise APIError("only n=1 is supported", param="n", code="invalid_value")
        if req.tools is not None and req.functions is not None:
            raise APIError("give either 'tools' or the legacy 'functions', not both", param="functions")
        legacy = req.functions is not None or (req.function_call is not None and req.tools is None)
        if legacy:
            tools = validate_tools(req.functions or [], "functions")
            choice_in, choice_param = req.function_call, "function_call"
            if req.tool_choice is not None:
                raise APIError("use 'function_call' with 'functions'", param="tool_choice")
        else:
            tools = validate_tools(req.tools or [], "tools")
            choice_in, choice_param = req.tool_choice, "tool_choice"
        try:
            messages = normalize_messages([m.model_dump(exclude_unset=True) for m in req.messages])
            if choice_in is None and not tools:
                choice_in = "none"
            if choice_in == "required" and not tools:
                raise APIError(f"'{choice_param}' is 'required' but no tools were given", param=choice_param)
            choice = parse_tool_choice(choice_in, [t["function"]["name"] for t in tools])
            parallel = (True if req.parallel_tool_calls is None else req.parallel_tool_calls) and not legacy
            plan = self.turn.plan(
                tools,
                choice,
                parallel=parallel,
                response_format=req.response_format,
                thinking=_enable_thinking(req.chat_template_kwargs),
            )
        except CalltuneError as exc:
            raise api_error(exc, choice_param=choice_param) from None
        except (AttributeError, TypeError, KeyError, ValueError) as exc:
            raise APIError(f"malformed messages: {exc}", param="messages", code="invalid_messages") from None
        stop = [req.stop] if isinstance(req.stop, str) else list(req.stop or [])
        if len(stop) > MAX_STOP or any(not s for s in stop):
            raise APIError(f"'stop' takes up to {MAX_STOP} non-empty strings", param="stop")
        explicit = req.max_completion_tokens or req.max_tokens
        params = SamplingParams(
            max_tokens=explicit or self.default_max_tokens,
            temperature=0.0 if req.temperature is None else req.temperature,
            top_p=1.0 if req.top_p is None else req.top_p,
            seed=req.seed,
            stop=stop,
        )
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        prep = Prepared(req, messages, plan, params, explicit is not None, legacy, include_usage)
        self.check_fits(prep)
        return prep

    def render(self, prep: Prepared) -> tuple[list[dict[str, Any]], list[int] | str]:
        """The messages as the model sees them and the prompt of the turn's first attempt."""
        try:
            msgs, prompt, _ = self.turn.render(prep.messages, prep.plan)
        except CalltuneError as exc:
            raise api_error(exc) from None
        return msgs, prompt

    def check_fits(self, prep: Prepared) -> SamplingParams:
        """The first attempt's sampling parameters; a prompt that does not fit is a 400 now."""
        _, prompt = self.render(prep)
        try:
            return self.turn.fit(prompt, prep.params, prep.explicit_max_tokens)
        except CalltuneError as exc:
            raise api_error(exc) from None

    # -- generation -----------------------------------------------------------------------
    async def events(self, prep: Prepared) -> AsyncIterator[Delta]:
        """The deltas of the answer; ``prep.outcome`` (set here) holds the totals after the last one."""
        out = Outcome()
        prep.outcome = out

        def work(engine: Any) -> Any:
            turn = Turn(engine, self.format, self.settings)
            return turn.stream(
                prep.messages,
                prep.plan.tools,
                prep.plan.choice,
                prep.params,
                explicit_max_tokens=prep.explicit_max_tokens,
                plan=prep.plan,
            )

        try:
            async for ev in self.runner.iterate(work):
                if isinstance(ev, TurnResult):
                    out.result = ev
                    if out.broken and prep.req.stream:
                        continue  # the stream ends with an error: the client saw the call begin
                    for d in self._released_errors(ev, out):
                        out.add(d)
                        yield d
                elif ev.kind != "error":
                    out.add(ev)
                    yield ev
        except CalltuneError as exc:
            raise api_error(exc) from None

    @staticmethod
    def _released_errors(result: TurnResult, out: Outcome) -> list[Delta]:
        """A call that failed to parse is not a call: its raw text is released as content
        (never withheld), and the error is kept for the log."""
        res: list[Delta] = []
        for e in result.errors:
            log.info("unparseable call in the model's output: %s", e.message)
            if e.raw.strip():
                sep = "\n" if out.content or res else ""
                res.append(Delta("content", sep + e.raw.strip()))
        return res

    # -- response shapes --------------------------------------------------------------------
    def _finish_reason(self, out: Outcome, legacy: bool) -> str:
        if out.finish_reason == "length":
            return "length"
        if out.calls:
            return "function_call" if legacy else "tool_calls"
        return "stop"

    def _envelope(self, cid: str, created: int) -> dict[str, Any]:
        return {
            "id": cid,
            "created": created,
            "model": self.model_name,
            "system_fingerprint": f"calltune-{self.format.name}",
        }

    async def complete(self, prep: Prepared, request: Request | None = None) -> dict[str, Any]:
        """A non-streamed ``chat.completion`` (the client's disconnect cancels it)."""

        async def run() -> Outcome:
            async for _ in self.events(prep):
                pass
            assert prep.outcome is not None
            return prep.outcome

        task = asyncio.ensure_future(run())
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=0.25)
                if done:
                    break
                if request is not None and await request.is_disconnected():
                    break
        finally:
            if not task.done():  # client gone (or this handler cancelled): stop generating
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if task.cancelled():
            raise APIError("client disconnected", status=499, code="client_disconnected")
        out = task.result()
        calls = out.tool_calls()
        content = "".join(out.content)
        msg: dict[str, Any] = {
            "role": "assistant",
            "content": content if content.strip() or not calls else None,
        }
        if out.reasoning:
            msg["reasoning_content"] = "".join(out.reasoning)
        if prep.legacy:
            if calls:
                c = out.calls[min(out.calls)]
                msg["function_call"] = {"name": c["name"], "arguments": "".join(c["args"])}
        elif calls:
            msg["tool_calls"] = [
                {
                    "id": out.calls[i]["id"],
                    "type": "function",
                    "function": {"name": out.calls[i]["name"], "arguments": "".join(out.calls[i]["args"])},
                }
                for i in sorted(out.calls)
            ]
        return {
            **self._envelope("chatcmpl-" + uuid.uuid4().hex[:24], int(time.time())),
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": msg,
                    "logprobs": None,
                    "finish_reason": self._finish_reason(out, prep.legacy),
                }
            ],
            "usage": out.usage(),
        }

    async def stream(self, prep: Prepared) -> SSEResponse:
        """A streamed ``chat.completion.chunk`` response. The first event is awaited before
        the response starts, so errors found while starting are an HTTP error, not in-band."""
        envelope = self._envelope("chatcmpl-" + uuid.uuid4().hex[:24], int(time.time()))
        legacy = prep.legacy
        usage_field = {"usage": None} if prep.include_usage else {}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            return sse(
                {
                    **envelope,
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                    **usage_field,
                }
            )

        def to_sse(d: Delta) -> str | None:
            if d.kind == "content":
                return chunk({"content": d.text})
            if d.kind == "reasoning":
                return chunk({"reasoning_content": d.text})
            if d.kind == "tool_call_start":
                if legacy:
                    return chunk({"function_call": {"name": d.name, "arguments": ""}})
                call = {
                    "index": d.index,
                    "id": d.id,
                    "type": "function",
                    "function": {"name": d.name, "arguments": ""},
                }
                return chunk({"tool_calls": [call]})
            if d.kind == "tool_call_args" and d.text:
                if legacy:
                    return chunk({"function_call": {"arguments": d.text}})
                return chunk({"tool_calls": [{"index": d.index, "function": {"arguments": d.text}}]})
            return None

        events = self.events(prep).__aiter__()
        try:
            first: Delta | None = await events.__anext__()
        except StopAsyncIteration:
            first = None
        except BaseException:
            await events.aclose()
            raise

        async def body() -> AsyncIterator[str]:
            try:
                yield chunk({"role": "assistant", "content": ""})
                if first is not None:
                    s = to_sse(first)
                    if s:
                        yield s
                    async for d in events:
                        s = to_sse(d)
                        if s:
                            yield s
                out = prep.outcome or Outcome()
                if out.broken and out.finish_reason != "length":
                    # the client has the start of a call that is not one: say so, do not finish
                    reason = "; ".join(e.message for e in (out.result.errors if out.result else []))
                    raise APIError(
                        f"the model's call of {out.broken[0]!r} broke off after its arguments began to "
                        f"stream: {reason or 'not a valid call'}",
                        status=500,
                        type="server_error",
                        code="invalid_tool_call",
                    )
                yield chunk({}, self._finish_reason(out, legacy))
                if prep.include_usage:
                    yield sse(
                        {**envelope, "object": "chat.completion.chunk", "choices": [], "usage": out.usage()}
                    )
            except APIError as exc:
                yield sse(exc.body())
            except Exception as exc:  # noqa: BLE001 - the stream has started: report in-band
                log.exception("error while streaming")
                yield sse(error_body(f"internal error: {exc}", type="server_error"))
            finally:
                await events.aclose()
            yield sse("[DONE]")

        return SSEResponse(body())
