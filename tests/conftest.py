from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def default_engine():
    """The embedded default model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M) on llama.cpp, loaded once."""
    from calltune.engines import load_engine

    eng = load_engine()
    yield eng
    eng.close()


class _Shared:
    """The session's engine for every command of the module; closing it is left to the session."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def close(self) -> None:
        pass


@pytest.fixture(scope="session")
def calltune(default_engine):  # noqa: ANN001, ANN201
    """``calltune(args, cwd)`` → (CliRunner result, the Agent's RunResult): a ``calltune`` command
    run in-process (typer's CliRunner) on the session's default engine, from ``cwd`` (where
    ``examples/`` links to the checkout's), with the one Agent run it made recorded."""
    from typer.testing import CliRunner

    import calltune.cli as cli
    from calltune.agent import Agent

    runs: list[Any] = []
    agent_run = Agent.run

    def recorded(self, *a: Any, **kw: Any) -> Any:
        result = agent_run(self, *a, **kw)
        runs.append(result)
        return result

    def invoke(args: list[str], cwd: Path) -> tuple[Any, Any]:
        runs.clear()
        # the commands run as from a checkout: its examples/ there, the files they write here
        (cwd / "examples").symlink_to(ROOT / "examples")
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(cwd)
            mp.setattr(cli, "engine_from_options", lambda *a, **kw: _Shared(default_engine))
            mp.setattr(Agent, "run", recorded)
            result = CliRunner().invoke(cli.app, args, catch_exceptions=False)
        sys.stderr.write(result.output)
        assert result.exit_code == 0, result.output
        assert len(runs) == 1
        return result, runs[0]

    return invoke


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer random Llama (``build_tiny_llama``) as an f32 GGUF, alone in its directory."""
    pytest.importorskip("transformers")
    from calltune.testing.models import build_tiny_llama
    from calltune.train.export import ExportError, _convert, find_converter

    try:
        script = find_converter()
    except ExportError as e:
        pytest.skip(str(e))
    d = tmp_path_factory.mktemp("tiny_gguf")
    out = d / "files" / "tiny.gguf"
    out.parent.mkdir()
    _convert(script, build_tiny_llama(d / "hf"), out, "f32")
    return out
