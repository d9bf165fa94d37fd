"""A request's ``tools`` (or legacy ``functions``), checked into OpenAI tool dicts.

What a turn then does with them and with ``tool_choice`` is the one policy of
:mod:`calltune.turn.policy`.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from .schemas import APIError


def validate_tools(raw: list[Any], param: str) -> list[dict[str, Any]]:
    """OpenAI tool dicts from a request's ``tools`` (or legacy ``functions``); each JSON Schema is checked."""
    if not isinstance(raw, list):
        raise APIError(f"'{param}' must be an array", param=param)
    try:
        from ..tools import to_tool_specs  # the project's schema checker
    except ImportError:  # pragma: no cover - tools package not installed yet
        to_tool_specs = None
    specs: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise APIError(f"{param}[{i}] must be an object", param=f"{param}[{i}]")
        if item.get("type", "function") != "function":
            raise APIError(
                f"{param}[{i}]: unsupported tool type {item.get('type')!r}", param=f"{param}[{i}].type"
            )
        fn = item.get("function", item) if param == "tools" else item
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn.get("name"):
            raise APIError(f"{param}[{i}]: a function needs a non-empty string 'name'", param=f"{param}[{i}]")
        params = fn.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(params, dict):
            raise APIError(
                f"{param}[{i}] ({fn['name']}): 'parameters' must be a JSON Schema object",
                param=f"{param}[{i}].parameters",
            )
        try:
            jsonschema.validators.validator_for(params).check_schema(params)
        except RecursionError:
            raise APIError(
                f"{param}[{i}] ({fn['name']}): the JSON Schema is nested too deeply",
                param=f"{param}[{i}].parameters",
                code="invalid_tool_schema",
            ) from None
        except jsonschema.SchemaError as exc:
            raise APIError(
                f"{param}[{i}] ({fn['name']}): invalid JSON Schema for parameters: {exc.message}",
                param=f"{param}[{i}].parameters",
                code="invalid_tool_schema",
            ) from None
        spec = {"type": "function", "function": {**fn, "parameters": params}}
        specs.append(spec)
    if to_tool_specs is not None:
        try:
            specs = to_tool_specs(specs)
        except Exception as exc:  # ToolSchemaError and friends
            raise APIError(f"invalid tool: {exc}", param=param, code="invalid_tool_schema") from None
        except RecursionError:
            raise APIError(
                "a tool schema is nested too deeply", param=param, code="invalid_tool_schema"
            ) from None
    names = [s["function"]["name"] for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise APIError(f"duplicate tool names in '{param}': {', '.join(dupes)}", param=param)
    return specs
