"""``calltune serve`` options reach :func:`calltune.server.serve`."""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from calltune.server import app as server_app
from calltune.server.cli import register


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        pass

    return app


def test_serve_passes_its_options(monkeypatch) -> None:
    seen: dict[str, Any] = {}

    def fake_serve(model: str | None, **kw: Any) -> None:
        seen.update(model=model, **kw)

    monkeypatch.setattr(server_app, "serve", fake_serve)
    r = CliRunner().invoke(
        _app(),
        [
            "serve",
            "--model",
            "m.gguf",
            "--port",
            "8080",
            "--api-key",
            "KEY",
            "--cors-origin",
            "http://a.test",
            "--ctx",
            "2048",
        ],
    )
    assert r.exit_code == 0, r.output
    assert seen["model"] == "m.gguf" and seen["port"] == 8080 and seen["host"] == "127.0.0.1"
    assert seen["api_key"] == "KEY" and seen["cors"] == ["http://a.test"] and seen["n_ctx"] == 2048
    assert seen["max_body_bytes"] == 4 * 1024 * 1024 and seen["guided"] is None


def test_serve_defaults(monkeypatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(server_app, "serve", lambda model, **kw: seen.update(model=model, **kw))
    monkeypatch.delenv("CALLTUNE_API_KEY", raising=False)
    r = CliRunner().invoke(_app(), ["serve"])
    assert r.exit_code == 0, r.output
    assert (
        seen["model"] is None and seen["port"] == 8000 and seen["api_key"] is None and seen["cors"] is False
    )


def test_serve_takes_the_shared_model_options(monkeypatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(server_app, "serve", lambda model, **kw: seen.update(model=model, **kw))
    args = ["serve", "-m", "x", "--engine", "transformers", "-f", "glm4", "--n-ctx", "512", "--no-guided"]
    r = CliRunner().invoke(_app(), args)
    assert r.exit_code == 0, r.output
    assert (seen["model"], seen["engine_kind"], seen["format"]) == ("x", "transformers", "glm4")
    assert seen["n_ctx"] == 512 and seen["guided"] is False


def test_guided_true_needs_an_engine_that_can_constrain() -> None:
    import pytest

    from calltune.engines import ScriptedEngine

    with pytest.raises(ValueError, match="cannot apply guided decoding"):
        server_app.create_app(ScriptedEngine(["x"]), "hermes", guided=True)
