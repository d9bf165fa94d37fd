"""BFCL's multi-turn categories: its stateful classes as tools, driven turn by turn, judged by
BFCL's multi-turn checker.

One case = one fresh set of BFCL's class instances (file system, trading bot, travel API, …,
loaded with the case's ``initial_config``). Each user turn runs until the model stops calling
(several steps per turn); functions a ``miss_func`` case holds back join at their turn with
BFCL's own "I have updated some more functions" message; a run stopped mid-case resumes at the
next unfinished turn (the state is rebuilt by replaying the calls that ran).

Safety. BFCL's checker executes call *strings* with ``eval``. calltune never hands it model
text: a call reaches the checker only after it ran here, i.e. after the toolbox validated it
against the function's schema; its string is then built by :func:`call_string` from the
function's name (one of the case's offered methods) and ``repr`` of JSON literals, and parsed
back with :mod:`ast` to prove it is one plain call with literal keyword arguments. Model text
never becomes code. Execution here calls the bound methods directly (``getattr``), no ``eval``.
"""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import json
import keyword
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CalltuneError
from ..tools import Tool, Toolbox
from ..types import ToolCall
from .bfcl_data import BfclCase
from .convert import bfcl_to_tools
from .output import merge_consecutive

#: BFCL's step limit per user turn (``MAXIMUM_STEP_LIMIT``): more call steps = forced quit
MAX_STEPS_PER_TURN = 20
#: BFCL's user message for the turn where held-back functions join (``miss_func``)
ADDITIONAL_FUNCTION_PROMPT = "I have updated some more functions you can choose from. What about now?"


#: the context window a run with multi-turn categories gets unless one is given: the default
#: model's trained context. BFCL's longest cases (``long_context``: big files and listings)
#: need well over 16k tokens; a case that does not fit fails with ``multi_turn:context_length``
#: naming the sizes, never a silent cut
MULTI_TURN_N_CTX = 32768


def context_size(categories: Sequence[str], n_ctx: int | None) -> int | None:
    """``n_ctx`` if given, else :data:`MULTI_TURN_N_CTX` when a multi-turn or memory category runs."""
    from .bfcl_data import is_stateful

    if n_ctx:
        return n_ctx
    return MULTI_TURN_N_CTX if any(is_stateful(c) for c in categories) else None


class UnsafeCallError(CalltuneError, ValueError):
    """A call that cannot be rendered as a plain, literal-only call string."""


# -- the environment -----------------------------------------------------------------------------
def _backend() -> tuple[dict[str, str], list[str]]:
    from .bfcl_checker import load_ast_checker

    load_ast_checker()  # the model_config stand-in first
    from bfcl_eval.constants.executable_backend_config import CLASS_FILE_PATH_MAPPING, STATELESS_CLASSES

    return CLASS_FILE_PATH_MAPPING, STATELESS_CLASSES


def bfcl_class(class_name: str) -> type:
    """One of BFCL's backend classes (``GorillaFileSystem``, ``MemoryAPI_kv``, …) by name."""
    paths, _ = _backend()
    if class_name not in paths:
        raise ValueError(f"{class_name!r} is not one of BFCL's backend classes")
    return getattr(importlib.import_module(paths[class_name]), class_name)


def bfcl_result_text(result: Any) -> str:
    """An execution result as BFCL's runtime turns it into text (str as is, dict as JSON)."""
    if isinstance(result, str):
        return result
    if isinstance(result, dict):
        try:
            return json.dumps(result)
        except (TypeError, ValueError):
            return str(result)
    return str(result)


class BfclEnvironment:
    """Fresh instances of a case's BFCL classes and the log of every call that ran on them."""

    def __init__(self, case: BfclCase):
        if case.multi_turn is None:
            raise ValueError(f"{case.id} is not a multi-turn case")
        _, stateless = _backend()
        spec = case.multi_turn
        long_context = "long_context" in case.category
        instances: dict[str, Any] = {}
        for class_name in spec.involved_classes:
            inst = bfcl_class(class_name)()
            if class_name not in stateless:
                inst._load_scenario(
                    copy.deepcopy(spec.initial_config.get(class_name, {})), long_context=long_context
                )
            instances[class_name] = inst
        self._bind(instances)

    @classmethod
    def of(cls, instances: dict[str, Any]) -> BfclEnvironment:
        """An environment over instances already loaded (the memory categories load theirs
        from a snapshot)."""
        env = cls.__new__(cls)
        env._bind(instances)
        return env

    def _bind(self, instances: dict[str, Any]) -> None:
        self.instances = dict(instances)
        #: public method name → the instance that owns it (a later class wins, as in BFCL)
        self.owner: dict[str, Any] = {}
        for inst in self.instances.values():
            for name, _ in inspect.getmembers(inst, predicate=inspect.ismethod):
                if not name.startswith("_"):
                    self.owner[name] = inst
        #: (step key, name, arguments) of every call that ran, in order
        self.log: list[tuple[str, str, dict[str, Any]]] = []
        self.step_key = ""

    def execute(self, name: str, arguments: dict[str, Any]) -> str:
        """Run one (already validated) call; exceptions become BFCL's error text."""
        inst = self.owner.get(name)
        if inst is None:
            raise UnsafeCallError(f"{name!r} is not a method of this case's classes")
        self.log.append((self.step_key, name, copy.deepcopy(arguments)))
        try:
            return bfcl_result_text(getattr(inst, name)(**arguments))
        except Exception as e:  # noqa: BLE001 - as BFCL's runtime: the error is the observation
            return f"Error during execution: {e}"

    def toolbox(self, docs: Sequence[dict[str, Any]]) -> Toolbox:
        """The offered function docs as calltune tools that run on these instances, in order."""
        specs, name_map = bfcl_to_tools(list(docs))
        box = Toolbox([], sequential=True)
        for spec in specs:
            name = spec["function"]["name"]
            method = name_map[name]
            if method not in self.owner or name in box:
                continue  # a doc without a method here, or a name two classes share
            # an argument the doc does not declare is refused before the call
            spec["function"]["parameters"].setdefault("additionalProperties", False)
            box.add(Tool.from_spec(spec, fn=self._runner(method)))
        return box

    def _runner(self, method: str) -> Callable[..., str]:
        def run(**kwargs: Any) -> str:
            return self.execute(method, kwargs)

        run.__name__ = method
        return run


# -- call strings for the checker ---------------------------------------------------------------
def _check_literal(value: Any, where: str) -> None:
    if value is None or isinstance(value, bool | int | float | str):
        if isinstance(value, float) and value != value:  # NaN has no literal
            raise UnsafeCallError(f"{where}: NaN is not a literal")
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check_literal(v, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise UnsafeCallError(f"{where}: object keys must be strings")
            _check_literal(v, f"{where}.{k}")
        return
    raise UnsafeCallError(f"{where}: {type(value).__name__} is not a JSON literal")


def call_string(name: str, arguments: dict[str, Any], known: set[str] | frozenset[str]) -> str:
    """``name(k=<literal>, ...)`` for BFCL's checker, built from a validated call.

    ``name`` must be one of ``known`` (the case's methods) and a plain identifier; argument
    names plain identifiers; values JSON literals (``repr`` makes them Python literals). The
    result is parsed back: one call of a bare name with literal keyword arguments, or
    :class:`UnsafeCallError`."""
    if name not in known or not name.isidentifier() or keyword.iskeyword(name):
        raise UnsafeCallError(f"{name!r} is not one of this case's methods")
    if not isinstance(arguments, dict):
        raise UnsafeCallError(f"arguments of {name!r} are not an object")
    parts = []
    for k, v in arguments.items():
        if not isinstance(k, str) or not k.isidentifier() or keyword.iskeyword(k):
            raise UnsafeCallError(f"argument name {k!r} of {name!r} is not an identifier")
        _check_literal(v, f"{name}.{k}")
        parts.append(f"{k}={v!r}")
    text = f"{name}({', '.join(parts)})"
    _assert_plain_call(text, name)
    return text


def _assert_plain_call(text: str, name: str) -> None:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:  # pragma: no cover - repr of literals always parses
        raise UnsafeCallError(f"call string does not parse: {e}") from None
    node = tree.body
    ok = (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == name
        and not node.args
        and all(kw.arg is not None for kw in node.keywords)
    )
    if ok:
        for kw in node.keywords:
            try:
                ast.literal_eval(kw.value)
            except ValueError:
                ok = False
    if not ok:
        raise UnsafeCallError(f"{text[:80]!r} is not a plain call with literal arguments")


def steps_since(env: BfclEnvironment, start: int, known: frozenset[str]) -> list[list[str]]:
    """The call strings of the calls that ran since ``env.log[start]``, per step, in order."""
    per_step: dict[str, list[str]] = {}
    for key, name, args in env.log[start:]:
        per_step.setdefault(key, []).append(call_string(name, args, known))
    return list(per_step.values())


# -- one case ------------------------------------------------------------------------------------
@dataclass
class TurnRecord:
    """What happened in one user turn: per step, the call strings that ran, and the outputs."""

    steps: list[list[str]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    stopped: str = "answer"
    error: str | None = None
    #: what the turn did beyond generating (relevance drops, grounding, retries), per step
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "outputs": self.outputs,
            "notes": self.notes,
            "prompt_tokens": self.prompt_tokens,
            "cached_tokens": self.cached_tokens,
            "completion_tokens": self.completion_tokens,
            "latency_s": round(self.latency_s, 4),
            "stopped": self.stopped,
            "error": self.error,
        }


@dataclass
class TurnOutcome:
    """What a system's user turn returns to the driver."""

    messages: list[dict[str, Any]]
    outputs: list[str]
    stopped: str  # answer | max_steps | error
    error: str | None = None
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    notes: list[str] = field(default_factory=list)


def step_loop(
    system: Any,
    messages: list[dict[str, Any]],
    toolbox: Toolbox,
    max_steps: int,
    on_step: Callable[[int], None],
) -> TurnOutcome:
    """A user turn for a system that answers one request at a time (the baselines): ask, run
    the calls, add the results, until it answers without calls or ``max_steps`` is reached."""
    msgs = list(messages)
    outputs: list[str] = []
    pt = ct = 0
    for i in range(max_steps):
        on_step(i)
        out = system.answer(msgs, toolbox.specs())
        outputs.append(out.raw)
        pt += out.prompt_tokens
        ct += out.completion_tokens
        content = out.raw if not out.calls else ""
        if not out.calls:
            msgs.append({"role": "assistant", "content": content})
            return TurnOutcome(msgs, outputs, "answer", prompt_tokens=pt, completion_tokens=ct)
        calls = [ToolCall(c.name, c.arguments, id=c.id) for c in out.calls]
        msgs.append({"role": "assistant", "content": "", "tool_calls": [c.to_openai() for c in calls]})
        for c, obs in zip(calls, toolbox.execute_many(calls), strict=True):
            msgs.append({"role": "tool", "tool_call_id": c.id, "name": c.name, "content": obs.content})
    return TurnOutcome(msgs, outputs, "max_steps", prompt_tokens=pt, completion_tokens=ct)


def _run_user_turn(
    system: Any, messages: list[dict[str, Any]], toolbox: Toolbox, on_step: Callable[[int], None]
) -> TurnOutcome:
    # BFCL: after MAX_STEPS_PER_TURN call steps the case is force-quit; one more step lets a
    # model that would answer at step 21 do so, as in BFCL's loop
    max_steps = MAX_STEPS_PER_TURN + 1
    if hasattr(system, "converse"):
        return system.converse(messages, toolbox, max_steps, on_step)
    return step_loop(system, messages, toolbox, max_steps, on_step)


class _Partial:
    """The per-case checkpoint of a multi-turn run: written after every turn, removed at the end."""

    def __init__(self, path: Path | None):
        self.path = path

    def load(self) -> dict[str, Any] | None:
        if self.path is None or not self.path.is_file():
            return None
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None  # a torn checkpoint: start the case again

    def save(self, state: dict[str, Any]) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False, default=str), encoding="utf-8")
        tmp.replace(self.path)

    def clear(self) -> None:
        if self.path is not None and self.path.exists():
            self.path.unlink()


def run_multi_turn_case(
    system: Any,
    case: BfclCase,
    checkpoint: str | Path | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Drive one multi-turn case through ``system`` turn by turn and judge it with BFCL's
    multi-turn checker. ``checkpoint``: a file that holds the finished turns, so that a run
    stopped mid-case resumes at the next turn. ``on_progress`` gets "turn 2/4 step 1" lines.
    Returns the case record."""
    spec = case.multi_turn
    assert spec is not None
    env = BfclEnvironment(case)
    known = frozenset(env.owner)
    part = _Partial(Path(checkpoint) if checkpoint else None)
    docs = list(case.functions)
    messages: list[dict[str, Any]] = []
    if getattr(system, "system", None):
        messages.append({"role": "system", "content": system.system})
    turns: list[TurnRecord] = []
    state = part.load()
    if state and state.get("id") == case.id:
        # rebuild the state: replay every call that ran, in order, on the fresh instances
        for _key, name, args in state["log"]:
            env.execute(name, args)
        messages = state["messages"]
        turns = [TurnRecord(**t) for t in state["turns"]]
    resumed = len(turns)
    t_case = time.perf_counter()
    force_quit = False
    error: str | None = None
    for ti, user_turn in enumerate(spec.turns):
        if ti in spec.missed_function:
            docs = docs + list(spec.missed_function[ti])
        if ti < len(turns):
            continue
        if ti in spec.missed_function:
            user_turn = [{"role": "user", "content": ADDITIONAL_FUNCTION_PROMPT}]
        toolbox = env.toolbox(docs)
        rec = TurnRecord()
        steps: dict[str, int] = {}

        def on_step(i: int, ti: int = ti, steps: dict[str, int] = steps) -> None:
            env.step_key = f"{ti}.{i}"
            steps.setdefault(env.step_key, len(steps))
            if on_progress is not None:
                on_progress(f"{case.id} turn {ti + 1}/{len(spec.turns)} step {len(steps)}")

        t0 = time.perf_counter()
        log_start = len(env.log)
        user_msgs = [{"role": m["role"], "content": m.get("content", "")} for m in user_turn]
        outcome = _run_user_turn(system, messages + merge_consecutive(user_msgs), toolbox, on_step)
        rec.latency_s = time.perf_counter() - t0
        messages = outcome.messages
        rec.outputs = outcome.outputs
        rec.prompt_tokens, rec.cached_tokens = outcome.prompt_tokens, outcome.cached_tokens
        rec.completion_tokens = outcome.completion_tokens
        rec.stopped, rec.error = outcome.stopped, outcome.error
        rec.notes = outcome.notes
        rec.steps = steps_since(env, log_start, known)
        turns.append(rec)
        if outcome.stopped == "max_steps":
            force_quit = True
        if outcome.stopped == "error":
            error = outcome.error
        part.save(
            {
                "id": case.id,
                "messages": messages,
                "turns": [t.to_dict() for t in turns],
                "log": [list(x) for x in env.log],
            }
        )
        if force_quit or error:
            break
    verdict = judge_multi_turn(case, [t.steps for t in turns], force_quit=force_quit, error=error)
    part.clear()
    return {
        "id": case.id,
        "category": case.category,
        **verdict,
        "turns": [t.to_dict() for t in turns],
        "resumed_at_turn": resumed or None,
        "prompt": "",
        "raw": "\n\n".join(o for t in turns for o in t.outputs)[-4000:],
        "calls": [],
        "calls_bfcl": [t.steps for t in turns],
        "parse_errors": [],
        "latency_s": round(sum(t.latency_s for t in turns) if resumed else time.perf_counter() - t_case, 4),
        "prompt_tokens": sum(t.prompt_tokens for t in turns),
        "cached_tokens": sum(t.cached_tokens for t in turns),
        "completion_tokens": sum(t.completion_tokens for t in turns),
        "finish_reason": "error" if error else ("force_quit" if force_quit else "stop"),
        "guided": False,
    }


def judge_multi_turn(
    case: BfclCase, decoded: list[list[list[str]]], *, force_quit: bool = False, error: str | None = None
) -> dict[str, Any]:
    """BFCL's verdict on the call strings a case ran (per turn, per step): ``valid``,
    ``error_type`` (BFCL's names) and ``errors``."""
    spec = case.multi_turn
    assert spec is not None
    if error:
        kind = "context_length" if "context" in error.lower() else "inference_error"
        return {"valid": False, "error_type": f"multi_turn:{kind}", "errors": [error[:500]]}
    if force_quit or len(decoded) != len(spec.ground_truth):
        return {
            "valid": False,
            "error_type": "multi_turn:force_terminated",
            "errors": [f"stopped after {len(decoded)} of {len(spec.ground_truth)} turns"],
        }
    from .bfcl_checker import load_ast_checker

    load_ast_checker()
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker

    # BFCL caches instances in its module's globals by (model name, case id): a fresh name per
    # judgement keeps cases and reruns apart, and the instances are dropped afterwards
    model_name = f"calltune_{uuid.uuid4().hex}"
    entry = copy.deepcopy(spec.entry)
    try:
        res = multi_turn_checker(
            [[list(step) for step in turn] for turn in decoded],
            spec.ground_truth,
            entry,
            case.category,
            model_name,
        )
    except Exception as e:  # noqa: BLE001 - a checker crash fails the case, not the run
        res = {"valid": False, "error_type": "checker:exception", "error_message": f"{type(e).__name__}: {e}"}
    finally:
        g = vars(multi_turn_utils)
        for k in [k for k in g if k.startswith(model_name)]:
            del g[k]
    if res.get("valid"):
        return {"valid": True, "error_type": None, "errors": []}
    details = res.get("details") or {}
    errs: list[Any] = [res.get("error_message", "")]
    if "differences" in details:
        errs.append(json.dumps(details["differences"], default=str)[:600])
    if "missing_items" in details:
        errs.append(json.dumps(details["missing_items"], default=str)[:600])
    return {"valid": False, "error_type": res.get("error_type") or "unknown", "errors": errs}
