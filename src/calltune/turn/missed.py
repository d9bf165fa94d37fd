"""Calls the model described instead of making: a later request of an agent session answered in prose.

Once a conversation holds tool results from an earlier request, the default model tends to
answer the next request by narrating it: "To start the engine of your vehicle, you can use the
following command: startEngine(ignitionMode='START')", "Thank you for your order. I will place
the order for 150 shares" — and nothing runs. Telling it so in a note did not help (held-out
BFCL multi-turn cases, docs/eval.md); asked for a call under the call grammar (``required``)
it wrote the right one, and cheaply: the prompt is the one it just read, so the engine takes it
from its KV cache.

So when such a turn comes back as prose, the turn asks for the calls under the grammar and
keeps them only where they hold up:

- each **required** argument is grounded in the conversation (the user's words, the system
  prompt, tool results; :class:`~calltune.turn.grounding.Evidence`) or is one of the
  parameter's ``enum`` values (a string of four words or more, a message the model composed, when
  half of its words are the conversation's) — a required value the model had to invent means the user has
  not given it, and the prose (which may ask for it) stands;
- each called function passes the relevance check (:mod:`calltune.turn.relevance`).

If no call holds up, the prose answer stands unchanged. The check needs a grammar (an engine
that can constrain); it does not apply to a conversation's first request, which the turn has
always answered as the model chose (its single-turn behaviour is unchanged).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..types import ToolCall
from .grounding import Evidence, conversation_texts
from .history import awaits_answer_to_user

_WORDS = re.compile(r"[^\W_]{3,}", re.UNICODE)
#: a string of this many words (of three letters or more) is prose the model wrote, grounded when
#: half of its words are the conversation's; a shorter one (a name, an id) must be found whole
_PROSE_WORDS = 4


def earlier_tool_results(messages: Sequence[dict[str, Any]]) -> bool:
    """Whether a tool result comes before the last user message (an agent session's later request)."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    return any(m.get("role") == "tool" for m in messages[:last_user])


def missed_calls_apply(enabled: bool, plan: Any, messages: Sequence[dict[str, Any]], parsed: Any) -> bool:
    """Whether the turn should ask for the calls it did not make: the check is on, the choice is
    ``auto`` with tools offered and no response format, the turn answers a later user request
    of an agent session, and the generation is prose alone (no call, no parse error, no code)."""
    return (
        enabled
        and plan.choice == "auto"
        and bool(plan.offered)
        and plan.response_format is None
        and awaits_answer_to_user(messages)
        and earlier_tool_results(messages)
        and not (parsed.tool_calls or parsed.errors or parsed.code)
        and bool(parsed.content.strip())
    )


@dataclass
class Unsupported:
    """A call left out: a required argument whose value the conversation does not hold."""

    name: str
    param: str
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "param": self.param, "value": self.value}


def supported_calls(
    calls: Sequence[ToolCall], messages: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]]
) -> tuple[list[ToolCall], list[Unsupported]]:
    """``(calls whose every required argument is grounded or an enum value, what left the
    others out)``; a call of a function not offered is left out as well."""
    functions = {t["function"]["name"]: t["function"] for t in tools if "function" in t}
    evidence = Evidence.of(conversation_texts(messages))
    kept: list[ToolCall] = []
    left: list[Unsupported] = []
    for call in calls:
        fn = functions.get(call.name)
        if fn is None or not isinstance(call.arguments, dict):
            left.append(Unsupported(call.name, "", None))
            continue
        schema = fn.get("parameters") or {}
        props = schema.get("properties") or {}
        missing = next(
            (
                Unsupported(call.name, p, call.arguments.get(p))
                for p in schema.get("required") or []
                if not _grounded(call.arguments.get(p), props.get(p) or {}, evidence)
            ),
            None,
        )
        if missing is None:
            kept.append(call)
        else:
            left.append(missing)
    return kept, left


def _grounded(value: Any, spec: dict[str, Any], evidence: Evidence) -> bool:
    if value is None:
        return False
    enum = spec.get("enum")
    if enum and value in enum:
        return True  # choosing among the declared options is a reading of the request
    items = spec.get("items") or {}
    if isinstance(value, list) and items.get("enum"):
        return all(v in items["enum"] or evidence.has(v) for v in value)
    if isinstance(value, str) and len(_WORDS.findall(value)) >= _PROSE_WORDS:
        # a message or a note the model writes for the user: mostly the conversation's words
        words = _WORDS.findall(value)
        return sum(evidence.has_text(w) for w in words) * 2 >= len(words)
    return evidence.has(value)


def missed_note(calls: Sequence[ToolCall]) -> str:
    return "described the call(s) instead of making them; called " + ", ".join(c.name for c in calls)
