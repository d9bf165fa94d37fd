"""The call loop against a scripted engine: no model needed, runs in well under a second."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, Literal

import pytest

from calltune import Agent, Toolbox, tool
from calltune.engines import ScriptedEngine


@tool
def get_current_weather(
    location: Annotated[str, "The city, e.g. Boston"], unit: Literal["celsius", "fahrenheit"] = "celsius"
) -> dict:
    """Get the current weather in a given location."""
    return {"location": location, "temperature": 22 if unit == "celsius" else 72, "unit": unit}


@tool
async def slow_lookup(key: str) -> str:
    """Look something up slowly."""
    await asyncio.sleep(0.3)
    return f"value-of-{key}"


def make_agent(*args, **kwargs):
    """Scripted runs here script every model turn, so call continuation (tested below) is off."""
    kwargs.setdefault("continue_calls", False)
    kwargs.setdefault("check_relevance", False)
    return Agent(*args, **kwargs)


def hermes_call(name: str, **args) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": args}) + "\n</tool_call>"


def test_single_call_then_answer_hermes():
    eng = ScriptedEngine(
        [hermes_call("get_current_weather", location="Boston"), "It is 22 degrees in Boston."]
    )
    result = make_agent(eng, Toolbox([get_current_weather]), format="hermes").run("Weather in Boston?")
    assert result.answer == "It is 22 degrees in Boston."
    tr = result.trace
    assert tr.stopped == "answer"
    assert [c["name"] for c in tr.tool_calls] == ["get_current_weather"]
    assert tr.tool_calls[0]["arguments"] == {"location": "Boston"}
    obs = tr.observations[0]
    assert obs["ok"] is True
    assert json.loads(obs["content"]) == {"location": "Boston", "temperature": 22, "unit": "celsius"}
    # the observation was shown to the model in the second prompt
    assert len(eng.prompts) == 2
    second = tr.steps[1].prompt
    assert "<tool_response>" in second and '"temperature": 22' in second
    # messages follow the OpenAI schema
    roles = [m["role"] for m in result.messages]
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert result.messages[2]["tool_call_id"] == result.messages[1]["tool_calls"][0]["id"]
    # the trace is JSON
    assert json.loads(result.to_json())["steps"][0]["raw_output"].startswith("<tool_call>")


def test_parallel_calls_run_concurrently():
    out = hermes_call("slow_lookup", key="a") + "\n" + hermes_call("slow_lookup", key="b")
    eng = ScriptedEngine([out, "a and b"])
    t0 = time.perf_counter()
    result = make_agent(eng, Toolbox([slow_lookup]), format="hermes").run("look up a and b")
    elapsed = time.perf_counter() - t0
    assert [o["content"] for o in result.trace.observations] == ["value-of-a", "value-of-b"]
    assert len(result.trace.steps[0].tool_calls) == 2
    assert elapsed < 0.55, elapsed


def test_chatglm3_call_stops_on_observation():
    call = 'get_current_weather\n```python\ntool_call(location="beijing", unit="celsius")\n```'
    eng = ScriptedEngine([call + "<|observation|>", "北京 22 度。<|user|>"], default_format="chatglm3")
    result = make_agent(eng, Toolbox([get_current_weather])).run("今天北京的天气怎么样？")
    assert result.trace.format == "chatglm3"
    assert result.trace.steps[0].stop == "<|observation|>"
    assert result.trace.tool_calls[0]["arguments"] == {"location": "beijing", "unit": "celsius"}
    assert result.answer == "北京 22 度。"
    assert "<|observation|>\n" in result.trace.steps[1].prompt


def test_hostile_call_becomes_observation_and_executes_nothing(tmp_path):
    marker = tmp_path / "pwned"
    hostile = f"get_current_weather\n```python\ntool_call(x=__import__('os').system('touch {marker}'))\n```"
    eng = ScriptedEngine([hostile, "sorry"], default_format="chatglm3")
    result = make_agent(eng, Toolbox([get_current_weather])).run("weather?")
    assert not marker.exists()
    assert result.answer == "sorry"
    obs = result.trace.observations
    assert len(obs) == 1 and obs[0]["ok"] is False and obs[0]["error"] == "parse_error"
    assert "could not be parsed" in obs[0]["content"]


def test_bad_arguments_and_unknown_tool_become_observations():
    eng = ScriptedEngine(
        [
            hermes_call("get_current_weather", location="Paris", unit="kelvin"),
            hermes_call("nope", a=1),
            "done",
        ]
    )
    result = make_agent(eng, Toolbox([get_current_weather])).run("Paris in kelvin?")
    o1, o2 = result.trace.observations
    assert o1["ok"] is False and "unit" in o1["content"]
    assert o2["ok"] is False and "get_current_weather" in o2["content"]  # lists available tools
    assert result.answer == "done"


def test_max_steps_stops_loop():
    outputs = [hermes_call("get_current_weather", location=c) for c in ("X", "Y", "Z", "W")]
    eng = ScriptedEngine(outputs, cycle=True)
    result = make_agent(eng, Toolbox([get_current_weather]), max_steps=3).run("loop forever")
    assert result.trace.stopped == "max_steps"
    assert len(result.trace.steps) == 3


def test_a_model_that_repeats_its_call_gets_an_answer_turn_without_tools():
    eng = ScriptedEngine([hermes_call("get_current_weather", location="X")], cycle=True)
    result = make_agent(eng, Toolbox([get_current_weather]), max_steps=8).run("loop forever")
    # executed once; the repeat is not executed; the answer turn offers no tools, and the call
    # the model still writes there is not a call (and not shown as the answer)
    assert len(result.trace.observations) == 1 and len(result.trace.steps) == 3
    assert result.trace.stopped == "answer" and result.answer == ""
    assert "call(s) ignored" in result.trace.steps[2].note


def test_tool_choice_none_hides_tools():
    eng = ScriptedEngine(["Just text."])
    result = make_agent(eng, Toolbox([get_current_weather]), tool_choice="none").run("Weather?")
    assert "get_current_weather" not in result.trace.steps[0].prompt
    assert result.answer == "Just text."


def test_named_tool_choice_must_exist():
    with pytest.raises(ValueError, match="not among the tools"):
        make_agent(
            ScriptedEngine([]),
            Toolbox([get_current_weather]),
            tool_choice={"type": "function", "function": {"name": "x"}},
        )


def test_context_overflow_is_reported_not_raised():
    eng = ScriptedEngine(["x"], context_length=10)
    result = make_agent(eng, Toolbox([get_current_weather])).run("What's the weather like in Boston?")
    assert result.trace.stopped == "error"
    assert "ContextLengthError" in result.trace.error


def test_events_stream_content_and_calls():
    events = []
    eng = ScriptedEngine([hermes_call("get_current_weather", location="Oslo"), "Cold in Oslo."])
    make_agent(eng, Toolbox([get_current_weather]), on_event=lambda k, d: events.append((k, d))).run("Oslo?")
    kinds = [k for k, _ in events]
    assert "call" in kinds and "observation" in kinds
    text = "".join(d for k, d in events if k == "text")
    assert text == "Cold in Oslo."
    assert kinds[-1] == "answer"


def test_chinese_tool_name_end_to_end():
    @tool(name="查询天气")
    def weather_zh(城市: Annotated[str, "城市名称"]) -> str:
        """查询指定城市的天气"""
        return f"{城市}：晴，25°C"

    eng = ScriptedEngine([hermes_call("查询天气", 城市="上海"), "上海今天晴，25°C。"])
    result = make_agent(eng, Toolbox([weather_zh])).run("上海天气怎么样？")
    assert result.trace.tool_calls[0]["name"] == "查询天气"
    assert result.trace.observations[0]["content"] == "上海：晴，25°C"
    assert "查询天气" in result.trace.steps[0].prompt


def test_repeated_call_is_not_executed_and_tools_are_withdrawn():
    calls = []

    @tool
    def counter(city: str) -> str:
        """Count lookups."""
        calls.append(city)
        return "14 degrees"

    same = hermes_call("counter", city="Boston")
    eng = ScriptedEngine([same, same, "It is 14 degrees."])
    result = make_agent(eng, Toolbox([counter])).run("Boston?")
    assert calls == ["Boston"]  # executed once
    assert result.answer == "It is 14 degrees."
    assert result.trace.steps[1].note.startswith("repeated call")
    assert "<tools>" not in result.trace.steps[2].prompt  # the answer turn offers no tools
    assert "<tools>" in result.trace.steps[1].prompt


def test_huge_observation_is_clipped_for_the_model():
    @tool
    def big() -> str:
        """Return a lot."""
        return "x" * 50000

    eng = ScriptedEngine([hermes_call("big"), "ok"])
    result = make_agent(eng, Toolbox([big]), max_observation_chars=1000).run("go")
    tool_msg = next(m for m in result.messages if m["role"] == "tool")
    assert tool_msg["content"].startswith("x" * 1000)
    assert "truncated: 49000 more characters" in tool_msg["content"]
    assert len(result.trace.observations[0]["content"]) == 50000  # the trace keeps everything


def test_empty_answer_after_tool_results_is_retried_without_tools():
    eng = ScriptedEngine([hermes_call("get_current_weather", location="Oslo"), "", "Oslo: 22 degrees."])
    result = make_agent(eng, Toolbox([get_current_weather])).run("Oslo?")
    assert result.answer == "Oslo: 22 degrees."
    assert result.trace.steps[1].note.startswith("empty answer")
    assert "<tools>" not in result.trace.steps[2].prompt


def test_answer_only_redo_is_told_after_the_results_and_cannot_start_a_call():
    """A small model shown its own calls keeps calling even with the tools gone; the redo that
    follows an empty answer puts its note after the tool results, where the model reads it last,
    and, on an engine that can constrain, forbids calls."""
    pytest.importorskip("xgrammar")
    call = hermes_call("get_current_weather", location="Oslo")
    eng = _GuidableEngine([call, "", "Oslo: 22 degrees."])
    result = make_agent(eng, Toolbox([get_current_weather])).run("Oslo?")
    assert result.answer == "Oslo: 22 degrees."
    redo = result.trace.steps[2]
    assert redo.prompt.index("<tool_response>") < redo.prompt.index(
        "answer my question from the tool results"
    )
    assert eng.constraints[2] is not None and not eng.constraints[2].allows_calls
    assert "<tool_call>" in eng.constraints[2].structure["format"]["excludes"]
    assert [m["role"] for m in result.messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
    ]  # the note is not kept
    # guided decoding off: the redo is not constrained
    eng = _GuidableEngine([call, "", "Oslo: 22 degrees."])
    make_agent(eng, Toolbox([get_current_weather]), guided=False).run("Oslo?")
    assert eng.constraints[2] is None


def test_empty_answer_without_tool_results_is_final():
    eng = ScriptedEngine([""])
    result = make_agent(eng, Toolbox([get_current_weather])).run("hm")
    assert result.answer == "" and len(result.trace.steps) == 1


def test_continuation_collects_a_second_call_in_the_same_turn():
    boston = hermes_call("get_current_weather", location="Boston")
    tokyo = hermes_call("get_current_weather", location="Tokyo")
    # turn 1: one call, then (continued) a second call, then a continuation that is not a call
    eng = ScriptedEngine([boston, tokyo, "", "Boston 22, Tokyo 22."])
    result = Agent(eng, Toolbox([get_current_weather]), check_relevance=False).run("Boston and Tokyo?")
    step = result.trace.steps[0]
    assert [c["arguments"]["location"] for c in step.tool_calls] == ["Boston", "Tokyo"]
    assert step.note.startswith("continued after the last call: 1 more")
    assert len(step.observations) == 2
    assert result.answer == "Boston 22, Tokyo 22."
    # the continuation prompt is the first prompt + the first call
    assert eng.prompts[1][: len(eng.prompts[0])] == eng.prompts[0]


def test_continuation_drops_repeats_and_prose():
    boston = hermes_call("get_current_weather", location="Boston")
    eng = ScriptedEngine([boston, boston, "Sunny.", boston, "Some prose instead", "Sunny."])
    result = Agent(eng, Toolbox([get_current_weather]), check_relevance=False).run("Boston?")
    assert len(result.trace.steps[0].tool_calls) == 1
    assert result.answer == "Sunny."


def test_no_continuation_when_parallel_calls_are_off():
    boston = hermes_call("get_current_weather", location="Boston")
    eng = ScriptedEngine([boston, "Sunny."])
    result = Agent(eng, Toolbox([get_current_weather]), parallel_tool_calls=False, check_relevance=False).run(
        "Boston?"
    )
    assert result.answer == "Sunny." and len(eng.prompts) == 2


class _CountingEngine(ScriptedEngine):
    """Counts the chunks a consumer actually pulls from each stream."""

    def __init__(self, outputs, **kw):  # noqa: ANN001, ANN003
        super().__init__(outputs, **kw)
        self.pulled: list[int] = []

    def stream(self, prompt, params, constraint=None):  # noqa: ANN001, ANN201
        inner = super().stream(prompt, params, constraint)
        self.pulled.append(0)

        def gen():  # noqa: ANN202
            for ch in inner:
                self.pulled[-1] += 1
                yield ch

        return gen()


def test_continuation_is_cut_off_as_soon_as_it_is_not_a_new_call():
    from calltune.engines.base import SamplingParams
    from calltune.formats import get_format
    from calltune.turn.continuation import continue_calls

    fmt = get_format("hermes")
    boston = hermes_call("get_current_weather", location="Boston")
    for cont in ("The weather in Boston is " + "very " * 400 + "nice.", boston + "\n" + "x" * 2000):
        eng = _CountingEngine([cont], chunk_size=3)
        parsed = fmt.parse(boston)
        raw, after, usage = continue_calls(
            eng,
            fmt,
            "PROMPT",
            boston,
            parsed,
            fmt.parse,
            SamplingParams(max_tokens=4000, stop=list(fmt.stop)),
            tool_names=["get_current_weather"],
        )
        assert raw == boston and len(after.tool_calls) == 1
        # prose is seen within a few chunks, a repeated call as soon as it is complete
        assert eng.pulled[0] < (len(boston) + 40) // 3, eng.pulled
        assert 0 < usage["completion_tokens"] < len(cont)


@tool
def convert_currency(amount: float, to: str) -> dict:
    """Convert an amount of US dollars to another currency."""
    return {"amount": amount * 0.9, "currency": to}


def test_relevance_check_drops_a_call_that_does_not_fit_and_answers_without_tools():
    call = hermes_call("get_current_weather", location="Qatar")
    eng = ScriptedEngine([call, "No.", "Argentina won the 2022 World Cup."])
    events: list = []
    result = Agent(
        eng, Toolbox([get_current_weather]), continue_calls=False, on_event=lambda k, d: events.append((k, d))
    ).run("Who won the World Cup 2022?")
    assert result.answer == "Argentina won the 2022 World Cup."
    assert ("dropped", ["get_current_weather"]) in events and not any(k == "call" for k, _ in events)
    assert result.trace.observations == []  # nothing was executed
    first = result.trace.steps[0]
    assert first.relevance == [{"name": "get_current_weather", "fits": False, "answer": "No."}]
    assert "judged not to fit" in first.note
    # the check saw the question and the function's description, and no tool list
    judge_prompt = eng.tokenizer.decode(eng.prompts[1])
    assert "Who won the World Cup 2022?" in judge_prompt and "Get the current weather" in judge_prompt
    assert "<tools>" not in judge_prompt
    # the answer turn was generated with no tools on offer
    assert "<tools>" not in eng.tokenizer.decode(eng.prompts[2])


def test_the_relevance_check_is_announced_while_it_runs():
    calls = hermes_call("get_current_weather", location="Paris") + "\n" + hermes_call("slow_lookup", key="x")
    eng = ScriptedEngine([calls, "Yes", "no", "Sunny in Paris."])
    events: list = []
    agent = Agent(
        eng,
        Toolbox([get_current_weather, slow_lookup]),
        continue_calls=False,
        on_event=lambda k, d: events.append((k, d)),
    )
    agent.run("Weather in Paris?")
    kinds = [k for k, _ in events if k != "text"]
    assert kinds == ["step", "relevance", "relevance", "dropped", "call", "observation", "step", "answer"]
    assert events[1] == ("relevance", {"state": "start", "functions": ["get_current_weather", "slow_lookup"]})
    assert events[2] == ("relevance", {"state": "end", "dropped": ["slow_lookup"]})
    # with the check off there is nothing to announce
    eng = ScriptedEngine([hermes_call("get_current_weather", location="Paris"), "Sunny."])
    events.clear()
    Agent(
        eng,
        Toolbox([get_current_weather]),
        continue_calls=False,
        check_relevance=False,
        on_event=lambda k, d: events.append((k, d)),
    ).run("Weather in Paris?")
    assert "relevance" not in [k for k, _ in events]


def test_relevance_check_keeps_fitting_calls_and_drops_only_the_others():
    calls = (
        hermes_call("get_current_weather", location="Paris")
        + "\n"
        + hermes_call("convert_currency", amount=3, to="EUR")
    )
    eng = ScriptedEngine([calls, "Yes", "no", "Sunny in Paris."])
    result = Agent(eng, Toolbox([get_current_weather, convert_currency]), continue_calls=False).run(
        "Weather in Paris?"
    )
    assert [o["name"] for o in result.trace.observations] == ["get_current_weather"]
    assert [v["fits"] for v in result.trace.steps[0].relevance] == [True, False]
    assert result.answer == "Sunny in Paris."


def test_relevance_check_only_on_the_first_auto_turn():
    call = hermes_call("get_current_weather", location="Boston")
    # tool_choice=required: the user asked for a call, no check
    eng = ScriptedEngine([call, "22 degrees."])
    result = Agent(
        eng, Toolbox([get_current_weather]), tool_choice="required", guided=False, continue_calls=False
    ).run("Boston?")
    assert result.answer == "22 degrees." and result.trace.steps[0].relevance == []
    # a second call after tool results is not checked again
    eng = ScriptedEngine([call, "Yes", hermes_call("get_current_weather", location="Tokyo"), "Both 22."])
    result = Agent(eng, Toolbox([get_current_weather]), continue_calls=False).run("Boston, then Tokyo?")
    assert result.answer == "Both 22." and len(result.trace.observations) == 2
    assert result.trace.steps[1].relevance == []


def _cycling_calls(n: int) -> str:
    calls = [hermes_call("get_current_weather", location=c) for c in ("Boston", "Tokyo", "Paris")]
    return "\n".join(calls[i % 3] for i in range(n))


def test_guided_turn_ends_at_the_first_repeated_call():
    from calltune.engines.base import SamplingParams
    from calltune.formats import get_format
    from calltune.turn.continuation import generate_until_repeat

    fmt = get_format("hermes")
    cycling = _cycling_calls(8)[:-9]  # three calls, repeated, the last one cut off by max_tokens
    eng = _CountingEngine([cycling], chunk_size=3)
    comp = generate_until_repeat(
        eng, fmt, "PROMPT", SamplingParams(max_tokens=4000), None, ["get_current_weather"]
    )
    assert comp.text == _cycling_calls(3)
    assert comp.finish_reason == "stop" and comp.stop is None
    assert [c.arguments["location"] for c in fmt.parse(comp.text).tool_calls] == ["Boston", "Tokyo", "Paris"]
    # generation stopped as soon as the repeat was complete, not at the end of the script
    assert eng.pulled[0] <= (len(_cycling_calls(4)) + 3) // 3 + 1 < len(cycling) // 3
    assert comp.completion_tokens == len(_cycling_calls(4))  # what was generated (char tokenizer)
    # a turn without repeats is returned as it is
    eng = ScriptedEngine([_cycling_calls(3)])
    comp = generate_until_repeat(eng, fmt, "PROMPT", SamplingParams(max_tokens=4000), None, None)
    assert comp.text == _cycling_calls(3) and comp.finish_reason == "stop"


class _GuidableEngine(ScriptedEngine):
    supports_constraints = True


def test_agent_guided_required_turn_keeps_the_distinct_calls_of_a_cycling_model():
    pytest.importorskip("xgrammar")
    eng = _GuidableEngine([_cycling_calls(8)[:-9], "Sunny everywhere."])
    agent = Agent(
        eng, Toolbox([get_current_weather]), tool_choice="required", guided=True, check_relevance=False
    )
    result = agent.run("Weather in Boston, Tokyo and Paris?")
    step = result.trace.steps[0]
    assert step.guided and eng.constraints[0] is not None
    assert [c["arguments"]["location"] for c in step.tool_calls] == ["Boston", "Tokyo", "Paris"]
    assert step.parse_errors == [] and step.finish_reason == "stop"
    assert result.answer == "Sunny everywhere."


def test_a_reasoning_models_thinking_goes_to_the_trace_not_the_answer():
    thinking = 'Boston, so get_current_weather. <tool_call>{"name": "x", "arguments": {}}</tool_call> is only a plan.'
    eng = ScriptedEngine(
        [
            f"<think>\n{thinking}\n</think>\n\n" + hermes_call("get_current_weather", location="Boston"),
            "<think>It is 22.</think>\n\nIt is 22 °C in Boston.",
        ],
        default_format="hermes",
    )
    events = []
    agent = make_agent(eng, Toolbox([get_current_weather]), on_event=lambda k, d: events.append((k, d)))
    result = agent.run("Weather in Boston?")
    assert result.answer == "It is 22 °C in Boston."
    assert [s.reasoning for s in result.trace.steps] == [thinking, "It is 22."]
    assert [c["name"] for c in result.trace.tool_calls] == [
        "get_current_weather"
    ]  # not the one in the thinking
    assert "".join(d for k, d in events if k == "reasoning") == thinking + "It is 22."
    assert all("<think>" not in (m.get("content") or "") for m in result.messages)


def test_a_call_fed_its_own_result_is_not_executed_and_the_agent_answers():
    calls = []

    @tool
    def convert_length(value: float, from_unit: str, to_unit: str) -> dict:
        """Convert a length."""
        calls.append(value)
        return {"value": value / 1000, "unit": to_unit, "from_unit": from_unit}

    first = hermes_call("convert_length", value=100, from_unit="millimeter", to_unit="meter")
    again = hermes_call("convert_length", value=0.1, from_unit="millimeter", to_unit="meter")
    eng = ScriptedEngine([first, again, "100 mm is 0.1 m."])
    result = make_agent(eng, Toolbox([convert_length])).run("Convert 100 millimeters to meters.")
    assert calls == [100]
    assert result.answer == "100 mm is 0.1 m."
    assert result.trace.steps[1].note.startswith("repeated call")


def test_feeds_own_result_leaves_real_next_steps_alone():
    from calltune.turn.history import feeds_own_result
    from calltune.types import ToolCall

    def step(name, args, result):
        return [
            {"role": "user", "content": "go"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": "c1", "function": {"name": name, "arguments": json.dumps(args)}}],
            },
            {"role": "tool", "tool_call_id": "c1", "content": json.dumps(result)},
        ]

    conv = step("convert", {"value": 100, "unit": "mm"}, {"value": 0.1, "unit": "m"})
    assert feeds_own_result(ToolCall("convert", {"value": 0.1, "unit": "mm"}), conv)
    assert not feeds_own_result(ToolCall("convert", {"value": 0.1, "unit": "km"}), conv)  # two changed
    assert not feeds_own_result(ToolCall("other", {"value": 0.1, "unit": "mm"}), conv)
    page = step("list_items", {"cursor": ""}, {"items": [1], "next_cursor": "abc"})
    assert not feeds_own_result(ToolCall("list_items", {"cursor": "abc"}), page)  # a cursor: go on
    price = step("discount", {"price": 100, "percent": 10}, {"final_price": 90})
    assert not feeds_own_result(ToolCall("discount", {"price": 90, "percent": 10}), price)
    text = step("convert", {"value": 100, "unit": "mm"}, "0.1 m")
    assert not feeds_own_result(ToolCall("convert", {"value": 0.1, "unit": "mm"}), text)


def test_first_calls_run_without_a_generation_and_the_model_answers_from_their_results():
    from calltune.types import ToolCall

    eng = ScriptedEngine(["It is 22 degrees in Boston."])
    result = make_agent(eng, Toolbox([get_current_weather]), format="hermes").run(
        "Weather in Boston?", first_calls=[ToolCall("get_current_weather", {"location": "Boston"})]
    )
    assert result.answer == "It is 22 degrees in Boston."
    assert len(eng.prompts) == 1  # the planned step generated nothing
    first, second = result.trace.steps
    assert first.planned and first.prompt == "" and first.completion_tokens == 0
    assert first.tool_calls[0]["name"] == "get_current_weather" and first.observations[0]["ok"]
    assert not second.planned and '"temperature": 22' in second.prompt
    roles = [m["role"] for m in result.messages]
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert result.messages[1]["tool_calls"][0]["function"]["name"] == "get_current_weather"


def test_first_calls_that_fail_are_observed_like_generated_ones():
    from calltune.types import ToolCall

    eng = ScriptedEngine(["I could not look that up."])
    result = make_agent(eng, Toolbox([get_current_weather]), format="hermes").run(
        "Weather?", first_calls=[ToolCall("get_current_weather", {"unit": "kelvin"})]
    )
    obs = result.trace.steps[0].observations[0]
    assert obs["ok"] is False and obs["error"]
    assert result.answer == "I could not look that up."


def test_tool_choice_of_one_run_binds_its_first_generated_turn():
    from calltune.types import ToolCall

    eng = ScriptedEngine(["It is 22 degrees in Boston."])
    agent = make_agent(eng, Toolbox([get_current_weather]), format="hermes")
    result = agent.run(
        "Weather in Boston?",
        first_calls=[ToolCall("get_current_weather", {"location": "Boston"})],
        tool_choice="none",
    )
    answer_prompt = result.trace.steps[1].prompt
    assert "<tools>" not in answer_prompt and '"temperature": 22' in answer_prompt
    assert result.trace.tool_choice == "none" and str(agent.tool_choice) == "auto"
    # without it, a run has the agent's own choice: the tools are shown
    again = make_agent(ScriptedEngine(["Fine."]), Toolbox([get_current_weather]), format="hermes")
    assert "<tools>" in again.run("Hi").trace.steps[0].prompt
