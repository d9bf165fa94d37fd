"""Engines: llama.cpp (GGUF), transformers, OpenAI-compatible remote, scripted (tests)."""

from .base import Chunk, Completion, ContextLengthError, Engine, EngineError, SamplingParams
from .scripted import ScriptedEngine

__all__ = [
    "Chunk",
    "Completion",
    "ContextLengthError",
    "Engine",
    "EngineError",
    "SamplingParams",
    "ScriptedEngine",
    "load_engine",
]


def load_engine(model: str | None = None, **kwargs):  # noqa: ANN201
    """Load an engine for ``model`` (None = the embedded default GGUF). See calltune.engines.loader."""
    from .loader import load_engine as _load

    return _load(model, **kwargs)
