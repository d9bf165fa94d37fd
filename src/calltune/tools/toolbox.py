"""``Toolbox``: validate and run the calls a model makes, and report back as observations.

Nothing a model does makes the toolbox raise: an unknown tool, bad arguments, an
exception inside a tool and a timeout all come back as an :class:`Observation` whose
``content`` tells the model what went wrong.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import json
import threading
import time
import unicodedata
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic_core import to_jsonable_python

from ..types import ToolCall, new_call_id
from .errors import ToolSchemaError
from .specs import to_tool_specs
from .tool import ArgumentError, Tool, as_tool

T = TypeVar("T")

#: values of :attr:`Observation.kind`
OK = "ok"
UNKNOWN_TOOL = "unknown_tool"
INVALID_ARGUMENTS = "invalid_arguments"
EXCEPTION = "exception"
TIMEOUT = "timeout"
NOT_EXECUTABLE = "not_executable"


@dataclass
class Observation:
    """The result of one tool call, as the model will read it.

    ``content``: the text fed back (a str result as is, other results as JSON with
    ``ensure_ascii=False``, an error as ``"Error: ..."``). ``ok`` is False on failure and
    ``error`` then holds the message; ``kind`` says which failure (see module constants).
    """

    call_id: str
    name: str
    content: str
    ok: bool = True
    error: str | None = None
    elapsed_s: float = 0.0
    kind: str = OK

    def to_message(self) -> dict[str, Any]:
        """The OpenAI ``tool`` message that answers the call."""
        return {"role": "tool", "tool_call_id": self.call_id, "name": self.name, "content": self.content}

    def to_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "name": self.name,
            "content": self.content,
            "ok": self.ok,
            "error": self.error,
            "elapsed_s": round(self.elapsed_s, 4),
            "kind": self.kind,
        }


def format_result(result: Any) -> str:
    """Observation text for a tool's return value: str as is, anything else JSON (``ensure_ascii=False``).

    pydantic models, dataclasses, dates, enums, sets and tuples become their JSON form; a
    value that has no JSON form falls back to ``str(value)``.
    """
    if isinstance(result, str):
        return result
    try:
        return json.dumps(result, ensure_ascii=False)
    except (TypeError, ValueError):
        pass
    try:
        return json.dumps(to_jsonable_python(result), ensure_ascii=False)
    except Exception:  # noqa: BLE001 - anything goes: fall back to str
        return str(result)


def _call_parts(call: Any) -> tuple[str, str, Any]:
    """(id, name, arguments) from a ToolCall, an OpenAI tool_call dict or ``{"name", "arguments"}``."""
    if isinstance(call, ToolCall):
        return call.id, call.name, call.arguments
    if isinstance(call, dict):
        fn = call.get("function") if isinstance(call.get("function"), dict) else call
        return call.get("id") or new_call_id(), str(fn.get("name", "")), fn.get("arguments", {})
    raise TypeError(f"expected a ToolCall or a tool call dict, got {type(call).__name__}")


def _run_coroutine_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from sync code, also when an event loop is already running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        return ex.submit(asyncio.run, coro).result()


def _in_daemon_thread(fn: Any, args: list[Any], kwargs: dict[str, Any]) -> asyncio.Future[Any]:
    """Run a sync function in a fresh daemon thread; a timed-out call can then never block exit."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if fut.done():
            return
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)

    def target() -> None:
        try:
            value, ok = fn(*args, **kwargs), True
        except BaseException as e:  # noqa: BLE001 - handed to the awaiting coroutine
            value, ok = e, False
        try:
            loop.call_soon_threadsafe(settle, ok, value)
        except RuntimeError:  # the loop is gone (the call timed out and its caller moved on)
            pass

    threading.Thread(target=target, name="calltune-tool", daemon=True).start()
    return fut


class Toolbox:
    """The tools a model may call, and the machinery to call them safely.

    ``tools``: Tools (``@tool`` functions), plain callables or OpenAI tool dicts (a dict
    has no implementation: its calls are validated but answered with an error).
    ``timeout``: seconds allowed for one call (a Tool's own ``timeout`` wins).
    ``sequential``: run the calls of one turn one after another, in the order the model wrote
    them (for tools that share state, e.g. ``cd`` then ``ls``); by default they run concurrently.
    """

    def __init__(self, tools: Iterable[Any] = (), timeout: float = 30.0, sequential: bool = False) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.timeout = timeout
        self.sequential = sequential
        self._tools: dict[str, Tool] = {}
        self._on_close: list[Callable[[], None]] = []
        for t in tools:
            self.add(t)

    @classmethod
    def from_mcp(
        cls, *servers: Any, tools: Iterable[Any] = (), timeout: float = 30.0, connect_timeout: float = 30.0
    ) -> Toolbox:
        """A Toolbox of ``tools`` and the tools of MCP ``servers``: command lines (``"python server.py"``,
        run over stdio), streamable-HTTP URLs (``"http://127.0.0.1:8000/mcp"``) or
        :class:`calltune.mcp.McpServerSpec` objects. Arguments are validated with each tool's
        ``inputSchema`` before the call; results, ``isError``, a server that dies and a call that
        outlasts ``timeout`` become observations. A name several sources share is prefixed with the
        server's name (a :class:`calltune.mcp.McpNameClashWarning` says so). :meth:`close` the
        toolbox (or use it in a ``with`` block) to end the sessions."""
        import warnings

        from ..mcp import McpNameClashWarning, attach

        box = cls(tools, timeout=timeout)
        client = attach(box, servers, connect_timeout=connect_timeout)
        for w in client.warnings:
            warnings.warn(w, McpNameClashWarning, stacklevel=2)
        return box

    def on_close(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` when the toolbox is closed (e.g. to end the sessions its tools use)."""
        self._on_close.append(fn)

    def close(self) -> None:
        """Release what the tools hold (MCP sessions, ...), last registered first; idempotent."""
        while self._on_close:
            self._on_close.pop()()

    def __enter__(self) -> Toolbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- registry ------------------------------------------------------------------------------------
    def add(self, item: Any) -> Tool:
        """Add a tool (anything :func:`as_tool` accepts); a duplicate name raises :class:`ToolSchemaError`."""
        t = as_tool(item)
        if t.name in self._tools:
            raise ToolSchemaError(f"duplicate tool name {t.name!r}")
        self._tools[t.name] = t
        return t

    def names(self) -> list[str]:
        return list(self._tools)

    def get(self, name: str) -> Tool | None:
        """The tool called ``name`` (exact, else after Unicode NFC normalisation), or None."""
        t = self._tools.get(name)
        if t is None and isinstance(name, str):
            norm = unicodedata.normalize("NFC", name)
            t = next((v for k, v in self._tools.items() if unicodedata.normalize("NFC", k) == norm), None)
        return t

    def specs(self) -> list[dict[str, Any]]:
        """OpenAI tool dicts for all tools, in the order they were added."""
        return to_tool_specs(list(self._tools.values()))

    def __len__(self) -> int:
        return len(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter(list(self._tools.values()))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __repr__(self) -> str:
        return f"Toolbox({self.names()!r}, timeout={self.timeout})"

    # -- checking ------------------------------------------------------------------------------------
    def validate(self, call: Any) -> list[str]:
        """Everything wrong with ``call`` (unknown tool, arguments not JSON, schema violations); [] if fine."""
        _, name, arguments = _call_parts(call)
        t = self.get(name)
        if t is None:
            return [self._unknown(name)]
        arguments, err = self._decode_arguments(arguments)
        if err:
            return [err]
        return t.validate(arguments)

    def _unknown(self, name: str) -> str:
        available = ", ".join(self._tools) or "none"
        return f"unknown tool {name!r}. Available tools: {available}"

    @staticmethod
    def _decode_arguments(arguments: Any) -> tuple[Any, str | None]:
        if arguments is None:
            return {}, None
        if isinstance(arguments, str):
            if not arguments.strip():
                return {}, None
            try:
                return json.loads(arguments), None
            except json.JSONDecodeError as e:
                return None, f"arguments are not valid JSON: {e}"
        return arguments, None

    # -- running -------------------------------------------------------------------------------------
    async def aexecute(self, call: Any) -> Observation:
        """Validate and run one call; always returns an :class:`Observation`."""
        start = time.perf_counter()
        try:
            call_id, name, arguments = _call_parts(call)
        except TypeError as e:
            return Observation(new_call_id(), "", f"Error: {e}", False, str(e), 0.0, INVALID_ARGUMENTS)

        def fail(kind: str, message: str) -> Observation:
            return Observation(
                call_id, name, f"Error: {message}", False, message, time.perf_counter() - start, kind
            )

        t = self.get(name)
        if t is None:
            return fail(UNKNOWN_TOOL, self._unknown(name))
        name = t.name
        arguments, err = self._decode_arguments(arguments)
        if err:
            return fail(INVALID_ARGUMENTS, f"invalid arguments for {name!r}: {err}")
        errors = t.validate(arguments)
        if errors:
            return fail(INVALID_ARGUMENTS, f"invalid arguments for {name!r}: " + "; ".join(errors))
        if t.fn is None:
            return fail(NOT_EXECUTABLE, f"tool {name!r} has no implementation here")
        try:
            args, kwargs = t.bind(arguments)
        except ArgumentError as e:
            return fail(INVALID_ARGUMENTS, f"invalid arguments for {name!r}: {e}")
        timeout = t.timeout if t.timeout is not None else self.timeout
        try:
            if t.is_async:
                pending: asyncio.Future[Any] = asyncio.ensure_future(t.fn(*args, **kwargs))
            else:
                pending = _in_daemon_thread(t.fn, args, kwargs)
            done, _ = await asyncio.wait({pending}, timeout=timeout)
            if not done:
                pending.cancel()
                return fail(TIMEOUT, f"tool {name!r} timed out after {timeout:g} s")
            result = pending.result()
            if inspect.isawaitable(result):  # a sync wrapper that returned a coroutine
                left = max(timeout - (time.perf_counter() - start), 0.001)
                inner: asyncio.Future[Any] = asyncio.ensure_future(result)
                done, _ = await asyncio.wait({inner}, timeout=left)
                if not done:
                    inner.cancel()
                    return fail(TIMEOUT, f"tool {name!r} timed out after {timeout:g} s")
                result = inner.result()
        except Exception as e:  # noqa: BLE001 - every failure becomes an observation
            text = str(e)
            return fail(EXCEPTION, f"tool {name!r} raised {type(e).__name__}" + (f": {text}" if text else ""))
        except BaseException as e:  # SystemExit, KeyboardInterrupt from a tool thread
            if isinstance(e, asyncio.CancelledError | KeyboardInterrupt):
                raise
            return fail(EXCEPTION, f"tool {name!r} raised {type(e).__name__}: {e}")
        return Observation(call_id, name, format_result(result), True, None, time.perf_counter() - start, OK)

    def execute(self, call: Any) -> Observation:
        """Sync form of :meth:`aexecute`."""
        return _run_coroutine_sync(self.aexecute(call))

    async def aexecute_many(self, calls: Iterable[Any]) -> list[Observation]:
        """Run the calls of one turn (concurrently unless ``sequential``); results in the order of ``calls``."""
        if self.sequential:
            return [await self.aexecute(c) for c in calls]
        return list(await asyncio.gather(*(self.aexecute(c) for c in calls)))

    def execute_many(self, calls: Iterable[Any]) -> list[Observation]:
        """Sync form of :meth:`aexecute_many`."""
        return _run_coroutine_sync(self.aexecute_many(list(calls)))
