"""The real default model calls the example tools (slow: marked ``model``)."""

from pathlib import Path

import pytest

from calltune.tools import Toolbox, get_builtin, load_tools_file

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.model
def test_default_model_calls_weather_and_calculator(default_engine) -> None:  # noqa: ANN001
    from calltune.agent import Agent
    from calltune.engines import SamplingParams

    box = Toolbox([*load_tools_file(EXAMPLES / "weather.py"), get_builtin("calculator")])
    agent = Agent(default_engine, box, max_steps=3, params=SamplingParams(max_tokens=160, temperature=0.0))
    result = agent.run("What is the weather like in Boston right now? Use the tool.")
    calls = result.trace.tool_calls
    assert calls, result.trace.to_json()
    assert calls[0]["name"] == "get_current_weather"
    assert "boston" in calls[0]["arguments"]["location"].lower()
    assert result.trace.observations[0]["ok"] is True
