"""Must-show runs on the real default model, through the `calltune run` command (the README's other
examples, Boston and two cities among them, are in tests/test_readme_model.py)."""

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


def test_chinese_tool_name_and_question():
    trace = calltune_run("--tools", "examples/weather_zh.py", "北京今天天气怎么样？")
    calls = [c for s in trace["steps"] for c in s["tool_calls"]]
    assert calls and calls[0]["name"] == "查询天气"
    assert "北京" in json.dumps(calls[0]["arguments"], ensure_ascii=False)
    obs = [o for s in trace["steps"] for o in s["observations"] if o["ok"]]
    assert obs and trace["answer"].strip()


def test_question_no_tool_fits_is_answered_without_running_one():
    trace = calltune_run("--tools", "examples/weather.py", "Who wrote the play Hamlet?")
    assert trace["stopped"] == "answer"
    assert [o for s in trace["steps"] for o in s["observations"]] == [], trace["steps"]
    assert "shakespeare" in trace["answer"].lower(), trace["answer"]
    # (that the check keeps a call when the tool fits: test_readme_model's Boston test)
    verdicts = [v for s in trace["steps"] for v in s["relevance"]]
    assert all(not v["fits"] for v in verdicts)
