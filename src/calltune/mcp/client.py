"""MCP client: connect to MCP servers (stdio or streamable HTTP) and offer their tools as calltune Tools.

The SDK is async and the agent is not, so every session lives on one background event loop
(:class:`~calltune.mcp.loop.LoopThread`) owned by an :class:`McpClient`. Each connection is
one task there that enters the SDK's ``Client`` and stays inside it until :meth:`McpClient.close`
(anyio scopes must be left by the task that entered them). A tool call is a coroutine submitted
to that loop; the Tool awaits it from the Toolbox's own loop, so the Toolbox's timeout cancels
the call on the MCP loop too, and a server that dies mid-call answers with an error at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import shlex
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

from .. import __version__
from ..tools.errors import ToolSchemaError
from ..tools.tool import Tool
from .convert import assign_names, result_text, server_label
from .errors import McpConnectError, McpError, McpServerGone, McpSpecError, McpTimeoutError, McpToolError
from .loop import LoopThread

#: seconds allowed for one tool call, and for starting a server and its handshake
DEFAULT_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 30.0
#: seconds the SDK's own request timeout runs past the call's (a backstop: the Toolbox cancels first)
_BACKSTOP_S = 2.0
_MAX_PAGES = 100


@dataclass(frozen=True)
class McpServerSpec:
    """One MCP server: a command line run as a subprocess (stdio) or a streamable-HTTP URL.

    ``env`` is added to the few variables the SDK passes to a subprocess (``PATH``, ``HOME``, …;
    never the whole environment). ``name`` overrides the name the server reports, which
    prefixes its tools when their names clash.
    """

    command: tuple[str, ...] = ()
    url: str | None = None
    env: dict[str, str] | None = field(default=None, hash=False)
    cwd: str | None = None
    name: str | None = None

    @classmethod
    def parse(cls, value: str | Sequence[str] | McpServerSpec) -> McpServerSpec:
        """``"http(s)://host:port/mcp"`` → HTTP; any other string → a command line (split like a
        shell would, no shell run); a list → the command's arguments as they are."""
        if isinstance(value, McpServerSpec):
            return value
        if isinstance(value, str):
            text = value.strip()
            if text.startswith(("http://", "https://")):
                return cls(url=text)
            if "://" in text.split(" ", 1)[0]:
                raise McpSpecError(f"MCP server URL {text!r}: only http:// and https:// are supported")
            try:
                parts = shlex.split(text)
            except ValueError as e:
                raise McpSpecError(f"MCP server command {value!r}: {e}") from None
        else:
            parts = [str(p) for p in value]
        if not parts:
            raise McpSpecError("an MCP server needs a command line or an http(s) URL, got nothing")
        return cls(command=tuple(parts))

    def describe(self) -> str:
        return self.url or shlex.join(self.command)

    def default_name(self) -> str:
        """A name from the spec alone: the script or program name, or the URL's host and port."""
        if self.url:
            return self.url.split("://", 1)[1].split("/", 1)[0]
        script = next((a for a in self.command[1:] if a.endswith(".py")), None)
        if "-m" in self.command[:-1]:
            script = self.command[self.command.index("-m") + 1].rsplit(".", 1)[-1]
        return Path(script or self.command[0]).stem

    def target(self) -> str | StdioServerParameters:
        """What the SDK's ``Client`` connects to."""
        if self.url:
            return self.url
        return StdioServerParameters(
            command=self.command[0], args=list(self.command[1:]), env=self.env, cwd=self.cwd
        )


def _root_cause(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _describe(exc: BaseException) -> str:
    exc = _root_cause(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class McpConnection:
    """One MCP server session on ``loop``: :meth:`start`, then calls, then :meth:`close`."""

    def __init__(self, spec: McpServerSpec, loop: LoopThread, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.spec = spec
        self.timeout = timeout
        #: the server's label: prefixes its tools' names on a clash
        self.name = server_label(spec.name or spec.default_name())
        self.tools: list[types.Tool] = []
        self._loop = loop
        self._client: Client | None = None
        self._ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._finished = threading.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing: asyncio.Event | None = None
        self._gone: str | None = None

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> concurrent.futures.Future[None]:
        """Start the server (or reach it) in the background; the future is done after the handshake
        and the tool listing (or holds the :class:`McpConnectError`)."""
        self._loop.submit(self._own())
        return self._ready

    async def _own(self) -> None:
        self._task = asyncio.current_task()
        self._closing = asyncio.Event()
        try:
            info = types.Implementation(name="calltune", version=__version__)
            async with Client(self.spec.target(), client_info=info) as client:
                self.tools = await self._list_tools(client)
                if self.spec.name is None and client.server_info is not None and client.server_info.name:
                    self.name = server_label(client.server_info.name)
                self._client = client
                self._ready.set_result(None)
                await self._closing.wait()
        except BaseException as e:
            if not self._ready.done():
                what = "timed out" if isinstance(e, asyncio.CancelledError) else _describe(e)
                verb = "reached" if self.spec.url else "started"
                self._ready.set_exception(
                    McpConnectError(f"MCP server {self.spec.describe()!r} could not be {verb}: {what}")
                )
            else:
                self._gone = _describe(e)
            if not isinstance(e, Exception):
                raise
        finally:
            self._client = None
            self._finished.set()

    @staticmethod
    async def _list_tools(client: Client) -> list[types.Tool]:
        tools: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    def wait_ready(self, timeout: float) -> None:
        """Wait for :meth:`start`; a server not ready within ``timeout`` is stopped."""
        try:
            self._ready.result(timeout)
        except concurrent.futures.TimeoutError:
            self._cancel()
            self._finished.wait(10.0)
            raise McpConnectError(
                f"MCP server {self.spec.describe()!r} did not complete the MCP handshake within {timeout:g} s"
            ) from None

    def _cancel(self) -> None:
        task = self._task
        if task is not None and self._loop.running:
            self._loop.loop.call_soon_threadsafe(task.cancel)

    def request_close(self) -> None:
        """Ask the owner task to leave the session (the SDK then stops a stdio server's process)."""
        if self._closing is not None and self._loop.running:
            self._loop.loop.call_soon_threadsafe(self._closing.set)
        elif not self._ready.done():
            self._cancel()

    def wait_closed(self, timeout: float = 15.0) -> bool:
        return self._finished.wait(timeout) if self._task is not None else True

    # -- calls ---------------------------------------------------------------------------------
    async def _call(self, tool: str, arguments: dict[str, Any], timeout: float) -> types.CallToolResult:
        client = self._client
        if client is None:
            why = f" ({self._gone})" if self._gone else ""
            raise McpServerGone(f"MCP server {self.name!r} is not connected any more{why}")
        try:
            return await client.call_tool(tool, arguments, read_timeout_seconds=timeout + _BACKSTOP_S)
        except MCPError as e:
            if e.code == types.CONNECTION_CLOSED:
                raise McpServerGone(
                    f"MCP server {self.name!r} closed the connection before answering {tool!r} "
                    "(did its process exit?)"
                ) from None
            if e.code == types.REQUEST_TIMEOUT:
                raise McpTimeoutError(f"MCP server {self.name!r} did not answer {tool!r} in time") from None
            raise McpError(f"MCP server {self.name!r} refused the call of {tool!r}: {e}") from None
        except (OSError, RuntimeError) as e:  # transport failures; results not matching the output schema
            raise McpError(f"MCP server {self.name!r}, tool {tool!r}: {_describe(e)}") from None

    async def _call_text(self, tool: str, arguments: dict[str, Any], timeout: float) -> str:
        result = await self._call(tool, arguments, timeout)
        text = result_text(result)
        if result.is_error:
            raise McpToolError(text or f"MCP tool {tool!r} failed without a message")
        return text

    def _check_open(self) -> None:
        if not self._loop.running:
            raise McpServerGone(f"MCP server {self.name!r} is not connected any more (the client was closed)")

    async def acall(self, tool: str, arguments: dict[str, Any], timeout: float | None = None) -> str:
        """Call ``tool`` and return its observation text; raises :class:`McpToolError` on ``isError``.
        Awaitable from any event loop; cancelling it cancels the call on the MCP loop."""
        self._check_open()
        limit = self.timeout if timeout is None else timeout
        return await asyncio.wrap_future(self._loop.submit(self._call_text(tool, arguments, limit)))

    def call(self, tool: str, arguments: dict[str, Any], timeout: float | None = None) -> str:
        """Blocking form of :meth:`acall`: waits at most ``timeout`` seconds (default: the connection's)."""
        self._check_open()
        limit = self.timeout if timeout is None else timeout
        try:
            return self._loop.run(self._call_text(tool, arguments, limit), timeout=limit)
        except TimeoutError as e:
            if isinstance(e, McpError):
                raise
            raise McpTimeoutError(
                f"MCP server {self.name!r} did not answer {tool!r} within {limit:g} s"
            ) from None

    def make_tool(self, mcp_tool: types.Tool, name: str) -> Tool:
        """The calltune Tool (offered as ``name``) that calls ``mcp_tool`` on this server."""
        remote = mcp_tool.name

        async def call_mcp_tool(**arguments: Any) -> str:
            return await self.acall(remote, arguments)

        description = mcp_tool.description or mcp_tool.title or ""
        if name != remote:
            description = f"{description} (tool {remote!r} of MCP server {self.name!r})".strip()
        return Tool(
            call_mcp_tool,
            name=name,
            description=description,
            parameters=dict(mcp_tool.input_schema or {"type": "object", "properties": {}}),
            timeout=self.timeout,
        )


class McpClient:
    """Connections to MCP servers and their tools as calltune :class:`~calltune.tools.Tool` objects.

    ``servers``: command lines (``"python server.py"``, stdio), URLs
    (``"http://127.0.0.1:8000/mcp"``, streamable HTTP) or :class:`McpServerSpec` objects; they are
    started together. ``timeout``: seconds for one tool call; ``connect_timeout``: for a server's
    start and handshake. ``reserved``: names already taken (local tools keep theirs; a clashing MCP
    tool gets its server's name as a prefix). :attr:`tools` are ready to add to a Toolbox;
    :attr:`warnings` says what was renamed or left out. Use it as a context manager, or
    :meth:`close` it: that ends the sessions and stops the servers' processes.
    """

    def __init__(
        self,
        servers: Iterable[str | Sequence[str] | McpServerSpec],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        reserved: Iterable[str] = (),
    ) -> None:
        if timeout <= 0 or connect_timeout <= 0:
            raise ValueError("MCP timeouts must be positive")
        specs = [McpServerSpec.parse(s) for s in servers]
        self._loop = LoopThread()
        self.connections: list[McpConnection] = []
        self.tools: list[Tool] = []
        self.warnings: list[str] = []
        try:
            self.connections = [McpConnection(s, self._loop, timeout=timeout) for s in specs]
            for c in self.connections:
                c.start()
            deadline = time.monotonic() + connect_timeout
            for c in self.connections:
                c.wait_ready(max(deadline - time.monotonic(), 0.001))
            self._unique_names()
            self.tools, self.warnings = self._make_tools(set(reserved))
        except BaseException:
            self.close()
            raise

    def _unique_names(self) -> None:
        seen: set[str] = set()
        for c in self.connections:
            base, n = c.name, 2
            while c.name in seen:
                c.name, n = f"{base}-{n}", n + 1
            seen.add(c.name)

    def _make_tools(self, reserved: set[str]) -> tuple[list[Tool], list[str]]:
        offers = {c.name: [t.name for t in c.tools] for c in self.connections}
        names, warnings = assign_names(offers, reserved)
        tools: list[Tool] = []
        for c in self.connections:
            for t in c.tools:
                if (c.name, t.name) not in names:
                    continue
                try:
                    tools.append(c.make_tool(t, names[(c.name, t.name)]))
                except ToolSchemaError as e:
                    warnings.append(f"MCP server {c.name!r}: tool {t.name!r} left out: {e}")
        return tools, warnings

    def connection(self, name: str) -> McpConnection:
        """The connection whose label is ``name``."""
        for c in self.connections:
            if c.name == name:
                return c
        raise KeyError(f"no MCP server {name!r}; connected: {', '.join(c.name for c in self.connections)}")

    def call(self, server: str, tool: str, arguments: dict[str, Any], timeout: float | None = None) -> str:
        """Call ``tool`` (its name on the server) on ``server`` (its label), blocking, with a timeout."""
        return self.connection(server).call(tool, arguments, timeout)

    def close(self) -> None:
        """End every session (stdio servers' processes are stopped) and the background loop."""
        for c in self.connections:
            c.request_close()
        for c in self.connections:
            c.wait_closed()
        self._loop.stop()

    def __enter__(self) -> McpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"McpClient({[c.name for c in self.connections]!r}, tools={[t.name for t in self.tools]!r})"


def attach(
    toolbox: Any,
    servers: Iterable[str | Sequence[str] | McpServerSpec],
    *,
    timeout: float | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> McpClient:
    """Connect to ``servers`` and add their tools to ``toolbox`` (a :class:`~calltune.tools.Toolbox`;
    its tools keep their names); the client is closed with the toolbox. Returns the client (its
    ``warnings`` say what was renamed). ``timeout`` defaults to the toolbox's."""
    client = McpClient(
        servers,
        timeout=toolbox.timeout if timeout is None else timeout,
        connect_timeout=connect_timeout,
        reserved=toolbox.names(),
    )
    try:
        for t in client.tools:
            toolbox.add(t)
    except BaseException:
        client.close()
        raise
    toolbox.on_close(client.close)
    return client
