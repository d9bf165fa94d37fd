"""Loopback networking for tests: free ports and a real server in a thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from calltune.engines import Engine, ScriptedEngine
from calltune.server.background import BackgroundServer, free_port

if TYPE_CHECKING:  # pragma: no cover
    from openai import OpenAI

__all__ = ["BackgroundServer", "free_port", "served"]


@contextmanager
def served(
    outputs: list[str] | Engine, api_key: str | None = None, **kw: Any
) -> Iterator[tuple[Any, OpenAI, BackgroundServer]]:
    """A (scripted) engine behind a real uvicorn server on a free loopback port, and an openai client.

    ``outputs`` is an engine or the outputs of a Hermes :class:`ScriptedEngine`; ``kw`` goes to
    ``create_app`` (default ``format`` Hermes). Yields ``(engine, client, server)``."""
    from openai import OpenAI

    from calltune.formats import get_format
    from calltune.server import create_app

    engine = outputs if isinstance(outputs, Engine) else ScriptedEngine(outputs, default_format="hermes")
    kw.setdefault("format", get_format("hermes"))
    # scripted outputs script every generation: the turn's continuation and relevance check
    # (which generate too) are off unless a test turns them on
    kw.setdefault("check_relevance", False)
    kw.setdefault("continue_calls", False)
    kw.setdefault("ground_arguments", False)
    app = create_app(engine, model_name="test-model", api_key=api_key, **kw)
    with BackgroundServer(app) as srv:
        client = OpenAI(base_url=srv.base_url + "/v1", api_key=api_key or "unused", max_retries=0, timeout=30)
        yield engine, client, srv
