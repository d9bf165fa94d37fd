"""The OpenAI-compatible function-calling server: ``create_app(engine)`` and ``serve(...)``.

Endpoints: ``POST /v1/chat/completions`` (tools, tool_choice, legacy functions,
streaming), ``POST /v1/completions`` (a raw prompt, for clients that render their own:
:mod:`calltune.server.completions`), ``GET /v1/models``, ``GET /health``, the playground at ``/`` and
``POST /calltune/render`` (the prompt exactly as the model sees it, for the
playground), ``GET /calltune/tools`` and ``POST /calltune/tools/call`` (the server's own tools,
e.g. from ``--mcp`` servers, listed and run for the playground). Each completion is one
:class:`~calltune.turn.Turn` (see :mod:`calltune.server.service`), the same turn the agent and
the evaluation run.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..engines.base import Engine
from ..errors import CalltuneError
from ..tools import Toolbox
from ..turn import TurnSettings
from .completions import CompletionService
from .errors import api_error
from .middleware import AuthMiddleware, BodyLimitMiddleware
from .schemas import APIError, error_body
from .service import DEFAULT_MAX_TOKENS, ChatService

log = logging.getLogger("calltune.server")

STATIC_DIR = Path(__file__).parent / "static"
DEFAULT_MAX_BODY = 4 * 1024 * 1024


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
    check_relevance: bool = True,
    continue_calls: bool = True,
    toolbox: Toolbox | None = None,
    stream_arguments: bool = True,
    thinking: bool | None = None,
    ground_arguments: bool = True,
) -> FastAPI:
    """The FastAPI app serving ``engine`` (one instance; requests are queued).

    ``format``: a :class:`~calltune.formats.base.ChatFormat`, a format name, or None for
    the engine's default. ``api_key``: when set, ``/v1`` and ``/calltune`` need
    ``Authorization: Bearer <key>``. ``cors``: False (default), True (any origin) or a
    list of origins. ``guided``, ``max_attempts``, ``check_relevance``, ``continue_calls``,
    ``ground_arguments``,
    ``stream_arguments`` (False: each call's arguments in one chunk once the turn has settled it),
    ``thinking`` (the template's thinking switch when a request does not set
    ``chat_template_kwargs.enable_thinking``): the turn's settings
    (:class:`~calltune.turn.TurnSettings`), the same as the agent's.
    ``toolbox``: tools the server runs itself (``calltune serve --mcp``). Completions still only
    return calls; the playground lists these tools (``GET /calltune/tools``), sends them as
    ``tools`` and runs the calls it gets through ``POST /calltune/tools/call``.
    """
    fmt = _resolve_format(format, engine)
    if guided is True and not getattr(engine, "supports_constraints", False):
        raise ValueError(f"guided=True, but engine {type(engine).__name__} cannot apply guided decoding")
    name = model_name or engine.model_id or "calltune"
    settings = TurnSettings(
        guided=guided,
        max_attempts=max_attempts,
        check_relevance=check_relevance,
        continue_calls=continue_calls,
        stream_arguments=stream_arguments,
        thinking=thinking,
        ground_arguments=ground_arguments,
    )
    service = ChatService(engine, fmt, name, default_max_tokens=default_max_tokens, settings=settings)
    completion_service = CompletionService(
        engine, fmt, name, service.runner, default_max_tokens=default_max_tokens
    )  # the same runner: chat and text completions share the engine's slots
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

    @app.exception_handler(CalltuneError)
    async def _calltune_error(_: Request, exc: CalltuneError) -> JSONResponse:
        err = api_error(exc)
        return JSONResponse(err.body(), status_code=err.status)

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

    @app.post("/v1/completions")
    async def completions(request: Request) -> Any:
        prep = completion_service.prepare(await read_json(request))
        if prep.req.stream:
            return await completion_service.stream(prep)
        return JSONResponse(await completion_service.complete(prep))

    @app.post("/calltune/render")
    async def render(request: Request) -> dict[str, Any]:
        """The prompt the model sees for a chat-completion body (with the format's role markers)."""
        prep = service.prepare(await read_json(request))
        msgs, prompt = service.render(prep)
        segs = fmt.segments(msgs, prep.plan.offered or None, True)
        return {
            "format": fmt.name,
            "prompt": "".join(s.text for s in segs),
            "segments": [{"text": s.text, "special": s.special, "role": s.role} for s in segs],
            "prompt_tokens": len(prompt) if isinstance(prompt, list) else engine.count_tokens(prompt),
            "context_length": engine.context_length,
            "tool_mode": str(prep.plan.choice),
            "guided": prep.plan.constraint is not None,
            "stop": list(dict.fromkeys([*fmt.stop, *prep.params.stop])),
        }

    @app.get("/calltune/tools")
    async def server_tools() -> dict[str, Any]:
        """The tools this server can run (OpenAI tool dicts); empty without a server-side toolbox."""
        return {"tools": toolbox.specs() if toolbox is not None else []}

    @app.post("/calltune/tools/call")
    async def call_server_tool(request: Request) -> dict[str, Any]:
        """Run one call (``{"name", "arguments"}``) with the server's toolbox; the observation."""
        if toolbox is None:
            raise APIError("this server has no tools of its own (start it with --mcp)", status=404)
        body = await read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            raise APIError('the body must be {"name": ..., "arguments": {...}}', param="name")
        obs = await toolbox.aexecute({"name": body["name"], "arguments": body.get("arguments") or {}})
        return obs.to_dict()

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

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:  # for clients that ask before reading the page's <link>
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

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
    check_relevance: bool = True,
    continue_calls: bool = True,
    log_level: str = "info",
    toolbox: Toolbox | None = None,
    stream_arguments: bool = True,
    ground_arguments: bool = True,
    **engine_kw: Any,
) -> None:
    """Load ``model`` (None = the embedded default GGUF) and serve it until interrupted
    (``toolbox``: see :func:`create_app`; the caller closes it)."""
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
        check_relevance=check_relevance,
        continue_calls=continue_calls,
        toolbox=toolbox,
        stream_arguments=stream_arguments,
        ground_arguments=ground_arguments,
    )
    try:
        uvicorn.run(app, host=host, port=port, log_level=log_level)
    finally:
        engine.close()
