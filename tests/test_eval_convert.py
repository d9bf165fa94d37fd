from __future__ import annotations

import jsonschema
import pytest
from eval_fixtures import AREA, SHIP, TEMP

from calltune.eval.convert import ConversionError, bfcl_to_tool, bfcl_to_tools, map_calls_back, tool_name
from calltune.types import ToolCall


def test_every_bfcl_type_becomes_json_schema() -> None:
    tool = bfcl_to_tool(SHIP)
    fn = tool["function"]
    assert tool["type"] == "function"
    assert fn["name"] == "ship_parcel"
    p = fn["parameters"]
    assert p["type"] == "object"  # dict
    props = p["properties"]
    assert props["weight_kg"] == {"type": "integer", "description": "Weight."}
    assert props["express"] == {"type": "boolean", "description": "Express delivery."}  # "optional" dropped
    assert props["stops"] == {
        "type": "array",
        "items": {"type": "string"},
        "description": "Stops on the way.",
    }
    assert props["box"] == {
        "type": "array",
        "items": {"type": "integer"},
        "description": "Box size (l, w, h).",
    }  # tuple
    assert props["address"] == {
        "type": "object",
        "description": "Where to.",
        "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
        "required": ["city"],
    }
    assert props["note"] == {"type": "string", "description": "Free note."}  # any
    assert p["required"] == ["weight_kg", "address"]
    jsonschema.Draft202012Validator.check_schema(p)
    jsonschema.validate({"weight_kg": 2, "address": {"city": "Lyon"}, "box": [1, 2, 3]}, p)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"weight_kg": 2.5, "address": {"city": "Lyon"}}, p)


def test_float_enum_default_and_dotted_name() -> None:
    fn = bfcl_to_tool(AREA)["function"]
    assert fn["name"] == "geometry_rectangle_area"
    assert fn["description"] == "Area of a rectangle."
    assert fn["parameters"]["properties"]["width"] == {"type": "number", "description": "Width in metres."}
    assert fn["parameters"]["properties"]["unit"] == {
        "type": "string",
        "enum": ["m2", "cm2"],
        "description": "Unit.",
        "default": "m2",
    }


def test_array_of_dicts_and_missing_parameters() -> None:
    doc = {
        "name": "batch.add",
        "description": "x",
        "parameters": {
            "type": "dict",
            "properties": {
                "items": {
                    "type": "array",
                    "items": {
                        "type": "dict",
                        "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
                    },
                }
            },
            "required": ["items", "ghost"],
        },
    }
    p = bfcl_to_tool(doc)["function"]["parameters"]
    assert p["properties"]["items"]["items"] == {
        "type": "object",
        "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
    }
    assert p["required"] == ["items"]  # a required name without a property is dropped
    assert bfcl_to_tool({"name": "ping", "description": "d"})["function"]["parameters"] == {
        "type": "object",
        "properties": {},
    }


def test_unknown_type_is_a_clear_error() -> None:
    bad = {"name": "f", "parameters": {"type": "dict", "properties": {"x": {"type": "complex"}}}}
    with pytest.raises(ConversionError, match=r"f\.parameters\.x: unknown BFCL type 'complex'"):
        bfcl_to_tool(bad)
    with pytest.raises(ConversionError, match="needs a 'name'"):
        bfcl_to_tool({"description": "no name"})


def test_names_map_back_for_the_checker() -> None:
    tools, name_map = bfcl_to_tools([AREA, TEMP, SHIP])
    assert [t["function"]["name"] for t in tools] == [
        "geometry_rectangle_area",
        "weather_temperature",
        "ship_parcel",
    ]
    assert name_map == {
        "geometry_rectangle_area": "geometry.rectangle_area",
        "weather_temperature": "weather.temperature",
        "ship_parcel": "ship_parcel",
    }
    calls = [
        ToolCall("weather_temperature", {"city": "Oslo"}),
        ToolCall("weather.temperature", {"city": "Rome"}),
    ]
    assert map_calls_back(calls, name_map) == [
        ("weather.temperature", {"city": "Oslo"}),
        ("weather.temperature", {"city": "Rome"}),
    ]
    assert tool_name("a b/c.d") == "a_b_c_d"
    with pytest.raises(ConversionError, match="both become"):
        bfcl_to_tools([{"name": "a.b"}, {"name": "a_b"}])
