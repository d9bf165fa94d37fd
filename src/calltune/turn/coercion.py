"""Lossless coercion of an argument to the string its schema declares.

A tool that declares ``{"type": "string"}`` for an argument wants text: a JSON-encoded list or
object, a number written out, code in the tool's own language. Small models often write the
structure itself instead (``"options": {"role": "admin"}`` where the tool wants the object's
text, ``"zip": 10001`` where it wants ``"10001"``). Such a call fails the schema, and a tool that
runs it gets the wrong type. The value's JSON text is the string the model meant, and nothing is
lost in writing it out, so the turn writes it out: an object, array, number or boolean given
for an argument whose schema is exactly ``"type": "string"`` becomes ``json.dumps(value)``
(``{"role": "admin"}`` → ``'{"role": "admin"}'``, ``10001`` → ``"10001"``, ``True`` → ``"true"``).

Only exact ``"string"`` schemas are touched (not a union such as ``["string", "object"]``, not
``anyOf``); ``null`` is left to grounding (an optional ``null`` is left out), and nested
properties are coerced by the same rule where the schema declares them. No generation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..types import ToolCall


@dataclass
class Coerced:
    """One argument written out as the string its schema declares."""

    name: str
    param: str
    was: str  # the JSON type the model gave

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "param": self.param, "was": self.was}


_JSON_TYPE = {dict: "object", list: "array", bool: "boolean", int: "number", float: "number"}


def _coerce(value: Any, schema: Any, path: str, found: list[tuple[str, str]]) -> Any:
    if not isinstance(schema, dict) or value is None:
        return value
    if schema.get("type") == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, dict | list | bool | int | float):
            found.append((path, _JSON_TYPE[type(value)]))
            return json.dumps(value, ensure_ascii=False)
        return value
    props = schema.get("properties")
    if isinstance(value, dict) and isinstance(props, dict):
        return {k: _coerce(v, props.get(k), f"{path}.{k}", found) for k, v in value.items()}
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        return [_coerce(v, items, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value


def coerce_calls(
    calls: Sequence[ToolCall], tools: Sequence[dict[str, Any]]
) -> tuple[list[ToolCall], list[Coerced]]:
    """``(calls with declared-string arguments written out, what was written out)``. Calls
    of functions not among ``tools`` are returned as they are."""
    schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools if "function" in t}
    out: list[ToolCall] = []
    coerced: list[Coerced] = []
    for call in calls:
        schema = schemas.get(call.name)
        if schema is None:
            out.append(call)
            continue
        found: list[tuple[str, str]] = []
        props = schema.get("properties") if isinstance(schema, dict) else None
        args = {k: _coerce(v, (props or {}).get(k), k, found) for k, v in call.arguments.items()}
        coerced += [Coerced(call.name, p, was) for p, was in found]
        out.append(replace(call, arguments=args) if found else call)
    return out, coerced
