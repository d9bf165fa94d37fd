"""Everything the server does with ``tools`` / ``tool_choice`` / ``parallel_tool_calls``.

:func:`plan_tool_choice` is the one place where a request's tool choice becomes a
plan: which tools the model is shown, whether a call is required (and which),
and the guided-decoding constraint from :mod:`calltune.guided` when the engine can
apply one. Without a constraint, a required or named call is forced through the
prompt (:func:`forced_messages`) and the result is checked (:func:`check_calls`);
the server retries when the model did not make a valid call.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from ..types import ToolCall
from .schemas import APIError

log = logging.getLogger("calltune.server")


@dataclass
class ToolPlan:
    """How one request uses its tools."""

    tools: list[dict[str, Any]]  # all tools of the request (OpenAI tool dicts)
    mode: str = "auto"  # "none" | "auto" | "required" | "named:<tool>"
    parallel: bool = True
    constraint: Any = None
    legacy: bool = False  # the request used functions/function_call

    @property
    def forced_name(self) -> str | None:
        return self.mode.split(":", 1)[1] if self.mode.startswith("named:") else None

    @property
    def forced(self) -> bool:
        return self.mode == "required" or self.mode.startswith("named:")

    @property
    def render_tools(self) -> list[dict[str, Any]] | None:
        """The tools the model is shown: none for ``none``, only the named one when named."""
        if self.mode == "none" or not self.tools:
            return None
        name = self.forced_name
        if name is not None:
            return [t for t in self.tools if t["function"]["name"] == name]
        return self.tools

    @property
    def allowed_names(self) -> set[str]:
        return {t["function"]["name"] for t in (self.render_tools or [])}

    schemas: dict[str, Any] = field(default_factory=dict)


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


def _choice_mode(choice: Any, tools: list[dict[str, Any]], param: str) -> str:
    if choice is None:
        return "auto" if tools else "none"
    if isinstance(choice, str):
        if choice in ("required",) and not tools:
            raise APIError(f"'{param}' is '{choice}' but no tools were given", param=param)
        return choice
    # {"type": "function", "function": {"name": ...}} or legacy {"name": ...}
    name = choice.get("name")
    if name is None and isinstance(choice.get("function"), dict):
        name = choice["function"].get("name")
    if not isinstance(name, str) or not name:
        raise APIError(f"'{param}' must be 'none', 'auto', 'required' or name a function", param=param)
    if name not in {t["function"]["name"] for t in tools}:
        known = ", ".join(t["function"]["name"] for t in tools) or "none"
        raise APIError(
            f"'{param}' names function {name!r}, which is not in tools (available: {known})",
            param=param,
            code="invalid_tool_choice",
        )
    return f"named:{name}"


def plan_tool_choice(
    fmt: Any,
    engine: Any,
    tools: list[dict[str, Any]],
    tool_choice: Any,
    parallel: bool,
    *,
    legacy: bool = False,
    guided: bool | None = None,
    param: str = "tool_choice",
) -> ToolPlan:
    """Turn a request's tool choice into a :class:`ToolPlan`.

    ``guided``: None = the guided-decoding policy of :mod:`calltune.guided` (required,
    named and none are guided when the engine supports constraints); True = always;
    False = never, except tools marked ``strict`` (prompt forcing and validation only).
    """
    mode = _choice_mode(tool_choice, tools, param)
    plan = ToolPlan(tools=tools, mode=mode, parallel=parallel and not legacy, legacy=legacy)
    plan.schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools}
    if tools and getattr(engine, "supports_constraints", False):
        plan.constraint = _constraint(fmt, engine, plan, guided)
    return plan


def _constraint(fmt: Any, engine: Any, plan: ToolPlan, guided: bool | None) -> Any:
    """The guided-decoding constraint for ``plan`` (None when unguided).

    The policy is :func:`calltune.guided.resolve_guided` (by default required, named and
    none are guided); with guided decoding off, tools marked ``strict`` are still
    enforced in ``auto`` mode, as OpenAI's contract says."""
    try:
        from ..guided import GuidedError, build_constraint, resolve_guided
    except ImportError:  # pragma: no cover - guided decoding not installed
        return None
    if plan.mode == "none":  # the tools are not in the prompt at all
        return None
    tools = plan.render_tools or []
    try:
        if resolve_guided(guided, plan.mode, engine):
            # a named tool_choice asks for that one call: a grammar that allows repeats lets
            # small models loop on the same call until max_tokens
            parallel = plan.parallel and plan.forced_name is None
            return build_constraint(fmt, tools, plan.mode, parallel=parallel)
        if plan.mode == "auto":
            return build_constraint(fmt, tools, "auto", parallel=plan.parallel, strict_only=True)
    except GuidedError as exc:
        raise APIError(
            f"the tools cannot be enforced with guided decoding: {exc}",
            param="tools",
            code="unsupported_tool_schema",
        ) from None
    return None


FORCE_NAMED = (
    "You must answer by calling the function `{name}` now, with arguments taken from the conversation."
)
FORCE_REQUIRED = "You must answer by calling one of the available functions now."


def forced_messages(messages: list[dict[str, Any]], plan: ToolPlan, attempt: int) -> list[dict[str, Any]]:
    """Messages with an instruction that forces the call of a required/named tool choice.

    Attempt 0 adds the instruction to the system message; later attempts also repeat
    it after the last user message. Plans that are not forced (or have a guided
    constraint) are returned unchanged."""
    if not plan.forced or plan.constraint is not None:
        return messages
    name = plan.forced_name
    text = FORCE_NAMED.format(name=name) if name else FORCE_REQUIRED
    out = copy.deepcopy(messages)
    if out and out[0]["role"] == "system":
        out[0]["content"] = (out[0].get("content") or "") + ("\n\n" if out[0].get("content") else "") + text
    else:
        out.insert(0, {"role": "system", "content": text})
    if attempt > 0:
        for m in reversed(out):
            if m["role"] == "user":
                m["content"] = (m.get("content") or "") + "\n\n(" + text + ")"
                break
    return out


def check_calls(calls: list[ToolCall], plan: ToolPlan) -> list[str]:
    """Problems with the calls of a forced turn (empty list = acceptable)."""
    problems: list[str] = []
    if plan.forced and not calls:
        problems.append("the model made no tool call")
    allowed = plan.allowed_names
    for c in calls:
        if c.name not in allowed:
            problems.append(f"call to {c.name!r}, which is not allowed here")
            continue
        schema = plan.schemas.get(c.name) or {}
        try:
            jsonschema.validate(c.arguments, schema)
        except jsonschema.ValidationError as exc:
            problems.append(f"{c.name}: {exc.message}")
    return problems
