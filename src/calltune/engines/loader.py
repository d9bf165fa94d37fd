"""Pick and load an engine for a model reference.

==========================================  ====================================
``model``                                   engine
==========================================  ====================================
``None`` / ``"default"``                    llama.cpp on the embedded default GGUF
``"gemma-270m"``                            llama.cpp on the Gemma 3 270M GGUF
``path/to/model.gguf``                      llama.cpp (``engine="transformers"``:
                                            transformers with ``gguf_file=``)
a directory (HF model, calltune output)     transformers (a directory holding only
                                            one .gguf file: llama.cpp)
``org/name`` (hub id)                       transformers
``openai:URL``, ``http(s)://...``           OpenAI-compatible remote
a name, with ``engine="openai"``            that model on ``$OPENAI_BASE_URL``
==========================================  ====================================
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import Engine, EngineError

ENGINE_NAMES = {
    "llamacpp": "llamacpp",
    "llama.cpp": "llamacpp",
    "llama_cpp": "llamacpp",
    "gguf": "llamacpp",
    "transformers": "transformers",
    "hf": "transformers",
    "openai": "openai",
    "remote": "openai",
}

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


@dataclass
class EnginePlan:
    """What :func:`load_engine` will do: which engine, on what, with which extra arguments."""

    engine: str  # "llamacpp" | "transformers" | "openai"
    target: str  # a file path, a directory, a hub id, or a base URL
    kwargs: dict[str, Any]


def _engine_name(engine: str | None) -> str | None:
    if engine is None:
        return None
    name = ENGINE_NAMES.get(engine.lower())
    if name is None:
        raise EngineError(f"unknown engine {engine!r}; use one of: llamacpp, transformers, openai")
    return name


def plan_engine(model: str | os.PathLike[str] | None = None, engine: str | None = None) -> EnginePlan:
    """Decide which engine loads ``model`` without loading anything (see the module table).

    Built-in names are resolved (and the default model assembled on first use) here."""
    want = _engine_name(engine)
    ref = os.fspath(model) if model is not None else None

    if ref is not None and (ref.startswith("openai:") or ref.startswith(("http://", "https://"))):
        if want not in (None, "openai"):
            raise EngineError(f"{ref!r} is a server URL; only the openai engine can use it")
        url = ref[len("openai:") :] if ref.startswith("openai:") else ref
        return EnginePlan("openai", url, {})
    if want == "openai":  # a served model's name; the server comes from $OPENAI_BASE_URL
        return EnginePlan("openai", "", {"model": ref} if ref else {})

    from .. import models

    if ref is None or models.is_builtin_name(ref):
        path = models.resolve_model(ref)
        return _plan_file(path, want)

    path = Path(ref).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise EngineError(f"GGUF file not found: {path}")
        return _plan_file(path, want)
    if path.is_dir():
        ggufs = sorted(path.glob("*.gguf"))
        has_hf = (path / "config.json").is_file() or (path / "calltune.json").is_file()
        if not has_hf and len(ggufs) == 1:
            return _plan_file(ggufs[0], want)
        if want == "llamacpp":
            raise EngineError(
                f"{path} is a directory; the llama.cpp engine needs a .gguf file "
                f"({len(ggufs)} .gguf files found there)"
            )
        return EnginePlan("transformers", str(path), {})
    if path.exists():
        raise EngineError(f"{path} is neither a .gguf file nor a model directory")
    if _HUB_ID.match(ref) and not ref.startswith((".", "/", "~")):
        if want == "llamacpp":
            raise EngineError(f"{ref!r} looks like a hub id; the llama.cpp engine needs a local .gguf file")
        return EnginePlan("transformers", ref, {})
    raise EngineError(
        f"model {ref!r} not found: give a .gguf file, a model directory, a hub id (org/name), "
        "an openai:URL, or one of the built-in names (default, gemma-270m)"
    )


def _plan_file(path: Path, want: str | None) -> EnginePlan:
    if want == "transformers":
        return EnginePlan("transformers", str(path.parent), {"gguf_file": path.name})
    return EnginePlan("llamacpp", str(path), {})


def load_engine(
    model: str | os.PathLike[str] | None = None,
    engine: str | None = None,
    n_ctx: int | None = None,
    **kwargs: Any,
) -> Engine:
    """Load an engine for ``model`` (see the module table). ``n_ctx`` sets the context
    window (llama.cpp) or caps it (transformers, remote); other keyword arguments go to
    the engine class (:class:`~calltune.engines.llamacpp.LlamaCppEngine`,
    :class:`~calltune.engines.hf.TransformersEngine`,
    :class:`~calltune.engines.openai_remote.OpenAIRemoteEngine`)."""
    plan = plan_engine(model, engine)
    kw = {**plan.kwargs, **kwargs}
    if plan.engine == "llamacpp":
        from .llamacpp import LlamaCppEngine

        return LlamaCppEngine(plan.target, n_ctx=n_ctx, **kw)
    if plan.engine == "transformers":
        from .hf import TransformersEngine

        return TransformersEngine(plan.target, n_ctx=n_ctx, **kw)
    from .openai_remote import OpenAIRemoteEngine

    return OpenAIRemoteEngine(plan.target or None, n_ctx=n_ctx, **kw)
