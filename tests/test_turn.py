"""The one model turn (calltune.turn): typed tool choice, the policy, and the turn's decisions.

Scripted engines only; the same turn runs in the agent, the server and the BFCL runner, which
have their own tests on top of it (and model tests on the default model)."""

from __future__ import annotations

import json

import pytest

from calltune import Agent, Toolbox
from calltune.engines import SamplingParams
from calltune.formats import get_format
from calltune.testing import LOCAL_TIME, WEATHER, ScriptedEngine, get_current_weather, served
from calltune.turn import (
    Named,
    ToolChoiceError,
    Turn,
    TurnResult,
    TurnSettings,
    parse_tool_choice,
    plan_turn,
    to_openai,
)
from calltune.turn.policy import FORCE_REQUIRED
from calltune.types import Delta


def call(name: str, **args) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": args}) + "\n</tool_call>"


def scripted(*outputs: str) -> ScriptedEngine:
    return ScriptedEngine(list(outputs), default_format="hermes")


def turn(engine: ScriptedEngine, **settings) -> Turn:
    settings.setdefault("continue_calls", False)
    settings.setdefault("check_relevance", False)
    return Turn(engine, get_format("hermes"), TurnSettings(**settings))


USER = [{"role": "user", "content": "What's the weather like in Boston?"}]


# -- ToolChoice -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "auto"),
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ({"type": "function", "function": {"name": "f"}}, Named("f")),
        ({"name": "f"}, Named("f")),  # legacy function_call
        ("named:f", Named("f")),  # the command line's spelling
        (Named("f"), Named("f")),
    ],
)
def test_parse_tool_choice_spellings(value, expected) -> None:  # noqa: ANN001
    assert parse_tool_choice(value) == expected


def test_parse_tool_choice_rejects_bad_values_and_unknown_names() -> None:
    for bad in ("sometimes", "named:", {"type": "function"}, 3):
        with pytest.raises(ToolChoiceError):
            parse_tool_choice(bad)
    with pytest.raises(ToolChoiceError, match="available: get_current_weather"):
        parse_tool_choice(Named("launch"), ["get_current_weather"])
    assert to_openai(Named("f")) == {"type": "function", "function": {"name": "f"}}
    assert to_openai("required") == "required" and str(Named("f")) == "named:f"


# -- policy -----------------------------------------------------------------------------------
def test_plan_shows_only_what_the_choice_allows() -> None:
    eng = scripted()
    tools = [WEATHER, LOCAL_TIME]
    assert plan_turn("hermes", eng, tools, "none").offered == []
    assert plan_turn("hermes", eng, tools, Named("get_local_time")).offered_names == ["get_local_time"]
    assert plan_turn("hermes", eng, tools, "auto").offered_names == ["get_current_weather", "get_local_time"]
    assert plan_turn("hermes", eng, [], "auto").choice == "none"  # no tools: nothing to call
    # the scripted engine cannot constrain: a forced choice is forced by prompt, with retries
    p = plan_turn("hermes", eng, tools, "required", max_attempts=3)
    assert p.constraint is None and p.force_by_prompt and p.max_attempts == 3
    assert plan_turn("hermes", eng, tools, "auto").max_attempts == 1


# -- the turn ---------------------------------------------------------------------------------
def test_turn_streams_content_then_the_calls_then_the_result() -> None:
    eng = scripted("Let me look." + call("get_current_weather", location="Boston"))
    events = list(turn(eng).stream(USER, [WEATHER]))
    result = events[-1]
    assert isinstance(result, TurnResult)
    kinds = [e.kind for e in events[:-1] if isinstance(e, Delta)]
    assert kinds[0] == "content" and kinds[-1] == "tool_call_end"
    assert [(c.name, c.arguments) for c in result.calls] == [("get_current_weather", {"location": "Boston"})]
    assert result.content == "Let me look." and result.finish_reason == "stop"
    assert result.usage["completion_tokens"] == len(eng.outputs[0])


def test_required_without_grammar_is_forced_by_prompt_and_retried() -> None:
    eng = scripted("It is probably sunny.", call("get_current_weather", location="Boston"))
    result = turn(eng).run(USER, [WEATHER], "required", SamplingParams(max_tokens=200, seed=1))
    assert [c.name for c in result.calls] == ["get_current_weather"]
    assert len(result.attempts) == 2 and "no tool call" in result.attempts[0].note
    # the instruction is in the prompt; the retry repeats it after the user message
    assert FORCE_REQUIRED in result.attempts[0].prompt
    assert result.attempts[1].prompt.count(FORCE_REQUIRED) == 2
    assert result.content == ""  # the rejected attempt's prose is not the answer


def test_agent_required_forces_a_call_without_a_grammar() -> None:
    """Behaviour fix: Agent(tool_choice="required") forces a call without a grammar, as the server does."""
    eng = scripted("It is probably sunny.", call("get_current_weather", location="Boston"), "22 degrees.")
    agent = Agent(eng, Toolbox([get_current_weather]), tool_choice="required", continue_calls=False)
    result = agent.run("What's the weather like in Boston?")
    assert [o["name"] for o in result.trace.observations] == ["get_current_weather"]
    assert result.answer == "22 degrees."
    assert FORCE_REQUIRED in result.trace.steps[0].prompt


def test_a_call_already_answered_is_not_returned_again() -> None:
    """Behaviour fix: the same call again after its result → the turn is generated again without tools."""
    same = call("get_current_weather", location="Boston")
    eng = scripted(same, "It is 22 degrees in Boston.")
    history = [
        *USER,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_current_weather", "arguments": '{"location": "Boston"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temperature": 22, "unit": "celsius"}'},
    ]
    result = turn(eng).run(history, [WEATHER])
    assert result.calls == [] and result.content == "It is 22 degrees in Boston."
    assert [c.arguments for c in result.repeated] == [{"location": "Boston"}]
    assert "<tools>" in result.attempts[0].prompt and "<tools>" not in result.attempts[1].prompt
    # a new user message makes the same call a new request again
    eng = scripted(same)
    again = turn(eng).run([*history, {"role": "assistant", "content": "22."}, *USER], [WEATHER])
    assert [c.name for c in again.calls] == ["get_current_weather"]


def test_relevance_check_drops_an_unfitting_call_and_answers_without_tools() -> None:
    eng = scripted(call("get_current_weather", location="Qatar"), "No.", "Argentina won.")
    result = turn(eng, check_relevance=True).run([{"role": "user", "content": "Who won in 2022?"}], [WEATHER])
    assert result.calls == [] and result.dropped == ["get_current_weather"]
    assert result.content == "Argentina won." and result.raw_called is not None
    assert result.relevance == [{"name": "get_current_weather", "fits": False, "answer": "No."}]


def test_continuation_collects_the_next_call() -> None:
    eng = scripted(
        call("get_current_weather", location="Boston"), call("get_current_weather", location="Tokyo"), "Done."
    )
    result = turn(eng, continue_calls=True).run(
        [{"role": "user", "content": "Weather in Boston and in Tokyo?"}], [WEATHER]
    )
    assert [c.arguments["location"] for c in result.calls] == ["Boston", "Tokyo"]
    assert result.attempts[0].raw_first is not None and "more call" in result.attempts[0].note


def test_context_window_is_checked_before_generating() -> None:
    from calltune.engines import ContextLengthError

    eng = ScriptedEngine(["x"], context_length=50)
    with pytest.raises(ContextLengthError, match="maximum context length is 50 tokens"):
        turn(eng).run(USER, [WEATHER])
    assert eng.prompts == []


# -- the server runs the same turn -------------------------------------------------------------
def test_server_round_trip_does_not_loop_on_the_same_call() -> None:
    """Behaviour fix (OpenAI client): after the tool result, the identical call is not returned again."""
    same = call("get_current_weather", location="Boston")
    with served([same, "It is 22 °C in Boston."]) as (engine, client, _):
        msgs: list = [{"role": "user", "content": "What's the weather like in Boston?"}]
        r = client.chat.completions.create(model="m", messages=msgs, tools=[WEATHER])
        [tc] = r.choices[0].message.tool_calls
        msgs += [
            r.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": tc.id, "content": '{"temperature": 22, "unit": "celsius"}'},
        ]
        # the model repeats the call: the server generates the turn again, without tools
        engine.outputs.insert(1, same)
        r2 = client.chat.completions.create(model="m", messages=msgs, tools=[WEATHER])
    assert r2.choices[0].message.tool_calls is None
    assert r2.choices[0].message.content == "It is 22 °C in Boston."
    assert r2.choices[0].finish_reason == "stop"


def test_server_continues_after_the_last_call_as_the_agent_does() -> None:
    """Behaviour fix: the server's turn is the agent's turn (call continuation included)."""
    one = [
        call("get_current_weather", location="Boston"),
        call("get_current_weather", location="Tokyo"),
        "That is all.",
    ]
    ask = {"model": "m", "messages": [{"role": "user", "content": "Weather in Boston and in Tokyo?"}]}
    with served(one + one, continue_calls=True) as (_, client, _srv):
        r = client.chat.completions.create(**ask, tools=[WEATHER])
        chunks = list(client.chat.completions.create(**ask, tools=[WEATHER], stream=True))
    calls = r.choices[0].message.tool_calls
    assert [json.loads(c.function.arguments)["location"] for c in calls] == ["Boston", "Tokyo"]
    assert r.choices[0].finish_reason == "tool_calls"
    deltas = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert [d.function.name for d in deltas if d.function.name] == ["get_current_weather"] * 2
    by_index: dict[int, str] = {}
    for d in deltas:
        by_index[d.index] = by_index.get(d.index, "") + (d.function.arguments or "")
    assert [by_index[i] for i in sorted(by_index)] == [c.function.arguments for c in calls]
