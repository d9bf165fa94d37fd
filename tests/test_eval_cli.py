from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import typer
from eval_fixtures import write_data
from typer.testing import CliRunner

pytest.importorskip("bfcl_eval")

from calltune.engines.openai_remote import OpenAIRemoteEngine  # noqa: E402
from calltune.engines.scripted import ScriptedEngine  # noqa: E402
from calltune.eval.cli import register  # noqa: E402
from calltune.eval.systems import OpenAIEndpointSystem  # noqa: E402


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None: ...

    register(app)
    return app


def test_cli_bfcl_then_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = write_data(tmp_path / "data")
    call = '<tool_call>\n{"name": "weather_temperature", "arguments": {"city": "Oslo"}}\n</tool_call>'
    import calltune.engines as engines

    monkeypatch.setattr(engines, "load_engine", lambda model=None, **kw: ScriptedEngine([call], cycle=True))
    runner = CliRunner()
    out = tmp_path / "run"
    args = ["eval", "bfcl", "--data-dir", str(data), "-c", "parallel,irrelevance", "--format", "hermes"]
    r = runner.invoke(_app(), [*args, "--out", str(out)])
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    cats = summary["systems"]["calltune"]["categories"]
    assert (cats["parallel"]["correct"], cats["parallel"]["error_types"]) == (
        0,
        {"parallel_function_checker_no_order:wrong_count": 1},
    )
    assert (cats["irrelevance"]["correct"], cats["irrelevance"]["error_types"]) == (
        0,
        {"irrelevance_error:decoder_success": 1},
    )
    assert json.loads((out / "run.json").read_text())["categories"] == ["parallel", "irrelevance"]
    r = runner.invoke(_app(), ["eval", "report", str(out), str(out), "--out", str(tmp_path / "rep")])
    assert r.exit_code == 0, r.output
    assert "| category | run/calltune | run/calltune#2 |" in r.output
    assert "| parallel | 0.0 % (0/1) | 0.0 % (0/1) |" in r.output
    assert (tmp_path / "rep" / "accuracy.png").is_file()
    r = runner.invoke(_app(), ["eval", "report", str(out), str(out), "--only", "run/calltune#2"])
    assert r.exit_code == 0 and "| category | run/calltune#2 |" in r.output
    r = runner.invoke(
        _app(), ["eval", "rescore", str(out), "--from", "calltune", "--as", "re", "--data-dir", str(data)]
    )
    assert r.exit_code == 0, r.output
    assert "| category | calltune | re |" in r.output
    r = runner.invoke(
        _app(), ["eval", "rescore", str(out), "--from", "nope", "--as", "x", "--data-dir", str(data)]
    )
    assert r.exit_code == 2 and "no system 'nope'" in r.output
    r = runner.invoke(_app(), [*args[:-2], "-c", "simple_cobol", "--out", str(out)])
    assert r.exit_code == 2 and "unknown BFCL category 'simple_cobol'" in r.output
    r = runner.invoke(
        _app(), ["eval", "bfcl", "-c", "memory_kv", "--memory-scenarios", "weather", "--out", str(out)]
    )
    assert r.exit_code == 2 and "unknown memory scenario" in r.output and "notetaker" in r.output


def test_endpoint_system_speaks_openai_chat_completions(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict] = []
    auth: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        auth.append(request.headers.get("authorization"))
        if request.url.path == "/v1/models":
            return httpx.Response(200, json={"data": [{"id": "m1"}]})
        body = json.loads(request.content)
        seen.append(body)
        assert request.headers["authorization"] == "Bearer k"
        msg = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "x", "type": "function", "function": {"name": "f", "arguments": '{"a": [1, 2]}'}}
            ],
        }
        return httpx.Response(
            200,
            json={
                "choices": [{"message": msg, "finish_reason": "tool_calls"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 3},
            },
        )

    s = OpenAIEndpointSystem("http://127.0.0.1:9", api_key="k", transport=httpx.MockTransport(handler))
    assert (s.model, s.name) == ("m1", "endpoint:m1")
    tools = [
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    ]
    out = s.answer([{"role": "user", "content": "q"}], tools)
    assert seen[0]["tool_choice"] == "auto" and seen[0]["model"] == "m1" and seen[0]["temperature"] == 0.0
    assert [(c.name, c.arguments) for c in out.calls] == [("f", {"a": [1, 2]})]
    assert (out.prompt_tokens, out.completion_tokens) == (5, 3)
    assert out.finish_reason == "tool_calls" and out.calls[0].id == "x" and out.parse_errors == []
    assert json.loads(out.raw) == [
        {"id": "x", "type": "function", "function": {"name": "f", "arguments": '{"a": [1, 2]}'}}
    ]
    assert json.loads(out.prompt) == [{"role": "user", "content": "q"}]
    # the request goes through the remote engine; the endpoint only gets the key given here
    assert isinstance(s.engine, OpenAIRemoteEngine) and s.base_url == "http://127.0.0.1:9/v1"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    auth.clear()
    OpenAIEndpointSystem("http://127.0.0.1:9/v1", model="m1", transport=httpx.MockTransport(handler))
    assert auth == [None]


def test_a_model_that_cannot_be_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import calltune.engines as engines
    from calltune.eval.cli import build_systems

    def missing(model=None, **kw):
        raise FileNotFoundError(f"no model at {model}")

    monkeypatch.setattr(engines, "load_engine", missing)
    data = write_data(tmp_path / "data")
    args = ["eval", "bfcl", "--data-dir", str(data), "-c", "parallel", "-m", "gone.gguf", "--n-ctx", "64"]
    r = CliRunner().invoke(_app(), [*args, "--out", str(tmp_path / "run")])
    assert r.exit_code == 2 and "error: no model at gone.gguf" in r.output
    kw = dict(engine=None, format=None, endpoint=None, endpoint_model=None, api_key=None, max_tokens=8)
    with pytest.raises(FileNotFoundError):  # outside a command it raises instead of exiting
        build_systems(["calltune"], model="gone.gguf", **kw)
