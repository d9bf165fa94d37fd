"""JSON-Schema clean-up shared by the grammar builders.

Tool schemas come from many places (``@tool`` signatures, OpenAI requests, BFCL-style
docs). Before a grammar is built from one, a few spellings that grammar compilers do
not understand are rewritten to plain JSON Schema:

- OpenAPI's ``"nullable": true`` becomes ``anyOf: [<schema>, {"type": "null"}]``;
- the Python-ish type names BFCL and some hand-written tools use (``dict``, ``float``,
  ``tuple``, ``list``, ``str``, ``int``, ``bool``, ``any``) become JSON-Schema types;
- a string's ``minLength`` / ``maxLength`` (without a ``pattern``) becomes the equivalent
  ``pattern`` ``^.{min,max}$``: xgrammar 0.2.9 turns length bounds into a character class that
  admits unescaped control characters, which is not JSON (mlc-ai/xgrammar#800), while its
  ``pattern`` path writes JSON-string characters only.

:func:`unenforceable_keywords` lists the keywords a grammar would not enforce.
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


def normalize_schema(schema: Any, *, aliases: bool = True) -> Any:
    """A copy of ``schema`` with ``nullable`` and Python-ish type names rewritten and string
    lengths as patterns (recursively). ``aliases=False``: only the length rewrite (for a schema
    that is already plain JSON Schema and is checked as written, e.g. a ``response_format``)."""
    return _norm(copy.deepcopy(schema), aliases)


def _length_as_pattern(s: dict[str, Any]) -> None:
    if "pattern" in s or "format" in s or not ("minLength" in s or "maxLength" in s):
        return
    lo, hi = s.get("minLength", 0), s.get("maxLength", "")
    if not isinstance(lo, int) or not isinstance(hi, int | str):
        return
    s.pop("minLength", None)
    s.pop("maxLength", None)
    s["pattern"] = f"^.{{{lo},{hi}}}$"


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


def _norm(s: Any, aliases: bool = True) -> Any:
    if not isinstance(s, dict):
        return s
    _length_as_pattern(s)
    if aliases and "type" in s:
        t = _norm_type(s["type"])
        if t is None:
            del s["type"]
        else:
            s["type"] = t
    for k in _SCHEMA_KEYS_WITH_SUBSCHEMA:
        if isinstance(s.get(k), dict):
            s[k] = _norm(s[k], aliases)
    if isinstance(s.get("items"), list):  # draft-4 tuple form
        s["prefixItems"] = s.pop("items")
    for k in _SCHEMA_KEYS_WITH_LIST:
        if isinstance(s.get(k), list):
            s[k] = [_norm(x, aliases) for x in s[k]]
    for k in _SCHEMA_KEYS_WITH_MAP:
        if isinstance(s.get(k), dict):
            s[k] = {name: _norm(sub, aliases) for name, sub in s[k].items()}
    if aliases and s.pop("nullable", False) is True:
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


def loosened_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """``tool`` with any JSON object as its arguments (its call syntax constrained, not its schema)."""
    fn = tool_function(tool)
    return {"type": "function", "function": {**fn, "parameters": {"type": "object"}}}


#: keywords xgrammar's JSON-Schema converter does not enforce (measured with xgrammar 0.2.9: a
#: grammar built from them accepts documents the schema rejects), so a response schema holding
#: them could not be guaranteed; ``allOf`` is enforced only with a single member
UNENFORCEABLE_KEYWORDS = (
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
    "unevaluatedProperties",
    "unevaluatedItems",
    "propertyNames",
)


def unenforceable_keywords(schema: Any, path: str = "#") -> list[str]:
    """JSON pointers (``#/properties/x/uniqueItems``) to the keywords of ``schema`` that a grammar
    built from it would not enforce (empty list = every keyword is enforced)."""
    found: list[str] = []
    if isinstance(schema, list):
        for i, sub in enumerate(schema):
            found += unenforceable_keywords(sub, f"{path}/{i}")
        return found
    if not isinstance(schema, dict):
        return found
    for key in UNENFORCEABLE_KEYWORDS:
        if key in schema:
            found.append(f"{path}/{key}")
    if ("pattern" in schema or "format" in schema) and ("minLength" in schema or "maxLength" in schema):
        found.append(f"{path}/maxLength" if "maxLength" in schema else f"{path}/minLength")
    if schema.get("uniqueItems") is True:
        found.append(f"{path}/uniqueItems")
    if isinstance(schema.get("allOf"), list) and len(schema["allOf"]) > 1:
        found.append(f"{path}/allOf")
    for key in (*_SCHEMA_KEYS_WITH_SUBSCHEMA, *_SCHEMA_KEYS_WITH_LIST):
        if key in schema and key not in UNENFORCEABLE_KEYWORDS:
            found += unenforceable_keywords(schema[key], f"{path}/{key}")
    for key in _SCHEMA_KEYS_WITH_MAP:
        if isinstance(schema.get(key), dict):
            for name, sub in schema[key].items():
                found += unenforceable_keywords(sub, f"{path}/{key}/{name}")
    return found
