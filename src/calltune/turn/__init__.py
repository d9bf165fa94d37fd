"""One model turn, shared by the agent loop, the server and the evaluation.

- :mod:`~calltune.turn.choice`: the typed ``tool_choice`` (``"none" | "auto" | "required" | Named``);
- :mod:`~calltune.turn.policy`: the one policy from choice + tools + format + engine to the tools
  shown, the grammar constraint, prompt forcing and retries;
- :mod:`~calltune.turn.response_format`: the typed ``response_format`` (JSON answers by a schema);
- :mod:`~calltune.turn.core`: :class:`Turn` — render, generate, parse, continue, check, retry;
- :mod:`~calltune.turn.continuation`, :mod:`~calltune.turn.relevance`, :mod:`~calltune.turn.history`:
  its parts.
"""

from __future__ import annotations

from .choice import Named, ToolChoice, ToolChoiceError, choice_kind, forces_call, parse_tool_choice, to_openai
from .core import Attempt, PromptError, Turn, TurnResult, TurnSettings
from .policy import TurnPlan, check_calls, forced_messages, plan_turn, resolve_guided
from .response_format import (
    ResponseFormat,
    ResponseFormatError,
    ResponseFormatUnsupportedError,
    parse_response_format,
    response_instruction,
    schema_response_format,
)

__all__ = [
    "Attempt",
    "Named",
    "PromptError",
    "ResponseFormat",
    "ResponseFormatError",
    "ResponseFormatUnsupportedError",
    "ToolChoice",
    "ToolChoiceError",
    "Turn",
    "TurnPlan",
    "TurnResult",
    "TurnSettings",
    "check_calls",
    "choice_kind",
    "forced_messages",
    "forces_call",
    "parse_response_format",
    "parse_tool_choice",
    "plan_turn",
    "resolve_guided",
    "response_instruction",
    "schema_response_format",
    "to_openai",
]
