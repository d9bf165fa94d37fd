"""The README's example commands, run exactly as the README writes them, on the real default model.

Each test takes its command line from README.md (so the README is what is tested), runs it through
the ``calltune`` command (typer's CliRunner on :data:`calltune.cli.app`) and checks the answer it
prints. One model load for the module: the command's engine loader hands out the session's
default engine, and the Agent's results are recorded so a test can also read the trace.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
pytestmark = pytest.mark.model


def readme_command(start: str) -> list[str]:
    """The arguments of the one README line that starts with ``start`` (its comment cut off)."""
    lines = [ln.strip() for ln in README.splitlines() if ln.strip().startswith(start)]
    assert len(lines) == 1, f"expected one README line starting with {start!r}, found {lines}"
    args = shlex.split(lines[0], comments=True)
    assert args[0] == "calltune", lines[0]
    return args[1:]


def weather(city: str) -> dict[str, Any]:
    """What examples/weather.py returns for ``city`` (its readings are a hash of the name)."""
    from calltune.tools import load_tools_file

    (tool,) = load_tools_file(ROOT / "examples" / "weather.py")
    return tool(city)


def numbers(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in re.findall(r"-?\d[\d,]*(?:\.\d+)?", text)]


def test_readme_weather_in_boston(calltune, tmp_path: Path) -> None:  # noqa: ANN001
    result, run = calltune(
        readme_command('calltune run --tools examples/weather.py "What\'s the weather like in Boston?"'),
        tmp_path,
    )
    calls = run.trace.tool_calls
    assert (
        calls
        and calls[0]["name"] == "get_current_weather"
        and "boston" in calls[0]["arguments"]["location"].lower()
    )
    assert [v["fits"] for v in run.trace.steps[0].relevance] == [True]
    assert weather("Boston")["temperature"] in numbers(result.stdout), result.stdout


def test_readme_weather_in_two_cities(calltune, tmp_path: Path) -> None:  # noqa: ANN001
    result, run = calltune(
        readme_command("calltune run --tools examples/weather.py \"What's the weather in Boston and"),
        tmp_path,
    )
    first = run.trace.steps[0]
    places = sorted(c["arguments"]["location"].lower() for c in first.tool_calls)
    assert len(places) == 2 and "boston" in places[0] and "tokyo" in places[1], first.tool_calls
    said = numbers(result.stdout)
    for city in ("Boston", "Tokyo"):
        assert weather(city)["temperature"] in said, (city, result.stdout)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("calltune run --builtin calculator --builtin datetime", 399.5),
        ('calltune run --builtin calculator "What is (12.5', 59.25),
        ('calltune run --builtin calculator "What is the square root of 1764', 50),
    ],
    ids=["percent", "brackets", "root"],
)
def test_readme_calculator(calltune, tmp_path: Path, start: str, expected: float) -> None:  # noqa: ANN001
    result, run = calltune(readme_command(start), tmp_path)
    assert [c["name"] for c in run.trace.tool_calls][:1] == ["calculator"], run.trace.tool_calls
    assert expected in numbers(result.stdout), result.stdout


def test_readme_missing_values(calltune, tmp_path: Path) -> None:  # noqa: ANN001
    rows = [
        {"order_id": 1, "city": "Lyon", "price": 12.5},
        {"order_id": 2, "city": "Oslo", "price": None},
        {"order_id": 3, "city": "Quito", "price": 8.0},
        {"order_id": 4, "city": None, "price": 3.2},
        {"order_id": 5, "city": "Hanoi", "price": None},
        {"order_id": 6, "city": "Perth", "price": 41.0},
    ]
    args = readme_command("calltune run --builtin python --upload data.jsonl")
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result, run = calltune(args, tmp_path)
    cells = [o for s in run.trace.steps for o in s.observations if o["name"] == "python"]
    assert cells and not all("Error" in o["content"] for o in cells), cells
    answer = result.stdout.lower()
    # the README asks whether there are any (price has 2, city 1, order_id none)
    assert re.search(r"\b(yes|has|have|contains?|there are)\b", answer), answer
    assert re.search(r"missing|null|nan", answer), answer
    assert not re.search(r"\b(no|not|without)\b[^.]{0,20}\bmissing", answer), answer
    assert not re.search(r"order_id\D{0,20}\b[1-9]", answer), answer


def test_readme_plot_leaves_a_png(calltune, tmp_path: Path) -> None:  # noqa: ANN001
    from PIL import Image

    result, _ = calltune(readme_command('calltune run --builtin python "Draw'), tmp_path)
    printed = re.findall(r"saved (\S+\.png)", result.output)
    assert printed, result.output
    for path in printed:
        assert Path(path).is_relative_to(tmp_path / "calltune-out"), path
        with Image.open(path) as im:
            assert im.format == "PNG" and im.size[0] >= 100
