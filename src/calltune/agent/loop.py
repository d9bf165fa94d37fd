"""The call loop: one :class:`~calltune.turn.Turn` per step → execute the calls → observe → repeat."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..engines.base import EngineError, SamplingParams
from ..formats.base import ChatFormat
from ..messages import normalize_messages
from ..turn import Turn, TurnResult, TurnSettings, parse_response_format, parse_tool_choice
from ..types import ToolCall
from .trace import StepTrace, Trace

#: events passed to ``on_event``: ("text", str) streamed content, ("reasoning", str) streamed
#: thinking, ("call", ToolCall) just before the calls of a turn run, ("observation", dict),
#: ("parse_error", dict), ("answer", str), ("step", int) a model turn starts,
#: ("relevance", {"state": "start", "functions": [...]} / {"state": "end", "dropped": [...]}) the
#: relevance check runs, ("dropped", list[str]) functions whose calls the relevance check dropped
EventHandler = Callable[[str, Any], None]

INTERPRETER_TOOL = "python"


@dataclass
class RunResult:
    """What :meth:`Agent.run` returns: the final answer, the whole conversation and the trace."""

    answer: str
    messages: list[dict[str, Any]]
    trace: Trace

    def to_json(self, indent: int | None = 2) -> str:
        return self.trace.to_json(indent)

    def parsed(self) -> Any:
        """The answer as JSON (for an agent with a ``response_format``); ``json.JSONDecodeError``
        when it is not JSON (e.g. cut off by ``max_tokens``)."""
        return json.loads(self.answer)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... truncated: {len(text) - limit} more characters]"


class Agent:
    """A tool-calling agent over a local or remote engine.

    Every model turn is a :class:`~calltune.turn.Turn` (the same turn ``calltune serve`` and the
    BFCL runner use). ``tool_choice`` (``"auto" | "none" | "required"``, a
    :class:`~calltune.turn.Named`, or OpenAI's ``{"type": "function", ...}``) applies to the
    first model turn of each :meth:`run` (as in OpenAI's API, where it applies to one request);
    later turns are ``auto`` so the model can answer. ``guided``: None = use guided decoding where
    it is on by default (see docs/guided.md); True = require it (error if the engine cannot
    constrain); False = never. Without a grammar, ``required`` and named choices are forced
    through the prompt and retried, as in the server. ``response_format``: the final answer is
    JSON following a schema (OpenAI's ``response_format`` dict, a pydantic model class, or a
    :class:`~calltune.turn.ResponseFormat`), enforced by guided decoding on every turn;
    :meth:`RunResult.parsed` reads it.
    """

    def __init__(
        self,
        engine: Any,
        toolbox: Any = None,
        format: str | ChatFormat | None = None,
        system: str | None = None,
        max_steps: int = 8,
        tool_choice: Any = "auto",
        guided: bool | None = None,
        params: SamplingParams | None = None,
        parallel_tool_calls: bool = True,
        on_event: EventHandler | None = None,
        max_observation_chars: int = 16000,
        continue_calls: bool = True,
        check_relevance: bool = True,
        ground_arguments: bool = True,
        turn: Turn | None = None,
        response_format: Any = None,
    ):
        """``turn``: run this :class:`~calltune.turn.Turn` (its engine, format and settings)
        instead of building one from the arguments above (the BFCL runner shares its turn)."""
        from ..formats import get_format
        from ..tools import Toolbox

        self.engine = engine
        if toolbox is None:
            toolbox = Toolbox([])
        elif not isinstance(toolbox, Toolbox):
            toolbox = Toolbox(list(toolbox))
        self.toolbox = toolbox
        self.format = (
            turn.format if turn else get_format(format or getattr(engine, "default_format", None) or "hermes")
        )
        self.system = system
        self.max_steps = max_steps
        self.tool_choice = parse_tool_choice(tool_choice, self.toolbox.names())
        self.params = params or SamplingParams(max_tokens=512, temperature=0.0)
        self.on_event = on_event
        self.max_observation_chars = max_observation_chars
        self.turn = turn or Turn(
            engine,
            self.format,
            TurnSettings(
                guided=guided,
                parallel_tool_calls=parallel_tool_calls,
                continue_calls=continue_calls,
                check_relevance=check_relevance,
                ground_arguments=ground_arguments,
                # the code interpreter is general-purpose: "is it made for this request" does not apply
                relevance_exempt=frozenset({INTERPRETER_TOOL}),
                response_format=parse_response_format(response_format),
            ),
        )

    @property
    def settings(self) -> TurnSettings:
        return self.turn.settings

    # -- public -------------------------------------------------------------------------
    def run(
        self,
        question: str | Sequence[dict[str, Any]],
        history: Sequence[dict[str, Any]] | None = None,
        *,
        first_calls: Sequence[ToolCall] | None = None,
        tool_choice: Any = None,
    ) -> RunResult:
        """Answer ``question`` (a string, or a whole OpenAI message list), calling tools as needed.

        ``first_calls``: the first step's calls, given instead of generated (a planned step, e.g.
        the calls a data generator's teacher already wrote with the request). They run like any
        step's calls, the trace records the step with ``planned=True`` and no generation, and
        the agent goes on from their results (more calls, or the answer). ``tool_choice``: this
        run's, instead of the agent's; it binds the first generated turn (after planned calls,
        ``"none"`` has the model answer from their results)."""
        messages: list[dict[str, Any]] = list(history or [])
        if isinstance(question, str):
            if self.system and not any(m.get("role") == "system" for m in messages):
                messages.insert(0, {"role": "system", "content": self.system})
            messages.append({"role": "user", "content": question})
        else:
            messages.extend(question)
        messages = normalize_messages(messages)
        specs = self.toolbox.specs()
        first_choice = (
            self.tool_choice if tool_choice is None else parse_tool_choice(tool_choice, self.toolbox.names())
        )
        trace = Trace(
            model=getattr(self.engine, "model_id", ""),
            format=self.format.name,
            tool_choice=str(first_choice),
            tools=specs,
        )
        t0 = time.perf_counter()
        choice: Any = first_choice
        try:
            if first_calls:
                self._emit("step", 0)
                planned = list(first_calls)
                st = StepTrace(
                    prompt="", raw_output="", finish_reason="planned", stop=None, content="", planned=True
                )
                st.tool_calls = [c.to_dict() for c in planned]
                trace.steps.append(st)
                self._act(messages, TurnResult(content="", calls=planned), planned, st)
            while len(trace.steps) < self.max_steps:
                self._emit("step", len(trace.steps))
                seen = any(m["role"] == "tool" for m in messages)
                result = self._turn(messages, specs, choice)
                steps = [
                    StepTrace(**asdict(a), index=len(trace.steps) + i) for i, a in enumerate(result.attempts)
                ]
                for st in steps:
                    st.observations_seen = seen
                trace.steps.extend(steps)
                if result.dropped:
                    self._emit("dropped", result.dropped)
                calls = list(result.calls)
                calls += [ToolCall(INTERPRETER_TOOL, {"code": code}) for code in result.code]
                if not calls and not result.errors:
                    messages.append({"role": "assistant", "content": result.content})
                    trace.answer = result.content
                    trace.stopped = "length" if result.finish_reason == "length" else "answer"
                    self._emit("answer", result.content)
                    break
                self._act(messages, result, calls, steps[-1])
                choice = "auto"  # tool_choice binds the first turn only
            else:
                trace.stopped = "max_steps"
                trace.answer = next(
                    (
                        m["content"]
                        for m in reversed(messages)
                        if m["role"] == "assistant" and m.get("content")
                    ),
                    "",
                )
        except EngineError as e:  # ContextLengthError included
            trace.stopped = "error"
            trace.error = f"{type(e).__name__}: {e}"
        trace.total_s = time.perf_counter() - t0
        trace.messages = messages
        return RunResult(answer=trace.answer, messages=messages, trace=trace)

    # -- internals ------------------------------------------------------------------------
    def _emit(self, kind: str, data: Any) -> None:
        if self.on_event is not None:
            self.on_event(kind, data)

    def _turn(self, messages: list[dict[str, Any]], specs: list[dict[str, Any]], choice: Any) -> TurnResult:
        result: TurnResult | None = None
        on_phase = self._emit if self.on_event is not None else None
        for ev in self.turn.stream(messages, specs, choice, self.params, on_phase=on_phase):
            if isinstance(ev, TurnResult):
                result = ev
            elif ev.kind == "content":
                self._emit("text", ev.text)
            elif ev.kind == "reasoning":
                self._emit("reasoning", ev.text)
        assert result is not None
        return result

    def _act(
        self, messages: list[dict[str, Any]], result: TurnResult, calls: list[ToolCall], st: StepTrace
    ) -> None:
        """Append the assistant turn and the observations of its calls (and of parse errors)."""
        bad: list[ToolCall] = []
        for err in result.errors:
            bad.append(ToolCall(err.name or "invalid_tool_call", {}))
            self._emit("parse_error", err.to_dict())
        msg: dict[str, Any] = {"role": "assistant", "content": result.content}
        msg["tool_calls"] = [c.to_openai() for c in calls + bad]
        messages.append(msg)
        for c in calls:
            self._emit("call", c)
        t0 = time.perf_counter()
        observations = self.toolbox.execute_many(calls) if calls else []
        st.tools_s = time.perf_counter() - t0
        for c, obs in zip(calls, observations, strict=True):
            rec = {
                "call_id": c.id,
                "name": c.name,
                "content": obs.content,
                "ok": obs.ok,
                "error": obs.error,
                "elapsed_s": round(obs.elapsed_s, 4),
            }
            st.observations.append(rec)
            self._emit("observation", rec)
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": c.id,
                    "name": c.name,
                    "content": _clip(obs.content, self.max_observation_chars),
                }
            )
        for c, err in zip(bad, result.errors, strict=True):
            text = (
                f"Error: your tool call could not be parsed ({err.message}). "
                "Write the call again in the required format, with literal argument values only."
            )
            rec = {"call_id": c.id, "name": c.name, "content": text, "ok": False, "error": "parse_error"}
            st.observations.append(rec)
            self._emit("observation", rec)
            messages.append({"role": "tool", "tool_call_id": c.id, "name": c.name, "content": text})
