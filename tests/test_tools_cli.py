"""``calltune tools`` commands (registered on a bare typer app)."""

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from calltune.tools.cli import register

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
runner = CliRunner()


def make_app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command()
    def noop() -> None:  # a second command keeps typer in multi-command mode
        pass

    return app


def test_show_json() -> None:
    result = runner.invoke(
        make_app(), ["tools", "show", str(EXAMPLES / "weather_zh.py"), "-b", "calculator", "--json"]
    )
    assert result.exit_code == 0, result.output
    specs = json.loads(result.stdout)
    assert [s["function"]["name"] for s in specs] == ["查询天气", "calculator"]


def test_show_table() -> None:
    result = runner.invoke(make_app(), ["tools", "show", str(EXAMPLES / "weather.py")])
    assert result.exit_code == 0, result.output
    assert "get_current_weather" in result.stdout
    assert "location*: string" in result.stdout


def test_call_ok_and_failure_exit_codes() -> None:
    ok = runner.invoke(
        make_app(), ["tools", "call", "calculator", '{"expression": "6*7"}', "-b", "calculator"]
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["content"] == "42"
    bad = runner.invoke(make_app(), ["tools", "call", "calculator", '{"expr": "1"}', "-b", "calculator"])
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["error"] == (
        "invalid arguments for 'calculator': unexpected argument 'expr' (accepted: expression); "
        "missing required argument 'expression'"
    )


def test_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    result = runner.invoke(make_app(), ["tools", "show", str(tmp_path / "nope.py")])
    assert result.exit_code == 2
    assert "tools file not found" in result.output


def test_the_commands_in_the_examples_docstrings_work(monkeypatch) -> None:
    import ast
    import shlex

    from calltune.cli import app

    monkeypatch.chdir(EXAMPLES.parent)  # the docstrings name the files from the repository root
    ran = []
    for path in sorted(EXAMPLES.glob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        for line in doc.splitlines():
            if line.strip().startswith("calltune tools "):
                args = shlex.split(line.strip())[1:]
                result = runner.invoke(app, args)
                assert result.exit_code == 0, (path.name, line, result.output)
                if args[1] == "call":
                    assert json.loads(result.stdout)["ok"] is True, line
                ran.append(args[1])
    assert ran.count("call") >= 2 and "show" in ran
