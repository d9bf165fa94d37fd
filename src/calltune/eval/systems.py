"""The systems under test: calltune itself and what a user would pick instead.

Each system answers one prepared BFCL case (messages + OpenAI tool specs) with the
calls it made. All of them see the same messages and the same converted tools.

- :class:`CalltuneSystem`: the chat format renders messages + tools exactly as
  ``calltune run`` does (no BFCL-specific prompt), the engine generates (guided or
  not), the format parses.
- the baselines (llama-cpp-python native, any OpenAI endpoint) live in
  :mod:`calltune.eval.baselines` and are re-exported here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from ..agent.continuation import continue_calls, generate_until_repeat, parse_with_tools, should_continue
from ..agent.relevance import filter_relevant, last_user_text
from ..engines.base import Engine, EngineError, SamplingParams
from ..types import ParseError
from .baselines import LlamaCppNativeSystem, OpenAIEndpointSystem, find_llama
from .output import System, SystemOutput

__all__ = [
    "TOOL_USE_SYSTEM_PROMPT",
    "CalltuneSystem",
    "LlamaCppNativeSystem",
    "OpenAIEndpointSystem",
    "System",
    "SystemOutput",
    "find_llama",
    "merge_consecutive",
]

#: a generic tool-use system prompt (no benchmark content) measured as the
#: ``calltune+sysprompt`` system against the format's own default
TOOL_USE_SYSTEM_PROMPT = (
    "You are a helpful assistant with access to functions. "
    "Call a function only when one of them really fits the user's request; if none fits, "
    "answer in plain text without calling any. "
    "If the request asks for several things (the same function for different inputs, or different "
    "functions), make all of the calls in this reply, one call for each."
)


def merge_consecutive(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join back-to-back messages of the same plain role (system/user), which some BFCL cases
    have and which chat protocols forbid (ChatGLM3: never two user messages in a row)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if out and m["role"] in ("user", "system") and out[-1]["role"] == m["role"]:
            out[-1] = {**out[-1], "content": f"{out[-1].get('content') or ''}\n\n{m.get('content') or ''}"}
        else:
            out.append(dict(m))
    return out


class CalltuneSystem:
    """calltune's own path: format.render/encode → engine.generate (optionally guided) → format.parse.

    ``guided``: None = guided decoding where calltune turns it on by default, True =
    always (error if the engine cannot constrain), False = never. ``system`` adds a
    system message only when given (the default is the format's own tool prompt).
    ``continue_calls``: let the model go on after its last call, as the agent does by default
    (the record keeps the output before continuation as ``raw_first``). ``check_relevance``:
    the agent's relevance check of the called functions; when it drops every call the turn is
    generated again without tools, as the agent does.
    """

    def __init__(
        self,
        engine: Engine,
        format: Any = None,
        guided: bool | None = None,
        name: str | None = None,
        max_tokens: int = 384,
        system: str | None = None,
        continue_calls: bool = True,
        check_relevance: bool = True,
    ):
        from ..formats.base import ChatFormat

        self.engine = engine
        if isinstance(format, ChatFormat):
            self.format = format
        else:
            from ..formats import get_format

            self.format = get_format(format or getattr(engine, "default_format", None) or "hermes")
        self.guided = guided
        self.max_tokens = max_tokens
        self.system = system
        self.continue_calls = continue_calls
        self.check_relevance = check_relevance
        suffix = {None: "", True: "+guided", False: "-unguided"}[guided]
        self.name = name or f"calltune{suffix}"

    def _constraint(self, tools: list[dict[str, Any]]) -> Any:
        if self.guided is False or not tools:
            return None
        try:
            from ..guided import build_constraint, resolve_guided
        except ImportError:
            if self.guided:
                raise EngineError("guided decoding is not available (calltune.guided is missing)") from None
            return None
        if not resolve_guided(self.guided, "auto", self.engine):
            return None
        return build_constraint(self.format, tools, "auto", parallel=True)

    def _parse(self, text: str, tools: list[dict[str, Any]]) -> Any:
        return parse_with_tools(self.format, text, tools)

    def answer(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> SystemOutput:
        msgs = merge_consecutive(messages)
        if self.system and not any(m["role"] == "system" for m in msgs):
            msgs.insert(0, {"role": "system", "content": self.system})
        prompt_text = self.format.render(msgs, tools or None, add_generation_prompt=True)
        tok = getattr(self.engine, "tokenizer", None)
        prompt: str | list[int] = (
            self.format.encode(msgs, tok, tools or None, add_generation_prompt=True)
            if tok is not None
            else prompt_text
        )
        constraint = self._constraint(tools)
        params = SamplingParams(max_tokens=self.max_tokens, temperature=0.0, stop=list(self.format.stop))
        t0 = time.perf_counter()
        if constraint is not None:  # a grammar that allows only calls can make a model cycle
            comp = generate_until_repeat(
                self.engine, self.format, prompt, params, constraint, [t["function"]["name"] for t in tools]
            )
        else:
            comp = self.engine.generate(prompt, params, constraint)
        raw = comp.text
        parsed = self._parse(raw, tools)
        completion_tokens = comp.completion_tokens
        raw_first: str | None = None
        if (
            self.continue_calls
            and constraint is None
            and should_continue(self.format, parsed, comp.finish_reason, comp.stop)
        ):
            raw_first = raw
            raw, parsed, extra = continue_calls(
                self.engine,
                self.format,
                prompt,
                raw,
                parsed,
                lambda t: self._parse(t, tools),
                params,
                tool_names=[t["function"]["name"] for t in tools],
            )
            completion_tokens += extra["completion_tokens"]
        verdicts: list[dict[str, Any]] = []
        dropped: list[str] = []
        raw_called: str | None = None
        if self.check_relevance and parsed.tool_calls and tools:
            parsed.tool_calls, dropped, checked = filter_relevant(
                self.engine, self.format, last_user_text(msgs), tools, parsed.tool_calls
            )
            verdicts = [v.to_dict() for v in checked]
            if dropped and not parsed.tool_calls and not parsed.errors:
                # as the agent does: the turn again, with no tools on offer
                bare = (
                    self.format.encode(msgs, tok, None, True)
                    if tok is not None
                    else self.format.render(msgs, None, True)
                )
                raw_called = raw
                # its text is not judged, only that it makes no call: a short budget will do
                short = SamplingParams(max_tokens=min(self.max_tokens, 96), temperature=0.0, stop=params.stop)
                again = self.engine.generate(bare, short)
                completion_tokens += again.completion_tokens
                raw = again.text
                parsed = self.format.parse(raw)
                parsed.tool_calls = []  # no tools were offered: nothing can be called
        latency = time.perf_counter() - t0
        return SystemOutput(
            raw=raw,
            calls=list(parsed.tool_calls),
            prompt=prompt_text,
            parse_errors=[e.to_dict() if isinstance(e, ParseError) else dict(e) for e in parsed.errors],
            prompt_tokens=comp.prompt_tokens,
            completion_tokens=completion_tokens,
            latency_s=latency,
            finish_reason=comp.finish_reason,
            guided=constraint is not None,
            raw_first=raw_first,
            completion_tokens_first=comp.completion_tokens if raw_first is not None else None,
            relevance=verdicts,
            dropped=dropped,
            raw_called=raw_called,
        )


