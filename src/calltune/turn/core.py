"""One model turn, written once: render → constrain → generate → parse → continue → check → retry.

The agent loop, ``calltune serve`` and the BFCL runner all call :class:`Turn`. A turn:

1. plans the tools with :func:`~calltune.turn.policy.plan_turn` (what is shown, the grammar,
   prompt forcing and its retries for ``required`` / named choices without a grammar);
2. renders the messages through the chat format and fits the completion budget into the
   context window (:class:`~calltune.engines.base.ContextLengthError` when it cannot);
3. generates, streaming content as it comes (a guided turn ends at the first repeated call);
4. parses with the offered tool names and, when the turn is nothing but calls, lets the model go
   on after its last call to collect further (parallel) calls;
   a later request of an agent session answered in prose is asked for its calls under the call
   grammar (:mod:`~calltune.turn.missed`);
5. drops calls identical to ones already answered since the last user message; checks that
   each called function fits the user's request (``auto`` turns that answer a user message);
6. generates the turn again without tools when nothing is left to call, or when an answer after
   tool results came back empty, so that the model answers from what it has.

:meth:`Turn.stream` yields :class:`~calltune.types.Delta` events (content live; calls and parse
errors once the turn has decided on them) and ends with the :class:`TurnResult`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..engines.base import Chunk, ContextLengthError, Engine, SamplingParams, engine_prompt
from ..errors import CalltuneError
from ..formats.base import ChatFormat
from ..formats.reasoning import opens_reasoning, read_turn, turn_parser
from ..types import Delta, ParseError, ParseResult, ToolCall
from .answers import answer_misses_results, answer_note
from .choice import parse_tool_choice
from .coercion import coerce_calls
from .continuation import continue_calls, generate_until_repeat, should_continue
from .fanout import fan_out, fanned_note
from .grounding import COPIED_NOTES, copied_note, ground_calls, without_examples
from .history import answered_calls, feeds_own_result, has_tool_results, last_user_text, repeats_answered
from .live import LiveCalls, calls_stream_live
from .missed import missed_calls_apply, missed_note, supported_calls
from .policy import TurnPlan, can_constrain, check_calls, forced_messages, plan_turn
from .relevance import filter_relevant, relevance_applies
from .response_format import parse_response_format, with_response_instruction

log = logging.getLogger("calltune.turn")

#: ``on_phase(name, data)``: work of a turn that streams nothing, as it starts and ends; today
#: ("relevance", {"state": "start", "functions": [...]}) and ("relevance", {"state": "end",
#: "dropped": [...]})
PhaseHook = Callable[[str, dict[str, Any]], None]


class PromptError(CalltuneError, ValueError):
    """The messages cannot be rendered by the chat format."""


@dataclass
class TurnSettings:
    """How turns behave (the same settings for the agent, the server and the evaluation)."""

    #: None = guided where the policy turns it on (required / named); True = always; False = never
    guided: bool | None = None
    parallel_tool_calls: bool = True
    #: let the model go on after its last call, to collect parallel calls
    continue_calls: bool = True
    #: ask the model whether each called function fits the request (auto turns answering a user)
    check_relevance: bool = True
    #: functions the relevance check leaves alone (e.g. the general-purpose code interpreter)
    relevance_exempt: frozenset[str] = frozenset()
    #: drop calls identical to ones already answered since the last user message
    skip_answered_calls: bool = True
    #: leave out optional arguments the conversation does not support, and generate again once
    #: when a required one is the example copied from the tool's description
    #: (:mod:`calltune.turn.grounding`)
    ground_arguments: bool = True
    #: with ``ground_arguments``: split a call whose single-valued string argument joins several
    #: things the user named ("Egypt and Turkey") into one call each, when the turn may call in
    #: parallel (:mod:`calltune.turn.fanout`)
    fan_out: bool = True
    #: write out an object, array, number or boolean given for an argument declared
    #: ``"type": "string"`` as its JSON text (:mod:`calltune.turn.coercion`)
    coerce_strings: bool = True
    #: after tool results, an answer that is unasked-for code or mentions none of the results'
    #: values is generated once more, told to answer from them (:mod:`calltune.turn.answers`)
    check_answers: bool = True
    #: a later request of an agent session answered in prose is asked for its calls under the
    #: call grammar; they are kept where their required values are grounded and their functions
    #: fit (:mod:`calltune.turn.missed`)
    check_missed_calls: bool = True
    #: attempts of a required / named turn forced by prompt (no grammar)
    max_attempts: int = 2
    #: completion budget of a turn generated again without tools (None = the turn's own)
    answer_max_tokens: int | None = None
    #: send calls while the model writes them, where nothing after the generation can take them
    #: back (:mod:`calltune.turn.live`); False: each call when the turn has settled it
    stream_arguments: bool = True
    #: the chat template's thinking switch (``enable_thinking``); None: the template's default
    thinking: bool | None = None
    #: the answer's content is JSON following this (OpenAI's ``response_format``, a
    #: :class:`~calltune.turn.response_format.ResponseFormat` or a pydantic model); None = text
    response_format: Any = None


@dataclass
class Attempt:
    """One generation of a turn: what the model saw and wrote, and what the turn made of it."""

    prompt: str
    raw_output: str
    finish_reason: str
    stop: str | None
    content: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    parse_errors: list[dict[str, Any]] = field(default_factory=list)
    #: what a reasoning model thought before it answered (never in ``content``)
    reasoning: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    guided: bool = False
    note: str = ""
    relevance: list[dict[str, Any]] = field(default_factory=list)
    #: the output before call continuation added to it (None when nothing was continued)
    raw_first: str | None = None
    completion_tokens_first: int | None = None
    #: prompt tokens the engine took from its KV cache (a prefix shared with the last request)
    cached_tokens: int = 0
    #: seconds from the first generated token to the last of the (first) generation, as the engine
    #: reports it (0 when it does not): with ``completion_tokens_first or completion_tokens``, the
    #: decode speed
    decode_s: float = 0.0
    #: arguments the grounding check left out or flagged (:mod:`calltune.turn.grounding`)
    ungrounded: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TurnResult:
    """What a turn produced: the text, the calls to run, and how it got there."""

    content: str
    calls: list[ToolCall] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    #: code for the ChatGLM3 ``interpreter`` role
    code: list[str] = field(default_factory=list)
    finish_reason: str = "stop"  # of the last generation: "stop" | "length"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    #: functions whose calls the relevance check dropped, and its verdicts
    dropped: list[str] = field(default_factory=list)
    relevance: list[dict[str, Any]] = field(default_factory=list)
    #: calls left out because the same call was already answered
    repeated: list[ToolCall] = field(default_factory=list)
    #: the output whose calls were all dropped, when the turn was generated again without tools
    raw_called: str | None = None
    latency_s: float = 0.0
    #: what a reasoning model thought before it answered (the generation that stands)
    reasoning: str = ""
    #: arguments the grounding check left out ("dropped") or flagged ("copied")
    ungrounded: list[dict[str, Any]] = field(default_factory=list)
    #: calls split into one call per named thing (:mod:`calltune.turn.fanout`)
    fanned: list[dict[str, Any]] = field(default_factory=list)
    #: arguments written out as the string their schema declares (:mod:`calltune.turn.coercion`)
    coerced: list[dict[str, Any]] = field(default_factory=list)

    @property
    def raw(self) -> str:
        return self.attempts[-1].raw_output if self.attempts else ""

    @property
    def usage(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }

    def to_message(self) -> dict[str, Any]:
        return ParseResult(self.content, self.calls).to_message()


@dataclass
class _Generation:
    prompt_text: str
    raw: str
    parsed: ParseResult
    attempt: Attempt


class Turn:
    """One model turn over ``engine`` in chat format ``fmt`` (see the module docstring)."""

    def __init__(self, engine: Engine, fmt: ChatFormat, settings: TurnSettings | None = None) -> None:
        self.engine = engine
        self.format = fmt
        self.settings = settings or TurnSettings()
        self._no_call: Any = None  # the no-call grammar of answer-only redos (False: none)

    # -- planning and rendering ---------------------------------------------------------------
    def plan(
        self,
        tools: Sequence[dict[str, Any]] | None,
        choice: Any = "auto",
        *,
        parallel: bool | None = None,
        response_format: Any = None,
        thinking: bool | None = None,
    ) -> TurnPlan:
        """The turn's plan; ``response_format`` (any spelling
        :func:`~calltune.turn.response_format.parse_response_format` takes) and ``thinking``
        override the settings'."""
        s = self.settings
        names = [t["function"]["name"] for t in tools or []]
        plan = plan_turn(
            self.format,
            self.engine,
            list(tools or []),
            parse_tool_choice(choice, names),
            parallel=s.parallel_tool_calls if parallel is None else parallel,
            guided=s.guided,
            max_attempts=s.max_attempts,
            response_format=parse_response_format(
                s.response_format if response_format is None else response_format
            ),
        )
        plan.thinking = s.thinking if thinking is None else thinking
        return plan

    def render(
        self, messages: Sequence[dict[str, Any]], plan: TurnPlan, attempt: int = 0
    ) -> tuple[list[dict[str, Any]], str | list[int], str]:
        """``(messages as sent, prompt for the engine, prompt text)`` for one attempt."""
        msgs = forced_messages(with_response_instruction(list(messages), plan.response_format), plan, attempt)
        offered = plan.offered or None
        kw = {} if plan.thinking is None else {"thinking": plan.thinking}
        try:
            text = self.format.render(msgs, offered, add_generation_prompt=True, **kw)
            prompt = engine_prompt(self.engine, self.format, msgs, offered, **kw)
        except (ValueError, KeyError, TypeError) as exc:
            raise PromptError(f"the messages cannot be rendered: {exc}") from None
        return msgs, prompt, text

    def fit(
        self, prompt: str | list[int], params: SamplingParams, explicit_max_tokens: bool
    ) -> SamplingParams:
        """``params`` with the format's stop strings and a budget that fits the context window."""
        n = self.engine.count_tokens(prompt)
        ctx = int(self.engine.context_length)
        room = ctx - n
        if room < 1 or (explicit_max_tokens and params.max_tokens > room):
            extra = f" plus {params.max_tokens} completion tokens" if room >= 1 else ""
            raise ContextLengthError(
                f"This model's maximum context length is {ctx} tokens. However, your messages resulted in "
                f"{n} tokens{extra}. Please reduce the length of the messages or the completion."
            )
        stop = list(dict.fromkeys([*self.format.stop, *params.stop]))
        return replace(params, max_tokens=min(params.max_tokens, room), stop=stop)

    # -- the turn ---------------------------------------------------------------------------
    def run(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        choice: Any = "auto",
        params: SamplingParams | None = None,
        **kw: Any,
    ) -> TurnResult:
        """:meth:`stream`, drained: the :class:`TurnResult`."""
        result: TurnResult | None = None
        for ev in self.stream(messages, tools, choice, params, **kw):
            if isinstance(ev, TurnResult):
                result = ev
        assert result is not None
        return result

    def stream(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        choice: Any = "auto",
        params: SamplingParams | None = None,
        *,
        explicit_max_tokens: bool = False,
        plan: TurnPlan | None = None,
        on_phase: PhaseHook | None = None,
    ) -> Iterator[Delta | TurnResult]:
        """Delta events, then the :class:`TurnResult` (always the last item); ``on_phase`` is told
        when the relevance check starts and ends (:data:`PhaseHook`)."""
        s = self.settings
        t0 = time.perf_counter()
        params = params or SamplingParams()
        plan = plan or self.plan(tools, choice)
        messages = list(messages)
        attempts: list[Attempt] = []
        live_calls: LiveCalls | None = None
        if calls_stream_live(
            plan,
            messages,
            enabled=s.stream_arguments,
            check_relevance=s.check_relevance,
            ground_arguments=s.ground_arguments,
            relevance_exempt=s.relevance_exempt,
        ):
            answered = answered_calls(_since_last_user(messages)) if s.skip_answered_calls else set()
            live_calls = LiveCalls(answered, plan.parallel)

        # 1. generate; a forced turn without grammar is checked and retried. A "none" turn after
        # tool results is an answer-only turn like the redo below: told to answer from the
        # results (the tools are not in its prompt, and a small model took the results for the
        # user's words: "Thank you for providing the response."), under the no-call grammar
        shown, first_plan = messages, plan
        if (
            plan.choice == "none"
            and s.check_answers
            and plan.response_format is None
            and has_tool_results(_since_last_user(messages))
        ):
            shown = _with_note(messages, answer_note(messages))
            first_plan = replace(plan, constraint=self._answer_constraint(plan))
        gen: _Generation | None = None
        for i in range(plan.max_attempts):
            live = not plan.force_by_prompt
            p = params
            if i > 0:  # a different sample, reproducible under a seed
                p = replace(params, temperature=max(params.temperature, 0.7), seed=(params.seed or 0) + i)
            gen = yield from self._generate(
                shown, first_plan, p, explicit_max_tokens, i, live, live_calls=live_calls
            )
            attempts.append(gen.attempt)
            if not plan.force_by_prompt:
                break
            problems = check_calls(gen.parsed.tool_calls, plan)
            if not problems or i == plan.max_attempts - 1:
                if gen.parsed.reasoning:
                    yield Delta("reasoning", gen.parsed.reasoning)
                if gen.parsed.content:
                    yield Delta("content", gen.parsed.content)
                break
            gen.attempt.note = "forced call rejected: " + "; ".join(problems)
        assert gen is not None
        parsed = gen.parsed
        calls, errors, code = list(parsed.tool_calls), list(parsed.errors), list(parsed.code)
        if not plan.parallel:
            calls = calls[:1]
        result = TurnResult(content="", attempts=attempts)
        notes: list[str] = []
        redo = ""

        # 1b. a later request of an agent session answered in prose: the calls it described
        judged_missed = False
        if missed_calls_apply(s.check_missed_calls, plan, messages, parsed):
            found = yield from self._missed_calls(messages, plan, params, explicit_max_tokens)
            if found is not None:
                alt, kept, why = found
                if kept:
                    attempts.append(alt.attempt)
                    gen, parsed = alt, alt.parsed
                    calls, errors, code = kept, [], []
                    notes.append(missed_note(kept))
                    result.relevance = alt.attempt.relevance
                    judged_missed = True
                else:  # the prose stands; the generation that was asked for is on record before it
                    alt.attempt.note = "; ".join(n for n in [alt.attempt.note, why] if n)
                    attempts.insert(len(attempts) - 1, alt.attempt)

        # 2. calls already answered since the user spoke (or fed their own result again)
        if s.skip_answered_calls and calls:
            since = _since_last_user(messages)
            answered = answered_calls(since)

            def repeated(c: ToolCall) -> bool:
                return repeats_answered(c, answered, plan.offered) or feeds_own_result(c, since)

            result.repeated = [c for c in calls if repeated(c)]
            if result.repeated:
                calls = [c for c in calls if not repeated(c)]
                if not calls and not errors and not code:
                    redo = "repeated call(s) not executed; next turn without tools"
                else:
                    notes.append(f"{len(result.repeated)} repeated call(s) left out")

        # 2a. a structure or number where the schema declares a string: its JSON text
        if not redo and calls and s.coerce_strings:
            calls, coerced = coerce_calls(calls, plan.offered)
            if coerced:
                result.coerced = [c.to_dict() for c in coerced]
                notes.append(
                    "argument(s) written out as the declared string: "
                    + ", ".join(f"{c.name}.{c.param}" for c in coerced)
                )

        # 2b. arguments the conversation does not support
        if not redo and calls and s.ground_arguments:
            calls, found = ground_calls(calls, messages, plan.offered)
            # a required value copied from the description: generate again, told so and shown the
            # tools without the example; told in other words once more if it copies again
            for retry in range(len(COPIED_NOTES)):
                note = copied_note(found, retry)
                if not note or plan.force_by_prompt:
                    break
                gen.attempt.ungrounded = [u.to_dict() for u in found]
                gen.attempt.note = "; ".join(n for n in [gen.attempt.note, "copied example value(s)"] if n)
                told = _with_note(messages, note)
                shown = replace(plan, tools=without_examples(plan.tools, found))
                gen = yield from self._generate(told, shown, params, explicit_max_tokens, 1, False)
                attempts.append(gen.attempt)
                parsed = gen.parsed
                calls, errors, code = list(parsed.tool_calls), list(parsed.errors), list(parsed.code)
                if not plan.parallel:
                    calls = calls[:1]
                calls, found = ground_calls(calls, messages, plan.offered)
                if gen.parsed.content:
                    yield Delta("content", gen.parsed.content)
            result.ungrounded = [u.to_dict() for u in found]
            gen.attempt.ungrounded = result.ungrounded
            dropped_args = [u for u in found if u.action == "dropped"]
            if dropped_args:
                notes.append(
                    "ungrounded optional argument(s) left out: "
                    + ", ".join(f"{u.name}.{u.param}" for u in dropped_args)
                )

        # 2c. one call naming several things in a single-valued argument: one call each
        if not redo and calls and s.ground_arguments and s.fan_out and plan.parallel:
            calls, fanned = fan_out(calls, last_user_text(messages), plan.offered)
            if fanned:
                result.fanned = [f.to_dict() for f in fanned]
                notes.append(fanned_note(fanned))

        # 3. does each called function fit the request?
        if (
            not redo
            and calls
            and not judged_missed
            and relevance_applies(s.check_relevance, plan, messages, s.relevance_exempt)
        ):
            judged = list(dict.fromkeys(c.name for c in calls if c.name not in s.relevance_exempt))
            tell = on_phase if judged else None
            if tell is not None:
                tell("relevance", {"state": "start", "functions": judged})
            kept, dropped, verdicts = filter_relevant(
                self.engine, self.format, last_user_text(messages), plan.offered, calls, s.relevance_exempt
            )
            if tell is not None:
                tell("relevance", {"state": "end", "dropped": dropped})
            result.relevance = [v.to_dict() for v in verdicts]
            gen.attempt.relevance = result.relevance
            result.dropped = dropped
            calls = kept
            if dropped and not calls and not errors and not code:
                redo = (
                    f"call(s) of {', '.join(dropped)} judged not to fit the request; next turn without tools"
                )
                result.raw_called = gen.raw
            elif dropped:
                notes.append(f"call(s) of {', '.join(dropped)} judged not to fit the request, dropped")

        # 4. an empty answer after tool results
        if (
            not redo
            and not calls
            and not errors
            and not code
            and not parsed.content.strip()
            and plan.choice != "none"
            and has_tool_results(messages)
        ):
            redo = "empty answer; next turn without tools"

        # 4b. an answer that does not use the results
        told_note = ""
        if (
            not redo
            and s.check_answers
            and not calls
            and not errors
            and not code
            and plan.choice != "none"
            and plan.response_format is None
        ):
            why = answer_misses_results(parsed.content, messages, last_user_text(messages))
            if why:
                redo = f"{why}; answered again from the results"
                told_note = answer_note(messages)

        if redo:
            notes.append(redo)
            gen.attempt.note = "; ".join(n for n in [gen.attempt.note, *notes] if n)
            if (
                not told_note
                and s.check_answers
                and plan.response_format is None
                and has_tool_results(_since_last_user(messages))
            ):
                # without the tools a small model reads the results as the user's words ("Thank
                # you for providing the answer." after calculator → 399.5): told to answer from them
                told_note = answer_note(messages)
            bare = replace(plan, choice="none", constraint=self._answer_constraint(plan), max_attempts=1)
            answer_params = params
            if s.answer_max_tokens is not None:
                answer_params = replace(params, max_tokens=min(params.max_tokens, s.answer_max_tokens))
            again: _Generation = yield from self._generate(
                _with_note(messages, told_note) if told_note else messages,
                bare,
                answer_params,
                False,
                0,
                True,
                answer=True,
            )
            attempts.append(again.attempt)
            calls, errors, code = [], [], []
        elif notes:
            gen.attempt.note = "; ".join(n for n in [gen.attempt.note, *notes] if n)

        # 5. the calls the turn settled on (those not sent while written), then the result
        sent = live_calls.sent if live_calls is not None and not redo else []
        index = live_calls.next_index if live_calls is not None else 0
        if sent != [c.id for c in calls[: len(sent)]]:  # pragma: no cover - a broken promise
            log.error("calls sent while written are not the turn's first calls: %s", sent)
        for c in calls[len(sent) :]:
            args = c.arguments_json()
            yield Delta("tool_call_start", index=index, id=c.id, name=c.name)
            yield Delta("tool_call_args", text=args, index=index, id=c.id, name=c.name)
            yield Delta("tool_call_end", text=args, index=index, id=c.id, name=c.name)
            index += 1
        for i, e in enumerate(errors):
            yield Delta("error", text=e.message, index=i, name=e.name)
        # the parse of the generation that stands (the answer turn, when one was generated): a
        # client that streamed may also have seen content of a generation before it
        result.content = (again if redo else gen).parsed.content
        result.reasoning = (again if redo else gen).parsed.reasoning
        result.calls, result.errors, result.code = calls, errors, code
        result.finish_reason = attempts[-1].finish_reason
        result.prompt_tokens = attempts[0].prompt_tokens
        result.completion_tokens = sum(a.completion_tokens for a in attempts)
        result.latency_s = time.perf_counter() - t0
        yield result

    def _missed_calls(
        self,
        messages: list[dict[str, Any]],
        plan: TurnPlan,
        params: SamplingParams,
        explicit_max_tokens: bool,
    ) -> Iterator[Delta]:
        """The calls of a prose answer's request, asked for under the call grammar
        (:mod:`calltune.turn.missed`). Returns (``yield from``) None where no grammar can be had,
        else ``(generation, calls that hold up, why the others do not)``."""
        s = self.settings
        try:
            req = self.plan(plan.offered, "required", parallel=plan.parallel, thinking=plan.thinking)
        except CalltuneError:
            return None
        if req.constraint is None or req.force_by_prompt:
            return None
        alt: _Generation = yield from self._generate(messages, req, params, explicit_max_tokens, 0, False)
        calls = list(alt.parsed.tool_calls)
        if not plan.parallel:
            calls = calls[:1]
        kept, unsupported = supported_calls(calls, messages, plan.offered)
        why = [
            f"{u.name}.{u.param}={u.value!r} is not in the conversation"
            if u.param
            else f"{u.name} not offered"
            for u in unsupported
        ]
        if kept and relevance_applies(s.check_relevance, plan, messages, s.relevance_exempt):
            kept, dropped, verdicts = filter_relevant(
                self.engine, self.format, last_user_text(messages), plan.offered, kept, s.relevance_exempt
            )
            alt.attempt.relevance = [v.to_dict() for v in verdicts]
            why += [f"{n} judged not to fit the request" for n in dropped]
        note = "asked for the described call(s): " + ("; ".join(why) if why else "kept")
        alt.attempt.note = "; ".join(n for n in [alt.attempt.note, note] if n)
        return alt, kept, "; ".join(why)

    def _answer_constraint(self, plan: TurnPlan) -> Any:
        """The grammar of an answer-only redo: the response format's, else (where the engine can
        constrain and guided decoding is not off) one under which no call can start. Without the
        tools in the prompt a small model still imitates the calls in its history, and a call
        there is dropped, which left the answer empty."""
        if plan.answer_constraint is not None:
            return plan.answer_constraint
        if self.settings.guided is False or not can_constrain(self.engine):
            return None
        if self._no_call is None:
            try:
                from ..guided import GuidedError, build_constraint
            except ImportError:  # guided decoding not installed (calltune[guided])
                self._no_call = False
            else:
                try:
                    self._no_call = build_constraint(self.format, [], "none") or False
                except GuidedError:  # a format without a call grammar: nothing to forbid
                    self._no_call = False
        return self._no_call or None

    # -- one generation ---------------------------------------------------------------------
    def _generate(
        self,
        messages: list[dict[str, Any]],
        plan: TurnPlan,
        params: SamplingParams,
        explicit_max_tokens: bool,
        attempt: int,
        live: bool,
        answer: bool = False,
        live_calls: LiveCalls | None = None,
    ) -> Iterator[Delta]:
        """Generate once; content and reasoning deltas are yielded when ``live``, call deltas
        through ``live_calls`` when given (:mod:`calltune.turn.live`).
        ``answer``: the turn generated again without tools for an answer; calls the model still
        writes there are not calls and not content. Returns (``yield from``) a :class:`_Generation`."""
        s = self.settings
        _, prompt, prompt_text = self.render(messages, plan, attempt)
        p = self.fit(prompt, params, explicit_max_tokens)
        names = plan.offered_names
        tooled = plan.choice != "none"
        if answer:  # parse as if the tools were offered, to leave out what the model still calls
            names = [t["function"]["name"] for t in plan.tools]
        opened = opens_reasoning(self.format, prompt_text)
        parser = turn_parser(self.format, names, calls=tooled or answer, opened=opened)

        def relay(deltas: list[Delta]) -> Iterator[Delta]:
            for d in deltas:
                if not live:
                    continue
                if d.kind in ("content", "reasoning"):
                    if d.text:
                        yield d
                elif live_calls is not None and d.kind.startswith("tool_call"):
                    yield from live_calls.relay(d)

        t0 = time.perf_counter()
        if plan.constraint is not None and plan.constraint.allows_calls:
            # a grammar that allows calls can make a model cycle through them
            comp = generate_until_repeat(self.engine, self.format, prompt, p, plan.constraint, names)
            usage = {"prompt_tokens": comp.prompt_tokens, "completion_tokens": comp.completion_tokens}
            chunks: Any = iter([Chunk(comp.text, comp.finish_reason, comp.stop, usage)])
        else:  # free text, or an answer-only grammar (a response format): streamed as it comes
            chunks = self.engine.stream(prompt, p, plan.constraint)
        parts: list[str] = []
        last: Chunk | None = None
        try:
            for ch in chunks:
                parts.append(ch.text)
                last = ch
                if ch.text:
                    yield from relay(parser.feed(ch.text))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        yield from relay(parser.finish())
        raw = "".join(parts)
        usage = dict((last.usage if last else None) or {})
        finish = (last.finish_reason if last else None) or "stop"
        stop = last.stop if last else None
        parsed = parser.result()  # the same as parsing ``raw`` at once
        note = ""
        if answer and (parsed.tool_calls or parsed.errors or parsed.code):
            note = "call(s) ignored: no tools were on offer for this turn"
            parsed = ParseResult(content=parsed.content, reasoning=parsed.reasoning)
        completion_tokens = int(usage.get("completion_tokens", 0))
        raw_first: str | None = None
        first_tokens: int | None = None
        if (
            s.continue_calls
            and plan.parallel
            and plan.constraint is None
            and tooled
            and should_continue(self.format, parsed, finish, stop)
        ):
            n_before = len(parsed.tool_calls)
            raw_first, first_tokens = raw, completion_tokens
            raw, parsed, extra = continue_calls(
                self.engine,
                self.format,
                prompt,
                raw,
                parsed,
                lambda t: read_turn(self.format, t, names, opened=opened),
                p,
                tool_names=names,
            )
            completion_tokens += extra["completion_tokens"]
            if len(parsed.tool_calls) > n_before:
                note = f"continued after the last call: {len(parsed.tool_calls) - n_before} more call(s)"
        rec = Attempt(
            prompt=prompt_text,
            raw_output=raw,
            finish_reason=finish,
            stop=stop,
            content=parsed.content,
            tool_calls=[c.to_dict() for c in parsed.tool_calls],
            parse_errors=[e.to_dict() for e in parsed.errors],
            reasoning=parsed.reasoning,
            prompt_tokens=int(usage.get("prompt_tokens", len(prompt) if isinstance(prompt, list) else 0)),
            completion_tokens=completion_tokens,
            latency_s=time.perf_counter() - t0,
            guided=plan.constraint is not None,
            note=note,
            raw_first=raw_first,
            completion_tokens_first=first_tokens,
            cached_tokens=int(usage.get("cached_tokens") or 0),
            decode_s=float(usage.get("decode_s") or 0.0),
        )
        return _Generation(prompt_text, raw, parsed, rec)


def _with_note(messages: Sequence[dict[str, Any]], note: str) -> list[dict[str, Any]]:
    """The messages with ``note`` added (for one generation only): as a user message of its own
    after tool results (a small model told in the question still called again), else to the
    last user message."""
    out = [dict(m) for m in messages]
    if out and out[-1].get("role") == "tool":
        return [*out, {"role": "user", "content": note}]
    for m in reversed(out):
        if m.get("role") == "user" and isinstance(m.get("content"), str):
            m["content"] = f"{m['content']}\n\n{note}"
            break
    return out


def _since_last_user(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "user":
            return list(messages[i + 1 :])
    return list(messages)
