"""Trajectory interaction: each request answered by the teacher through calltune's own
:class:`~calltune.agent.Agent`, with real execution (AgentTuning's second stage).

The agent gets a Toolbox of exactly the offered tools: executable tools run; a spec-only tool
gets a function that asks the teacher for a plausible JSON result (the call is marked
``simulated`` in the record); an environment's tools are bound to a fresh instance made from
the request's seed. A multi-turn request's follow-ups run on the same agent history. The
record keeps the whole conversation (OpenAI messages and the seed format), every call with its
observation, parse errors, tokens and seconds, and an environment's final state.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engines.base import SamplingParams
from ..errors import CalltuneError
from ..tools import Tool, Toolbox
from ..types import ToolCall
from .envs import EnvInstance, Environment, EnvTask
from .instructions import Instruction, ToolPool, is_placeholder, tool_line
from .teacher import Teacher, first_json

if TYPE_CHECKING:
    from ..agent import Agent

SIMULATE_SYSTEM = "You stand in for a real API. Reply with the JSON result of the call only, no prose."
SIMULATE_PROMPT = (
    "Function:\n{line}\n\nCall arguments: {args}\n\nWrite a plausible, realistic JSON result. Keep it "
    "compact: at most 8 fields and 3 list items, short strings, no long texts."
)
#: a simulated result longer than this is cut and so not JSON: 160 cut 2 of the first 11
#: trajectories' results (a drafted NDA, a season's episode list), wasting the whole trajectory
SIMULATE_MAX_TOKENS = 256


#: The first turn of a request whose blueprint already says that no call is right gets a note
#: saying why, as a system message that the stored conversation does not keep. The turn runs
#: with ``tool_choice="none"``, which hides the tools, so the note says what it needs to.
#:
#: - missing_value: the note shows the function's line and names the required value the
#:   request leaves out: "ask for it". Left to itself the default model invented the value in
#:   19 of 23 such trajectories (weight_kg=70 for "basal metabolic rate for a 65-year-old male").
#: - no_fit: the request was written for a function that is not offered (Hammer's irrelevance
#:   augmentation: the fitting function is taken away, the label is no call). Left to itself the
#:   default model called a near-miss tool, or wrote a call into its answer, in 28 of 33.
ASK_NOTES = {
    "en": (
        "The user's request is for this function:\n{line}\nbut it does not give the value of {param!r}. "
        "Do not guess the value: ask the user for it, in one short question."
    ),
    "zh": "用户的请求要用这个函数：\n{line}\n但没有给出 {param!r} 的值。不要猜这个值：用一句简短的中文问题向用户询问它。",
}
NO_FIT_NOTES = {
    "en": (
        "None of the functions you have can do what the user asks. Do not call a function and do "
        "not make up a result: tell the user, in one or two sentences, that you cannot do this."
    ),
    "zh": "你的函数都做不了用户要求的事。不要调用函数，也不要编造结果：用一两句中文告诉用户你做不了这件事。",
}


def first_turn_note(instr: Instruction, pool: ToolPool) -> str | None:
    """The note the first turn of a ``missing_value`` or ``no_fit`` request gets (None for
    other requests)."""
    lang = "zh" if instr.lang == "zh" else "en"
    if instr.category == "no_fit":
        return NO_FIT_NOTES[lang]
    if instr.category != "missing_value" or not instr.missing or instr.target not in pool.by_name:
        return None
    line = tool_line(pool.by_name[instr.target].tool.spec())
    return ASK_NOTES[lang].format(line=line, param=instr.missing)


class SimulationError(CalltuneError, RuntimeError):
    """The teacher's simulated result of a spec-only tool is not JSON."""


@dataclass
class AgentSettings:
    """How the agent answers each request (the teacher's turn settings)."""

    max_steps: int = 6
    max_tokens: int = 384
    temperature: float = 0.0
    check_relevance: bool = True
    continue_calls: bool = True
    #: seconds a simulated tool may take (a teacher generation on a loaded CPU is slow)
    simulate_timeout: float = 240.0
    #: run the calls the teacher wrote with the request as the first step instead of having it
    #: write them again (:func:`planned_calls`); the agent goes on from their results
    plan_calls: bool = True


#: categories whose blueprint calls are the first step's (sequential: up to the first call that
#: needs an earlier result); a multi_turn blueprint plans one call per user turn
PLANNED_CATEGORIES = ("single", "choice", "parallel", "sequential")


def _literal_calls(calls: list[dict[str, Any]]) -> list[ToolCall]:
    """The calls up to the first that holds a placeholder (a value an earlier result gives)."""
    out: list[ToolCall] = []
    for c in calls:
        args = c.get("arguments") or {}
        if any(is_placeholder(v) for v in args.values()):
            break
        out.append(ToolCall(c["name"], dict(args)))
    return out


def planned_calls(instr: Instruction) -> list[ToolCall]:
    """The first step's calls taken from ``instr``'s blueprint: every call of a single, choice or
    parallel request, the calls of a sequential one before the first that uses a ``<result>``;
    none for other categories and code-written tasks (no blueprint). A multi-turn request's
    first turn: :func:`planned_turns`."""
    return planned_turns(instr)[0]


def planned_turns(instr: Instruction) -> list[list[ToolCall]]:
    """The planned calls of each user turn of ``instr`` (the request, then each follow-up).

    A multi_turn blueprint has one call per user turn (the request's, then the follow-up's):
    each turn's call is its planned step. Left to itself the default model answered 17 of 28
    follow-ups without a call (from the first turn's result, or with a made-up one: "The humidity
    forecast for New York City tomorrow is 70 %")."""
    turns: list[list[ToolCall]] = [[] for _ in range(1 + len(instr.followups))]
    if not instr.calls:
        return turns
    if instr.category == "multi_turn":
        if len(instr.calls) == len(turns):
            turns = [_literal_calls([c]) for c in instr.calls]
    elif instr.category in PLANNED_CATEGORIES and not instr.followups:
        turns[0] = _literal_calls(list(instr.calls))
    return turns


def simulated_tool(
    tool: Tool, teacher: Teacher, seed: int, usage: Counter[str], timeout: float | None = None
) -> Tool:
    """``tool`` (spec only) with a function that asks the teacher for its result."""
    line = tool_line(tool.spec())

    def simulate(**arguments: Any) -> Any:
        prompt = SIMULATE_PROMPT.format(line=line, args=json.dumps(arguments, ensure_ascii=False))
        reply = teacher.ask(
            SIMULATE_SYSTEM, prompt, max_tokens=SIMULATE_MAX_TOKENS, seed=seed, purpose="simulation"
        )
        usage["prompt_tokens"] += reply.prompt_tokens
        usage["completion_tokens"] += reply.completion_tokens
        value, problem = first_json(reply.text, "{[")
        if problem:
            raise SimulationError(f"the simulated result is not JSON ({problem})")
        return value

    return Tool(
        simulate,
        name=tool.name,
        description=tool.description,
        parameters=tool.parameters,
        timeout=timeout,
    )


class Sources:
    """Where an instruction's tools come from: the tool pool and the environments by name."""

    def __init__(self, pool: ToolPool, envs: Mapping[str, Environment] | None = None):
        self.pool = pool
        self.envs = dict(envs or {})
        self._tasks: dict[tuple[str, int], list[EnvTask]] = {}
        self._lock = threading.Lock()

    def task(self, instr: Instruction) -> EnvTask | None:
        """The code-written environment task ``instr`` came from (None for teacher-written ones)."""
        if instr.env is None or instr.task is None:
            return None
        key = (instr.env, int(instr.env_seed or 0))
        with self._lock:
            if key not in self._tasks:
                self._tasks[key] = list(self.envs[instr.env].tasks(key[1], instr.task + 1))
            tasks = self._tasks[key]
            if len(tasks) <= instr.task:
                self._tasks[key] = tasks = list(self.envs[instr.env].tasks(key[1], instr.task + 1))
        return tasks[instr.task]

    def instance(self, instr: Instruction) -> EnvInstance:
        return self.envs[instr.env].fresh(int(instr.env_seed or 0))  # type: ignore[index]

    def toolbox(
        self, instr: Instruction, teacher: Teacher, settings: AgentSettings, usage: Counter[str]
    ) -> tuple[Toolbox, EnvInstance | None, list[str]]:
        """The offered tools (bound to a fresh environment instance when there is one), the
        instance, and the names of the simulated tools."""
        if instr.env is not None:
            inst = self.instance(instr)
            box = inst.toolbox()
            tools = [box.get(n) for n in instr.tools]
            missing = [n for n, t in zip(instr.tools, tools, strict=True) if t is None]
            if missing:
                inst.close()
                raise CalltuneError(f"environment {instr.env} has no tool {missing[0]!r}")
            return Toolbox(tools, timeout=box.timeout, sequential=True), inst, []
        tools: list[Tool] = []
        simulated: list[str] = []
        for name in instr.tools:
            lt = self.pool.by_name[name]
            if lt.simulated or lt.tool.fn is None:
                simulated.append(name)
                tools.append(
                    simulated_tool(lt.tool, teacher, instr.seed, usage, timeout=settings.simulate_timeout)
                )
            else:
                tools.append(lt.tool)
        return Toolbox(tools, timeout=30.0), None, simulated


def _calls(
    messages: list[dict[str, Any]], observations: Mapping[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every call of the conversation in order, with its result and whether it ran without error."""
    results = {m.get("tool_call_id"): m for m in messages if m.get("role") == "tool"}
    out = []
    for i, m in enumerate(messages):
        if m.get("role") != "assistant":
            continue
        for c in m.get("tool_calls") or []:
            fn = c.get("function", {})
            try:
                args = json.loads(fn.get("arguments") or "{}")
            except json.JSONDecodeError:
                args = fn.get("arguments")
            obs = observations.get(c.get("id"), {})
            res = results.get(c.get("id"), {})
            out.append(
                {
                    "name": fn.get("name"),
                    "arguments": args,
                    "message": i,
                    "ok": bool(obs.get("ok", False)),
                    "error": obs.get("error"),
                    "observation": res.get("content"),
                }
            )
    return out


def make_agent(
    engine: Any, format: Any, toolbox: Toolbox | None, settings: AgentSettings, seed: int
) -> Agent:
    """The agent that answers a request with ``settings`` (the teacher's; a distilled student is
    evaluated through the same)."""
    from ..agent import Agent

    return Agent(
        engine,
        toolbox,
        format=format,
        max_steps=settings.max_steps,
        params=SamplingParams(max_tokens=settings.max_tokens, temperature=settings.temperature, seed=seed),
        continue_calls=settings.continue_calls,
        check_relevance=settings.check_relevance,
    )


def next_call_choice(instr: Instruction) -> dict[str, Any] | None:
    """The ``tool_choice`` of the first generated turn of a sequential blueprint: the function of
    its first call that needs an earlier result (the planned step ran the calls before it).
    Left free after the planned first call, the default model answered from its result without
    the second call in 12 of 15 sequential trajectories ("a sequential request needs calls in two
    or more turns"); named, it must write that call, filling the value from the observation,
    which the grounding filter then checks."""
    if instr.category != "sequential" or not instr.calls or instr.followups:
        return None
    done = len(_literal_calls(list(instr.calls)))
    if not done or done >= len(instr.calls):
        return None
    return {"type": "function", "function": {"name": instr.calls[done]["name"]}}


def run_trajectory(
    instr: Instruction, sources: Sources, teacher: Teacher, settings: AgentSettings | None = None
) -> dict[str, Any]:
    """Answer ``instr`` (and its follow-ups) through the agent; the trajectory record."""
    from ..train.convert import ConvertError, openai_to_seed

    settings = settings or AgentSettings()
    usage: Counter[str] = Counter()
    rec: dict[str, Any] = {
        "id": instr.id,
        "category": instr.category,
        "lang": instr.lang,
        "tools": [],
        "messages": [],
        "calls": [],
        "parse_errors": [],
        "stopped": [],
        "error": None,
        "simulated": [],
        "domains": [],
        "planned": 0,
    }
    started, t0 = time.time(), time.perf_counter()
    inst: EnvInstance | None = None
    try:
        box, inst, simulated = sources.toolbox(instr, teacher, settings, usage)
        rec["tools"] = box.specs()
        rec["simulated_offered"] = simulated
        rec["domains"] = (
            [instr.env] if instr.env else sorted({sources.pool.by_name[n].domain for n in instr.tools})
        )
        agent = make_agent(teacher.engine, teacher.format, box, settings, instr.seed)
        messages: list[dict[str, Any]] = []
        observations: dict[str, dict[str, Any]] = {}
        plans = planned_turns(instr) if settings.plan_calls else [[] for _ in range(1 + len(instr.followups))]
        rec["planned"] = sum(map(len, plans))
        # the planned calls answer a single, choice or parallel request, or a multi-turn request's
        # turn: the teacher answers from their results (left free to call, the default model
        # mostly repeated the call, which the turn then dropped and generated again without
        # tools: one wasted generation)
        note = first_turn_note(instr, sources.pool)
        for k, text in enumerate([instr.request, *instr.followups]):
            question: str | list[dict[str, Any]] = text
            if note and not k:
                question = [{"role": "system", "content": note}, {"role": "user", "content": text}]
            answer_only = bool(plans[k]) and instr.category != "sequential"
            choice: Any = "none" if answer_only or (note and not k) else None
            if not k and plans[k]:
                choice = next_call_choice(instr) or choice
            res = agent.run(
                question,
                history=messages if k else None,
                first_calls=plans[k] or None,
                tool_choice=choice,
            )
            messages = res.messages
            if note and not k:
                messages = [
                    m for m in messages if not (m.get("role") == "system" and m.get("content") == note)
                ]
            tr = res.trace
            rec["stopped"].append(tr.stopped)
            if tr.error:
                rec["error"] = tr.error
            for st in tr.steps:
                rec["parse_errors"].extend(st.parse_errors)
                for o in st.observations:
                    observations[o["call_id"]] = o
                if st.planned:
                    continue
                usage["prompt_tokens"] += st.prompt_tokens
                usage["completion_tokens"] += st.completion_tokens
                usage["cached_tokens"] += st.cached_tokens
                usage["generations"] += 1
        rec["messages"] = messages
        rec["calls"] = _calls(messages, observations)
        for c in rec["calls"]:
            c["simulated"] = c["name"] in simulated
        rec["simulated"] = sorted({c["name"] for c in rec["calls"] if c["simulated"]})
        try:
            rec["sample"] = openai_to_seed({"messages": messages, "tools": rec["tools"]})
        except ConvertError as e:
            rec["error"] = f"the conversation is not a seed sample: {e}"
        if inst is not None:
            rec["env_state"] = inst.state()
            task = sources.task(instr)
            if task is not None:
                try:
                    rec["env_check"] = list(task.check(inst))
                except Exception as e:  # noqa: BLE001 - a failing check is a finding, not a crash
                    rec["env_check"] = [f"the task's check raised {type(e).__name__}: {e}"]
    except CalltuneError as e:
        rec["error"] = f"{type(e).__name__}: {e}"
    finally:
        if inst is not None:
            inst.close()
    rec["tokens"] = dict(usage)
    rec["seconds"] = round(time.perf_counter() - t0, 3)
    rec["started"] = round(started, 3)
    return rec
