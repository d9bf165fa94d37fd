"""The call loop: render → generate → parse → validate → execute → observe → repeat."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..engines.base import Chunk, ContextLengthError, Engine, EngineError, SamplingParams
from ..formats.base import ChatFormat
from ..messages import normalize_messages
from ..types import ParseResult, ToolCall
from .continuation import continue_calls, generate_until_repeat, parse_with_tools, should_continue
from .relevance import filter_relevant, last_user_text
from .trace import StepTrace, Trace

#: events passed to ``on_event``: ("text", str) streamed content, ("call", ToolCall),
#: ("observation", dict), ("parse_error", dict), ("answer", str), ("step", int),
#: ("dropped", list[str]) functions whose calls the relevance check dropped
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


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... truncated: {len(text) - limit} more characters]"


def _call_key(call: ToolCall) -> str:
    return call.name + "\0" + json.dumps(call.arguments, sort_keys=True, ensure_ascii=False)


def _normalize_tool_choice(tool_choice: Any) -> str:
    """OpenAI tool_choice → "auto" | "none" | "required" | "named:<name>"."""
    if tool_choice is None:
        return "auto"
    if isinstance(tool_choice, str):
        if tool_choice in ("auto", "none", "required") or tool_choice.startswith("named:"):
            return tool_choice
        raise ValueError(f"tool_choice must be auto, none, required or a tool name spec, got {tool_choice!r}")
    if isinstance(tool_choice, dict):
        name = (tool_choice.get("function") or {}).get("name") or tool_choice.get("name")
        if name:
            return f"named:{name}"
    raise ValueError(f"unsupported tool_choice {tool_choice!r}")


class Agent:
    """A tool-calling agent over a local or remote engine.

    ``tool_choice`` applies to the first model turn of each :meth:`run` (as in OpenAI's API,
    where it applies to one request); later turns are ``auto`` so the model can answer.
    ``guided``: None = use guided decoding where it is on by default (see docs/guided.md);
    True = require it (error if the engine cannot constrain); False = never.
    """

    def __init__(
        self,
        engine: Engine,
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
    ):
        from ..formats import get_format
        from ..tools import Toolbox

        self.engine = engine
        if toolbox is None:
            toolbox = Toolbox([])
        elif not isinstance(toolbox, Toolbox):
            toolbox = Toolbox(list(toolbox))
        self.toolbox = toolbox
        if isinstance(format, ChatFormat):
            self.format = format
        else:
            self.format = get_format(format or getattr(engine, "default_format", None) or "hermes")
        self.system = system
        self.max_steps = max_steps
        self.tool_choice = _normalize_tool_choice(tool_choice)
        self.guided = guided
        self.params = params or SamplingParams(max_tokens=512, temperature=0.0)
        self.parallel_tool_calls = parallel_tool_calls
        self.on_event = on_event
        self.max_observation_chars = max_observation_chars
        self.continue_calls = continue_calls
        self.check_relevance = check_relevance
        if self.tool_choice.startswith("named:"):
            name = self.tool_choice[6:]
            if name not in self.toolbox.names():
                raise ValueError(
                    f"tool_choice names {name!r}, which is not among the tools: {self.toolbox.names()}"
                )

    # -- public -------------------------------------------------------------------------
    def run(
        self, question: str | Sequence[dict[str, Any]], history: Sequence[dict[str, Any]] | None = None
    ) -> RunResult:
        """Answer ``question`` (a string, or a whole OpenAI message list), calling tools as needed."""
        messages: list[dict[str, Any]] = list(history or [])
        if isinstance(question, str):
            if self.system and not any(m.get("role") == "system" for m in messages):
                messages.insert(0, {"role": "system", "content": self.system})
            messages.append({"role": "user", "content": question})
        else:
            messages.extend(question)
        messages = normalize_messages(messages)
        specs = self.toolbox.specs()
        trace = Trace(
            model=getattr(self.engine, "model_id", ""),
            format=self.format.name,
            tool_choice=self.tool_choice,
            tools=specs,
        )
        t0 = time.perf_counter()
        mode = self.tool_choice if specs else "none"
        done: set[str] = set()
        try:
            for step in range(self.max_steps):
                self._emit("step", step)
                parsed, st = self._model_turn(messages, specs, mode, step)
                st.observations_seen = any(m["role"] == "tool" for m in messages)
                trace.steps.append(st)
                calls = list(parsed.tool_calls)
                for code in parsed.code:
                    calls.append(ToolCall(INTERPRETER_TOOL, {"code": code}))
                if not self.parallel_tool_calls and len(calls) > 1:
                    calls = calls[:1]
                if calls and not parsed.errors and all(_call_key(c) in done for c in calls):
                    # Small models often repeat a call they already have the answer to. Executing it
                    # again cannot help: ask for the answer instead, with no tools on offer.
                    st.note = "repeated call(s) not executed; next turn without tools"
                    mode = "none"
                    continue
                if self.check_relevance and step == 0 and mode == "auto" and parsed.tool_calls:
                    calls, dropped = self._relevant_calls(messages, specs, calls, st)
                    if dropped and not calls and not parsed.errors:
                        # none of the called functions fits the request: answer without tools
                        st.note = f"call(s) of {', '.join(dropped)} judged not to fit the request; next turn without tools"
                        mode = "none"
                        continue
                    if dropped:
                        st.note = f"call(s) of {', '.join(dropped)} judged not to fit the request, dropped"
                done.update(_call_key(c) for c in calls)
                if mode == "none" and (calls or parsed.errors):
                    st.note = "call(s) ignored: no tools were on offer for this turn"
                    calls, parsed.errors = [], []
                if (
                    not calls
                    and not parsed.errors
                    and not parsed.content.strip()
                    and mode != "none"
                    and st.observations_seen
                ):
                    # an empty turn after tool results: ask again with no tools on offer
                    st.note = "empty answer; next turn without tools"
                    mode = "none"
                    continue
                if not calls and not parsed.errors:
                    messages.append({"role": "assistant", "content": parsed.content})
                    trace.answer = parsed.content
                    trace.stopped = "length" if st.finish_reason == "length" else "answer"
                    self._emit("answer", parsed.content)
                    break
                self._act(messages, parsed, calls, st)
                mode = "auto"  # tool_choice binds the first turn only
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
        except (ContextLengthError, EngineError) as e:
            trace.stopped = "error"
            trace.error = f"{type(e).__name__}: {e}"
        trace.total_s = time.perf_counter() - t0
        trace.messages = messages
        return RunResult(answer=trace.answer, messages=messages, trace=trace)

    # -- internals ------------------------------------------------------------------------
    def _emit(self, kind: str, data: Any) -> None:
        if self.on_event is not None:
            self.on_event(kind, data)

    def _constraint(self, specs: list[dict[str, Any]], mode: str) -> Any:
        if self.guided is False or not specs:
            return None
        if not getattr(self.engine, "supports_constraints", False):
            if self.guided:
                raise EngineError(f"engine {type(self.engine).__name__} cannot apply guided decoding")
            return None
        try:
            from ..guided import build_constraint, guided_by_default
        except ImportError:
            if self.guided:
                raise EngineError("guided decoding is not available (calltune.guided missing)") from None
            return None
        if self.guided is None and not guided_by_default(mode, self.engine):
            return None
        return build_constraint(self.format, specs, mode, parallel=self.parallel_tool_calls)

    def _relevant_calls(
        self,
        messages: list[dict[str, Any]],
        specs: list[dict[str, Any]],
        calls: list[ToolCall],
        st: StepTrace,
    ) -> tuple[list[ToolCall], list[str]]:
        """The calls whose function fits the question (see :mod:`calltune.agent.relevance`) and the
        names of the functions dropped. Interpreter code and remote chat engines are not checked."""
        if hasattr(self.engine, "chat") and getattr(self.engine, "prefers_chat", False):
            return calls, []
        # the code interpreter is general-purpose: "is it made for this request" does not apply
        kept, dropped, verdicts = filter_relevant(
            self.engine, self.format, last_user_text(messages), specs, calls, exempt={INTERPRETER_TOOL}
        )
        st.relevance = [v.to_dict() for v in verdicts]
        if dropped:
            self._emit("dropped", dropped)
        return kept, dropped

    def _parse(self, text: str, specs: list[dict[str, Any]]) -> ParseResult:
        return parse_with_tools(self.format, text, specs)

    def _model_turn(
        self, messages: list[dict[str, Any]], specs: list[dict[str, Any]], mode: str, index: int
    ) -> tuple[ParseResult, StepTrace]:
        offered = specs if mode != "none" else []
        if hasattr(self.engine, "chat") and getattr(self.engine, "prefers_chat", False):
            return self._remote_turn(messages, offered, mode, index)
        tokenizer = getattr(self.engine, "tokenizer", None)
        prompt_text = self.format.render(messages, offered or None, add_generation_prompt=True)
        prompt: str | list[int] = (
            self.format.encode(messages, tokenizer, offered or None, add_generation_prompt=True)
            if tokenizer is not None
            else prompt_text
        )
        constraint = self._constraint(offered, mode)
        params = SamplingParams(
            max_tokens=self.params.max_tokens,
            temperature=self.params.temperature,
            top_p=self.params.top_p,
            seed=self.params.seed,
            stop=list(dict.fromkeys([*self.format.stop, *self.params.stop])),
        )
        sp = self.format.stream_parser() if self.on_event is not None else None
        t0 = time.perf_counter()
        parts: list[str] = []
        last = None
        if constraint is not None:  # a grammar that allows only calls can make a model cycle
            comp = generate_until_repeat(
                self.engine,
                self.format,
                prompt,
                params,
                constraint,
                [t["function"]["name"] for t in offered],
            )
            usage = {"prompt_tokens": comp.prompt_tokens, "completion_tokens": comp.completion_tokens}
            chunks: Any = iter([Chunk(comp.text, comp.finish_reason, comp.stop, usage)])
        else:
            chunks = self.engine.stream(prompt, params, constraint)
        for ch in chunks:
            parts.append(ch.text)
            last = ch
            if sp is not None and ch.text:
                for d in sp.feed(ch.text):
                    if d.kind == "content":
                        self._emit("text", d.text)
        if sp is not None:
            for d in sp.finish():
                if d.kind == "content":
                    self._emit("text", d.text)
        raw = "".join(parts)
        parsed = self._parse(raw, offered)
        usage = dict((last.usage if last else None) or {})
        finish = (last.finish_reason if last else None) or "stop"
        note = ""
        if (
            self.continue_calls
            and self.parallel_tool_calls
            and constraint is None
            and mode != "none"
            and should_continue(self.format, parsed, finish, last.stop if last else None)
        ):
            n_before = len(parsed.tool_calls)
            raw, parsed, extra = continue_calls(
                self.engine,
                self.format,
                prompt,
                raw,
                parsed,
                lambda t: self._parse(t, offered),
                params,
                tool_names=[t["function"]["name"] for t in offered],
            )
            usage["completion_tokens"] = int(usage.get("completion_tokens", 0)) + extra["completion_tokens"]
            if len(parsed.tool_calls) > n_before:
                note = f"continued after the last call: {len(parsed.tool_calls) - n_before} more call(s)"
        latency = time.perf_counter() - t0
        st = StepTrace(
            index=index,
            prompt=prompt_text,
            raw_output=raw,
            finish_reason=finish,
            stop=last.stop if last else None,
            content=parsed.content,
            tool_calls=[c.to_dict() for c in parsed.tool_calls],
            parse_errors=[e.to_dict() for e in parsed.errors],
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            latency_s=latency,
            guided=constraint is not None,
            note=note,
        )
        return parsed, st

    def _remote_turn(
        self, messages: list[dict[str, Any]], specs: list[dict[str, Any]], mode: str, index: int
    ) -> tuple[ParseResult, StepTrace]:
        choice: Any = mode
        if mode.startswith("named:"):
            choice = {"type": "function", "function": {"name": mode[6:]}}
        t0 = time.perf_counter()
        parsed, usage = self.engine.chat(messages, specs, choice, self.params)  # type: ignore[attr-defined]
        st = StepTrace(
            index=index,
            prompt=json.dumps(messages, ensure_ascii=False),
            raw_output=parsed.content,
            finish_reason=str((usage or {}).get("finish_reason", "stop")),
            stop=None,
            content=parsed.content,
            tool_calls=[c.to_dict() for c in parsed.tool_calls],
            prompt_tokens=int((usage or {}).get("prompt_tokens", 0)),
            completion_tokens=int((usage or {}).get("completion_tokens", 0)),
            latency_s=time.perf_counter() - t0,
        )
        if parsed.content:
            self._emit("text", parsed.content)
        return parsed, st

    def _act(
        self, messages: list[dict[str, Any]], parsed: ParseResult, calls: list[ToolCall], st: StepTrace
    ) -> None:
        """Append the assistant turn and the observations of its calls (and of parse errors)."""
        bad: list[ToolCall] = []
        for err in parsed.errors:
            bad.append(ToolCall(err.name or "invalid_tool_call", {}))
            self._emit("parse_error", err.to_dict())
        msg: dict[str, Any] = {"role": "assistant", "content": parsed.content}
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
        for c, err in zip(bad, parsed.errors, strict=True):
            text = (
                f"Error: your tool call could not be parsed ({err.message}). "
                "Write the call again in the required format, with literal argument values only."
            )
            rec = {"call_id": c.id, "name": c.name, "content": text, "ok": False, "error": "parse_error"}
            st.observations.append(rec)
            self._emit("observation", rec)
            messages.append({"role": "tool", "tool_call_id": c.id, "name": c.name, "content": text})
