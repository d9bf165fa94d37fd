"""Answers that use the results: code nobody asked for, or an answer that mentions none of the
results' values, is generated once more from the results; a good answer is left alone."""

from __future__ import annotations

import json
from typing import Any

from calltune.engines.base import SamplingParams
from calltune.formats import get_format
from calltune.testing import WEATHER, ScriptedEngine
from calltune.turn import Turn, TurnSettings
from calltune.turn.answers import answer_misses_results

HISTORY: list[dict[str, Any]] = [
    {"role": "user", "content": "Weather in Boston and in Tokyo?"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "a",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Boston"}'},
            },
            {
                "id": "b",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Tokyo"}'},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "a", "content": '{"city": "Boston", "temperature_c": 7, "sky": "rain"}'},
    {
        "role": "tool",
        "tool_call_id": "b",
        "content": '{"city": "Tokyo", "temperature_c": 18, "sky": "clear"}',
    },
]
CODE_ANSWER = (
    "Here is how:\n```python\nimport requests\nrequests.get(url, params={'appid': 'YOUR_API_KEY'})\n```"
)


def test_which_answers_miss_the_results() -> None:
    user = HISTORY[0]["content"]
    assert answer_misses_results("Boston: 7 °C and rain; Tokyo: 18 °C, clear.", HISTORY, user) is None
    assert "code" in answer_misses_results(CODE_ANSWER, HISTORY, user)
    assert "numbers" in answer_misses_results("It is 15 °C in Boston and 25 °C in Tokyo.", HISTORY, user)
    assert answer_misses_results("Rainy in Boston, clear in Tokyo.", HISTORY, user) is None
    # code the user asked for is an answer
    assert answer_misses_results(CODE_ANSWER, HISTORY, "Write Python code for the weather in Boston") is None
    # nothing to check: no results since the user spoke, or only errors
    assert answer_misses_results("Hello!", [{"role": "user", "content": "hi"}], "hi") is None
    errs = [*HISTORY[:2], {"role": "tool", "content": "Error: tool 'get_weather' timed out"}]
    assert answer_misses_results("Sorry, the weather service did not answer.", errs, user) is None


def _turn(outputs: list[str], **kw: Any) -> tuple[Turn, ScriptedEngine]:
    eng = ScriptedEngine(outputs)
    s = TurnSettings(check_relevance=False, continue_calls=False, ground_arguments=False, **kw)
    return Turn(eng, get_format("hermes"), s), eng


def _text(eng: ScriptedEngine, i: int) -> str:
    p = eng.prompts[i]
    return p if isinstance(p, str) else eng.tokenizer.decode(p)


def test_an_answer_past_the_results_is_generated_again_from_them() -> None:
    turn, eng = _turn([CODE_ANSWER, "Boston has 7 °C and rain, Tokyo 18 °C and clear skies."])
    r = turn.run(HISTORY, [WEATHER], "auto", SamplingParams(max_tokens=400))
    assert r.content.startswith("Boston has 7")
    assert len(r.attempts) == 2 and "answered again from the results" in r.attempts[0].note
    assert "answer my question from the tool results above" in _text(eng, 1)
    assert "answer my question from the tool results above" not in _text(eng, 0)


def test_a_good_answer_is_left_alone_and_the_check_can_be_off() -> None:
    turn, eng = _turn(["Boston: 7 °C, rain. Tokyo: 18 °C, clear."])
    r = turn.run(HISTORY, [WEATHER], "auto", SamplingParams(max_tokens=400))
    assert len(r.attempts) == 1 and len(eng.prompts) == 1
    turn, eng = _turn([CODE_ANSWER], check_answers=False)
    r = turn.run(HISTORY, [WEATHER], "auto", SamplingParams(max_tokens=400))
    assert r.content == CODE_ANSWER and len(eng.prompts) == 1


def _answered(question: str, name: str, arguments: dict[str, Any], result: str) -> list[dict[str, Any]]:
    """A user question, one call of ``name`` and its result."""
    call = {"id": "a", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
    return [
        {"role": "user", "content": question},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "a", "content": result},
    ]


def test_the_same_call_with_optional_arguments_added_is_a_repeat() -> None:
    from calltune.testing import hermes_call

    msgs = _answered(
        "Weather in Boston?",
        "get_current_weather",
        {"location": "Boston"},
        '{"temperature": 22, "unit": "celsius"}',
    )
    again = hermes_call("get_current_weather", {"location": "Boston", "unit": "celsius"})
    turn, eng = _turn([again, "It is 22 °C in Boston."])
    r = turn.run(msgs, [WEATHER], "auto", SamplingParams(max_tokens=400))
    assert not r.calls and r.content == "It is 22 °C in Boston."
    assert [c.arguments for c in r.repeated] == [{"location": "Boston", "unit": "celsius"}]
    # a different city is a new call
    turn, _ = _turn([hermes_call("get_current_weather", {"location": "Tokyo"})])
    r = turn.run(msgs, [WEATHER], "auto", SamplingParams(max_tokens=400))
    assert [c.arguments for c in r.calls] == [{"location": "Tokyo"}]


def test_a_whole_number_written_as_a_float_is_the_same_call() -> None:
    """The default model called convert_duration(value=10) and then (value=10.0): a repeat."""
    from calltune.testing import hermes_call

    tool = {
        "type": "function",
        "function": {
            "name": "convert_duration",
            "parameters": {
                "type": "object",
                "properties": {"value": {"type": "number"}, "to_unit": {"type": "string"}},
                "required": ["value", "to_unit"],
            },
        },
    }
    msgs = _answered(
        "Convert 10 days to years.", "convert_duration", {"value": 10, "to_unit": "year"}, "0.0274"
    )
    again = hermes_call("convert_duration", {"value": 10.0, "to_unit": "year"})
    turn, _ = _turn([again, "10 days are about 0.0274 years."])
    r = turn.run(msgs, [tool], "auto", SamplingParams(max_tokens=400))
    assert not r.calls and r.content == "10 days are about 0.0274 years."
    assert [c.arguments for c in r.repeated] == [{"value": 10.0, "to_unit": "year"}]
    turn, _ = _turn([hermes_call("convert_duration", {"value": 10.5, "to_unit": "year"})])
    assert [c.arguments for c in turn.run(msgs, [tool], "auto", SamplingParams(max_tokens=400)).calls] == [
        {"value": 10.5, "to_unit": "year"}
    ]


def test_the_answer_turn_after_a_repeated_call_is_told_to_use_the_results() -> None:
    """Without the tools on offer the default model read a calculator result as the user's words
    ("Thank you for providing the answer."): the answer turn is told to answer from the results."""
    from calltune.testing import hermes_call

    msgs = _answered("What is 17% of 2350?", "get_weather", {"city": "Boston"}, "399.5")
    turn, eng = _turn([hermes_call("get_weather", {"city": "Boston"}), "399.5"])
    r = turn.run(msgs, [WEATHER], "auto", SamplingParams(max_tokens=400))
    assert r.content == "399.5" and "repeated call(s)" in r.attempts[0].note
    assert "answer my question from the tool results above" in _text(eng, 1)
    assert "answer my question from the tool results above" not in _text(eng, 0)
    # with the check off the answer turn sees the conversation as it is
    turn, eng = _turn([hermes_call("get_weather", {"city": "Boston"}), "399.5"], check_answers=False)
    turn.run(msgs, [WEATHER], "auto", SamplingParams(max_tokens=400))
    assert "answer my question from the tool results above" not in _text(eng, 1)


def test_a_none_turn_after_tool_results_is_told_to_use_them_and_cannot_call() -> None:
    """tool_choice "none" after results (a client's answer turn, a data generator's planned calls):
    the tools are not in the prompt, so the turn gets the answer note and the no-call grammar."""
    msgs = _answered("What is 17% of 2350?", "get_weather", {"city": "Boston"}, "399.5")
    turn, eng = _turn(["17% of 2350 is 399.5."])
    r = turn.run(msgs, [WEATHER], "none", SamplingParams(max_tokens=400))
    assert r.content == "17% of 2350 is 399.5." and not r.calls
    prompt = _text(eng, 0)
    assert "answer my question from the tool results above" in prompt and "<tools>" not in prompt
    # before any tool result, a "none" turn is the plain conversation
    turn, eng = _turn(["Hello."])
    turn.run([{"role": "user", "content": "Hi"}], [WEATHER], "none", SamplingParams(max_tokens=50))
    assert "answer my question" not in _text(eng, 0)
    # with the answer checks off, neither
    turn, eng = _turn(["17% of 2350 is 399.5."], check_answers=False)
    turn.run(msgs, [WEATHER], "none", SamplingParams(max_tokens=400))
    assert "answer my question" not in _text(eng, 0)


def test_the_answer_note_speaks_the_users_language() -> None:
    """Told in English, the default model answered Chinese requests in English."""
    msgs = _answered("2350 的 17% 是多少？", "get_weather", {"city": "Boston"}, "399.5")
    turn, eng = _turn(["2350 的 17% 是 399.5。"])
    turn.run(msgs, [WEATHER], "none", SamplingParams(max_tokens=400))
    prompt = _text(eng, 0)
    assert "用中文回答我的问题" in prompt and "answer my question" not in prompt
