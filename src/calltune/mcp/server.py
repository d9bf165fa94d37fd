"""MCP server: a calltune Toolbox offered to MCP clients, over stdio or streamable HTTP on loopback.

Built on the SDK's low-level ``mcp.server.Server`` (not ``MCPServer``, which would derive schemas
and validate arguments itself): ``tools/list`` answers with each Tool's name, description and
JSON Schema, and ``tools/call`` goes through :meth:`Toolbox.aexecute` — the path the agent's
calls take — so arguments are validated with calltune's validator, the tool's timeout holds,
and the sandboxed ``python`` built-in keeps every isolation layer. A failed call (unknown
tool, bad arguments, an exception, a timeout) answers with ``isError: true`` and the
observation's text; the server goes on serving.
"""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
from mcp.server import Server
from mcp.server.stdio import stdio_server

from .. import __version__
from ..tools import Toolbox

DEFAULT_NAME = "calltune"
HTTP_PATH = "/mcp"


def mcp_tool(tool: Any) -> types.Tool:
    """The MCP description of a calltune Tool (name, description, ``inputSchema``)."""
    return types.Tool(name=tool.name, description=tool.description or None, input_schema=tool.parameters)


def toolbox_server(toolbox: Toolbox, name: str = DEFAULT_NAME) -> Server:
    """An MCP server (the SDK's low-level ``Server``) whose tools are ``toolbox``'s."""

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[mcp_tool(t) for t in toolbox])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        obs = await toolbox.aexecute({"name": params.name, "arguments": params.arguments or {}})
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=obs.content)], is_error=not obs.ok
        )

    return Server(name, version=__version__, on_list_tools=list_tools, on_call_tool=call_tool)


def serve_stdio(toolbox: Toolbox, name: str = DEFAULT_NAME) -> None:
    """Serve ``toolbox`` on this process's stdin/stdout until the client closes stdin.

    While serving, the SDK points fd 1 at stderr, so a tool that prints cannot corrupt the protocol."""
    server = toolbox_server(toolbox, name)

    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)


def http_app(toolbox: Toolbox, name: str = DEFAULT_NAME, host: str = "127.0.0.1") -> Any:
    """The Starlette app serving ``toolbox`` over streamable HTTP at :data:`HTTP_PATH`.

    The SDK's DNS-rebinding protection is on for a loopback ``host`` (only loopback Host and
    Origin headers are accepted)."""
    return toolbox_server(toolbox, name).streamable_http_app(streamable_http_path=HTTP_PATH, host=host)


def serve_http(
    toolbox: Toolbox,
    port: int,
    *,
    name: str = DEFAULT_NAME,
    host: str = "127.0.0.1",
    log_level: str = "warning",
) -> None:
    """Serve ``toolbox`` over streamable HTTP at ``http://host:port/mcp`` until interrupted."""
    import uvicorn

    uvicorn.run(http_app(toolbox, name, host), host=host, port=port, log_level=log_level)
