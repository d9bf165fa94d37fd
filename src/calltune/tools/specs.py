"""OpenAI tool dicts: normalising the forms users pass in."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from .errors import ToolSchemaError
from .tool import as_tool, check_tool_name
from .validation import check_schema


def normalize_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Return ``{"type": "function", "function": {name, description, parameters[, strict]}}`` for

    - an OpenAI tool dict ``{"type": "function", "function": {...}}``;
    - a legacy ``functions`` entry ``{"name", "description", "parameters"}``.

    Missing ``parameters`` become an empty object schema; the schema is checked
    (Draft 2020-12) and :class:`ToolSchemaError` says what is wrong.
    """
    if not isinstance(spec, dict):
        raise ToolSchemaError(f"a tool spec must be a dict, got {type(spec).__name__}")
    if "function" in spec:
        if spec.get("type", "function") != "function":
            raise ToolSchemaError(f"unsupported tool type {spec.get('type')!r} (only 'function')")
        fn = spec["function"]
        if not isinstance(fn, dict):
            raise ToolSchemaError("'function' in a tool spec must be an object")
    elif "name" in spec:
        fn = spec
    else:
        raise ToolSchemaError(
            "a tool spec needs 'function' (OpenAI tools) or 'name' (legacy functions); got keys "
            + ", ".join(map(repr, spec))
        )
    name = check_tool_name(fn.get("name"))
    description = fn.get("description") or ""
    if not isinstance(description, str):
        raise ToolSchemaError(f"tool {name!r}: description must be a string")
    parameters = fn.get("parameters")
    if parameters is None:
        parameters = {"type": "object", "properties": {}}
    check_schema(parameters, name)
    out: dict[str, Any] = {"name": name, "description": description, "parameters": copy.deepcopy(parameters)}
    if fn.get("strict"):
        out["strict"] = True
    return {"type": "function", "function": out}


def to_tool_specs(items: Any) -> list[dict[str, Any]]:
    """OpenAI tool dicts for ``items``: Tools, plain callables, OpenAI tool dicts, legacy ``functions`` dicts.

    ``items`` may be one of these or an iterable of them (a :class:`Toolbox` too). Every
    schema is checked; duplicate names raise :class:`ToolSchemaError`.
    """
    if items is None:
        return []
    if isinstance(items, dict) or callable(items) and not hasattr(items, "specs"):
        items = [items]
    elif hasattr(items, "specs") and callable(items.specs):
        return list(items.specs())
    if not isinstance(items, Iterable) or isinstance(items, str | bytes):
        raise ToolSchemaError(f"expected tools (a list), got {type(items).__name__}")
    specs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        try:
            spec = normalize_spec(item) if isinstance(item, dict) else as_tool(item).spec()
        except ToolSchemaError as e:
            raise ToolSchemaError(f"tools[{i}]: {e}") from e
        name = spec["function"]["name"]
        if name in seen:
            raise ToolSchemaError(f"tools[{i}]: duplicate tool name {name!r}")
        seen.add(name)
        specs.append(spec)
    return specs
