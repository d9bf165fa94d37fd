"""JSON Schema for a Python function's parameters.

pydantic's :class:`~pydantic.TypeAdapter` does the type → schema work for each
parameter; this module adds what tool calling needs on top of it:

- descriptions from ``Annotated[T, "description"]`` (ChatGLM3's
  ``Annotated[T, "description", required]`` too: the bool overrides *required*)
  and from the docstring's ``Args:`` section;
- parameters with a default are optional and show their default;
- ``$ref``/``$defs`` are inlined, so that the schema is self-contained (small local
  models handle references poorly); only recursive models keep a ``$defs`` entry;
- pydantic's ``title`` keys are dropped (noise in the prompt);
- ``Optional[T]`` becomes ``{"type": [T, "null"]}`` where T is a simple typed schema.
"""

from __future__ import annotations

import copy
import functools
import inspect
import typing
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

from pydantic import TypeAdapter
from pydantic.errors import PydanticUserError

from .docstrings import parse_docstring
from .errors import ToolSchemaError

# keywords whose value is one schema / a list of schemas / a map of name -> schema
_SCHEMA_KEYS = (
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
)
_SCHEMA_LIST_KEYS = ("prefixItems", "anyOf", "oneOf", "allOf")
_SCHEMA_MAP_KEYS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_COMBINATORS = ("enum", "const", "anyOf", "oneOf", "allOf", "not", "$ref")


@dataclass
class ParamInfo:
    """One parameter of a tool function, as calltune sees it."""

    name: str
    annotation: Any  # the type (Annotated stripped of description/required metadata); inspect._empty if none
    kind: inspect._ParameterKind
    required: bool
    has_default: bool
    default: Any
    description: str | None
    adapter: TypeAdapter[Any] | None  # converts a validated JSON value to the declared Python type


def _split_annotated(annotation: Any) -> tuple[Any, str | None, bool | None]:
    """``Annotated[T, "desc", True, Field(...)]`` → (``Annotated[T, Field(...)]``, "desc", True)."""
    if get_origin(annotation) is not Annotated:
        return annotation, None, None
    base, *meta = get_args(annotation)
    description: str | None = None
    required: bool | None = None
    rest: list[Any] = []
    for m in meta:
        if isinstance(m, str) and description is None:
            description = m
        elif isinstance(m, bool) and required is None:
            required = m
        else:
            rest.append(m)
    if rest:
        base = Annotated[(base, *rest)]  # type: ignore[valid-type]
    return base, description, required


def _walk(schema: Any, fn: typing.Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """Apply ``fn`` to every sub-schema (bottom-up), following only schema-valued keywords."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in _SCHEMA_KEYS:
        if key in out and isinstance(out[key], dict):
            out[key] = _walk(out[key], fn)
    for key in _SCHEMA_LIST_KEYS:
        if key in out and isinstance(out[key], list):
            out[key] = [_walk(s, fn) for s in out[key]]
    for key in _SCHEMA_MAP_KEYS:
        if key in out and isinstance(out[key], dict):
            out[key] = {k: _walk(v, fn) for k, v in out[key].items()}
    return fn(out)


def _drop_title(s: dict[str, Any]) -> dict[str, Any]:
    s.pop("title", None)
    return s


def _collapse_nullable(s: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, {"type": "null"}]`` → X with ``"null"`` added to its type (when X is simple)."""
    any_of = s.get("anyOf")
    if not isinstance(any_of, list) or len(any_of) != 2 or {"type": "null"} not in any_of:
        return s
    other = any_of[0] if any_of[1] == {"type": "null"} else any_of[1]
    if not isinstance(other.get("type"), str) or any(k in other for k in _COMBINATORS if k != "enum"):
        return s
    merged: dict[str, Any] = {"type": [other["type"], "null"]}
    merged.update({k: v for k, v in other.items() if k != "type"})
    if "enum" in merged:
        merged["enum"] = [*merged["enum"], None]
    merged.update({k: v for k, v in s.items() if k != "anyOf"})
    return merged


_KEY_ORDER = (
    "type",
    "description",
    "enum",
    "const",
    "format",
    "properties",
    "required",
    "items",
    "prefixItems",
)


def _order_keys(s: dict[str, Any]) -> dict[str, Any]:
    """Put ``type`` and ``description`` first and ``default`` last: easier for a model to read."""
    head = {k: s[k] for k in _KEY_ORDER if k in s}
    rest = {k: v for k, v in s.items() if k not in head and k != "default"}
    tail = {"default": s["default"]} if "default" in s else {}
    return {**head, **rest, **tail}


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Return ``schema`` with local ``#/$defs/...`` references replaced by their definitions.

    Definitions that refer to themselves (recursive models) cannot be inlined: they are
    kept under a top-level ``$defs`` and referenced from there.
    """
    defs: dict[str, Any] = dict(schema.get("$defs") or schema.get("definitions") or {})
    kept: dict[str, Any] = {}

    def resolve(node: Any, stack: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [resolve(x, stack) for x in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and (ref.startswith("#/$defs/") or ref.startswith("#/definitions/")):
            name = ref.split("/", 2)[2]
            if name not in defs:
                raise ToolSchemaError(f"schema refers to an undefined definition {ref!r}")
            siblings = {k: resolve(v, stack) for k, v in node.items() if k != "$ref"}
            if name in stack:  # recursion: keep a reference
                if name not in kept:
                    kept[name] = None  # placeholder, avoids re-entry
                    kept[name] = resolve(defs[name], (name,))
                return {"$ref": f"#/$defs/{name}", **siblings}
            body = resolve(copy.deepcopy(defs[name]), (*stack, name))
            return {**body, **siblings}
        out: dict[str, Any] = {}
        for k, v in node.items():
            if k in ("$defs", "definitions"):
                continue
            if k in _SCHEMA_KEYS or k in _SCHEMA_LIST_KEYS:
                out[k] = resolve(v, stack)
            elif k in _SCHEMA_MAP_KEYS and isinstance(v, dict):
                out[k] = {name: resolve(sub, stack) for name, sub in v.items()}
            else:
                out[k] = v
        return out

    result = resolve(schema, ())
    if kept:
        result["$defs"] = kept
    return result


def clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Inline references, drop titles and collapse simple nullable unions."""
    schema = inline_refs(schema)
    schema = _walk(schema, _drop_title)
    return _walk(schema, _collapse_nullable)


def _json_default(adapter: TypeAdapter[Any], value: Any) -> tuple[bool, Any]:
    if value is None:
        return True, None
    try:
        return True, adapter.dump_python(value, mode="json", warnings=False)
    except Exception:  # noqa: BLE001 - a default we cannot show is simply left out
        return False, None


def describe_parameters(fn: typing.Callable[..., Any]) -> list[ParamInfo]:
    """Inspect ``fn``'s signature and docstring; raise :class:`ToolSchemaError` on what cannot be a tool."""
    try:
        sig = inspect.signature(fn, eval_str=True)
    except NameError as e:
        raise ToolSchemaError(f"cannot resolve the annotations of {_qualname(fn)}: {e}") from e
    except (TypeError, ValueError) as e:
        raise ToolSchemaError(f"cannot read the signature of {fn!r}: {e}") from e
    docs = parse_docstring(_doc(fn)).params
    params: list[ParamInfo] = []
    for i, p in enumerate(sig.parameters.values()):
        if i == 0 and p.name in ("self", "cls") and p.annotation is inspect.Parameter.empty:
            raise ToolSchemaError(
                f"{_qualname(fn)} looks like an unbound method (first parameter {p.name!r}): "
                "make the tool from the bound method instead, e.g. tool(obj.method)"
            )
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            raise ToolSchemaError(
                f"{_qualname(fn)}: *{p.name} is not supported in a tool (a model passes arguments by name)"
            )
        annotation, description, required_flag = _split_annotated(p.annotation)
        has_default = p.default is not inspect.Parameter.empty
        if annotation is inspect.Parameter.empty and has_default and p.default is not None:
            annotation = type(p.default)
        adapter: TypeAdapter[Any] | None = None
        if annotation is not inspect.Parameter.empty and annotation is not typing.Any:
            try:
                adapter = TypeAdapter(annotation)
            except (PydanticUserError, TypeError, NameError) as e:
                raise ToolSchemaError(
                    f"{_qualname(fn)}: parameter {p.name!r} has a type calltune cannot describe: {e}"
                ) from e
        required = not has_default if required_flag is None else required_flag
        params.append(
            ParamInfo(
                name=p.name,
                annotation=annotation,
                kind=p.kind,
                required=required and p.kind is not inspect.Parameter.VAR_KEYWORD,
                has_default=has_default,
                default=p.default if has_default else None,
                description=description or docs.get(p.name) or docs.get("*" + p.name),
                adapter=adapter,
            )
        )
    return params


def _param_schema(p: ParamInfo) -> dict[str, Any]:
    if p.adapter is None:
        schema: dict[str, Any] = {} if p.annotation is typing.Any else {"type": "string"}
    else:
        try:
            schema = p.adapter.json_schema()
        except PydanticUserError as e:
            raise ToolSchemaError(f"parameter {p.name!r}: no JSON Schema for {p.annotation!r}: {e}") from e
        except Exception as e:  # pydantic raises several types for unsupported types
            raise ToolSchemaError(f"parameter {p.name!r}: no JSON Schema for {p.annotation!r}: {e}") from e
        schema = clean_schema(schema)
    if p.description:
        schema["description"] = p.description
    if p.has_default and p.adapter is not None:
        ok, value = _json_default(p.adapter, p.default)
        if ok:
            schema["default"] = value
    elif p.has_default and p.default is not None:
        schema["default"] = p.default
    return schema


def parameters_schema(params: list[ParamInfo]) -> dict[str, Any]:
    """The ``parameters`` object schema for a list of :class:`ParamInfo`."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    defs: dict[str, Any] = {}
    extra: dict[str, Any] | bool | None = None
    for p in params:
        schema = _param_schema(p)
        for name, body in (schema.pop("$defs", None) or {}).items():
            if name in defs and defs[name] != body:
                raise ToolSchemaError(f"two different recursive models are both named {name!r}")
            defs[name] = body
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            extra = schema if p.adapter is not None else True
            continue
        properties[p.name] = schema
        if p.required:
            required.append(p.name)
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    if extra is not None and extra is not True:
        out["additionalProperties"] = extra
    if defs:
        out["$defs"] = defs
    return _walk(out, _order_keys)


def function_description(fn: typing.Callable[..., Any]) -> str:
    """The first paragraph of ``fn``'s docstring (empty string when there is none)."""
    return parse_docstring(_doc(fn)).description


def _doc(fn: Any) -> str | None:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.getdoc(fn)


def _qualname(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
