"""Argument grounding: optional values nobody gave are left out, copied description examples
make the turn generate again, grounded values stay."""

from __future__ import annotations

import copy
from typing import Any

from calltune.engines.base import SamplingParams
from calltune.formats import get_format
from calltune.testing import ScriptedEngine, hermes_call
from calltune.turn import Turn, TurnSettings
from calltune.turn.grounding import Evidence, ground_calls
from calltune.types import ToolCall

WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather of a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Paris."},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "fahrenheit"},
                "county": {"type": "string", "description": "County, if any."},
                "days": {"type": "integer", "description": "Forecast days."},
                "detailed": {"type": "boolean"},
            },
            "required": ["city"],
        },
    },
}
CALC: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "calculator",
        "description": "Evaluate an arithmetic expression.",
        "parameters": {
            "type": "object",
            "properties": {
                "expression": {
                    "type": "string",
                    "description": "The expression, for example (3 + 4) * sqrt(2) / 7",
                }
            },
            "required": ["expression"],
        },
    },
}


def _user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def test_optional_values_nobody_gave_are_left_out() -> None:
    call = ToolCall(
        "get_weather", {"city": "Boston", "unit": "celsius", "county": None, "days": 5, "detailed": True}
    )
    (out,), found = ground_calls([call], _user("What's the weather in Boston?"), [WEATHER])
    assert out.arguments == {"city": "Boston", "detailed": True}
    assert {(u.param, u.action) for u in found} == {
        ("unit", "dropped"),
        ("county", "dropped"),
        ("days", "dropped"),
    }
    assert out.id == call.id


def test_grounded_values_and_defaults_stay() -> None:
    call = ToolCall("get_weather", {"city": "New York", "unit": "Celsius", "days": 3, "county": "kings"})
    msgs = [
        {"role": "system", "content": "The user lives in Kings County."},
        *_user("3-day forecast for new-york in celsius please"),
    ]
    (out,), found = ground_calls([call], msgs, [WEATHER])
    assert out.arguments == call.arguments and not found
    # the declared default means the same as leaving it out: kept as the model wrote it
    (out,), found = ground_calls(
        [ToolCall("get_weather", {"city": "Oslo", "unit": "fahrenheit"})], _user("Oslo?"), [WEATHER]
    )
    assert out.arguments["unit"] == "fahrenheit" and not found


def test_tool_results_and_other_scripts_ground_values() -> None:
    msgs = [
        *_user("北京天气怎么样？"),
        {"role": "assistant", "content": "", "tool_calls": []},
        {"role": "tool", "content": '{"county": "Chaoyang", "days_available": 7}'},
    ]
    call = ToolCall("get_weather", {"city": "北京", "county": "Chaoyang", "days": 7.0})
    (out,), found = ground_calls([call], msgs, [WEATHER])
    assert out.arguments == call.arguments and not found


def test_evidence_numbers_and_words() -> None:
    ev = Evidence.of(["Send 2,5 kg to Lyon on 2024-03-15; order #1200."])
    assert ev.has(2.5) and ev.has("1200") and ev.has(1200.0) and ev.has(0)
    assert not ev.has(42) and not ev.has(None)
    assert ev.has("lyon") and ev.has("2024-03-15") and not ev.has("Marseille")
    # thousands separators: "$500,000" is 500000 (read as 500.0 before), "1,234,567.5" whole
    ev = Evidence.of(["A loan of $500,000 on a house worth 1,234,567.5, rate 2,5 %."])
    assert ev.has(500000) and ev.has(1234567.5) and ev.has(2.5) and not ev.has(234)
    # 0.0 and 1.0 are the readings 0 and 1 are ("no seconds", "one item"), 0.5 is not
    assert ev.has(0.0) and ev.has(1.0) and ev.has(-1) and not ev.has(0.5)


def test_a_copied_required_example_is_flagged_not_dropped() -> None:
    call = ToolCall("calculator", {"expression": "(3 + 4) * sqrt(2) / 7"})
    (out,), found = ground_calls([call], _user("What is 17% of 2350?"), [CALC])
    assert out.arguments == call.arguments
    assert [(u.param, u.action) for u in found] == [("expression", "copied")]
    # the same value given by the user is not a copy
    _, found = ground_calls([call], _user("Compute (3 + 4) * sqrt(2) / 7"), [CALC])
    assert not found


def _turn(outputs: list[str], **kw: Any) -> tuple[Turn, ScriptedEngine]:
    eng = ScriptedEngine(outputs)
    settings = TurnSettings(check_relevance=False, continue_calls=False, **kw)
    return Turn(eng, get_format("hermes"), settings), eng


def test_the_example_with_something_added_is_flagged_too() -> None:
    user = _user("What is the square root of 1764, plus 8?")
    copied = ToolCall("calculator", {"expression": "(3 + 4) * sqrt(2) / 7 + 8"})
    _, found = ground_calls([copied], user, [CALC])
    assert [(u.param, u.action) for u in found] == [("expression", "copied")]
    for fine in ("sqrt(1764) + 8", "(3 + 4) * 2"):  # the user's own numbers; other numbers
        _, found = ground_calls([ToolCall("calculator", {"expression": fine})], user, [CALC])
        assert not found, fine
    said = _user("Compute (3 + 4) * sqrt(2) / 7 + 8")  # the user wrote the example themselves
    assert ground_calls([copied], said, [CALC])[1] == []
    eg = copy.deepcopy(CALC)  # the builtin calculator's wording
    eg["function"]["parameters"]["properties"]["expression"]["description"] = (
        "An arithmetic expression, e.g. '(3 + 4) * sqrt(2) / 7'"
    )
    assert [u.action for u in ground_calls([copied], user, [eg])[1]] == ["copied"]


def test_turn_generates_again_when_a_required_value_is_copied() -> None:
    turn, eng = _turn(
        [
            hermes_call("calculator", {"expression": "(3 + 4) * sqrt(2) / 7"}),
            hermes_call("calculator", {"expression": "0.17 * 2350"}),
        ]
    )
    r = turn.run(_user("What is 17% of 2350?"), [CALC], "auto", SamplingParams(max_tokens=400))
    assert [c.arguments for c in r.calls] == [{"expression": "0.17 * 2350"}]
    assert len(r.attempts) == 2 and "copied" in r.attempts[0].note
    assert r.attempts[0].ungrounded[0]["action"] == "copied"
    second = eng.tokenizer.decode(eng.prompts[1]) if isinstance(eng.prompts[1], list) else eng.prompts[1]
    first = eng.tokenizer.decode(eng.prompts[0]) if isinstance(eng.prompts[0], list) else eng.prompts[0]
    # told, and shown the tool without its example (the note quotes the copied value)
    assert "is the example from the function's description" in second
    assert "is the example" not in first and 'sqrt(2) / 7"' in first
    assert 'sqrt(2) / 7"' not in second.split("Note:")[0]


def test_a_second_copy_is_told_again_without_the_value_quoted_then_the_call_stands() -> None:
    copy_call = hermes_call("calculator", {"expression": "(3 + 4) * sqrt(2) / 7 + 8"})
    turn, eng = _turn([copy_call, copy_call, hermes_call("calculator", {"expression": "sqrt(1764) + 8"})])
    r = turn.run(
        _user("What is the square root of 1764, plus 8?"), [CALC], "auto", SamplingParams(max_tokens=400)
    )
    assert [c.arguments for c in r.calls] == [{"expression": "sqrt(1764) + 8"}] and len(r.attempts) == 3
    third = eng.tokenizer.decode(eng.prompts[2]) if isinstance(eng.prompts[2], list) else eng.prompts[2]
    assert "used the example from the function's description" in third and "sqrt(2) / 7" not in third
    turn, _ = _turn([copy_call] * 3)  # it copies every time: two retries, then the call stands as flagged
    r = turn.run(
        _user("What is the square root of 1764, plus 8?"), [CALC], "auto", SamplingParams(max_tokens=400)
    )
    assert len(r.attempts) == 3 and r.ungrounded[0]["action"] == "copied"


def test_turn_leaves_out_ungrounded_optional_arguments_and_says_so() -> None:
    out = hermes_call("get_weather", {"city": "Boston", "unit": "celsius"})
    turn, _ = _turn([out])
    r = turn.run(_user("Weather in Boston?"), [WEATHER], "auto", SamplingParams(max_tokens=400))
    assert [c.arguments for c in r.calls] == [{"city": "Boston"}]
    assert r.ungrounded == [{"name": "get_weather", "param": "unit", "value": "celsius", "action": "dropped"}]
    assert "get_weather.unit" in r.attempts[0].note
    off, _ = _turn([out], ground_arguments=False)
    r = off.run(_user("Weather in Boston?"), [WEATHER], "auto", SamplingParams(max_tokens=400))
    assert r.calls[0].arguments == {"city": "Boston", "unit": "celsius"} and not r.ungrounded
