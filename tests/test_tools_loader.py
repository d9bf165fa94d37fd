"""load_tools_file and the example tool files."""

import json
from pathlib import Path

import pytest

from calltune.tools import Toolbox, ToolLoadError, load_tools_file

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def write(tmp_path: Path, text: str, name: str = "my_tools.py") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_decorated_functions_in_definition_order(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "from calltune import tool\n"
        "def helper(x):\n    return x\n"
        "@tool\ndef second(a: int) -> int:\n    return a\n"
        "@tool(name='第一')\ndef first(b: str) -> str:\n    return b\n",
    )
    assert [t.name for t in load_tools_file(p)] == ["second", "第一"]


def test_tools_list_wins_and_may_hold_plain_functions_and_dicts(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "from calltune import tool\n"
        "@tool\ndef ignored() -> str:\n    return ''\n"
        "def plain(q: str) -> str:\n    '''Plain.'''\n    return q\n"
        "TOOLS = [plain, {'name': 'remote_only'}]\n",
    )
    tools = load_tools_file(str(p))
    assert [t.name for t in tools] == ["plain", "remote_only"]
    assert tools[0].description == "Plain."


def test_file_can_import_its_neighbours(tmp_path: Path) -> None:
    write(tmp_path, "FACTOR = 3\n", "helpers_for_tools.py")
    p = write(
        tmp_path,
        "from calltune import tool\nfrom helpers_for_tools import FACTOR\n"
        "@tool\ndef triple(x: int) -> int:\n    return x * FACTOR\n",
    )
    (t,) = load_tools_file(p)
    assert Toolbox([t]).execute({"name": "triple", "arguments": {"x": 4}}).content == "12"


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ToolLoadError, match="tools file not found"):
        load_tools_file(tmp_path / "missing.py")
    with pytest.raises(ToolLoadError, match="no tools found in .*empty.py"):
        load_tools_file(write(tmp_path, "X = 1\n", "empty.py"))
    with pytest.raises(ToolLoadError, match="importing .* failed: ZeroDivisionError"):
        load_tools_file(write(tmp_path, "1 / 0\n", "broken.py"))
    with pytest.raises(ToolLoadError, match="bad entry in TOOLS"):
        load_tools_file(write(tmp_path, "TOOLS = [42]\n", "bad.py"))


def test_weather_example() -> None:
    (t,) = load_tools_file(EXAMPLES / "weather.py")
    assert t.spec() == {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location.",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string", "description": "The city, e.g. Boston"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
                },
                "required": ["location"],
            },
        },
    }
    box = Toolbox([t])
    c = json.loads(box.execute({"name": t.name, "arguments": {"location": "Boston"}}).content)
    f = json.loads(
        box.execute({"name": t.name, "arguments": {"location": "Boston", "unit": "fahrenheit"}}).content
    )
    assert c == {
        "location": "Boston",
        "temperature": 14,
        "unit": "celsius",
        "condition": "sunny",
        "humidity": 41,
    }
    assert f["temperature"] == 57.2
    assert f["unit"] == "fahrenheit"
    # deterministic and case-insensitive in the city name
    assert (
        json.loads(box.execute({"name": t.name, "arguments": {"location": "boston"}}).content)["temperature"]
        == 14
    )


def test_weather_zh_example() -> None:
    (t,) = load_tools_file(EXAMPLES / "weather_zh.py")
    assert t.spec() == {
        "type": "function",
        "function": {
            "name": "查询天气",
            "description": "查询指定城市当前的天气（气温、天气状况和湿度）。",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "要查询的城市名称，例如：北京"},
                    "unit": {
                        "type": "string",
                        "description": "温度单位",
                        "enum": ["摄氏度", "华氏度"],
                        "default": "摄氏度",
                    },
                },
                "required": ["city"],
            },
        },
    }
    obs = Toolbox([t]).execute({"name": "查询天气", "arguments": '{"city": "北京"}'})
    assert obs.content == '{"城市": "北京", "气温": 17, "单位": "摄氏度", "天气": "多云", "湿度": 75}'
