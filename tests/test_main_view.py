"""How ``calltune run`` / ``chat`` print an agent's events (:class:`calltune.cli_view.AgentView`)."""

from __future__ import annotations

import io
import json

from rich.console import Console

from calltune.cli_view import MAX_OBSERVATION_LINES, AgentView
from calltune.types import ToolCall


def _view(width: int = 60, text: bool = True) -> tuple[AgentView, io.StringIO]:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=False, color_system=None)
    return AgentView(console, True if text else None), buf


def test_a_short_json_observation_is_one_line() -> None:
    view, buf = _view()
    view("observation", {"name": "w", "content": json.dumps({"t": 22, "unit": "c"}), "ok": True})
    assert buf.getvalue() == '← w: {"t": 22, "unit": "c"}\n'


def test_a_wide_json_observation_is_indented_and_cut_at_the_width_never_wrapped() -> None:
    view, buf = _view(width=40)
    value = {"city": "Oslo", "note": "word " * 30, "items": list(range(30))}
    view("observation", {"name": "lookup", "content": json.dumps(value), "ok": True})
    lines = buf.getvalue().splitlines()
    assert lines[0] == "← lookup: "
    assert lines[1:4] == ["  {", '    "city": "Oslo",', lines[3]]
    assert lines[3].startswith('    "note": "word word') and lines[3].endswith("…") and len(lines[3]) == 40
    assert lines[4] == '    "items": ['  # the next key starts its own line: nothing wrapped
    assert len(lines) == 1 + MAX_OBSERVATION_LINES + 1 and lines[-1] == "  … (24 more lines)"


def test_text_observations_wrap_as_text_and_are_clipped() -> None:
    view, buf = _view(width=40)
    view("observation", {"name": "browser", "content": "lorem ipsum " * 200, "ok": False})
    out = buf.getvalue()
    assert out.startswith("← browser: \nlorem ipsum")
    assert out.endswith("  … (1,600 more characters)\n") and len(out) < 1100


def test_saved_files_of_the_code_interpreter_get_their_own_lines() -> None:
    view, buf = _view(width=30)
    content = "3\n[image saved: /mnt/data/figure_1.png · copy for the user: /home/u/out/figure_1.png]"
    view("observation", {"name": "python", "content": content, "ok": True})
    assert buf.getvalue() == "← python: 3\n  ↳ saved /home/u/out/figure_1.png\n"
    assert view.files == ["/home/u/out/figure_1.png"]


def test_text_is_streamed_and_an_answer_is_known_as_shown() -> None:
    view, buf = _view()
    view("step", 0)
    for piece in ["It is ", "42."]:
        view("text", piece)
    view("answer", "It is 42.")
    assert buf.getvalue() == "It is 42.\n" and view.shown("It is 42.")
    view("step", 1)
    assert not view.shown("It is 42.")  # a new turn streamed nothing yet
    view("call", ToolCall("calculator", {"expression": "6*7"}))
    view.close()
    assert buf.getvalue().endswith('→ call calculator({"expression": "6*7"})\n')


def test_without_a_text_console_nothing_is_streamed() -> None:
    view, buf = _view(text=False)
    view("text", "It is 42.")
    view("answer", "It is 42.")
    view.close()
    assert buf.getvalue() == "" and not view.shown("It is 42.")


def test_the_status_line_names_what_runs_on_a_terminal() -> None:
    buf = io.StringIO()
    view = AgentView(Console(file=buf, width=80, force_terminal=True, color_system=None))
    view("step", 0)
    view("relevance", {"state": "start", "functions": ["get_weather"]})
    view("call", ToolCall("get_weather", {"city": "Oslo"}))
    view("call", ToolCall("get_time", {"city": "Oslo"}))
    view.close()
    out = buf.getvalue()
    assert "thinking…" in out and "checking that get_weather fits the question…" in out
    assert "running get_weather, get_time…" in out
