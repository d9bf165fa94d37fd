"""Fan-out: a call whose single-valued argument joins several things the user named becomes
one call per thing; lists, enums, described multi-value strings and one-name values stay."""

from __future__ import annotations

from typing import Any

from calltune.engines.base import SamplingParams
from calltune.formats import get_format
from calltune.testing import ScriptedEngine, hermes_call
from calltune.turn import Turn, TurnSettings
from calltune.turn.fanout import fan_out
from calltune.types import ToolCall


def _fn(name: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{name} tool.",
            "parameters": {"type": "object", "properties": props, "required": required},
        },
    }


HISTORY = _fn(
    "track_history",
    {
        "region": {"type": "string", "description": "The region."},
        "faith": {"type": "string", "description": "The religion."},
        "start_year": {"type": "integer"},
    },
    ["region", "faith"],
)
ROUTE = _fn(
    "route",
    {"origin": {"type": "string"}, "destination": {"type": "string"}},
    ["origin", "destination"],
)
STORES = _fn(
    "find_stores",
    {
        "location": {"type": "string", "description": "One or more cities, comma separated."},
        "items": {"type": "array", "items": {"type": "string"}},
        "mode": {"type": "string", "enum": ["fast", "cheap and slow"]},
    },
    ["location"],
)


def test_a_joined_single_value_becomes_one_call_per_part() -> None:
    call = ToolCall(
        "track_history", {"region": "Egypt and Turkey", "faith": "Christianity", "start_year": 100}
    )
    out, found = fan_out([call], "History of Christianity in Egypt and Turkey since 100 AD?", [HISTORY])
    assert [c.arguments["region"] for c in out] == ["Egypt", "Turkey"]
    assert all(c.arguments["faith"] == "Christianity" and c.arguments["start_year"] == 100 for c in out)
    assert out[0].id == call.id and out[1].id != call.id
    assert [f.to_dict() for f in found] == [{"name": "track_history", "params": ["region"], "parts": 2}]


def test_semicolons_chinese_joiners_and_zipped_arguments() -> None:
    call = ToolCall("route", {"origin": "Austin, TX; Reno, NV", "destination": "Dallas, TX; Las Vegas, NV"})
    out, _ = fan_out(
        [call], "Routes from Austin, TX to Dallas, TX and from Reno, NV to Las Vegas, NV", [ROUTE]
    )
    assert [(c.arguments["origin"], c.arguments["destination"]) for c in out] == [
        ("Austin, TX", "Dallas, TX"),
        ("Reno, NV", "Las Vegas, NV"),
    ]
    zh = ToolCall("track_history", {"region": "北京和上海", "faith": "佛教"})
    out, _ = fan_out([zh], "北京和上海的佛教历史", [HISTORY])
    assert [c.arguments["region"] for c in out] == ["北京", "上海"]


def test_values_that_stay_one_call() -> None:
    user = "Stores in Paris and Lyon, cheap and slow, for bread and milk; history of Egypt, Turkey"
    cases = [
        # described as taking several values, an array, an enum value
        ToolCall("find_stores", {"location": "Paris and Lyon"}),
        ToolCall("find_stores", {"location": "Paris", "items": ["bread and milk"], "mode": "cheap and slow"}),
        # commas alone never split; a part the user did not say; the same part twice
        ToolCall("track_history", {"region": "Egypt, Turkey", "faith": "Islam"}),
        ToolCall("track_history", {"region": "Egypt and Greece", "faith": "Islam"}),
        ToolCall("track_history", {"region": "Egypt and egypt", "faith": "Islam"}),
        # joined in different numbers in two arguments
        ToolCall("route", {"origin": "Paris and Lyon", "destination": "Egypt and Turkey; Lyon"}),
        # a note or a message that joins phrases, not things named
        ToolCall(
            "track_history", {"region": "Car: Wash & vacuum on Sunday. Check tire pressure.", "faith": "x"}
        ),
        ToolCall("track_history", {"region": "Paris\nand Lyon", "faith": "x"}),
    ]
    user += ". Car: Wash & vacuum on Sunday. Check tire pressure. Paris\nand Lyon"
    for call in cases:
        out, found = fan_out([call], user, [STORES, HISTORY, ROUTE])
        assert out == [call] and not found, call


def test_parts_already_called_separately_are_not_called_again() -> None:
    calls = [
        ToolCall("track_history", {"region": "Egypt", "faith": "Islam"}),
        ToolCall("track_history", {"region": "Egypt and Turkey", "faith": "Islam"}),
    ]
    out, found = fan_out(calls, "Islam in Egypt and Turkey", [HISTORY])
    assert out == calls and not found


def _turn(outputs: list[str], **settings: Any) -> Turn:
    eng = ScriptedEngine(outputs)
    return Turn(
        eng, get_format("hermes"), TurnSettings(continue_calls=False, check_relevance=False, **settings)
    )


def test_turn_fans_out_and_says_so_and_the_switches_turn_it_off() -> None:
    out = hermes_call("track_history", {"region": "Egypt and Turkey", "faith": "Christianity"})
    msgs = [{"role": "user", "content": "Christianity in Egypt and Turkey?"}]
    r = _turn([out]).run(msgs, [HISTORY], "auto", SamplingParams(max_tokens=200))
    assert [c.arguments["region"] for c in r.calls] == ["Egypt", "Turkey"]
    assert r.fanned == [{"name": "track_history", "params": ["region"], "parts": 2}]
    assert "split into 2 calls" in r.attempts[-1].note
    for settings in ({"fan_out": False}, {"ground_arguments": False}, {"parallel_tool_calls": False}):
        r = _turn([out], **settings).run(msgs, [HISTORY], "auto", SamplingParams(max_tokens=200))
        assert [c.arguments["region"] for c in r.calls] == ["Egypt and Turkey"] and not r.fanned, settings
