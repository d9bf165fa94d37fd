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
