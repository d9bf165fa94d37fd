"""The teacher: one engine and its chat format, asked short questions outside the agent loop.

Instruction construction, simulated tool results and the semantic check each send the teacher
one system + user message and read its reply. Every reply carries its tokens and seconds, and
:class:`Teacher` keeps running totals per purpose (thread-safe), for the report.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..engines.base import Engine, SamplingParams, engine_prompt
from ..formats import get_format
from ..formats.base import ChatFormat


@dataclass
class Reply:
    """One teacher generation."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    finish_reason: str
    #: when the generation started (epoch seconds): the report's wall time is the union of these
    started: float = 0.0

    def usage(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "seconds": round(self.seconds, 3),
            "started": round(self.started, 3),
        }


class Teacher:
    """An engine and the chat format its prompts are rendered in (the engine's own by default)."""

    def __init__(self, engine: Engine, format: str | ChatFormat | None = None):
        self.engine = engine
        self.format = get_format(format or getattr(engine, "default_format", None) or "hermes")
        self._lock = threading.Lock()
        self.tokens: Counter[str] = Counter()

    @property
    def model_id(self) -> str:
        return str(getattr(self.engine, "model_id", "") or "")

    def ask(
        self,
        system: str,
        user: str,
        *,
        max_tokens: int,
        temperature: float = 0.0,
        seed: int | None = None,
        purpose: str = "other",
        schemas: Sequence[dict[str, Any]] = (),
    ) -> Reply:
        """The teacher's reply to ``user`` under ``system`` (rendered through the chat format).

        ``schemas``: JSON Schemas the reply should follow, strictest first; on an engine that
        takes a grammar the first one the grammar can express is enforced (the shape is then
        the grammar's, the content the model's). A remote teacher
        (:class:`~calltune.engines.openai_remote.OpenAIRemoteEngine`) sends it as the request's
        ``response_format`` for the server to enforce, the next one if the server refuses it.
        Elsewhere the prompt alone asks for it."""
        msgs = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        prompt = engine_prompt(self.engine, self.format, msgs)
        params = SamplingParams(
            max_tokens=max_tokens, temperature=temperature, seed=seed, stop=list(self.format.stop)
        )
        constraint = self._reply_constraint(schemas)
        started, t0 = time.time(), time.perf_counter()
        c = self._generate(prompt, params, constraint, schemas)
        reply = Reply(
            c.text, c.prompt_tokens, c.completion_tokens, time.perf_counter() - t0, c.finish_reason, started
        )
        with self._lock:
            self.tokens[f"{purpose}_prompt"] += reply.prompt_tokens
            self.tokens[f"{purpose}_completion"] += reply.completion_tokens
            self.tokens[f"{purpose}_calls"] += 1
        return reply

    def _generate(
        self, prompt: Any, params: SamplingParams, constraint: Any, schemas: Sequence[dict[str, Any]]
    ) -> Any:
        """One generation; a remote server that refuses a schema is asked with the next, then
        with none (the prompt alone asks for the shape)."""
        from ..engines.openai_remote import ResponseFormatRefusedError, ResponseSchema

        if not isinstance(constraint, ResponseSchema):
            return self.engine.generate(prompt, params, constraint)
        rest = [ResponseSchema(dict(s)) for s in schemas[1:]]
        for attempt in (constraint, *rest, None):
            try:
                return self.engine.generate(prompt, params, attempt)
            except ResponseFormatRefusedError:
                if attempt is None:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _reply_constraint(self, schemas: Sequence[dict[str, Any]]) -> Any:
        if schemas and getattr(self.engine, "supports_response_schema", False):
            from ..engines.openai_remote import ResponseSchema

            return ResponseSchema(dict(schemas[0]))  # the server's grammar enforces it
        if not schemas or not getattr(self.engine, "supports_constraints", False):
            return None
        try:
            from ..guided import GuidedError, build_constraint
        except ImportError:  # guided decoding not installed (calltune[guided])
            return None
        for schema in schemas:
            try:
                return build_constraint(self.format, [], "none", response_schema=schema)
            except GuidedError:
                continue
        return None


_FENCE = re.compile(r"```[a-zA-Z]*\n?")


def first_json(text: str, opener: str = "[{") -> tuple[Any, str | None]:
    """The first JSON value in ``text`` that starts with one of ``opener`` (code fences
    ignored), and None; or None and why there is none. JSON only: nothing is evaluated."""
    t = _FENCE.sub("", text)
    starts = [i for i in (t.find(ch) for ch in opener) if i >= 0]
    if not starts:
        return None, "no JSON in the reply"
    try:
        value, _ = json.JSONDecoder().raw_decode(t, min(starts))
    except json.JSONDecodeError as e:
        return None, f"malformed JSON: {e.msg}"
    return value, None
