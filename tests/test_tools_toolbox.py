"""Toolbox: validation, conversion, execution, timeouts, concurrency, failures as observations."""

import asyncio
import datetime
import enum
import json
import threading
import time
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel

from calltune.tools import Observation, Toolbox, ToolSchemaError, format_result, tool
from calltune.types import ToolCall


class Unit(enum.Enum):
    C = "celsius"
    F = "fahrenheit"


class Point(BaseModel):
    x: float
    y: float


received: dict = {}


@tool
def typed(
    when: datetime.date,
    unit: Unit,
    where: Point,
    span: tuple[int, int],
    scale: float = 1.0,
    tags: list[str] | None = None,
) -> str:
    """Record what it gets."""
    received.update(when=when, unit=unit, where=where, span=span, scale=scale, tags=tags)
    return "ok"


@tool
def weather(location: Annotated[str, "City"], unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict:
    """Weather."""
    return {"location": location, "temperature": 21, "unit": unit}


@tool
def add(a: int, b: int) -> int:
    return a + b


@tool
def boom(x: int) -> int:
    raise ValueError(f"bad x={x}")


@tool
def slow(seconds: float) -> str:
    time.sleep(seconds)
    return f"slept {seconds}"


@tool
async def aslow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return f"async slept {seconds}"


@pytest.fixture
def box() -> Toolbox:
    return Toolbox([typed, weather, add, boom, slow, aslow], timeout=5.0)


def call(name: str, **arguments: object) -> ToolCall:
    return ToolCall(name=name, arguments=dict(arguments), id="call_1")


def test_success_observation(box: Toolbox) -> None:
    obs = box.execute(call("weather", location="北京"))
    assert obs == Observation(
        call_id="call_1",
        name="weather",
        content='{"location": "北京", "temperature": 21, "unit": "celsius"}',
        ok=True,
        error=None,
        elapsed_s=obs.elapsed_s,
        kind="ok",
    )
    assert obs.to_message() == {
        "role": "tool",
        "tool_call_id": "call_1",
        "name": "weather",
        "content": '{"location": "北京", "temperature": 21, "unit": "celsius"}',
    }


def test_arguments_are_converted_to_declared_types(box: Toolbox) -> None:
    received.clear()
    obs = box.execute(
        call("typed", when="2024-05-01", unit="fahrenheit", where={"x": 1, "y": 2.5}, span=[3, 4], scale=2)
    )
    assert obs.ok, obs.content
    assert received == {
        "when": datetime.date(2024, 5, 1),
        "unit": Unit.F,
        "where": Point(x=1.0, y=2.5),
        "span": (3, 4),
        "scale": 2.0,
        "tags": None,
    }
    assert type(received["scale"]) is float  # an int is accepted where a number is expected


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"location": 3}, "argument 'location': 3 is not of type 'string'"),
        (
            {"location": "Paris", "unit": "kelvin"},
            "argument 'unit': 'kelvin' is not one of ['celsius', 'fahrenheit']",
        ),
        ({}, "missing required argument 'location'"),
        ({"location": "Paris", "days": 3}, "unexpected argument 'days' (accepted: location, unit)"),
    ],
)
def test_validation_errors_name_the_argument(box: Toolbox, arguments: dict, error: str) -> None:
    assert box.validate(call("weather", **arguments)) == [error]
    obs = box.execute(call("weather", **arguments))
    assert (obs.ok, obs.kind) == (False, "invalid_arguments")
    assert obs.error == f"invalid arguments for 'weather': {error}"
    assert obs.content == "Error: " + obs.error


def test_nothing_is_coerced_silently(box: Toolbox) -> None:
    assert box.validate(call("add", a="1", b=2)) == ["argument 'a': '1' is not of type 'integer'"]
    assert box.validate(call("add", a=1.0, b=2)) == ["argument 'a': 1.0 is not of type 'integer'"]
    assert box.validate(call("add", a=True, b=2)) == ["argument 'a': True is not of type 'integer'"]
    assert box.validate(call("add", a=1, b=2)) == []


def test_nested_and_format_errors(box: Toolbox) -> None:
    errors = box.validate(call("typed", when="2024-13-45", unit="celsius", where={"x": 1}, span=[1, "2"]))
    assert errors == [
        "argument 'span[1]': '2' is not of type 'integer'",
        "argument 'when': '2024-13-45' is not a 'date'",
        "argument 'where': missing required field 'y'",
    ]


def test_arguments_as_json_string_and_openai_call_dict(box: Toolbox) -> None:
    raw = {"id": "call_9", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 40}'}}
    obs = box.execute(raw)
    assert (obs.call_id, obs.content, obs.ok) == ("call_9", "42", True)
    bad = box.execute({"name": "add", "arguments": "{a: 2"})
    assert bad.kind == "invalid_arguments"
    assert bad.error.startswith("invalid arguments for 'add': arguments are not valid JSON")
    not_object = box.execute({"name": "add", "arguments": "[1, 2]"})
    assert not_object.error == "invalid arguments for 'add': arguments must be a JSON object, got list"


def test_unknown_tool_lists_available_names(box: Toolbox) -> None:
    obs = box.execute(call("get_stock_price", symbol="X"))
    assert (obs.ok, obs.kind) == (False, "unknown_tool")
    assert obs.content == (
        "Error: unknown tool 'get_stock_price'. Available tools: typed, weather, add, boom, slow, aslow"
    )


def test_exception_becomes_observation(box: Toolbox) -> None:
    obs = box.execute(call("boom", x=7))
    assert (obs.ok, obs.kind) == (False, "exception")
    assert obs.content == "Error: tool 'boom' raised ValueError: bad x=7"


def test_sync_and_async_tools(box: Toolbox) -> None:
    assert box.execute(call("slow", seconds=0.01)).content == "slept 0.01"
    assert box.execute(call("aslow", seconds=0.01)).content == "async slept 0.01"
    assert asyncio.run(box.aexecute(call("add", a=1, b=1))).content == "2"


@pytest.mark.parametrize("name", ["slow", "aslow"])
def test_timeout_produces_observation_within_timeout(name: str) -> None:
    box = Toolbox([slow, aslow], timeout=0.2)
    t0 = time.perf_counter()
    obs = box.execute(call(name, seconds=2))
    elapsed = time.perf_counter() - t0
    assert (obs.ok, obs.kind) == (False, "timeout")
    assert obs.content == f"Error: tool {name!r} timed out after 0.2 s"
    assert 0.19 <= elapsed < 0.6


def test_per_tool_timeout_overrides_toolbox() -> None:
    @tool(timeout=0.1)
    def quick(seconds: float) -> str:
        time.sleep(seconds)
        return "done"

    obs = Toolbox([quick], timeout=10).execute(call("quick", seconds=1))
    assert obs.error == "tool 'quick' timed out after 0.1 s"


def test_execute_many_is_concurrent_and_ordered(box: Toolbox) -> None:
    calls = [
        ToolCall("slow", {"seconds": 0.3}, id="a"),
        ToolCall("aslow", {"seconds": 0.3}, id="b"),
        ToolCall("add", {"a": 1, "b": 2}, id="c"),
        ToolCall("nope", {}, id="d"),
    ]
    t0 = time.perf_counter()
    obs = box.execute_many(calls)
    elapsed = time.perf_counter() - t0
    assert [(o.call_id, o.content) for o in obs] == [
        ("a", "slept 0.3"),
        ("b", "async slept 0.3"),
        ("c", "3"),
        ("d", "Error: unknown tool 'nope'. Available tools: typed, weather, add, boom, slow, aslow"),
    ]
    assert elapsed < 0.55


def test_two_sync_sleeps_run_in_parallel(box: Toolbox) -> None:
    t0 = time.perf_counter()
    obs = box.execute_many([call("slow", seconds=0.3), call("slow", seconds=0.3)])
    assert [o.content for o in obs] == ["slept 0.3", "slept 0.3"]
    assert time.perf_counter() - t0 < 0.55


def test_execute_works_inside_a_running_event_loop(box: Toolbox) -> None:
    async def main() -> str:
        return box.execute(call("add", a=2, b=2)).content

    assert asyncio.run(main()) == "4"


def test_sync_tools_run_off_the_calling_thread(box: Toolbox) -> None:
    seen: list[str] = []

    @tool
    def where() -> str:
        seen.append(threading.current_thread().name)
        return "x"

    Toolbox([where]).execute({"name": "where", "arguments": {}})
    assert seen == ["calltune-tool"]


def test_chinese_tool_name_end_to_end() -> None:
    @tool(name="查询天气")
    def query(城市: Annotated[str, "城市名称"], 单位: Literal["摄氏度", "华氏度"] = "摄氏度") -> dict:
        """查询天气。"""
        return {"城市": 城市, "温度": 22, "单位": 单位}

    box = Toolbox([query])
    assert box.names() == ["查询天气"]
    assert "查询天气" in box
    obs = box.execute(ToolCall("查询天气", {"城市": "北京"}, id="c1"))
    assert obs.ok
    assert obs.name == "查询天气"
    assert obs.content == '{"城市": "北京", "温度": 22, "单位": "摄氏度"}'
    bad = box.execute(ToolCall("查询天气", {"城市": "北京", "单位": "开尔文"}, id="c2"))
    assert (
        bad.error
        == "invalid arguments for '查询天气': argument '单位': '开尔文' is not one of ['摄氏度', '华氏度']"
    )


def test_format_result() -> None:
    assert format_result("plain text") == "plain text"
    assert format_result({"城市": "上海", "ok": True, "n": None}) == '{"城市": "上海", "ok": true, "n": null}'
    assert format_result([1, 2.5]) == "[1, 2.5]"
    assert format_result(None) == "null"
    assert format_result(Point(x=1, y=2)) == '{"x": 1.0, "y": 2.0}'
    assert (
        format_result({"d": datetime.date(2024, 1, 2), "u": Unit.C}) == '{"d": "2024-01-02", "u": "celsius"}'
    )

    class Weird:
        def __str__(self) -> str:
            return "<weird>"

    assert format_result(Weird()) == "<weird>"
    assert json.loads(format_result((1, "a"))) == [1, "a"]


def test_toolbox_registry() -> None:
    box = Toolbox([add])
    assert len(box) == 1
    assert box.get("add") is add
    assert box.get("missing") is None
    assert [t.name for t in box] == ["add"]
    with pytest.raises(ToolSchemaError, match="duplicate tool name 'add'"):
        box.add(add)
    with pytest.raises(ValueError, match="timeout must be positive"):
        Toolbox([], timeout=0)


def test_signature_kinds_kwargs_and_positional_only() -> None:
    @tool
    def f(a: int, /, b: int = 2, *, c: str = "x", **extra: float) -> str:
        return f"{a} {b} {c} {sorted(extra.items())}"

    assert f.parameters == {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": "integer", "default": 2},
            "c": {"type": "string", "default": "x"},
        },
        "required": ["a"],
        "additionalProperties": {"type": "number"},
    }
    box = Toolbox([f])
    assert box.execute({"name": "f", "arguments": {"a": 1, "z": 2}}).content == "1 2 x [('z', 2.0)]"
    assert box.execute({"name": "f", "arguments": {"a": 1, "z": "q"}}).error == (
        "invalid arguments for 'f': argument 'z': 'q' is not of type 'number'"
    )


def test_partials_bound_methods_and_async_callables() -> None:
    import functools

    def sub(a: int, b: int) -> int:
        """Subtract."""
        return a - b

    p = tool(functools.partial(sub, b=1))
    assert (p.name, p.description) == ("sub", "Subtract.")
    assert p.parameters["properties"]["b"] == {"type": "integer", "default": 1}

    class Counter:
        def __init__(self) -> None:
            self.n = 0

        def bump(self, by: int = 1) -> int:
            self.n += by
            return self.n

        async def __call__(self, x: int) -> int:
            return x * 2

    c = Counter()
    with pytest.raises(ToolSchemaError, match="unbound method"):
        tool(Counter.bump)
    doubler = tool(c, name="double")
    assert doubler.is_async is True
    box = Toolbox([p, tool(c.bump), doubler])
    obs = box.execute_many(
        [
            {"name": "sub", "arguments": {"a": 5}},
            {"name": "bump", "arguments": {"by": 3}},
            {"name": "double", "arguments": {"x": 4}},
        ]
    )
    assert [o.content for o in obs] == ["4", "3", "8"]


def test_sync_function_returning_a_coroutine_is_awaited() -> None:
    async def inner(x: int) -> int:
        await asyncio.sleep(0.01)
        return x + 1

    def wrapper(x: int):  # noqa: ANN202 - returns a coroutine
        return inner(x)

    obs = Toolbox([tool(wrapper)]).execute({"name": "wrapper", "arguments": {"x": 1}})
    assert (obs.ok, obs.content) == (True, "2")
