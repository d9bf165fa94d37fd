"""MCP (Model Context Protocol) both ways, with the official ``mcp`` SDK (2.x).

Client: an MCP server's tools become calltune tools (``Toolbox.from_mcp(...)``,
``calltune run|chat|serve --mcp ...``). Server: a calltune Toolbox is offered to MCP clients
(``calltune mcp serve``). Design: docs/mcp.md.

>>> from calltune import Toolbox
>>> with Toolbox.from_mcp("python -m calltune.testing.mcp_server") as box:   # doctest: +SKIP
...     box.execute({"name": "add", "arguments": {"a": 2, "b": 3}}).content
'5'

Importing this package is cheap; the SDK is imported when a client or server is made (it needs
the ``mcp`` extra: ``pip install 'calltune[mcp]'``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    McpConnectError,
    McpError,
    McpNameClashWarning,
    McpServerGone,
    McpSpecError,
    McpTimeoutError,
    McpToolError,
)

if TYPE_CHECKING:  # pragma: no cover
    from .client import McpClient, McpConnection, McpServerSpec, attach
    from .server import serve_http, serve_stdio, toolbox_server

__all__ = [
    "McpClient",
    "McpConnectError",
    "McpConnection",
    "McpError",
    "McpNameClashWarning",
    "McpServerGone",
    "McpServerSpec",
    "McpSpecError",
    "McpTimeoutError",
    "McpToolError",
    "attach",
    "serve_http",
    "serve_stdio",
    "toolbox_server",
]

_LAZY = {
    "McpClient": "client",
    "McpConnection": "client",
    "McpServerSpec": "client",
    "attach": "client",
    "serve_http": "server",
    "serve_stdio": "server",
    "toolbox_server": "server",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(f"{__name__}.{_LAZY[name]}")
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] in ("mcp", "mcp_types"):
            raise McpError("MCP needs the official SDK: pip install 'calltune[mcp]'") from e
        raise
    value = getattr(module, name)
    globals()[name] = value
    return value
