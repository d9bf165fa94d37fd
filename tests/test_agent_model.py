"""The issue's must-show runs on the real default model, through the `calltune run` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.model


def calltune_run(*args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "calltune.cli", "run", "--json", *args],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_weather_in_boston_end_to_end():
    trace = calltune_run("--tools", "examples/weather.py", "What's the weather like in Boston?")
    calls = [c for s in trace["steps"] for c in s["tool_calls"]]
    assert calls and calls[0]["name"] == "get_current_weather"
    assert "boston" in calls[0]["arguments"]["location"].lower()
    obs = [o for s in trace["steps"] for o in s["observations"] if o["ok"]]
    assert obs, trace
    reading = json.loads(obs[0]["content"])
    # the final answer uses the observation: it states the temperature the tool returned
    assert trace["stopped"] == "answer"
    assert str(reading["temperature"]) in trace["answer"], trace["answer"]
    # the relevance check asked about the weather tool and kept the call
    assert [v["fits"] for v in trace["steps"][0]["relevance"]] == [True]


def test_chinese_tool_name_and_question():
    trace = calltune_run("--tools", "examples/weather_zh.py", "北京今天天气怎么样？")
    calls = [c for s in trace["steps"] for c in s["tool_calls"]]
    assert calls and calls[0]["name"] == "查询天气"
    assert "北京" in json.dumps(calls[0]["arguments"], ensure_ascii=False)
    obs = [o for s in trace["steps"] for o in s["observations"] if o["ok"]]
    assert obs and trace["answer"].strip()


def test_two_cities_give_two_calls_in_one_turn():
    trace = calltune_run("--tools", "examples/weather.py", "What's the weather in Boston and in Tokyo?")
    first = trace["steps"][0]
    places = sorted(c["arguments"]["location"].lower() for c in first["tool_calls"])
    assert len(places) == 2, first
    assert "boston" in places[0] and "tokyo" in places[1]
    assert len(first["observations"]) == 2


def test_question_no_tool_fits_is_answered_without_running_one():
    trace = calltune_run("--tools", "examples/weather.py", "Who wrote the play Hamlet?")
    assert trace["stopped"] == "answer"
    assert [o for s in trace["steps"] for o in s["observations"]] == [], trace["steps"]
    assert "shakespeare" in trace["answer"].lower(), trace["answer"]
    # and the check does not get in the way when the tool fits (the Boston test above runs it too)
    verdicts = [v for s in trace["steps"] for v in s["relevance"]]
    assert all(not v["fits"] for v in verdicts)
