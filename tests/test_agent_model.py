"""Must-show runs on the real default model, through the `calltune run` command (the README's other
examples, Boston and two cities among them, are in tests/test_readme_model.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.model


def calltune_run(calltune, tmp_path: Path, *args: str) -> dict:  # noqa: ANN001
    """``calltune run --json ARGS`` (in-process, on the session's engine): the printed trace."""
    result, _ = calltune(["run", "--json", *args], tmp_path)
    return json.loads(result.stdout)


def test_chinese_tool_name_and_question(calltune, tmp_path: Path) -> None:  # noqa: ANN001
    trace = calltune_run(calltune, tmp_path, "--tools", "examples/weather_zh.py", "北京今天天气怎么样？")
    calls = [c for s in trace["steps"] for c in s["tool_calls"]]
    assert calls and calls[0]["name"] == "查询天气"
    assert "北京" in json.dumps(calls[0]["arguments"], ensure_ascii=False)
    obs = [o for s in trace["steps"] for o in s["observations"] if o["ok"]]
    assert obs and trace["answer"].strip()


def test_question_no_tool_fits_is_answered_without_running_one(calltune, tmp_path: Path) -> None:  # noqa: ANN001
    trace = calltune_run(calltune, tmp_path, "--tools", "examples/weather.py", "Who wrote the play Hamlet?")
    assert trace["stopped"] == "answer"
    assert [o for s in trace["steps"] for o in s["observations"]] == [], trace["steps"]
    assert "shakespeare" in trace["answer"].lower(), trace["answer"]
    # (that the check keeps a call when the tool fits: test_readme_model's Boston test)
    verdicts = [v for s in trace["steps"] for v in s["relevance"]]
    assert all(not v["fits"] for v in verdicts)


def test_a_later_request_of_a_session_is_carried_out_not_described(default_engine) -> None:  # noqa: ANN001
    """The second request of an agent session: the default model tends to narrate it ("I will
    place the order …"); the turn asks for the call it described and the order is placed."""
    from calltune import Agent, Toolbox, tool

    orders: list[tuple[str, int]] = []

    @tool
    def list_stocks(sector: str) -> dict:
        """List the stock symbols of a market sector."""
        return {"sector": sector, "symbols": ["AAPL", "MSFT", "NVDA"]}

    @tool
    def place_order(symbol: str, shares: int) -> dict:
        """Buy a number of shares of a stock at the market price."""
        orders.append((symbol, shares))
        return {"order_id": 7, "symbol": symbol, "shares": shares, "status": "filled"}

    agent = Agent(default_engine, Toolbox([list_stocks, place_order]))
    first = agent.run("Which stocks are there in the technology sector?")
    assert any(c["name"] == "list_stocks" for s in first.trace.steps for c in s.tool_calls), first.trace.steps
    second = agent.run("Buy 40 shares of the last symbol on that list.", history=first.messages)
    assert orders and orders[-1][1] == 40, (orders, [s.raw_output for s in second.trace.steps])
    assert orders[-1][0] == "NVDA", orders
