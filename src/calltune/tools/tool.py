"""``@tool``: turn a Python function into a tool a model can call."""

from __future__ import annotations

import copy
import functools
import inspect
import re
from collections.abc import Callable
from typing import Any, overload

from pydantic import ValidationError as PydanticValidationError

from ..errors import CalltuneError
from .errors import ToolSchemaError
from .schema import ParamInfo, _walk, describe_parameters, function_description, parameters_schema
from .validation import check_schema, make_validator, validate_arguments

_BAD_NAME_RE = re.compile(r"[\s\x00-\x1f\x7f]")
MAX_NAME_LENGTH = 64


def check_tool_name(name: Any) -> str:
    """Return ``name`` if it can be a tool name, else raise :class:`ToolSchemaError`.

    Any non-ASCII text is fine (``查询天气``); whitespace and control characters are not
    (they would break the one-line headers of formats such as ChatGLM3), and OpenAI's
    limit of 64 characters applies.
    """
    if not isinstance(name, str) or not name:
        raise ToolSchemaError(f"a tool name must be a non-empty string, got {name!r}")
    if _BAD_NAME_RE.search(name):
        raise ToolSchemaError(f"tool name {name!r} contains whitespace or control characters")
    if len(name) > MAX_NAME_LENGTH:
        raise ToolSchemaError(f"tool name {name!r} is longer than {MAX_NAME_LENGTH} characters")
    if name == "<lambda>":
        raise ToolSchemaError("a lambda has no name: use tool(fn, name='...')")
    return name


def _forbid_additional(schema: dict[str, Any]) -> dict[str, Any]:
    if schema.get("type") == "object" and "properties" in schema:
        schema.setdefault("additionalProperties", False)
    return schema


def _is_async(fn: Any) -> bool:
    """True for ``async def`` functions, partials of them and objects with an ``async def __call__``."""
    fn = _unwrap(fn)
    if inspect.iscoroutinefunction(fn):
        return True
    call = (
        None
        if inspect.isfunction(fn) or inspect.ismethod(fn)
        else inspect.getattr_static(type(fn), "__call__", None)
    )
    return call is not None and inspect.iscoroutinefunction(call)


def _unwrap(fn: Any) -> Any:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return fn


class ArgumentError(CalltuneError, ValueError):
    """Arguments that passed the schema but could not become the declared Python types."""


class Tool:
    """A callable tool: a name, a description, a JSON Schema for its parameters and (usually) a function.

    Calling the ``Tool`` calls the function, so a decorated function keeps working as before.
    A ``Tool`` without a function (built from an OpenAI spec) can be shown to a model and
    its calls validated, but not executed.
    """

    def __init__(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        parameters: dict[str, Any] | None = None,
        strict: bool = False,
        timeout: float | None = None,
    ) -> None:
        if fn is None and name is None:
            raise ToolSchemaError("a Tool needs a function or a name")
        if fn is not None and not callable(fn):
            raise ToolSchemaError(f"@tool needs a callable, got {type(fn).__name__}")
        self.fn = fn
        self.name = check_tool_name(name if name is not None else getattr(_unwrap(fn), "__name__", None))
        self.description = (
            description if description is not None else (function_description(fn) if fn else "")
        )
        if not isinstance(self.description, str):
            raise ToolSchemaError(f"tool {self.name!r}: description must be a string")
        self._params: list[ParamInfo] = describe_parameters(fn) if fn is not None else []
        schema = copy.deepcopy(parameters) if parameters is not None else parameters_schema(self._params)
        if strict:
            schema = _walk(schema, _forbid_additional)
        check_schema(schema, self.name)
        self.parameters: dict[str, Any] = schema
        self.strict = strict
        if timeout is not None and not timeout > 0:
            raise ToolSchemaError(
                f"tool {self.name!r}: timeout must be a positive number of seconds, got {timeout!r}"
            )
        self.timeout = timeout
        self.is_async = fn is not None and _is_async(fn)
        self._validator = make_validator(schema)
        self._accepts_any = fn is None or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in self._params)
        if fn is not None:
            functools.update_wrapper(self, _unwrap(fn), updated=())

    # -- description ---------------------------------------------------------------------------------
    def spec(self) -> dict[str, Any]:
        """The OpenAI tool dict: ``{"type": "function", "function": {name, description, parameters}}``."""
        fn: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "parameters": copy.deepcopy(self.parameters),
        }
        if self.strict:
            fn["strict"] = True
        return {"type": "function", "function": fn}

    @classmethod
    def from_spec(cls, spec: dict[str, Any], fn: Callable[..., Any] | None = None) -> Tool:
        """A Tool from an OpenAI tool dict (or a legacy ``functions`` entry), optionally backed by ``fn``."""
        from .specs import normalize_spec

        f = normalize_spec(spec)["function"]
        return cls(
            fn,
            name=f["name"],
            description=f.get("description", ""),
            parameters=f["parameters"],
            strict=bool(f.get("strict", False)),
        )

    # -- calling -------------------------------------------------------------------------------------
    def validate(self, arguments: Any) -> list[str]:
        """Errors in ``arguments`` (a dict from the model); empty when they are valid."""
        allowed = None if self._accepts_any else {p.name for p in self._params}
        return validate_arguments(self._validator, arguments, allowed)

    def bind(self, arguments: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Convert validated JSON ``arguments`` to the declared Python types; (args, kwargs) for the call.

        Raises :class:`ArgumentError` naming the argument that cannot be converted.
        """
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        known = {p.name: p for p in self._params if p.kind is not inspect.Parameter.VAR_KEYWORD}
        var_kw = next((p for p in self._params if p.kind is inspect.Parameter.VAR_KEYWORD), None)
        for p in self._params:
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                continue
            if p.name not in arguments:
                if not p.has_default:
                    raise ArgumentError(f"missing required argument {p.name!r}")
                if p.kind is inspect.Parameter.POSITIONAL_ONLY:
                    args.append(p.default)  # keeps the later positional arguments in place
                continue
            value = self._convert(p, arguments[p.name])
            if p.kind is inspect.Parameter.POSITIONAL_ONLY:
                args.append(value)
            else:
                kwargs[p.name] = value
        for k, v in arguments.items():
            if k not in known:
                kwargs[k] = self._convert(var_kw, v) if var_kw is not None else v
        return args, kwargs

    @staticmethod
    def _convert(p: ParamInfo | None, value: Any) -> Any:
        if p is None or p.adapter is None:
            return value
        try:
            return p.adapter.validate_python(value)
        except PydanticValidationError as e:
            first = e.errors()[0] if e.errors() else {"msg": str(e), "loc": ()}
            loc = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in first.get("loc", ()))
            raise ArgumentError(f"argument {p.name + loc!r}: {first['msg']}") from e

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fn is None:
            raise TypeError(f"tool {self.name!r} has no Python implementation")
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        params = ", ".join(self.parameters.get("properties", {}))
        return f"Tool({self.name!r}, params=[{params}])"


@overload
def tool(fn: Callable[..., Any], /) -> Tool: ...


@overload
def tool(
    fn: None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
    timeout: float | None = None,
) -> Callable[[Callable[..., Any]], Tool]: ...


@overload
def tool(
    fn: Callable[..., Any],
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
    timeout: float | None = None,
) -> Tool: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
    timeout: float | None = None,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a :class:`Tool` from a function: ``@tool``, ``@tool(name="查询天气")`` or ``tool(fn, ...)``.

    - ``name``: defaults to the function's name; any Unicode without whitespace, at most 64 characters.
    - ``description``: defaults to the first paragraph of the docstring.
    - ``strict``: adds ``"additionalProperties": false`` to every object schema and OpenAI's ``strict`` flag.
    - ``timeout``: seconds for one call of this tool (overrides the Toolbox's timeout).
    """

    def wrap(f: Callable[..., Any]) -> Tool:
        return Tool(f, name=name, description=description, strict=strict, timeout=timeout)

    if fn is None:
        return wrap
    return wrap(fn)


def as_tool(item: Any) -> Tool:
    """A :class:`Tool` from a Tool, a plain callable, an OpenAI tool dict or a legacy ``functions`` dict."""
    if isinstance(item, Tool):
        return item
    if isinstance(item, dict):
        return Tool.from_spec(item)
    if callable(item):
        return Tool(item)
    raise ToolSchemaError(f"not a tool: {item!r} (expected @tool function, callable or OpenAI tool dict)")
