"""``tool_choice`` as a type, parsed once.

Like openai-python's ``ChatCompletionToolChoiceOptionParam``: a choice is one of the
strings ``"none"``, ``"auto"``, ``"required"``, or :class:`Named` (call this one function).
:func:`parse_tool_choice` is the only place where the spellings users and clients send
(OpenAI's ``{"type": "function", "function": {"name": ...}}``, the legacy
``{"name": ...}`` of ``function_call``, and the ``named:<tool>`` spelling of calltune's
command line) become that type; everything after it works with the type.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from ..errors import CalltuneError


@dataclass(frozen=True)
class Named:
    """Call the function ``name`` (OpenAI: ``{"type": "function", "function": {"name": name}}``)."""

    name: str

    def __str__(self) -> str:  # the spelling shown in traces and ``guided show``
        return f"named:{self.name}"


ToolChoice: TypeAlias = Literal["none", "auto", "required"] | Named

_MODES = ("none", "auto", "required")
_PREFIX = "named:"


class ToolChoiceError(CalltuneError, ValueError):
    """A ``tool_choice`` value that is not one of the accepted spellings, or names no offered tool."""


def parse_tool_choice(value: Any, tool_names: Collection[str] | None = None) -> ToolChoice:
    """The :data:`ToolChoice` for ``value``.

    ``None`` → ``"auto"``. ``tool_names``: when given, a :class:`Named` choice must name
    one of them (:class:`ToolChoiceError` otherwise, listing the available tools)."""
    choice = _parse(value)
    if isinstance(choice, Named) and tool_names is not None and choice.name not in tool_names:
        known = ", ".join(tool_names) or "none"
        raise ToolChoiceError(
            f"tool_choice names function {choice.name!r}, which is not among the tools (available: {known})"
        )
    return choice


def _parse(value: Any) -> ToolChoice:
    if value is None:
        return "auto"
    if isinstance(value, Named):
        return value
    if isinstance(value, str):
        if value in _MODES:
            return value  # type: ignore[return-value]
        if value.startswith(_PREFIX) and len(value) > len(_PREFIX):
            return Named(value[len(_PREFIX) :])
        raise ToolChoiceError(
            f"tool_choice must be 'none', 'auto', 'required' or name a function, got {value!r}"
        )
    if isinstance(value, dict):
        fn = value.get("function") if isinstance(value.get("function"), dict) else value
        name = fn.get("name")
        if isinstance(name, str) and name:
            return Named(name)
        raise ToolChoiceError(f"tool_choice object names no function: {value!r}")
    raise ToolChoiceError(f"tool_choice must be a string or an object, got {type(value).__name__}")


def choice_kind(choice: ToolChoice) -> Literal["none", "auto", "required", "named"]:
    """``"named"`` for a :class:`Named` choice, else the string itself."""
    return "named" if isinstance(choice, Named) else choice


def forces_call(choice: ToolChoice) -> bool:
    """Whether the choice asks for a call (``required`` or a named function)."""
    return choice == "required" or isinstance(choice, Named)


def to_openai(choice: ToolChoice) -> str | dict[str, Any]:
    """The OpenAI request spelling of ``choice``."""
    if isinstance(choice, Named):
        return {"type": "function", "function": {"name": choice.name}}
    return choice
