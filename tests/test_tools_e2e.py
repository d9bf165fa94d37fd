"""The Chinese weather tool end to end: ChatGLM3 format → parse → Toolbox → observation → answer."""

import json
from pathlib import Path

import pytest

from calltune.tools import Toolbox, load_tools_file

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_chinese_tool_through_chatglm3_agent() -> None:
    agent_mod = pytest.importorskip("calltune.agent")
    engines = pytest.importorskip("calltune.engines")
    box = Toolbox(load_tools_file(EXAMPLES / "weather_zh.py"))
    call = "查询天气\n```python\ntool_call(city='北京', unit='摄氏度')\n```<|observation|>"
    eng = engines.ScriptedEngine([call, "北京现在17摄氏度，多云。<|user|>"], default_format="chatglm3")
    result = agent_mod.Agent(eng, box, format="chatglm3", guided=False, check_relevance=False).run(
        "北京天气怎么样？"
    )
    assert result.answer == "北京现在17摄氏度，多云。"
    (obs,) = result.trace.observations
    assert obs["name"] == "查询天气"
    assert obs["ok"] is True
    assert json.loads(obs["content"]) == {
        "城市": "北京",
        "气温": 17,
        "单位": "摄氏度",
        "天气": "多云",
        "湿度": 75,
    }
    # the tool list in the system prompt and the observation are shown unescaped
    first, second = (step.prompt for step in result.trace.steps)
    assert '"name": "查询天气"' in first
    assert '"description": "要查询的城市名称，例如：北京"' in first
    assert '<|observation|>\n{"城市": "北京", "气温": 17' in second
