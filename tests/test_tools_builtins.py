"""Built-in tools: the ast calculator, current_datetime and the registry."""

import math
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from calltune.tools import (
    Tool,
    Toolbox,
    UnknownBuiltinError,
    get_builtin,
    list_builtins,
    register_builtin,
    tool,
)
from calltune.tools import builtins as b
from calltune.tools.builtins import evaluate


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("-7 % 3", 2),
        ("2 ** 10", 1024),
        ("2 ^ 10", 1024),
        ("-(3 - 5)", 2),
        ("+4", 4),
        ("sqrt(16) + abs(-2)", 6.0),
        ("log(e)", 1.0),
        ("log(8, 2)", 3.0),
        ("log10(1000)", 3.0),
        ("round(2.567, 2)", 2.57),
        ("max(1, 5, 3) - min(4, 2)", 3),
        ("factorial(5)", 120),
        ("2 ** -1", 0.5),
        ("1e3 + 0.5", 1000.5),
        ("3 × 4 ÷ 2", 6.0),
    ],
)
def test_calculator_values(expression: str, value: float) -> None:
    result = evaluate(expression)
    assert result == value
    assert type(result) is type(value)


def test_calculator_trig_and_constants() -> None:
    assert evaluate("sin(pi / 2)") == 1.0
    assert evaluate("cos(0) + tau / (2 * pi)") == 2.0
    assert math.isclose(evaluate("atan2(1, 1) * 4"), math.pi)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "function '__import__' is not allowed"),
        ("().__class__", "attribute access is not allowed"),
        ("math.pi", "attribute access is not allowed"),
        ("9**9**9", "result too large"),
        ("10 ** 100000", "result too large"),
        ("x + 1", "unknown name 'x'"),
        ("'a' * 3", "only numbers are allowed"),
        ("True + 1", "only numbers are allowed"),
        ("[1, 2]", "List is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("1 if 1 else 2", "IfExp is not allowed"),
        ("1 < 2", "Compare is not allowed"),
        ("1 / 0", "division by zero"),
        ("10.0 ** 400", "numeric overflow"),
        ("(-8) ** 0.5", "complex number"),
        ("sqrt(x=4)", "positional arguments only"),
        ("factorial(100000)", "limited to n <= 1000"),
        ("1 +", "not a valid expression"),
        ("", "empty expression"),
        ("1+" * 600 + "1", "longer than 1000 characters"),
        ("-" * 200 + "1", "nested too deeply"),
        ("1 << 100000", "operator '<<' is not allowed"),
        ("~1", "operator '~' is not allowed"),
        ("__import__('os').system('true')", "attribute access is not allowed"),
    ],
)
def test_calculator_refusals(expression: str, message: str) -> None:
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        evaluate(expression)
    assert time.perf_counter() - t0 < 0.5


def test_calculator_through_toolbox() -> None:
    box = Toolbox([get_builtin("calculator")])
    assert box.execute({"name": "calculator", "arguments": {"expression": "(3 + 4) * 6"}}).content == "42"
    bad = box.execute({"name": "calculator", "arguments": {"expression": "__import__('os')"}})
    assert bad.ok is False
    assert bad.content.startswith(
        "Error: tool 'calculator' raised ValueError: function '__import__' is not allowed"
    )


def test_current_datetime(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed = datetime(2024, 3, 1, 8, 30, 5, tzinfo=ZoneInfo("UTC"))
    monkeypatch.setattr(b, "_now", lambda tz=None: fixed.astimezone(tz) if tz else fixed)
    assert b.current_datetime("Asia/Shanghai") == {
        "datetime": "2024-03-01T16:30:05+08:00",
        "date": "2024-03-01",
        "time": "16:30:05",
        "weekday": "Friday",
        "timezone": "Asia/Shanghai",
    }
    local = b.current_datetime()
    assert local["date"] == "2024-03-01"
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        b.current_datetime("Mars/Olympus")


def test_datetime_builtin_spec() -> None:
    t = get_builtin("datetime")
    assert t.name == "current_datetime"
    assert t.parameters == {
        "type": "object",
        "properties": {
            "timezone": {
                "type": ["string", "null"],
                "description": "IANA time zone such as 'Asia/Shanghai' or 'UTC'; default: local time",
                "default": None,
            }
        },
    }


def test_registry() -> None:
    assert {"browser", "calculator", "datetime", "python"} <= set(list_builtins())
    assert get_builtin("calculator") is b.calculator

    def factory(greeting: str = "hi") -> Tool:
        @tool(name="greet")
        def greet(name: str) -> str:
            return f"{greeting} {name}"

        return greet

    register_builtin("test_greet", factory)
    try:
        assert get_builtin("test_greet", greeting="hello")("Ada") == "hello Ada"
        with pytest.raises(ValueError, match="already registered"):
            register_builtin("test_greet", factory)
        register_builtin("test_greet", factory, replace=True)
    finally:
        b._FACTORIES.pop("test_greet", None)
    with pytest.raises(
        UnknownBuiltinError, match="unknown built-in tool 'nope'; available: browser, calculator, datetime"
    ):
        get_builtin("nope")
