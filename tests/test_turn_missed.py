"""A later request of an agent session answered in prose: the turn asks for the calls it
described, under the call grammar, and keeps those whose required values the conversation holds."""

from __future__ import annotations

from typing import Any

import pytest

from calltune.datagen.library.domains._spec import function_spec
from calltune.engines.base import SamplingParams
from calltune.formats import get_format
from calltune.testing import ScriptedEngine, hermes_call
from calltune.turn import Turn, TurnSettings
from calltune.turn.missed import earlier_tool_results, supported_calls
from calltune.types import ToolCall

pytest.importorskip("xgrammar")


START = function_spec(
    "startEngine",
    "Starts the vehicle's engine.",
    {"ignitionMode": {"type": "string", "enum": ["START", "STOP"]}},
    ["ignitionMode"],
)
BUY = function_spec(
    "place_order",
    "Places an order for shares of a stock.",
    {"symbol": {"type": "string"}, "amount": {"type": "integer"}},
    ["symbol", "amount"],
)
STOCKS = function_spec(
    "get_stocks", "Lists the stock symbols of a sector.", {"sector": {"type": "string"}}, ["sector"]
)
TOOLS = [START, BUY, STOCKS]

SESSION: list[dict[str, Any]] = [
    {"role": "user", "content": "Which technology stocks are there?"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "a",
                "type": "function",
                "function": {"name": "get_stocks", "arguments": '{"sector": "tech"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "a", "content": '{"stock_list": ["AAPL", "NVDA"]}'},
    {"role": "assistant", "content": "AAPL and NVDA."},
]
PROSE = "Thank you for your order. I will place the order for the shares."


class _Guidable(ScriptedEngine):
    supports_constraints = True


def _turn(
    outputs: list[str], engine: type[ScriptedEngine] = _Guidable, **kw: Any
) -> tuple[Turn, ScriptedEngine]:
    eng = engine(outputs)
    s = TurnSettings(continue_calls=False, **{"check_relevance": False, **kw})
    return Turn(eng, get_format("hermes"), s), eng


def _run(turn: Turn, user: str, history: list[dict[str, Any]] = SESSION) -> Any:
    return turn.run(
        [*history, {"role": "user", "content": user}], TOOLS, "auto", SamplingParams(max_tokens=300)
    )


def test_a_described_call_is_asked_for_under_the_grammar_and_made() -> None:
    turn, eng = _turn([PROSE, hermes_call("place_order", {"symbol": "NVDA", "amount": 150})])
    r = _run(turn, "Buy 150 shares of NVDA.")
    assert [(c.name, c.arguments) for c in r.calls] == [("place_order", {"symbol": "NVDA", "amount": 150})]
    assert r.content == ""
    assert eng.constraints[0] is None and eng.constraints[1] is not None  # asked under the grammar
    assert len(r.attempts) == 2 and "kept" in r.attempts[1].note
    assert eng.prompts[0] == eng.prompts[1]  # the same prompt: the engine has it in its KV cache


def test_a_required_value_nobody_gave_leaves_the_prose_standing() -> None:
    ask = "How many shares of NVDA should I buy?"
    turn, eng = _turn([ask, hermes_call("place_order", {"symbol": "NVDA", "amount": 100})])
    r = _run(turn, "Buy some NVDA shares for me.")
    assert r.calls == [] and r.content == ask
    assert len(r.attempts) == 2 and r.attempts[-1].content == ask  # the prose is the turn's answer
    assert "place_order.amount=100 is not in the conversation" in r.attempts[0].note
    assert r.finish_reason == "stop"


def test_an_enum_value_counts_as_grounded() -> None:
    described = "To start the engine, you can use the command startEngine(ignitionMode='START')."
    turn, _ = _turn([described, hermes_call("startEngine", {"ignitionMode": "START"})])
    r = _run(turn, "Get the engine running, please.")
    assert [c.name for c in r.calls] == ["startEngine"]


def test_the_relevance_check_judges_the_asked_for_calls() -> None:
    # the model asked for a call writes one that does not fit, and the check says no
    turn, eng = _turn(
        ["It is a lovely day.", hermes_call("get_stocks", {"sector": "tech"}), "no"], check_relevance=True
    )
    r = _run(turn, "Thanks, tell me a fun fact about the tech sector.")
    assert r.calls == [] and r.content == "It is a lovely day."
    assert "get_stocks judged not to fit the request" in r.attempts[0].note
    assert len(eng.prompts) == 3


def test_not_for_a_first_request_when_off_or_without_a_grammar() -> None:
    # a conversation's first request: answered as the model chose (single-turn behaviour)
    turn, eng = _turn([PROSE])
    r = turn.run(
        [{"role": "user", "content": "Buy 150 NVDA."}], TOOLS, "auto", SamplingParams(max_tokens=300)
    )
    assert r.content == PROSE and len(eng.prompts) == 1
    turn, eng = _turn([PROSE], check_missed_calls=False)
    assert _run(turn, "Buy 150 shares of NVDA.").content == PROSE and len(eng.prompts) == 1
    turn, eng = _turn([PROSE], engine=ScriptedEngine)  # an engine that cannot constrain
    assert _run(turn, "Buy 150 shares of NVDA.").content == PROSE and len(eng.prompts) == 1
    # a turn that already calls is left alone
    turn, eng = _turn([hermes_call("place_order", {"symbol": "NVDA", "amount": 150})])
    assert [c.name for c in _run(turn, "Buy 150 shares of NVDA.").calls] == ["place_order"]
    assert len(eng.prompts) == 1


def test_which_calls_hold_up() -> None:
    msgs = [*SESSION, {"role": "user", "content": "Send support a note that my booking failed twice."}]
    note = function_spec(
        "send_note", "Sends a note.", {"text": {"type": "string"}, "to": {"type": "string"}}, ["text", "to"]
    )
    kept, left = supported_calls(
        [
            ToolCall("send_note", {"text": "My booking failed twice, please help.", "to": "support"}),
            ToolCall("send_note", {"text": "booking failed", "to": "billing@example.com"}),
            ToolCall("place_order", {"symbol": "AAPL"}),  # a required value missing altogether
            ToolCall("unknown", {}),
        ],
        msgs,
        [note, BUY],
    )
    assert [c.arguments["to"] for c in kept] == ["support"]
    assert [(u.name, u.param) for u in left] == [
        ("send_note", "to"),
        ("place_order", "amount"),
        ("unknown", ""),
    ]
    assert earlier_tool_results(msgs) and not earlier_tool_results(msgs[:1])
