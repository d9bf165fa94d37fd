"""Check a model's arguments against a tool's JSON Schema (Draft 2020-12).

Nothing is coerced: ``"3"`` is not an integer and ``3.0`` is not an integer either.
The one allowance is the one JSON Schema itself makes: an integer is a valid
``number``. Formats (``date``, ``date-time``, ``email``, ...) are checked.
Every message names the argument it is about.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import SchemaError, ValidationError

from .errors import ToolSchemaError


def _is_strict_integer(checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


StrictValidator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer),
)


def check_schema(schema: Any, tool_name: str) -> None:
    """Raise :class:`ToolSchemaError` unless ``schema`` is a valid object schema for tool parameters."""
    if not isinstance(schema, dict):
        raise ToolSchemaError(
            f"tool {tool_name!r}: parameters must be a JSON Schema object, got {type(schema).__name__}"
        )
    if schema.get("type", "object") != "object":
        raise ToolSchemaError(
            f'tool {tool_name!r}: parameters must describe an object ("type": "object"), got {schema.get("type")!r}'
        )
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as e:
        where = "/".join(str(p) for p in e.absolute_path)
        at = f" at {where!r}" if where else ""
        raise ToolSchemaError(f"tool {tool_name!r}: invalid parameters schema{at}: {e.message}") from e


def make_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for ``schema`` with format checking and strict integers."""
    return StrictValidator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _describe(error: ValidationError) -> str:
    path = _path(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else error.message
        if not path:
            return f"missing required argument {missing!r}"
        return f"argument {path!r}: missing required field {missing!r}"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set((error.schema.get("properties") or {}).keys())
        extra = [k for k in error.instance if k not in allowed]
        what = "unexpected argument" if not path else f"argument {path!r}: unexpected field"
        names = ", ".join(repr(k) for k in extra)
        accepted = ", ".join(sorted(allowed)) or "none"
        return f"{what}{'s' if len(extra) > 1 else ''} {names} (accepted: {accepted})"
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = min(error.context, key=lambda e: len(list(e.relative_path)))
        detail = best.message
        message = f"{error.message}; e.g. {detail}"
    else:
        message = error.message
    if not path:
        return f"arguments: {message}"
    return f"argument {path!r}: {message}"


def validate_arguments(
    validator: Draft202012Validator, arguments: Any, allowed: set[str] | None = None
) -> list[str]:
    """Return readable error strings (empty when ``arguments`` is valid).

    ``allowed``: the argument names the function accepts; other names are reported even
    when the schema allows additional properties (``None`` = do not check).
    """
    if not isinstance(arguments, dict):
        return [f"arguments must be a JSON object, got {type(arguments).__name__}"]
    errors: list[str] = []
    if allowed is not None:
        extra = [k for k in arguments if k not in allowed]
        if extra:
            names = ", ".join(repr(k) for k in extra)
            accepted = ", ".join(sorted(allowed)) or "none"
            errors.append(
                f"unexpected argument{'s' if len(extra) > 1 else ''} {names} (accepted: {accepted})"
            )
    found = sorted(
        validator.iter_errors(arguments), key=lambda e: (list(map(str, e.absolute_path)), e.validator)
    )
    for e in found:
        if allowed is not None and e.validator == "additionalProperties" and not e.absolute_path:
            continue  # already reported above
        errors.append(_describe(e))
    return errors
