"""What only the server tests share (the rest is in calltune.testing): a ScriptedEngine that
records its sampling parameters, and the text of a prompt it received."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from calltune.engines import Chunk, SamplingParams
from calltune.testing import ScriptedEngine


class RecordingEngine(ScriptedEngine):
    """A ScriptedEngine that also keeps the sampling parameters of each call."""

    def __init__(self, outputs: list[str], **kw: Any) -> None:
        kw.setdefault("default_format", "hermes")
        super().__init__(outputs, **kw)
        self.params: list[SamplingParams] = []

    def stream(self, prompt: Any, params: SamplingParams, constraint: Any = None) -> Iterator[Chunk]:
        self.params.append(params)
        return super().stream(prompt, params, constraint)


def prompt_text(engine: ScriptedEngine, i: int = -1) -> str:
    p = engine.prompts[i]
    return p if isinstance(p, str) else engine.tokenizer.decode(p)
