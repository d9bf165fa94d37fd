"""The OpenAI-compatible function-calling server: ``create_app(engine)`` and ``serve(...)``.

Endpoints: ``POST /v1/chat/completions`` (tools, tool_choice, legacy functions,
streaming), ``GET /v1/models``, ``GET /health``, the playground at ``/`` and
``POST /calltune/render`` (the prompt exactly as the model sees it, for the
playground). The server returns calls; it never executes the client's tools.

Both the streamed and the non-streamed response are built from the same stream of
:class:`~calltune.types.Delta` events of the chat format's stream parser, so the
concatenated argument chunks of a stream equal the non-streamed ``arguments``.
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
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..engines.base import ContextLengthError, Engine, EngineError, SamplingParams
from ..messages import MessageError, normalize_messages
from ..types import Delta, ToolCall
from .schemas import APIError, ChatCompletionRequest, error_body
from .streaming import EngineRunner, SSEResponse, sse
from .toolchoice import ToolPlan, check_calls, forced_messages, plan_tool_choice, validate_tools

log = logging.getLogger("calltune.server")

STATIC_DIR = Path(__file__).parent / "static"
DEFAULT_MAX_BODY = 4 * 1024 * 1024
DEFAULT_MAX_TOKENS = 1024
MAX_STOP = 16


# --------------------------------------------------------------------------------------------
# middleware: body size limit (pure ASGI, so client disconnects stay visible to the app)
# --------------------------------------------------------------------------------------------
class BodyLimitMiddleware:
    """Rejects request bodies over ``max_bytes`` with 413 and an OpenAI error body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._reject(send)
            return
        body = bytearray()
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body += msg.get("body", b"")
            if len(body) > self.max_bytes:
                await self._reject(send)
                return
            if not msg.get("more_body"):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Send) -> None:
        msg = f"request body is larger than the limit of {self.max_bytes} bytes"
        await _send_json(send, 413, error_body(msg, code="request_too_large"))


class AuthMiddleware:
    """``Authorization: Bearer <key>`` on ``/v1`` and ``/calltune``; 401 with an OpenAI body otherwise."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.expected = f"Bearer {api_key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "OPTIONS":
            path: str = scope["path"]
            if path.startswith("/v1") or path.startswith("/calltune"):
                headers = dict(scope.get("headers") or [])
                if headers.get(b"authorization", b"") != self.expected:
                    await _send_json(
                        send,
                        401,
                        error_body(
                            "Incorrect or missing API key: send 'Authorization: Bearer <key>'.",
                            code="invalid_api_key",
                        ),
                    )
                    return
        await self.app(scope, receive, send)


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


# --------------------------------------------------------------------------------------------
# request preparation
# --------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What one generation produced, accumulated from the parser's deltas."""

    content: list[str] = field(default_factory=list)
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 0
    raw: str = ""

    def add(self, d: Delta) -> None:
        if d.kind == "content":
            self.content.append(d.text)
        elif d.kind == "tool_call_start":
            self.calls[d.index] = {"id": d.id, "name": d.name, "args": []}
        elif d.kind == "tool_call_args":
            self.calls.setdefault(d.index, {"id": d.id, "name": d.name, "args": []})["args"].append(d.text)
        elif d.kind == "error":
            self.errors.append(d.text)

    def tool_calls(self) -> list[ToolCall]:
        out = []
        for i in sorted(self.calls):
            c = self.calls[i]
            try:
                args = json.loads("".join(c["args"]) or "{}")
            except json.JSONDecodeError:
                args = None
            out.append(
                ToolCall(name=c["name"] or "", arguments=args if isinstance(args, dict) else {}, id=c["id"])
            )
        return out


@dataclass
class Prepared:
    """A validated request, ready to generate."""

    req: ChatCompletionRequest
    messages: list[dict[str, Any]]
    plan: ToolPlan
    params: SamplingParams
    explicit_max_tokens: bool
    include_usage: bool = False
    outcome: Outcome | None = None


def _validation_param(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()) if not str(p).startswith("function-")) or None
    # pydantic reports union members in loc (e.g. "tool_choice.literal['none','auto','required']")
    if loc:
        loc = loc.split(".literal[")[0].split(".dict[")[0].split(".str")[0].split(".list[")[0]
    msg = err.get("msg", "invalid value")
    return loc or "", f"invalid value for '{loc}': {msg}" if loc else msg


class ChatService:
    """Turns chat-completion requests into engine runs and OpenAI responses."""

    def __init__(
        self,
        engine: Engine,
        fmt: Any,
        model_name: str,
        *,
        default_max_tokens: int = DEFAULT_MAX_TOKENS,
        max_attempts: int = 2,
        guided: bool | None = None,
    ) -> None:
        self.engine = engine
        self.format = fmt
        self.model_name = model_name
        self.runner = EngineRunner(engine)
        self.default_max_tokens = default_max_tokens
        self.max_attempts = max_attempts
        self.guided = guided

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
            choice, choice_param = req.function_call, "function_call"
            if req.tool_choice is not None:
                raise APIError("use 'function_call' with 'functions'", param="tool_choice")
        else:
            tools = validate_tools(req.tools or [], "tools")
            choice, choice_param = req.tool_choice, "tool_choice"
        raw_messages = [m.model_dump(exclude_unset=True) for m in req.messages]
        try:
            messages = normalize_messages(raw_messages)
        except MessageError as exc:
            raise APIError(str(exc), param="messages", code="invalid_messages") from None
        except (AttributeError, TypeError, KeyError, ValueError) as exc:
            raise APIError(f"malformed messages: {exc}", param="messages", code="invalid_messages") from None
        parallel = True if req.parallel_tool_calls is None else req.parallel_tool_calls
        plan = plan_tool_choice(
            self.format,
            self.engine,
            tools,
            choice,
            parallel,
            legacy=legacy,
            guided=self.guided,
            param=choice_param,
        )
        stop = [req.stop] if isinstance(req.stop, str) else list(req.stop or [])
        if len(stop) > MAX_STOP or any(not s for s in stop):
            raise APIError(f"'stop' takes up to {MAX_STOP} non-empty strings", param="stop")
        explicit = req.max_completion_tokens or req.max_tokens
        temperature = 0.0 if req.temperature is None else req.temperature
        params = SamplingParams(
            max_tokens=explicit or self.default_max_tokens,
            temperature=temperature,
            top_p=1.0 if req.top_p is None else req.top_p,
            seed=req.seed,
            stop=[*self.format.stop, *stop],
        )
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        return Prepared(req, messages, plan, params, explicit is not None, include_usage)

    def render(self, prep: Prepared, attempt: int = 0) -> tuple[list[dict[str, Any]], list[int] | str]:
        msgs = forced_messages(prep.messages, prep.plan, attempt)
        try:
            prompt = self.format.encode(msgs, self.engine.tokenizer, tools=prep.plan.render_tools)
        except (ValueError, KeyError, TypeError) as exc:
            raise APIError(f"the messages cannot be rendered: {exc}", param="messages") from None
        return msgs, prompt

    def fit_context(self, prep: Prepared, prompt: list[int] | str) -> SamplingParams:
        n = len(prompt) if isinstance(prompt, list) else self.engine.count_tokens(prompt)
        ctx = int(self.engine.context_length)
        room = ctx - n
        if room < 1 or (prep.explicit_max_tokens and prep.params.max_tokens > room):
            extra = f" plus {prep.params.max_tokens} completion tokens" if room >= 1 else ""
            raise APIError(
                f"This model's maximum context length is {ctx} tokens. However, your messages resulted in "
                f"{n} tokens{extra}. Please reduce the length of the messages or the completion.",
                param="messages",
                code="context_length_exceeded",
            )
        p = prep.params
        return SamplingParams(min(p.max_tokens, room), p.temperature, p.top_p, p.seed, p.stop)

    # -- generation -----------------------------------------------------------------------
    async def _attempt(
        self, prompt: list[int] | str, params: SamplingParams, plan: ToolPlan, out: Outcome
    ) -> AsyncIterator[Delta]:
        """One engine run through the format's stream parser (or raw text for tool_choice none)."""
        parser = self._parser(plan) if plan.mode != "none" else None
        raw: list[str] = []
        last = None
        try:
            async for chunk in self.runner.stream(prompt, params, plan.constraint):
                raw.append(chunk.text)
                if chunk.finish_reason is not None:
                    last = chunk
                if parser is None:
                    if chunk.text:
                        yield Delta("content", chunk.text)
                    continue
                for d in self._release_errors(parser, parser.feed(chunk.text), out):
                    yield d
            if parser is not None:
                for d in self._release_errors(parser, parser.finish(), out):
                    yield d
        except ContextLengthError as exc:
            raise APIError(str(exc), param="messages", code="context_length_exceeded") from None
        except EngineError as exc:
            raise APIError(str(exc), status=500, type="server_error", code="engine_error") from None
        out.raw = "".join(raw)
        usage = (last.usage if last else None) or {}
        out.finish_reason = last.finish_reason if last and last.finish_reason else "stop"
        out.prompt_tokens = int(usage.get("prompt_tokens", len(prompt) if isinstance(prompt, list) else 0))
        out.completion_tokens += int(usage.get("completion_tokens", 0))

    @staticmethod
    def _release_errors(parser: Any, deltas: list[Delta], out: Outcome) -> list[Delta]:
        """A call that failed to parse is not a call: its raw text is released as content
        (never withheld), and the error is kept for the log."""
        res: list[Delta] = []
        for d in deltas:
            res.append(d)
            if d.kind == "error":
                try:
                    errs = parser.result().errors
                    raw = errs[d.index].raw if d.index < len(errs) else ""
                except Exception:  # noqa: BLE001 - a parser without errors in result()
                    raw = ""
                if raw.strip():
                    sep = "\n" if out.content or any(x.kind == "content" for x in res[:-1]) else ""
                    res.append(Delta("content", sep + raw.strip()))
        return res

    def _parser(self, plan: ToolPlan) -> Any:
        names = sorted(plan.allowed_names)
        try:
            return self.format.stream_parser(tool_names=names)
        except TypeError:  # formats whose parser does not take the tool names
            return self.format.stream_parser()

    def _keep(self, d: Delta, plan: ToolPlan) -> bool:
        if d.kind in ("tool_call_start", "tool_call_args") and not plan.parallel and d.index > 0:
            return False
        return True

    async def events(self, prep: Prepared) -> AsyncIterator[Delta]:
        """The deltas of the answer; ``prep.outcome`` (set here) holds the totals after the last one.

        Plans that force a call without a guided constraint are generated in full,
        checked, and retried with a stronger prompt when the call is missing or invalid."""
        out = Outcome()
        prep.outcome = out
        plan = prep.plan
        buffered = plan.forced and plan.constraint is None
        attempts = self.max_attempts if buffered else 1
        for attempt in range(attempts):
            _, prompt = self.render(prep, attempt)
            params = self.fit_context(prep, prompt)
            if attempt > 0:  # a different sample, reproducible under a seed
                params.temperature = max(params.temperature, 0.7)
                params.seed = (params.seed or 0) + attempt
            out.attempts = attempt + 1
            if not buffered:
                async for d in self._attempt(prompt, params, plan, out):
                    if self._keep(d, plan):
                        out.add(d)
                        yield d
                return
            trial = Outcome(completion_tokens=out.completion_tokens)
            kept: list[Delta] = []
            async for d in self._attempt(prompt, params, plan, trial):
                if self._keep(d, plan):
                    trial.add(d)
                    kept.append(d)
            out.completion_tokens = trial.completion_tokens
            problems = check_calls(trial.tool_calls(), plan)
            if problems:
                log.info("attempt %d of a forced tool call rejected: %s", attempt + 1, "; ".join(problems))
            if not problems or attempt == attempts - 1:
                out.finish_reason, out.prompt_tokens, out.raw = (
                    trial.finish_reason,
                    trial.prompt_tokens,
                    trial.raw,
                )
                for d in kept:
                    out.add(d)
                    yield d
                return

    # -- response shapes --------------------------------------------------------------------
    def _finish_reason(self, out: Outcome, legacy: bool) -> str:
        if out.finish_reason == "length":
            return "length"
        if out.calls:
            return "function_call" if legacy else "tool_calls"
        return "stop"

    def _usage(self, out: Outcome) -> dict[str, int]:
        return {
            "prompt_tokens": out.prompt_tokens,
            "completion_tokens": out.completion_tokens,
            "total_tokens": out.prompt_tokens + out.completion_tokens,
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
        if prep.plan.legacy:
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
            "id": "chatcmpl-" + uuid.uuid4().hex[:24],
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model_name,
            "system_fingerprint": f"calltune-{self.format.name}",
            "choices": [
                {
                    "index": 0,
                    "message": msg,
                    "logprobs": None,
                    "finish_reason": self._finish_reason(out, prep.plan.legacy),
                }
            ],
            "usage": self._usage(out),
        }

    async def stream(self, prep: Prepared) -> SSEResponse:
        """A streamed ``chat.completion.chunk`` response. The first event is awaited before
        the response starts, so errors found while starting (context length) are a 400."""
        cid = "chatcmpl-" + uuid.uuid4().hex[:24]
        created = int(time.time())
        legacy = prep.plan.legacy
        usage_field = {"usage": None} if prep.include_usage else {}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            return sse(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": self.model_name,
                    "system_fingerprint": f"calltune-{self.format.name}",
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                    **usage_field,
                }
            )

        def to_sse(d: Delta) -> str | None:
            if d.kind == "content":
                return chunk({"content": d.text})
            if d.kind == "tool_call_start":
                if legacy:
                    return chunk({"function_call": {"name": d.name, "arguments": ""}})
                return chunk(
                    {
                        "tool_calls": [
                            {
                                "index": d.index,
                                "id": d.id,
                                "type": "function",
                                "function": {"name": d.name, "arguments": ""},
                            }
                        ]
                    }
                )
            if d.kind == "tool_call_args":
                if not d.text:
                    return None
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
                yield chunk({}, self._finish_reason(out, legacy))
                if prep.include_usage:
                    yield sse(
                        {
                            "id": cid,
                            "object": "chat.completion.chunk",
                            "created": created,
                            "model": self.model_name,
                            "choices": [],
                            "usage": self._usage(out),
                        }
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


# --------------------------------------------------------------------------------------------
# the app
# --------------------------------------------------------------------------------------------
def _resolve_format(fmt: Any, engine: Engine) -> Any:
    if fmt is None or isinstance(fmt, str):
        from ..formats import get_format

        return get_format(fmt or engine.default_format)
    return fmt


def create_app(
    engine: Engine,
    format: Any = None,
    model_name: str | None = None,
    api_key: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    cors: bool | list[str] = False,
    *,
    default_max_tokens: int = DEFAULT_MAX_TOKENS,
    guided: bool | None = None,
    max_attempts: int = 2,
) -> FastAPI:
    """The FastAPI app serving ``engine`` (one instance; requests are queued).

    ``format``: a :class:`~calltune.formats.base.ChatFormat`, a format name, or None for
    the engine's default. ``api_key``: when set, ``/v1`` and ``/calltune`` need
    ``Authorization: Bearer <key>``. ``cors``: False (default), True (any origin) or a
    list of origins. ``guided``: see :func:`~calltune.server.toolchoice.plan_tool_choice`.
    """
    fmt = _resolve_format(format, engine)
    if guided is True and not getattr(engine, "supports_constraints", False):
        raise ValueError(f"guided=True, but engine {type(engine).__name__} cannot apply guided decoding")
    name = model_name or engine.model_id or "calltune"
    service = ChatService(
        engine, fmt, name, default_max_tokens=default_max_tokens, guided=guided, max_attempts=max_attempts
    )
    app = FastAPI(title="calltune", version="0.1.0", docs_url="/docs", redoc_url=None)
    app.state.service = service

    if cors:
        from fastapi.middleware.cors import CORSMiddleware

        origins = ["*"] if cors is True else list(cors)
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["*"],
            allow_headers=["*"],
            allow_credentials=False,
        )
    if api_key:
        app.add_middleware(AuthMiddleware, api_key=api_key)
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)

    @app.exception_handler(APIError)
    async def _api_error(_: Request, exc: APIError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(str(exc.errors()[0].get("msg", exc))), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return JSONResponse(error_body(str(exc.detail), type=kind), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error")
        return JSONResponse(error_body(f"internal error: {exc}", type="server_error"), status_code=500)

    async def read_json(request: Request) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise APIError(f"the request body is not valid JSON: {exc}", code="invalid_json") from None
        except RecursionError:
            raise APIError("the request body is nested too deeply", code="invalid_json") from None

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        prep = service.prepare(await read_json(request))
        if prep.req.stream:
            return await service.stream(prep)
        return JSONResponse(await service.complete(prep, request))

    @app.post("/calltune/render")
    async def render(request: Request) -> dict[str, Any]:
        """The prompt the model sees for a chat-completion body (with the format's role markers)."""
        prep = service.prepare(await read_json(request))
        msgs, prompt = service.render(prep)
        segs = fmt.segments(msgs, prep.plan.render_tools, True)
        return {
            "format": fmt.name,
            "prompt": "".join(s.text for s in segs),
            "segments": [{"text": s.text, "special": s.special, "role": s.role} for s in segs],
            "prompt_tokens": len(prompt) if isinstance(prompt, list) else engine.count_tokens(prompt),
            "context_length": engine.context_length,
            "tool_mode": prep.plan.mode,
            "guided": prep.plan.constraint is not None,
            "stop": list(prep.params.stop),
        }

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [{"id": name, "object": "model", "created": 0, "owned_by": "calltune"}],
        }

    @app.get("/v1/models/{model_id:path}")
    async def model(model_id: str) -> dict[str, Any]:
        if model_id != name:
            raise APIError(
                f"model {model_id!r} does not exist", status=404, param="model", code="model_not_found"
            )
        return {"id": name, "object": "model", "created": 0, "owned_by": "calltune"}

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "model": name,
            "format": fmt.name,
            "context_length": engine.context_length,
            "guided": bool(getattr(engine, "supports_constraints", False)),
            "queue": service.runner.stats(),
        }

    @app.get("/", include_in_schema=False)
    async def playground() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def serve(
    model: str | None = None,
    *,
    engine: Engine | None = None,
    engine_kind: str | None = None,
    format: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    api_key: str | None = None,
    model_name: str | None = None,
    cors: bool | list[str] = False,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    guided: bool | None = None,
    log_level: str = "info",
    **engine_kw: Any,
) -> None:
    """Load ``model`` (None = the embedded default GGUF) and serve it until interrupted."""
    import uvicorn

    if engine is None:
        from ..engines import load_engine

        if engine_kind:
            engine_kw["engine"] = engine_kind
        engine = load_engine(model, **engine_kw)
    app = create_app(
        engine,
        format,
        model_name=model_name,
        api_key=api_key,
        max_body_bytes=max_body_bytes,
        cors=cors,
        guided=guided,
    )
    try:
        uvicorn.run(app, host=host, port=port, log_level=log_level)
    finally:
        engine.close()
