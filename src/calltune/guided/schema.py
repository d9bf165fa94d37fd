"""JSON-Schema clean-up shared by the grammar builders.

Tool schemas come from many places (``@tool`` signatures, OpenAI requests, BFCL-style
docs). Before a grammar is built from one, a few spellings that grammar compilers do
not understand are rewritten to plain JSON Schema:

- OpenAPI's ``"nullable": true`` becomes ``anyOf: [<schema>, {"type": "null"}]``;
- the Python-ish type names BFCL and some hand-written tools use (``dict``, ``float``,
  ``tuple``, ``list``, ``str``, ``int``, ``bool``, ``any``) become JSON-Schema types.
"""

from __future__ import annotations

import copy
from typing import Any

_TYPE_ALIASES = {
    "dict": "object",
    "float": "number",
    "double": "number",
    "tuple": "array",
    "list": "array",
    "str": "string",
    "int": "integer",
    "bool": "boolean",
    "none": "null",
}

_SCHEMA_KEYS_WITH_SUBSCHEMA = ("items", "additionalProperties", "not", "contains")
_SCHEMA_KEYS_WITH_LIST = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_KEYS_WITH_MAP = ("properties", "$defs", "definitions", "patternProperties")


def normalize_schema(schema: Any) -> Any:
    """A copy of ``schema`` with ``nullable`` and Python-ish type names rewritten (recursively)."""
    return _norm(copy.deepcopy(schema))


def _norm_type(t: Any) -> Any:
    if isinstance(t, str):
        low = t.lower()
        if low == "any":
            return None
        return _TYPE_ALIASES.get(low, low)
    if isinstance(t, list):
        out = [_norm_type(x) for x in t]
        if any(x is None for x in out):
            return None
        return out
    return t


def _norm(s: Any) -> Any:
    if not isinstance(s, dict):
        return s
    if "type" in s:
        t = _norm_type(s["type"])
        if t is None:
            del s["type"]
        else:
            s["type"] = t
    for k in _SCHEMA_KEYS_WITH_SUBSCHEMA:
        if isinstance(s.get(k), dict):
            s[k] = _norm(s[k])
    if isinstance(s.get("items"), list):  # draft-4 tuple form
        s["prefixItems"] = s.pop("items")
    for k in _SCHEMA_KEYS_WITH_LIST:
        if isinstance(s.get(k), list):
            s[k] = [_norm(x) for x in s[k]]
    for k in _SCHEMA_KEYS_WITH_MAP:
        if isinstance(s.get(k), dict):
            s[k] = {name: _norm(sub) for name, sub in s[k].items()}
    if s.pop("nullable", False) is True:
        t = s.get("type")
        if isinstance(t, str) and "enum" not in s and t != "null":
            s["type"] = [t, "null"]
        elif isinstance(t, list) and "enum" not in s:
            if "null" not in t:
                s["type"] = [*t, "null"]
        else:
            if "enum" in s and None not in s["enum"]:
                s["enum"] = [*s["enum"], None]
            elif "enum" not in s:
                inner = dict(s)
                s.clear()
                s["anyOf"] = [inner, {"type": "null"}]
    return s


def tool_function(tool: dict[str, Any]) -> dict[str, Any]:
    """The ``function`` part of an OpenAI tool dict (a bare function dict is accepted too)."""
    if not isinstance(tool, dict):
        raise TypeError(f"a tool must be an OpenAI tool dict, got {type(tool).__name__}")
    fn = tool.get("function", tool) if tool.get("type", "function") == "function" else None
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
        raise ValueError(f"not an OpenAI function tool (no function.name): {str(tool)[:200]}")
    return fn


def tool_parameters(tool: dict[str, Any]) -> dict[str, Any]:
    """The normalised parameters schema of a tool (an empty object schema when it has none)."""
    fn = tool_function(tool)
    params = fn.get("parameters") or {"type": "object", "properties": {}}
    params = normalize_schema(params)
    if params.get("type") is None and "properties" in params:
        params["type"] = "object"
    return params


def tool_is_strict(tool: dict[str, Any]) -> bool:
    """OpenAI's ``strict: true`` (on the function, or on the tool dict)."""
    fn = tool_function(tool)
    return bool(fn.get("strict") or tool.get("strict"))
