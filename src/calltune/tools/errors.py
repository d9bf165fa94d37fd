"""Exceptions raised by :mod:`calltune.tools`.

Errors that happen while *running* a tool call (unknown tool, bad arguments, an
exception in the tool, a timeout) are never raised: :class:`~calltune.tools.Toolbox`
turns them into :class:`~calltune.tools.Observation` objects the model can read.
The exceptions below are for mistakes in the tool *definitions* a developer writes.
"""

from __future__ import annotations

from ..errors import CalltuneError


class ToolError(CalltuneError):
    """Base class for tool definition errors."""


class ToolSchemaError(ToolError, ValueError):
    """A tool whose name, description or JSON Schema is unusable."""


class ToolLoadError(ToolError, ValueError):
    """A tools file that cannot be imported or defines no tools."""


class UnknownBuiltinError(ToolError, LookupError):
    """``get_builtin`` was asked for a name that is not registered."""
