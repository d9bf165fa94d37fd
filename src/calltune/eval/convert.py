"""BFCL function docs → OpenAI tool specs (JSON Schema), and names back.

BFCL writes parameter types the Python way (``dict``, ``float``, ``tuple``, ``any``)
and uses dots in function names (``math.factorial``), which OpenAI-style tool names
(``^[a-zA-Z0-9_-]{1,64}$``) do not allow. Models see sanitised names; the calls they
make are mapped back to BFCL's names before BFCL's checker judges them.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from ..errors import CalltuneError
from ..types import ToolCall

#: BFCL type name → JSON Schema type (BFCL's own OpenAI conversion maps ``any`` to string)
TYPE_MAP: dict[str, str] = {
    "string": "string",
    "str": "string",
    "integer": "integer",
    "int": "integer",
    "float": "number",
    "number": "number",
    "double": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "tuple": "array",
    "dict": "object",
    "object": "object",
    "any": "string",
}

_NAME_OK = re.compile(r"[^a-zA-Z0-9_-]")


class ConversionError(CalltuneError, ValueError):
    """A BFCL function doc that cannot be turned into a tool spec."""


def tool_name(bfcl_name: str) -> str:
    """The name a model sees: dots (and any other character tool names forbid) → ``_``."""
    name = _NAME_OK.sub("_", bfcl_name)[:64]
    if not name:
        raise ConversionError(f"function name {bfcl_name!r} is empty after sanitising")
    return name


def convert_schema(schema: Any, where: str = "parameters") -> dict[str, Any]:
    """One BFCL parameter schema → JSON Schema, recursively (properties, items, additionalProperties)."""
    if not isinstance(schema, dict):
        raise ConversionError(f"{where}: expected a schema object, got {type(schema).__name__}")
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type":
            if isinstance(value, list):
                out["type"] = [_convert_type(v, where) for v in value]
            else:
                out["type"] = _convert_type(value, where)
        elif key == "properties":
            if not isinstance(value, dict):
                raise ConversionError(f"{where}.properties must be an object")
            out["properties"] = {k: convert_schema(v, f"{where}.{k}") for k, v in value.items()}
        elif key == "items":
            out["items"] = convert_schema(value, f"{where}[]") if isinstance(value, dict) else value
        elif key == "additionalProperties" and isinstance(value, dict):
            out[key] = convert_schema(value, f"{where}.*")
        elif key == "optional":
            continue  # BFCL annotation, not JSON Schema; "required" carries the information
        elif key == "required":
            if not isinstance(value, list):
                raise ConversionError(f"{where}.required must be a list")
            out["required"] = list(value)
        else:
            out[key] = copy.deepcopy(value)
    if out.get("type") == "array" and "items" not in out:
        pass  # an untyped array stays untyped
    if "required" in out and "properties" in out:
        # BFCL sometimes lists a required name that has no property; JSON Schema allows it,
        # but no model can fill it sensibly, so keep only declared ones.
        out["required"] = [r for r in out["required"] if r in out["properties"]]
    return out


def _convert_type(t: Any, where: str) -> str:
    if not isinstance(t, str):
        raise ConversionError(f"{where}: type must be a string, got {t!r}")
    try:
        return TYPE_MAP[t.lower()] if t.lower() in TYPE_MAP else TYPE_MAP[t]
    except KeyError:
        raise ConversionError(f"{where}: unknown BFCL type {t!r}") from None


def bfcl_to_tool(fn: dict[str, Any]) -> dict[str, Any]:
    """One BFCL function doc → an OpenAI tool dict ``{"type": "function", "function": {...}}``."""
    if not isinstance(fn, dict) or "name" not in fn:
        raise ConversionError("a BFCL function doc needs a 'name'")
    params = fn.get("parameters") or {"type": "dict", "properties": {}}
    schema = convert_schema(params, f"{fn['name']}.parameters")
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    return {
        "type": "function",
        "function": {
            "name": tool_name(fn["name"]),
            "description": str(fn.get("description", "")),
            "parameters": schema,
        },
    }


def bfcl_to_tools(functions: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Convert a case's function docs; returns ``(tools, name_map)`` where ``name_map`` maps
    each tool name the model sees back to the BFCL name."""
    tools = [bfcl_to_tool(f) for f in functions]
    name_map: dict[str, str] = {}
    for fn, t in zip(functions, tools, strict=True):
        seen = t["function"]["name"]
        if seen in name_map and name_map[seen] != fn["name"]:
            raise ConversionError(f"functions {name_map[seen]!r} and {fn['name']!r} both become {seen!r}")
        name_map[seen] = fn["name"]
    return tools, name_map


def map_calls_back(calls: list[ToolCall], name_map: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Calls as the model made them → ``[(bfcl_name, arguments)]`` for the checker.
    A name the model wrote in BFCL's own (dotted) spelling is kept as is."""
    return [(name_map.get(c.name, c.name), c.arguments) for c in calls]
