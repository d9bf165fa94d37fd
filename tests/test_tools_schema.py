"""@tool: JSON Schema built from signatures, Annotated metadata and docstrings (exact schemas)."""

import datetime
import enum
from typing import Annotated, Any, Literal, Optional

import pytest
from pydantic import BaseModel, Field

from calltune.tools import Tool, ToolSchemaError, tool


def params(t: Tool) -> dict[str, Any]:
    return t.spec()["function"]["parameters"]


def one(annotation: Any) -> dict[str, Any]:
    """The property schema of a single required parameter ``x: annotation``."""

    def f(x):  # noqa: ANN001
        return x

    f.__annotations__ = {"x": annotation}
    return params(tool(f))["properties"]["x"]


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (list[str], {"type": "array", "items": {"type": "string"}}),
        (dict[str, float], {"type": "object", "additionalProperties": {"type": "number"}}),
        (Literal["celsius", "fahrenheit"], {"type": "string", "enum": ["celsius", "fahrenheit"]}),
        (Literal[1, 2, 3], {"type": "integer", "enum": [1, 2, 3]}),
        (Optional[int], {"type": ["integer", "null"]}),  # noqa: UP045 - typing.Optional on purpose
        (int | None, {"type": ["integer", "null"]}),
        (
            tuple[int, str],
            {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "maxItems": 2,
                "minItems": 2,
            },
        ),
        (tuple[float, ...], {"type": "array", "items": {"type": "number"}}),
        (datetime.date, {"type": "string", "format": "date"}),
        (datetime.datetime, {"type": "string", "format": "date-time"}),
        (list[list[int]], {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}),
        (int | str, {"anyOf": [{"type": "integer"}, {"type": "string"}]}),
        (Any, {}),
    ],
)
def test_type_schemas(annotation: Any, expected: dict[str, Any]) -> None:
    assert one(annotation) == expected


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


def test_enum_and_optional_enum() -> None:
    @tool
    def paint(color: Color, accent: Color | None = None) -> str:
        return color.value

    assert params(paint) == {
        "type": "object",
        "properties": {
            "color": {"type": "string", "enum": ["red", "green"]},
            "accent": {"type": ["string", "null"], "enum": ["red", "green", None], "default": None},
        },
        "required": ["color"],
    }


def test_defaults_are_optional_and_shown() -> None:
    @tool
    def search(query: str, limit: int = 10, exact: bool = False, tags: list[str] | None = None) -> list[str]:
        return []

    assert params(search) == {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "limit": {"type": "integer", "default": 10},
            "exact": {"type": "boolean", "default": False},
            "tags": {"type": ["array", "null"], "items": {"type": "string"}, "default": None},
        },
        "required": ["query"],
    }


class Address(BaseModel):
    """A postal address."""

    street: str
    city: str = Field(description="City name")
    zip: str | None = None


class Person(BaseModel):
    name: str
    address: Address
    previous: list[Address] = []


ADDRESS = {
    "type": "object",
    "description": "A postal address.",
    "properties": {
        "street": {"type": "string"},
        "city": {"type": "string", "description": "City name"},
        "zip": {"type": ["string", "null"], "default": None},
    },
    "required": ["street", "city"],
}


def test_nested_pydantic_models_are_inlined_without_titles() -> None:
    @tool
    def register(person: Annotated[Person, "who to register"]) -> str:
        return person.name

    assert params(register) == {
        "type": "object",
        "properties": {
            "person": {
                "type": "object",
                "description": "who to register",
                "properties": {
                    "name": {"type": "string"},
                    "address": ADDRESS,
                    "previous": {"type": "array", "items": ADDRESS, "default": []},
                },
                "required": ["name", "address"],
            }
        },
        "required": ["person"],
    }
    assert "$ref" not in str(params(register))


class TreeNode(BaseModel):
    value: int
    children: list["TreeNode"] = []


def test_recursive_model_keeps_one_def() -> None:
    @tool
    def total(tree: TreeNode) -> int:
        return 0

    node = {
        "type": "object",
        "properties": {
            "value": {"type": "integer"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/TreeNode"}, "default": []},
        },
        "required": ["value"],
    }
    assert params(total) == {
        "type": "object",
        "properties": {"tree": node},
        "required": ["tree"],
        "$defs": {"TreeNode": node},
    }


def test_annotated_descriptions_and_chatglm3_required_flag() -> None:
    @tool
    def get_weather(
        city_name: Annotated[str, "The name of the city to be queried", True],
        days: Annotated[int, "How many days", False] = 1,
        note: Annotated[str, "Forced required despite default", True] = "",
        hint: Annotated[str, "Optional although no default", False] = "x",
    ) -> str:
        """Get the current weather for `city_name`"""
        return city_name

    assert get_weather.spec() == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather for `city_name`",
            "parameters": {
                "type": "object",
                "properties": {
                    "city_name": {"type": "string", "description": "The name of the city to be queried"},
                    "days": {"type": "integer", "description": "How many days", "default": 1},
                    "note": {
                        "type": "string",
                        "description": "Forced required despite default",
                        "default": "",
                    },
                    "hint": {"type": "string", "description": "Optional although no default", "default": "x"},
                },
                "required": ["city_name", "note"],
            },
        },
    }


def test_chatglm3_required_false_without_default() -> None:
    @tool
    def lookup(key: Annotated[str, "the key", False]) -> str:
        return key

    assert params(lookup) == {
        "type": "object",
        "properties": {"key": {"type": "string", "description": "the key"}},
    }


def test_pydantic_field_constraints_in_annotated() -> None:
    @tool
    def pick(n: Annotated[int, Field(ge=1, le=5, description="how many")]) -> int:
        return n

    assert params(pick)["properties"]["n"] == {
        "type": "integer",
        "description": "how many",
        "maximum": 5,
        "minimum": 1,
    }


def test_google_docstring() -> None:
    @tool
    def book_flight(origin: str, destination: str, seats: int = 1) -> str:
        """Book a flight between two airports.

        The booking is provisional until paid.

        Args:
            origin (str): IATA code of the departure airport,
                for example PEK.
            destination: IATA code of the arrival airport.
            seats: Number of seats.

        Returns:
            A booking reference.
        """
        return "X"

    assert book_flight.description == "Book a flight between two airports."
    assert params(book_flight) == {
        "type": "object",
        "properties": {
            "origin": {
                "type": "string",
                "description": "IATA code of the departure airport, for example PEK.",
            },
            "destination": {"type": "string", "description": "IATA code of the arrival airport."},
            "seats": {"type": "integer", "description": "Number of seats.", "default": 1},
        },
        "required": ["origin", "destination"],
    }


def test_sphinx_docstring_and_annotated_wins_over_docstring() -> None:
    @tool
    def f(a: Annotated[int, "from Annotated"], b: int) -> int:
        """Multi-line
        first paragraph.

        :param a: from docstring
        :param int b: the b
        """
        return a + b

    assert f.description == "Multi-line first paragraph."
    assert params(f)["properties"] == {
        "a": {"type": "integer", "description": "from Annotated"},
        "b": {"type": "integer", "description": "the b"},
    }


def test_name_and_description_overrides_and_chinese_names() -> None:
    @tool(name="查询天气", description="查询指定城市的天气")
    def weather(城市: Annotated[str, "城市名称，例如 北京"]) -> str:
        return 城市

    assert weather.spec() == {
        "type": "function",
        "function": {
            "name": "查询天气",
            "description": "查询指定城市的天气",
            "parameters": {
                "type": "object",
                "properties": {"城市": {"type": "string", "description": "城市名称，例如 北京"}},
                "required": ["城市"],
            },
        },
    }
    assert weather("上海") == "上海"  # a Tool stays callable
    assert weather.__name__ == "weather"


def test_strict_mode() -> None:
    @tool(strict=True)
    def f(p: Person) -> str:
        return ""

    spec = f.spec()["function"]
    assert spec["strict"] is True
    assert spec["parameters"]["additionalProperties"] is False
    assert spec["parameters"]["properties"]["p"]["additionalProperties"] is False
    assert spec["parameters"]["properties"]["p"]["properties"]["address"]["additionalProperties"] is False


def test_no_parameters_and_no_docstring() -> None:
    @tool
    def ping() -> str:
        return "pong"

    assert ping.spec() == {
        "type": "function",
        "function": {"name": "ping", "description": "", "parameters": {"type": "object", "properties": {}}},
    }


def test_unannotated_parameters() -> None:
    def f(a, b=2, c=None):  # noqa: ANN001
        return a

    assert params(tool(f)) == {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "integer", "default": 2},
            "c": {"type": "string"},
        },
        "required": ["a"],
    }


def test_async_flag() -> None:
    @tool
    async def fetch(url: str) -> str:
        return url

    @tool
    def sync(url: str) -> str:
        return url

    assert fetch.is_async is True
    assert sync.is_async is False


@pytest.mark.parametrize("bad", ["", "has space", "line\nbreak", "x" * 65])
def test_bad_names(bad: str) -> None:
    with pytest.raises(ToolSchemaError):
        tool(lambda: 1, name=bad)


def test_lambda_needs_a_name_and_var_args_refused() -> None:
    with pytest.raises(ToolSchemaError, match="lambda"):
        tool(lambda: 1)

    def f(*values: int) -> int:
        return sum(values)

    with pytest.raises(ToolSchemaError, match=r"\*values"):
        tool(f)


def test_unsupported_type_is_a_schema_error() -> None:
    class Opaque:
        pass

    def f(x: Opaque) -> None:
        return None

    with pytest.raises(ToolSchemaError, match="parameter 'x'"):
        tool(f)
