"""Tools: ``@tool`` functions, their JSON Schemas, validation and safe execution.

>>> from calltune.tools import tool, Toolbox
>>> @tool
... def add(a: int, b: int) -> int:
...     '''Add two integers.'''
...     return a + b
>>> Toolbox([add]).execute({"name": "add", "arguments": {"a": 2, "b": 3}}).content
'5'
"""

from __future__ import annotations

from .builtins import calculator, current_datetime, get_builtin, list_builtins, register_builtin
from .errors import ToolError, ToolLoadError, ToolSchemaError, UnknownBuiltinError
from .loader import load_tools_file
from .specs import normalize_spec, to_tool_specs
from .tool import ArgumentError, Tool, as_tool, tool
from .toolbox import Observation, Toolbox, format_result

__all__ = [
    "ArgumentError",
    "Observation",
    "Tool",
    "ToolError",
    "ToolLoadError",
    "ToolSchemaError",
    "Toolbox",
    "UnknownBuiltinError",
    "as_tool",
    "calculator",
    "current_datetime",
    "format_result",
    "get_builtin",
    "list_builtins",
    "load_tools_file",
    "normalize_spec",
    "register_builtin",
    "to_tool_specs",
    "tool",
]
