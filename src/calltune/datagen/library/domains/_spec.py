"""A short way to write the OpenAI tool dicts of simulated tools (``SPECS``)."""

from __future__ import annotations

from typing import Any


def function_spec(
    name: str, description: str, properties: dict[str, dict[str, Any]], required: list[str]
) -> dict[str, Any]:
    """``{"type": "function", "function": {...}}`` with an object schema over ``properties``."""
    unknown = set(required) - set(properties)
    if unknown:
        raise ValueError(f"{name}: required names no property: {sorted(unknown)}")
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


def string(
    description: str, enum: list[str] | None = None, default: str | None = None, fmt: str | None = None
) -> dict[str, Any]:
    """A string property (optionally an enum, a default or a format such as ``date``)."""
    out: dict[str, Any] = {"type": "string", "description": description}
    if enum:
        out["enum"] = enum
    if fmt:
        out["format"] = fmt
    if default is not None:
        out["default"] = default
    return out


def number(
    description: str,
    default: float | None = None,
    integer: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> dict[str, Any]:
    """A number (or integer) property with optional bounds and default."""
    out: dict[str, Any] = {"type": "integer" if integer else "number", "description": description}
    if minimum is not None:
        out["minimum"] = minimum
    if maximum is not None:
        out["maximum"] = maximum
    if default is not None:
        out["default"] = default
    return out


def boolean(description: str, default: bool | None = None) -> dict[str, Any]:
    """A boolean property."""
    out: dict[str, Any] = {"type": "boolean", "description": description}
    if default is not None:
        out["default"] = default
    return out


def array(description: str, items: dict[str, Any]) -> dict[str, Any]:
    """An array property whose items follow ``items``."""
    return {"type": "array", "description": description, "items": items}


def obj(description: str, properties: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    """A nested object property."""
    return {"type": "object", "description": description, "properties": properties, "required": required}
