"""to_tool_specs / normalize_spec: OpenAI tool dicts, legacy functions, schema checks."""

from typing import Annotated

import pytest

from calltune.tools import Tool, Toolbox, ToolSchemaError, normalize_spec, to_tool_specs, tool

WEATHER_PARAMS = {
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "City"},
        "unit": {"type": "string", "enum": ["c", "f"]},
    },
    "required": ["location"],
}


def test_openai_tool_dict_passes_through() -> None:
    spec = {
        "type": "function",
        "function": {"name": "w", "description": "Weather.", "parameters": WEATHER_PARAMS},
    }
    assert to_tool_specs([spec]) == [spec]


def test_legacy_functions_entry_is_wrapped() -> None:
    legacy = {"name": "w", "description": "Weather.", "parameters": WEATHER_PARAMS}
    assert to_tool_specs([legacy]) == [
        {
            "type": "function",
            "function": {"name": "w", "description": "Weather.", "parameters": WEATHER_PARAMS},
        }
    ]


def test_missing_parameters_and_description_get_defaults() -> None:
    assert normalize_spec({"type": "function", "function": {"name": "now"}}) == {
        "type": "function",
        "function": {"name": "now", "description": "", "parameters": {"type": "object", "properties": {}}},
    }


def test_mixed_items_tools_callables_and_single_item() -> None:
    @tool
    def a(x: int) -> int:
        """A."""
        return x

    def b(y: Annotated[str, "why"]) -> str:
        """B."""
        return y

    specs = to_tool_specs([a, b, {"name": "c"}])
    assert [s["function"]["name"] for s in specs] == ["a", "b", "c"]
    assert specs[1]["function"] == {
        "name": "b",
        "description": "B.",
        "parameters": {
            "type": "object",
            "properties": {"y": {"type": "string", "description": "why"}},
            "required": ["y"],
        },
    }
    assert to_tool_specs(a) == [a.spec()]
    assert to_tool_specs(Toolbox([a])) == [a.spec()]
    assert to_tool_specs(None) == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"name": "x", "parameters": {"type": "object", "properties": {"a": {"type": "strnig"}}}},
            "invalid parameters schema",
        ),
        ({"name": "x", "parameters": {"type": "array"}}, "must describe an object"),
        ({"name": "x", "parameters": ["a"]}, "must be a JSON Schema object"),
        ({"name": "x", "parameters": {"type": "object", "required": "a"}}, "invalid parameters schema"),
        ({"type": "retrieval", "function": {"name": "x"}}, "unsupported tool type"),
        ({"description": "no name"}, "needs 'function'"),
        ({"name": "bad name"}, "whitespace"),
        ({"name": "x", "description": 3}, "description must be a string"),
    ],
)
def test_invalid_specs_raise_tool_schema_error(spec: dict, message: str) -> None:
    with pytest.raises(ToolSchemaError, match=message):
        to_tool_specs([spec])


def test_duplicate_names_refused() -> None:
    with pytest.raises(ToolSchemaError, match="duplicate tool name 'x'"):
        to_tool_specs([{"name": "x"}, {"type": "function", "function": {"name": "x"}}])


def test_explicit_bad_schema_on_a_function() -> None:
    with pytest.raises(ToolSchemaError, match="tool 'f'"):
        Tool(lambda: 1, name="f", parameters={"type": "object", "properties": {"a": {"type": 5}}})


def test_chinese_and_special_character_names() -> None:
    specs = to_tool_specs([{"name": "查询天气"}, {"name": "get-weather.v2"}, {"name": "función_ñ"}])
    assert [s["function"]["name"] for s in specs] == ["查询天气", "get-weather.v2", "función_ñ"]


def test_from_spec_tool_validates_but_cannot_run() -> None:
    t = Tool.from_spec({"name": "w", "parameters": WEATHER_PARAMS})
    assert t.fn is None
    assert t.validate({"location": "Paris", "unit": "k"}) == ["argument 'unit': 'k' is not one of ['c', 'f']"]
    obs = Toolbox([t]).execute({"name": "w", "arguments": {"location": "Paris"}})
    assert (obs.ok, obs.kind, obs.content) == (
        False,
        "not_executable",
        "Error: tool 'w' has no implementation here",
    )
