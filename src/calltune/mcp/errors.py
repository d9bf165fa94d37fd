"""Exceptions of :mod:`calltune.mcp`.

Failures while *calling* an MCP tool (the server reports an error, dies or does not answer)
are raised inside the tool and become observations the model reads (the Toolbox turns every
exception into one). Failures while *connecting* raise :class:`McpConnectError`.
"""

from __future__ import annotations

from ..errors import CalltuneError


class McpError(CalltuneError, RuntimeError):
    """Base class of the MCP errors."""


class McpConnectError(McpError):
    """An MCP server could not be started, reached, or did not complete the handshake in time."""


class McpServerGone(McpError):
    """The MCP server closed the connection (its process exited) before it answered."""


class McpToolError(McpError):
    """The MCP server answered the call with ``isError: true``; the message is its text."""


class McpSpecError(McpError, ValueError):
    """An MCP server given in a form calltune cannot read (empty command, a URL that is not http(s))."""


class McpTimeoutError(McpError, TimeoutError):
    """An MCP server did not answer a call within its timeout."""


class McpNameClashWarning(CalltuneError, UserWarning):
    """Tools of several sources share a name (they were renamed), or a tool was left out."""
