from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from calltune.formats.cli import register


def make_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:  # a group, as in calltune's own app
        pass

    register(app)
    return app


def test_formats_cli_list_render_parse(tmp_path):
    app, runner = make_app(), CliRunner()
    res = runner.invoke(app, ["formats", "list"])
    assert res.exit_code == 0 and res.output.split() == ["chatglm3", "hermes", "glm4"]

    d = tmp_path / "d.json"
    d.write_text(json.dumps([{"role": "user", "content": "hi"}]))
    res = runner.invoke(app, ["formats", "render", str(d), "-f", "chatglm3"])
    assert res.exit_code == 0 and res.output == "<|user|>\nhi<|assistant|>\n"

    o = tmp_path / "o.txt"
    o.write_text('<tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call>')
    res = runner.invoke(app, ["formats", "parse", str(o), "-t", "f"])
    doc = json.loads(res.output)
    assert doc["content"] == "" and [(c["name"], c["arguments"]) for c in doc["tool_calls"]] == [
        ("f", {"a": 1})
    ]

    bad = tmp_path / "bad.json"
    bad.write_text("{")
    res = runner.invoke(app, ["formats", "render", str(bad)])
    assert res.exit_code != 0 and "cannot read" in res.output
