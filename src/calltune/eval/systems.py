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

from typing import Any

from ..engines.base import Engine, SamplingParams
from ..turn import Turn, TurnSettings
from .baselines import LlamaCppNativeSystem, OpenAIEndpointSystem, find_llama
from .output import System, SystemOutput, merge_consecutive

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


class CalltuneSystem:
    """calltune's own path: one :class:`~calltune.turn.Turn`, the same turn as ``calltune run``
    and ``calltune serve`` (no BFCL-specific prompt).

    ``guided``: None = guided decoding where calltune turns it on by default, True = always
    (error if the engine cannot constrain), False = never. ``system`` adds a system message only
    when given (the default is the format's own tool prompt). ``continue_calls`` and
    ``check_relevance``: the turn's call continuation and relevance check, on by default as in
    the agent (the record keeps the output before continuation as ``raw_first`` and the output
    whose calls were all dropped as ``raw_called``). ``tool_choice``: the choice of every case
    (``auto`` unless a bench measures another).
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
        tool_choice: Any = "auto",
        ground_arguments: bool = True,
        check_missed_calls: bool = True,
    ):
        from ..formats import get_format

        self.engine = engine
        self.format = get_format(format or getattr(engine, "default_format", None) or "hermes")
        self.guided = guided
        self.max_tokens = max_tokens
        self.system = system
        self.tool_choice = tool_choice
        self.turn = Turn(
            engine,
            self.format,
            TurnSettings(
                guided=guided,
                continue_calls=continue_calls,
                check_relevance=check_relevance,
                ground_arguments=ground_arguments,
                check_missed_calls=check_missed_calls,
                # only whether the answer makes no call is judged: a short budget will do
                answer_max_tokens=96,
            ),
        )
        suffix = {None: "", True: "+guided", False: "-unguided"}[guided]
        self.name = name or f"calltune{suffix}"

    def answer(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> SystemOutput:
        msgs = merge_consecutive(messages)
        if self.system and not any(m["role"] == "system" for m in msgs):
            msgs.insert(0, {"role": "system", "content": self.system})
        params = SamplingParams(max_tokens=self.max_tokens, temperature=0.0)
        r = self.turn.run(msgs, tools, self.tool_choice, params)
        first = r.attempts[0]
        return SystemOutput(
            raw=r.raw,
            calls=list(r.calls),
            prompt=first.prompt,
            parse_errors=[e.to_dict() for e in r.errors],
            prompt_tokens=first.prompt_tokens,
            completion_tokens=r.completion_tokens,
            latency_s=r.latency_s,
            finish_reason=first.finish_reason,
            guided=first.guided,
            raw_first=first.raw_first,
            completion_tokens_first=first.completion_tokens_first,
            relevance=r.relevance,
            dropped=r.dropped,
            raw_called=r.raw_called,
            ungrounded=r.ungrounded,
            fanned=r.fanned,
            coerced=r.coerced,
        )

    def converse(
        self,
        messages: list[dict[str, Any]],
        toolbox: Any,
        max_steps: int,
        on_step: Any,
    ) -> Any:
        """One user turn of a multi-turn case through calltune's agent (this system's turn):
        steps until the model answers without calls; returns a
        :class:`~calltune.eval.multi_turn.TurnOutcome`."""
        from ..agent import Agent
        from .multi_turn import TurnOutcome

        def on_event(kind: str, data: Any) -> None:
            if kind == "step":
                on_step(int(data))

        agent = Agent(
            self.engine,
            toolbox,
            max_steps=max_steps,
            params=SamplingParams(max_tokens=self.max_tokens, temperature=0.0),
            on_event=on_event,
            turn=self.turn,
        )
        res = agent.run(list(messages))
        steps = res.trace.steps
        stopped = {"length": "answer"}.get(res.trace.stopped, res.trace.stopped)
        return TurnOutcome(
            messages=res.messages,
            outputs=[st.raw_output for st in steps],
            stopped=stopped,
            error=res.trace.error,
            prompt_tokens=sum(st.prompt_tokens for st in steps),
            cached_tokens=sum(st.cached_tokens for st in steps),
            completion_tokens=sum(st.completion_tokens for st in steps),
            notes=[f"{i}: {st.note}" for i, st in enumerate(steps) if st.note],
        )
