"""A deterministic engine that replays scripted outputs; used by tests and the fast suite."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .base import Chunk, ContextLengthError, Engine, EngineError, SamplingParams
from .stops import StopMatcher


class CharTokenizer:
    """One token per character (ids are code points); markers given as specials get ids >= 2**21."""

    def __init__(self, specials: Sequence[str] = ()):
        self._special = {m: (1 << 21) + i for i, m in enumerate(specials)}

    def encode_text(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def special_id(self, marker: str) -> int | None:
        return self._special.get(marker)

    def decode(self, ids: Sequence[int]) -> str:
        inv = {v: k for k, v in self._special.items()}
        return "".join(inv[i] if i in inv else chr(i) for i in ids)


class ScriptedEngine(Engine):
    """Returns ``outputs`` one per call, in order (cycling when ``cycle``), split into
    small chunks, honouring stop strings exactly like a real engine: the text up to the
    first stop string is returned, the stop string is reported in the last chunk.
    Each prompt it received is kept in ``prompts`` (and, with ``record``, appended to that JSONL
    file as ``{"prompt": text}``, for a test that drives the CLI in another process).
    ``delay_s``: seconds before each chunk (a model's time per token, for timing tests and
    benchmarks)."""

    def __init__(
        self,
        outputs: Sequence[str],
        *,
        default_format: str = "hermes",
        chunk_size: int = 3,
        cycle: bool = False,
        context_length: int = 32768,
        model_id: str = "scripted",
        delay_s: float = 0.0,
        record: str | os.PathLike[str] | None = None,
    ):
        self.outputs = list(outputs)
        self.default_format = default_format
        self.chunk_size = chunk_size
        self.cycle = cycle
        self.context_length = context_length
        self.model_id = model_id
        self.delay_s = delay_s
        self.record = Path(record) if record is not None else None
        self.tokenizer = CharTokenizer()
        self.prompts: list[str | list[int]] = []
        self.constraints: list[Any] = []
        self._i = 0

    def stream(
        self, prompt: str | list[int], params: SamplingParams, constraint: Any = None
    ) -> Iterator[Chunk]:
        if self._i >= len(self.outputs):
            if not self.cycle or not self.outputs:
                raise EngineError("ScriptedEngine ran out of scripted outputs")
            self._i = 0
        out = self.outputs[self._i]
        self._i += 1
        self.prompts.append(prompt)
        self.constraints.append(constraint)
        if self.record is not None:
            text = prompt if isinstance(prompt, str) else self.tokenizer.decode(prompt)
            with self.record.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"prompt": text}, ensure_ascii=False) + "\n")
        n_prompt = self.count_tokens(prompt)
        if n_prompt > self.context_length:
            raise ContextLengthError(f"prompt has {n_prompt} tokens, context is {self.context_length}")
        matcher = StopMatcher(params.stop)  # the stop string that starts first wins, as in the engines
        text, hit = matcher.feed(out)
        if hit is None:
            text += matcher.flush()
        finish = "stop"
        if len(text) > params.max_tokens:
            text, hit, finish = text[: params.max_tokens], None, "length"
        pieces = [text[i : i + self.chunk_size] for i in range(0, len(text), self.chunk_size)] or [""]
        for k, p in enumerate(pieces):
            if self.delay_s:
                time.sleep(self.delay_s)
            if k == len(pieces) - 1:
                yield Chunk(
                    p,
                    finish_reason=finish,
                    stop=hit,
                    usage={"prompt_tokens": n_prompt, "completion_tokens": len(text)},
                )
            else:
                yield Chunk(p)


#: the keys a script file may set besides ``outputs`` (:func:`scripted_from_file`)
SCRIPT_KEYS = ("default_format", "chunk_size", "cycle", "context_length", "model_id", "delay_s", "record")


def scripted_from_file(path: str | os.PathLike[str], n_ctx: int | None = None) -> ScriptedEngine:
    """The :class:`ScriptedEngine` a JSON script file describes: ``{"outputs": [...]}`` and any of
    :data:`SCRIPT_KEYS` (``record`` relative to the file's folder). This is ``--engine scripted
    --model FILE``: the CLI replays a script, with no model (tests, demos)."""
    p = Path(path)
    try:
        spec = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise EngineError(f"cannot read the script {p}: {e}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("outputs"), list):
        raise EngineError(f'{p}: a script is a JSON object with an "outputs" list of strings')
    unknown = set(spec) - {"outputs", *SCRIPT_KEYS}
    if unknown:
        raise EngineError(f"{p}: unknown script keys {sorted(unknown)}; use {', '.join(SCRIPT_KEYS)}")
    kw = {k: spec[k] for k in SCRIPT_KEYS if k in spec}
    if "record" in kw:
        kw["record"] = p.parent / kw["record"]
    if n_ctx:
        kw["context_length"] = n_ctx
    return ScriptedEngine([str(o) for o in spec["outputs"]], **kw)
