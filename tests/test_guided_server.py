"""The server's tool_choice named/required go through the guided path (calltune.guided).

The engine here stands in for a constrained model: it is given several candidate
outputs and writes the first one the request's grammar allows (what masking the
logits achieves on a real model). Without a constraint it writes the first candidate.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("openai")

from calltune.engines import Chunk, Engine, EngineError, SamplingParams  # noqa: E402
from calltune.engines.scripted import CharTokenizer  # noqa: E402
from calltune.guided import Constraint  # noqa: E402
from calltune.testing import LOCAL_TIME, WEATHER, WEATHER_Q, served  # noqa: E402
from calltune.testing import hermes_call as call_text  # noqa: E402
from calltune.turn import Named, plan_turn, resolve_guided  # noqa: E402

CHATTY = "I think it is sunny in Paris."
WEATHER_CALL = call_text("get_current_weather", {"location": "Paris"})
TIME_CALL = call_text("get_local_time", {"city": "Paris"})
BAD_TIME_CALL = call_text("get_local_time", {"town": "Paris"})


class GrammarPickingEngine(Engine):
    """Writes the first candidate allowed by the constraint (all candidates when none)."""

    supports_constraints = True
    default_format = "hermes"
    model_id = "picker"

    def __init__(self, candidates: list[str]):
        self.candidates = candidates
        self.tokenizer = CharTokenizer()
        self.constraints: list[Any] = []

    def stream(
        self, prompt: str | list[int], params: SamplingParams, constraint: Any = None
    ) -> Iterator[Chunk]:
        self.constraints.append(constraint)
        allowed = [c for c in self.candidates if constraint is None or constraint.matches(c)]
        if not allowed:
            raise EngineError("no candidate is allowed by the grammar")
        text = allowed[0]
        yield Chunk(text, finish_reason="stop", usage={"prompt_tokens": 1, "completion_tokens": len(text)})


def _ask(client: Any, tool_choice: Any) -> Any:
    return client.chat.completions.create(
        model="test-model",
        messages=[{"role": "user", "content": WEATHER_Q}],
        tools=[WEATHER, LOCAL_TIME],
        tool_choice=tool_choice,
    )


def test_named_tool_choice_is_guided() -> None:
    engine = GrammarPickingEngine([CHATTY, WEATHER_CALL, BAD_TIME_CALL, TIME_CALL])
    with served(engine) as (_, client, _srv):
        resp = _ask(client, {"type": "function", "function": {"name": "get_local_time"}})
    (c,) = engine.constraints
    assert isinstance(c, Constraint)
    assert (c.format_name, c.mode, c.tool_names) == ("hermes", "named:get_local_time", ["get_local_time"])
    calls = resp.choices[0].message.tool_calls
    assert [(tc.function.name, json.loads(tc.function.arguments)) for tc in calls] == [
        ("get_local_time", {"city": "Paris"})
    ]
    assert resp.choices[0].finish_reason == "tool_calls"


def test_required_tool_choice_is_guided() -> None:
    engine = GrammarPickingEngine([CHATTY, BAD_TIME_CALL, WEATHER_CALL])
    with served(engine) as (_, client, _srv):
        resp = _ask(client, "required")
    (c,) = engine.constraints
    assert isinstance(c, Constraint) and c.mode == "required"
    assert sorted(c.tool_names) == ["get_current_weather", "get_local_time"]
    calls = resp.choices[0].message.tool_calls
    assert [tc.function.name for tc in calls] == ["get_current_weather"]


def test_auto_is_unguided_by_default_and_guided_on_request() -> None:
    engine = GrammarPickingEngine([CHATTY, WEATHER_CALL])
    with served(engine) as (_, client, _srv):
        resp = _ask(client, "auto")
    assert engine.constraints == [None]
    assert resp.choices[0].message.content == CHATTY

    engine = GrammarPickingEngine([BAD_TIME_CALL, WEATHER_CALL])
    with served(engine, guided=True, check_relevance=True) as (_, client, _srv):
        resp = _ask(client, "auto")
    c, *checks = engine.constraints
    assert c.mode == "auto"
    assert checks == [None]  # the relevance check of the called function is not guided
    assert [tc.function.name for tc in resp.choices[0].message.tool_calls] == ["get_current_weather"]


def test_resolve_guided_policy() -> None:
    eng = GrammarPickingEngine([])
    assert resolve_guided(None, "required", eng) and resolve_guided(None, Named("x"), eng)
    assert not resolve_guided(None, "auto", eng)
    assert resolve_guided(True, "auto", eng) and not resolve_guided(False, "required", eng)

    class Remote(GrammarPickingEngine):
        supports_constraints = False

    assert not resolve_guided(None, "required", Remote([]))
    with pytest.raises(EngineError, match="cannot apply guided decoding"):
        resolve_guided(True, "required", Remote([]))


def test_plan_turn_policy_and_strict_tools() -> None:
    eng = GrammarPickingEngine([])

    def constraint(tools: list, choice: Any, guided: bool | None = None) -> Any:
        return plan_turn("hermes", eng, tools, choice, guided=guided).constraint

    strict = {**WEATHER, "function": {**WEATHER["function"], "strict": True}}
    assert constraint([WEATHER, LOCAL_TIME], "auto") is None
    c = constraint([strict, LOCAL_TIME], "auto")
    assert c is not None and c.mode == "auto"
    assert c.tool_names == ["get_current_weather", "get_local_time"]
    assert not c.matches(call_text("get_current_weather", {"location": 1}))  # strict: schema enforced
    assert c.matches(call_text("get_local_time", {"town": "Paris"}))  # not strict: any object
    assert constraint([strict], "auto", guided=False) is None
    assert constraint([WEATHER], "required").mode == "required"
    assert constraint([WEATHER], "none") is None
    named = plan_turn("hermes", eng, [WEATHER, LOCAL_TIME], Named("get_local_time"))
    assert named.constraint.mode == "named:get_local_time" and not named.constraint.parallel
    assert named.offered_names == ["get_local_time"]  # only the named tool is shown
