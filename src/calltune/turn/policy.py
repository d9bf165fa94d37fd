"""The one policy: tool choice + tools + format + engine → what a turn shows, enforces and retries.

:func:`plan_turn` decides, for one model turn:

- which tools the model is shown (none for ``"none"``, only the named one for :class:`Named`);
- the guided-decoding constraint, when the engine can apply one. By default (``guided=None``)
  ``required`` and named choices are guided and ``auto`` is not — measured with
  ``bench/guided.py``, see docs/guided.md — except that tools marked ``strict: true`` are
  enforced in ``auto`` too, as OpenAI's contract says. ``guided=True`` guides every choice
  (an engine that cannot constrain is an error), ``guided=False`` never;
- for a forced choice without a constraint: an instruction in the prompt
  (:func:`forced_messages`), a check of the calls made (:func:`check_calls`) and how many
  attempts a turn may take before it gives up;
- with a ``response_format`` (:mod:`calltune.turn.response_format`): a grammar under which a text
  answer is one JSON value following its schema, always (an engine that cannot constrain is a
  :class:`~calltune.turn.response_format.ResponseFormatUnsupportedError`). With tools on an
  ``auto`` turn, the one grammar allows calls (their arguments enforced exactly as they would be
  without a response format) or the JSON answer; ``required`` and named turns hold only calls.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from ..engines.base import EngineError
from ..types import ToolCall
from .choice import Named, ToolChoice, choice_kind, forces_call
from .response_format import ResponseFormat, ResponseFormatUnsupportedError

#: choices guided by default when the engine can constrain (the measured decision)
DEFAULT_GUIDED = frozenset({"required", "named"})

FORCE_NAMED = (
    "You must answer by calling the function `{name}` now, with arguments taken from the conversation."
)
FORCE_REQUIRED = "You must answer by calling one of the available functions now."


def can_constrain(engine: Any) -> bool:
    return bool(getattr(engine, "supports_constraints", False))


def resolve_guided(guided: bool | None, choice: ToolChoice, engine: Any = None) -> bool:
    """Whether to build a constraint: ``guided`` True/False wins; None → the default policy.

    An engine that cannot constrain turns the *default* off quietly, but an explicit
    ``guided=True`` on such an engine raises :class:`~calltune.engines.base.EngineError`."""
    can = engine is None or can_constrain(engine)
    if guided is True:
        if not can:
            raise EngineError(
                f"engine {type(engine).__name__} ({getattr(engine, 'model_id', '?')}) cannot apply guided "
                "decoding; run a local llama.cpp or transformers model, or pass guided=False / --no-guided"
            )
        return True
    if guided is False:
        return False
    return can and choice_kind(choice) in DEFAULT_GUIDED


@dataclass
class TurnPlan:
    """How one turn uses its tools."""

    choice: ToolChoice
    tools: list[dict[str, Any]]  # every tool of the request (OpenAI tool dicts)
    parallel: bool = True
    constraint: Any = None
    #: attempts a forced choice without a constraint may take (1 = no retry)
    max_attempts: int = 1
    schemas: dict[str, Any] = field(default_factory=dict)
    response_format: ResponseFormat | None = None
    #: the grammar of a turn generated again without tools for an answer (the response format's)
    answer_constraint: Any = None
    #: the chat template's thinking switch for this turn (None: the template's default)
    thinking: bool | None = None

    @property
    def forced(self) -> bool:
        return forces_call(self.choice)

    @property
    def force_by_prompt(self) -> bool:
        """A forced choice the grammar does not enforce: instruct, check, retry."""
        return self.forced and self.constraint is None

    @property
    def offered(self) -> list[dict[str, Any]]:
        """The tools the model is shown."""
        if self.choice == "none" or not self.tools:
            return []
        if isinstance(self.choice, Named):
            return [t for t in self.tools if t["function"]["name"] == self.choice.name]
        return self.tools

    @property
    def offered_names(self) -> list[str]:
        return [t["function"]["name"] for t in self.offered]


def plan_turn(
    fmt: Any,
    engine: Any,
    tools: list[dict[str, Any]] | None,
    choice: ToolChoice = "auto",
    *,
    parallel: bool = True,
    guided: bool | None = None,
    max_attempts: int = 2,
    response_format: ResponseFormat | None = None,
) -> TurnPlan:
    """The :class:`TurnPlan` for one turn (``choice`` already parsed, see
    :func:`~calltune.turn.choice.parse_tool_choice`; ``response_format`` by
    :func:`~calltune.turn.response_format.parse_response_format`). Raises
    :class:`~calltune.guided.GuidedError` when the tools cannot be expressed as a grammar, and
    :class:`~calltune.turn.response_format.ResponseFormatError` when the response format cannot."""
    tools = list(tools or [])
    if not tools:
        choice = "none"
    plan = TurnPlan(choice=choice, tools=tools, parallel=parallel, response_format=response_format)
    plan.schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools}
    plan.constraint = _constraint(fmt, engine, plan, guided)
    if response_format is not None:
        _response_constraints(fmt, engine, plan, guided)
    if plan.force_by_prompt:
        plan.max_attempts = max(1, max_attempts)
    return plan


def _constraint(fmt: Any, engine: Any, plan: TurnPlan, guided: bool | None) -> Any:
    if plan.choice == "none":  # the tools are not in the prompt at all
        return None
    if guided is not True and not can_constrain(engine):
        return None
    guide = resolve_guided(guided, plan.choice, engine)
    strict_only = not guide and guided is None and plan.choice == "auto"
    if not guide and not strict_only:
        return None
    try:
        from ..guided import build_constraint
    except ImportError:  # guided decoding not installed (calltune[guided])
        if guided:
            raise EngineError("guided decoding is not available: pip install 'calltune[guided]'") from None
        return None
    # a named choice asks for that one call: a grammar that allows repeats lets small models
    # loop on the same call until max_tokens
    parallel = plan.parallel and not isinstance(plan.choice, Named)
    return build_constraint(fmt, plan.offered, plan.choice, parallel=parallel, strict_only=strict_only)


def _response_constraints(fmt: Any, engine: Any, plan: TurnPlan, guided: bool | None) -> None:
    """Set the plan's grammars for its response format: the answer-only one, and the turn's
    (calls or the answer) unless the choice forces a call."""
    rf = plan.response_format
    assert rf is not None
    if not can_constrain(engine):
        raise ResponseFormatUnsupportedError(
            f"response_format {rf.type!r} needs guided decoding, which engine {type(engine).__name__} "
            f"({getattr(engine, 'model_id', '?')}) cannot apply; run a local llama.cpp or transformers model"
        )
    try:
        from ..guided import GuidedError, build_constraint
        from ..guided.schema import loosened_tool, tool_is_strict
    except ImportError:  # guided decoding not installed (calltune[guided])
        raise ResponseFormatUnsupportedError(
            "response_format needs guided decoding: pip install 'calltune[guided]'"
        ) from None
    try:
        plan.answer_constraint = build_constraint(fmt, [], "none", response_schema=rf.schema)
    except GuidedError as exc:
        raise ResponseFormatUnsupportedError(
            f"the response_format schema cannot be enforced: {exc}"
        ) from None
    if plan.choice == "none":
        plan.constraint = plan.answer_constraint
    elif plan.choice == "auto":
        # the calls' arguments are enforced as they are without a response format: every tool
        # with guided=True, strict tools by default, none with guided=False
        def enforced(t: dict[str, Any]) -> bool:
            return guided is True or (guided is None and tool_is_strict(t))

        tools = [t if enforced(t) else loosened_tool(t) for t in plan.offered]
        plan.constraint = build_constraint(fmt, tools, "auto", plan.parallel, response_schema=rf.schema)


def forced_messages(messages: list[dict[str, Any]], plan: TurnPlan, attempt: int) -> list[dict[str, Any]]:
    """Messages with an instruction that forces the call of a required/named choice.

    Attempt 0 adds the instruction to the system message; later attempts also repeat it after
    the last user message. Plans that are not forced by prompt are returned unchanged."""
    if not plan.force_by_prompt:
        return messages
    text = FORCE_NAMED.format(name=plan.choice.name) if isinstance(plan.choice, Named) else FORCE_REQUIRED
    out = copy.deepcopy(messages)
    if out and out[0]["role"] == "system":
        out[0]["content"] = (out[0].get("content") or "") + ("\n\n" if out[0].get("content") else "") + text
    else:
        out.insert(0, {"role": "system", "content": text})
    if attempt > 0:
        for m in reversed(out):
            if m["role"] == "user" and isinstance(m.get("content"), str | None):
                m["content"] = (m.get("content") or "") + "\n\n(" + text + ")"
                break
    return out


def check_calls(calls: list[ToolCall], plan: TurnPlan) -> list[str]:
    """Problems with the calls of a forced turn (empty list = acceptable)."""
    problems: list[str] = []
    if plan.forced and not calls:
        problems.append("the model made no tool call")
    allowed = set(plan.offered_names)
    for c in calls:
        if c.name not in allowed:
            problems.append(f"call to {c.name!r}, which is not allowed here")
            continue
        try:
            jsonschema.validate(c.arguments, plan.schemas.get(c.name) or {})
        except jsonschema.ValidationError as exc:
            problems.append(f"{c.name}: {exc.message}")
    return problems
