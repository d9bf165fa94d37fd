"""The top-level ``calltune`` commands (run, chat, prompt), the shared options and their helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import calltune.agent
import calltune.engines as engines
from calltune import cli_options
from calltune.cli import app
from calltune.engines.scripted import ScriptedEngine

CALL = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "6*7"}}\n</tool_call>'


def _engine_loader(outputs: list[str], seen: dict[str, Any]):
    def load(model: str | None = None, **kw: Any) -> ScriptedEngine:
        seen.update(model=model, **kw)
        return ScriptedEngine(outputs)

    return load


def test_run_calls_the_tool_and_prints_the_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(engines, "load_engine", _engine_loader([CALL, "It is 42."], seen))
    args = ["run", "--json", "-b", "calculator", "-m", "m.gguf", "--engine", "llamacpp", "--n-ctx", "2048"]
    r = CliRunner().invoke(app, [*args, "--no-relevance", "--no-continue", "-f", "hermes", "What is 6*7?"])
    assert r.exit_code == 0, r.output
    trace = json.loads(r.stdout)
    assert trace["answer"] == "It is 42."
    tool_messages = [m for m in trace["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in tool_messages] == ["42"]
    assert seen == {"model": "m.gguf", "engine": "llamacpp", "n_ctx": 2048}


class _FakeAgent:
    """Stands in for calltune.agent.Agent: records how the CLI built it and what it was asked."""

    made: list[_FakeAgent] = []

    def __init__(self, engine: Any, toolbox: Any, **kw: Any) -> None:
        self.engine, self.toolbox, self.kw, self.asked = engine, toolbox, kw, []
        self.format = type("F", (), {"name": kw.get("format") or "hermes"})()
        _FakeAgent.made.append(self)

    def run(self, question: Any, history: Any = None) -> Any:
        self.asked.append((question, list(history or [])))
        trace = type("T", (), {"stopped": "answer", "error": None})()
        messages = [{"role": "user", "content": question}, {"role": "assistant", "content": "ok"}]
        return type(
            "R", (), {"answer": "ok", "messages": messages, "trace": trace, "to_json": lambda s: "{}"}
        )()


@pytest.fixture
def fake_agent(monkeypatch: pytest.MonkeyPatch) -> type[_FakeAgent]:
    _FakeAgent.made = []
    monkeypatch.setattr(calltune.agent, "Agent", _FakeAgent)
    monkeypatch.setattr(engines, "load_engine", lambda model=None, **kw: ScriptedEngine(["x"]))
    return _FakeAgent


def test_run_passes_its_options_to_the_agent(fake_agent: type[_FakeAgent]) -> None:
    args = ["run", "q", "--tool-choice", "calculator", "-b", "calculator", "--no-guided", "--max-steps", "3"]
    args += ["--max-tokens", "99", "--temperature", "0.5", "--seed", "7", "--system", "Be brief."]
    r = CliRunner().invoke(app, [*args, "--no-relevance"])
    assert r.exit_code == 0, r.output
    (agent,) = fake_agent.made
    kw = agent.kw
    assert kw["tool_choice"] == {"type": "function", "function": {"name": "calculator"}}
    assert (kw["guided"], kw["max_steps"], kw["check_relevance"], kw["continue_calls"]) == (
        False,
        3,
        False,
        True,
    )
    assert (kw["params"].max_tokens, kw["params"].temperature, kw["params"].seed) == (99, 0.5, 7)
    assert kw["system"] == "Be brief." and kw["format"] is None
    assert agent.toolbox.names() == ["calculator"] and agent.asked == [("q", [])]
    assert "ok" in r.stdout


def test_run_defaults(fake_agent: type[_FakeAgent]) -> None:
    r = CliRunner().invoke(app, ["run", "q"])
    assert r.exit_code == 0, r.output
    kw = fake_agent.made[0].kw
    assert (kw["tool_choice"], kw["guided"], kw["max_steps"], kw["params"].max_tokens) == (
        "auto",
        None,
        8,
        512,
    )
    assert kw["check_relevance"] is True and kw["continue_calls"] is True


def test_chat_keeps_history_until_reset(fake_agent: type[_FakeAgent]) -> None:
    r = CliRunner().invoke(
        app, ["chat", "--no-continue", "-f", "glm4"], input="hi\nagain\n/reset\nnew\n/exit\n"
    )
    assert r.exit_code == 0, r.output
    (agent,) = fake_agent.made
    assert agent.kw["format"] == "glm4" and agent.kw["continue_calls"] is False
    assert [q for q, _ in agent.asked] == ["hi", "again", "new"]
    assert [len(h) for _, h in agent.asked] == [0, 2, 0]
    assert "history cleared" in r.output


def test_upload_turns_on_the_code_interpreter(
    fake_agent: type[_FakeAgent], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from calltune.sandbox import Sandbox

    closed: list[Any] = []
    close = Sandbox.close
    monkeypatch.setattr(Sandbox, "close", lambda self: (closed.append(self), close(self)))
    data = tmp_path / "orders.csv"
    data.write_text("a,b\n1,2\n")
    r = CliRunner().invoke(app, ["run", "q", "-b", "calculator", "--upload", str(data), "--system", "Hi."])
    assert r.exit_code == 0, r.output
    kw = fake_agent.made[0].kw
    assert fake_agent.made[0].toolbox.names() == ["calculator", "python"]
    assert kw["system"].startswith("Hi.\n\n") and "orders.csv" in kw["system"]
    assert kw["format"].name == "hermes"  # the engine's format, with ```python answers run as code
    assert len(closed) == 1


def test_a_model_that_cannot_be_loaded_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(model: str | None = None, **kw: Any) -> Any:
        raise FileNotFoundError(f"no model at {model}")

    monkeypatch.setattr(engines, "load_engine", missing)
    r = CliRunner().invoke(app, ["run", "-m", "nope.gguf", "q"])
    assert r.exit_code == 2 and "error: no model at nope.gguf" in r.output


def test_a_bad_tools_file_exits_2(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["run", "--tools", str(tmp_path / "nope.py"), "q"])
    assert r.exit_code == 2 and "error:" in r.output and "nope.py" in r.output


def test_prompt_renders_the_tools_in_the_format() -> None:
    r = CliRunner().invoke(app, ["prompt", "-b", "calculator", "-f", "hermes", "--system", "S.", "Q?"])
    assert r.exit_code == 0, r.output
    assert "<tools>" in r.stdout and '"calculator"' in r.stdout and "Q?" in r.stdout and "S." in r.stdout


def _commands(cmd: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = [(path, cmd)]
    for name, sub in getattr(cmd, "commands", {}).items():
        found += _commands(sub, (*path, name))
    return found


def test_every_command_has_help() -> None:
    commands = _commands(typer.main.get_command(app))
    names = {" ".join(p) for p, _ in commands}
    assert {"run", "chat", "prompt", "serve", "eval bfcl", "tools call", "guided show"} <= names
    for path, _ in commands:
        r = CliRunner().invoke(app, [*path, "--help"])
        assert r.exit_code == 0, (path, r.output)


def _alias_helps() -> dict[str, set[str]]:
    """Long option name -> the help texts of the aliases in calltune.cli_options that declare it."""
    helps: dict[str, set[str]] = {}
    for value in vars(cli_options).values():
        info = getattr(value, "__metadata__", (None,))[0]
        if isinstance(info, typer.models.OptionInfo):
            for decl in (info.default, *info.param_decls):
                if isinstance(decl, str) and decl.startswith("--"):
                    helps.setdefault(decl.split("/")[0], set()).add(info.help)
    return helps


def test_shared_options_have_one_declaration() -> None:
    helps = _alias_helps()
    assert {"--model", "--engine", "--format", "--n-ctx", "--guided", "--max-tokens", "--json"} <= set(helps)
    checked = 0
    for path, cmd in _commands(typer.main.get_command(app)):
        callback = getattr(cmd, "callback", None)
        if getattr(callback, "__module__", "").startswith("calltune.train"):  # generated from its config
            continue
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt in helps:
                    assert param.help in helps[opt], (path, opt, param.help)
                    checked += 1
    assert checked > 30


@dataclass
class _Pair:
    a: cli_options.ModelOpt = None
    b: cli_options.MaxTokensOpt = 5


def test_option_group_turns_a_dataclass_into_options() -> None:
    got: list[Any] = []
    sub = typer.Typer()

    @sub.command()
    @cli_options.option_group(_Pair)
    def cmd(word: str, opts: _Pair, loud: bool = False) -> None:
        got.append((word, opts, loud))

    @sub.command()
    def other() -> None: ...

    r = CliRunner().invoke(sub, ["cmd", "hi", "--max-tokens", "9", "--loud", "-m", "x"])
    assert r.exit_code == 0, r.output
    assert got == [("hi", _Pair(a="x", b=9), True)]
    assert CliRunner().invoke(sub, ["cmd", "hi"]).exit_code == 0 and got[-1] == ("hi", _Pair(), False)
    with pytest.raises(TypeError, match="no parameter 'opts'"):
        cli_options.option_group(_Pair)(lambda word: None)


def _script(tmp_path: Path, outputs: list[str]) -> str:
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"outputs": outputs}))
    return str(path)


def test_run_writes_the_answer_once_to_stdout_and_the_progress_to_stderr(tmp_path: Path) -> None:
    args = ["run", "--engine", "scripted", "-m", _script(tmp_path, [CALL, "yes", "It is 42."])]
    r = CliRunner().invoke(app, [*args, "-b", "calculator", "--no-continue", "What is 6*7?"])
    assert r.exit_code == 0, r.output
    assert r.stdout == "It is 42.\n"  # plain, once, no panel
    assert "→ call calculator" in r.stderr and "← calculator: 42" in r.stderr


def test_chat_runs_on_a_script_and_prints_each_answer_once(tmp_path: Path) -> None:
    args = ["chat", "--engine", "scripted", "-m", _script(tmp_path, ["Hello!", "Bye!"]), "--no-continue"]
    r = CliRunner().invoke(app, args, input="hi\nagain\n/exit\n")
    assert r.exit_code == 0, r.output
    assert r.stdout.count("Hello!") == 1 and r.stdout.count("Bye!") == 1


def test_a_missing_script_exits_2(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["run", "--engine", "scripted", "-m", str(tmp_path / "none.json"), "q"])
    assert r.exit_code == 2 and "cannot read the script" in r.output
