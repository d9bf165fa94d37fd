"""``calltune guided show`` / ``check``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from calltune.guided.cli import register

ADD = [
    {
        "type": "function",
        "function": {
            "name": "add",
            "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
        },
    }
]


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # a group, like calltune's own app
        pass

    register(app)
    return app


def test_show_prints_the_structural_tag(tmp_path: Path) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(ADD))
    res = CliRunner().invoke(_app(), ["guided", "show", "-t", str(tools), "-f", "glm4", "-m", "named:add"])
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    first_call = st["format"]["elements"][0]["elements"][0]  # calls, then <|observation|>
    tag = first_call
    assert tag["begin"] == "add\n" and tag["content"]["json_schema"]["required"] == ["a"]


def test_check_accepts_and_rejects(tmp_path: Path) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(ADD))
    good = '<tool_call>\n{"name": "add", "arguments": {"a": 1}}\n</tool_call>'
    runner = CliRunner()
    res = runner.invoke(_app(), ["guided", "check", "-t", str(tools), "-"], input=good)
    assert (res.exit_code, res.output.strip()) == (0, "allowed")
    res = runner.invoke(_app(), ["guided", "check", "-t", str(tools), "-"], input=good.replace("1", '"1"'))
    assert (res.exit_code, res.output.strip()) == (1, "rejected")
    res = runner.invoke(_app(), ["guided", "show", "-t", str(tools), "-m", "named:nope"])
    assert res.exit_code != 0 and "not among the tools" in res.output
