"""What a turn reads from the conversation so far (OpenAI messages, normalised)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..types import ToolCall


def _canonical(value: Any) -> Any:
    """``value`` with whole floats as ints (a model that writes ``10.0`` after ``10`` asks the
    same thing), recursively; booleans stay booleans."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def call_key(name: str, arguments: Any) -> str:
    """Identity of a call: its name and its arguments as canonical JSON (10 and 10.0 alike)."""
    return name + "\0" + json.dumps(_canonical(arguments), sort_keys=True, ensure_ascii=False)


def key_of(call: ToolCall) -> str:
    return call_key(call.name, call.arguments)


def _arguments(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw or "{}")
        except json.JSONDecodeError:
            return raw
    return raw if raw is not None else {}


def answered_calls(messages: Sequence[dict[str, Any]]) -> set[str]:
    """Keys (:func:`call_key`) of the assistant calls whose result is already in the conversation.

    A call counts as answered when a ``tool`` message with its ``tool_call_id`` follows it, or,
    for clients that send no ids, when any ``tool`` message follows its assistant message."""
    out: set[str] = set()
    for i, m in enumerate(messages):
        if m.get("role") != "assistant" or not m.get("tool_calls"):
            continue
        later = [x for x in messages[i + 1 :] if x.get("role") == "tool"]
        if not later:
            continue
        ids = {x.get("tool_call_id") for x in later}
        for c in m["tool_calls"]:
            fn = c.get("function") or {}
            if c.get("id") in ids or None in ids or not c.get("id"):
                out.add(call_key(str(fn.get("name") or ""), _arguments(fn.get("arguments"))))
    return out


def repeats_answered(call: ToolCall, answered: set[str], tools: Sequence[dict[str, Any]]) -> bool:
    """True when ``call`` is an answered call again: the same call, or the same call with optional
    arguments added (a model that asks again "in celsius" after the result came without a unit
    is looping, not asking something new — argument grounding may have left the unit out)."""
    if key_of(call) in answered:
        return True
    if not isinstance(call.arguments, dict):
        return False
    schema = next(
        (
            t["function"].get("parameters") or {}
            for t in tools
            if t.get("function", {}).get("name") == call.name
        ),
        None,
    )
    if schema is None:
        return False
    required = set(schema.get("required") or [])
    prefix = call.name + "\0"
    for key in answered:
        if not key.startswith(prefix):
            continue
        try:
            prior = json.loads(key[len(prefix) :])
        except json.JSONDecodeError:
            continue
        if not isinstance(prior, dict):
            continue
        extra = set(call.arguments) - set(prior)
        same = all(k in call.arguments and call.arguments[k] == v for k, v in prior.items())
        if same and extra and not extra & required:
            return True
    return False


def _last_call_and_result(messages: Sequence[dict[str, Any]]) -> tuple[str, dict[str, Any], Any] | None:
    """``(name, arguments, result)`` of the conversation's last step when it was one call and
    its result (the result as JSON where it parses)."""
    if len(messages) < 2 or messages[-1].get("role") != "tool":
        return None
    asked = messages[-2]
    calls = asked.get("tool_calls") or []
    if asked.get("role") != "assistant" or len(calls) != 1:
        return None
    fn = calls[0].get("function") or {}
    args = _arguments(fn.get("arguments"))
    if not isinstance(args, dict):
        return None
    return str(fn.get("name") or ""), args, _arguments(messages[-1].get("content"))


def feeds_own_result(call: ToolCall, messages: Sequence[dict[str, Any]]) -> bool:
    """True when ``call`` applies the tool of the step just answered to that step's own output:
    the same tool, the same arguments but one, and that one set to the result's field of the
    same name (``convert(value=100, from=mm, to=m)`` → ``{"value": 0.1, ...}`` →
    ``convert(value=0.1, from=mm, to=m)``). A small model reads its result as a new input and
    loops; a real next step changes more, or takes a differently named field (a page cursor,
    a price after a discount)."""
    last = _last_call_and_result(messages)
    if last is None or not isinstance(call.arguments, dict):
        return False
    name, prior, result = last
    if call.name != name or set(call.arguments) != set(prior) or not isinstance(result, dict):
        return False
    changed = [k for k in prior if _canonical(call.arguments[k]) != _canonical(prior[k])]
    return (
        len(changed) == 1
        and changed[0] in result
        and _canonical(result[changed[0]]) == _canonical(call.arguments[changed[0]])
    )


def has_tool_results(messages: Sequence[dict[str, Any]]) -> bool:
    return any(m.get("role") == "tool" for m in messages)


def awaits_answer_to_user(messages: Sequence[dict[str, Any]]) -> bool:
    """True when the last message is the user's: the model is answering a new request (not
    going on after tool results)."""
    return bool(messages) and messages[-1].get("role") == "user"


def last_user_text(messages: Sequence[dict[str, Any]]) -> str:
    """The content of the last user message (text parts joined), or ""."""
    for m in reversed(messages):
        if m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, str):
                return c
            if isinstance(c, list):
                return "\n".join(p.get("text", "") for p in c if isinstance(p, dict))
    return ""
