"""Trajectory filtering (AgentTuning's third stage): named stages, each a reason to reject.

A stage is a function ``(trajectory, instruction, context) -> reason | None``. The checks in
code run first and the one teacher generation (the semantic check) last, so a trajectory
that code already rejects costs no more tokens:

==============  ===========================================================================
``format``      the run ended with an answer; no unparseable call; no call markup in a
                reply's text; the sample passes ``calltune data check``'s validator
``execution``   every call ran without error
``grounded``    every argument is in the conversation (the user's words, earlier results):
                no invented optional values (:func:`calltune.turn.grounding.ground_calls`),
                no required value from nowhere (an ``enum`` value is a reading, not a copy)
``category``    the category's rule: no_fit and missing_value make no call (missing_value
                asks back), parallel has one turn with two or more calls, sequential calls in
                two or more turns, multi_turn calls again after the follow-up, single/choice
                one call (which one: ``blueprint``)
``blueprint``   the same calls as the blueprint: tool names, and every argument value the
                blueprint gives (results of earlier calls, ``"<result>"``, excepted)
``env_state``   the environment's final state equals the blueprint's calls replayed on a
                fresh instance from the same seed; a code-written task's own check passes
``decontam``    no user text overlaps a BFCL question above the threshold, no BFCL
                function name (:mod:`calltune.datagen.decontam`)
``semantic``    the teacher says yes to "does the reply resolve the request?"
==============  ===========================================================================

Requests are deduplicated (:class:`Dedupe`) and checked against BFCL before their
trajectories run, in run order (the pipeline's construction stage), so no tokens are spent on them.
"""

from __future__ import annotations

import json
import math
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..train.validate import validate_sample
from ..turn.grounding import Evidence, conversation_texts, ground_calls
from ..types import ToolCall
from .instructions import Instruction, is_placeholder
from .teacher import Teacher
from .trajectories import Sources

#: a near-duplicate: this similarity (0-100, rapidfuzz's ``ratio``) to a kept request or more
NEAR_DUPLICATE = 90.0

SEMANTIC_SYSTEM = "You review the work of an assistant that can call functions. Answer yes or no."
#: the functions are shown so that a reply saying what the assistant cannot do can be judged: the
#: default model answered "no" to "I'm sorry, but I cannot assist with that request." for a
#: restaurant booking when it did not see that only unit converters were on offer
SEMANTIC_PROMPT = (
    "Functions the assistant had:\n{functions}\n\n"
    "User request:\n{request}\n\nWhat the assistant did:\n{actions}\n\nIts final reply:\n{answer}\n\n"
    "Does the reply correctly resolve the request (using the results it got, or saying what it "
    "cannot do, or asking for a missing detail)? Answer yes or no."
)


@dataclass
class FilterContext:
    """What the stages need besides the trajectory: the teacher, the environments, BFCL."""

    teacher: Teacher | None = None
    sources: Sources | None = None
    semantic: bool = True
    threshold: float = 0.5
    #: a :class:`calltune.datagen.decontam.BfclIndex` (loaded on first use when None)
    index: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def bfcl(self) -> Any:
        with self._lock:
            if self.index is None:
                from .decontam import bfcl_index

                self.index = bfcl_index()
            return self.index


Stage = Callable[[dict[str, Any], Instruction, FilterContext], str | None]


# --------------------------------------------------------------------------- format / execution
def check_format(traj: dict[str, Any], instr: Instruction, ctx: FilterContext) -> str | None:
    if traj.get("error"):
        return f"the run failed: {traj['error']}"
    stopped = [s for s in traj.get("stopped", []) if s != "answer"]
    if stopped:
        return f"the agent stopped without an answer ({stopped[0]})"
    if traj.get("parse_errors"):
        return f"an unparseable call: {traj['parse_errors'][0].get('message', '')}"
    sample = traj.get("sample")
    if sample is None:
        return "no seed sample"
    errors, _ = validate_sample(sample)
    if errors:
        return f"invalid sample: {errors[0]}"
    last = sample["conversations"][-1]
    if last.get("role") != "assistant" or not str(last.get("content", "")).strip():
        return "the conversation does not end with an answer"
    for m in sample["conversations"]:
        if m.get("role") == "assistant" and (mark := call_markup(str(m.get("content") or ""), ctx)):
            return f"an answer holds tool-call markup ({mark})"
    return None


#: role and call markers of the formats calltune renders: in a reply's text, a call the turn did
#: not take as one (e.g. written where tools were not offered), which a sample must not teach
MARKERS = ("<tool_call>", "</tool_call>", "<|observation|>", "<|assistant|>", "<|user|>", "<|system|>")


def call_markup(text: str, ctx: FilterContext) -> str | None:
    """The first call or role marker in ``text``, or a call the teacher's format parses in it."""
    for m in MARKERS:
        if m in text:
            return m
    fmt = ctx.teacher.format if ctx.teacher is not None else None
    if fmt is not None and text.strip():
        parsed = fmt.parse(text)
        if parsed.tool_calls:
            return f"a call of {parsed.tool_calls[0].name}"
    return None


def check_execution(traj: dict[str, Any], instr: Instruction, ctx: FilterContext) -> str | None:
    for c in traj.get("calls", []):
        if not c.get("ok"):
            return f"{c.get('name')} failed: {c.get('error') or c.get('observation')}"
    return None


# --------------------------------------------------------------------------- grounding
def _turns(traj: dict[str, Any]) -> list[tuple[int, list[ToolCall]]]:
    """``(message index, calls)`` of each assistant message that made calls."""
    by: dict[int, list[ToolCall]] = {}
    for c in traj.get("calls", []):
        args = c.get("arguments") if isinstance(c.get("arguments"), dict) else {}
        by.setdefault(c["message"], []).append(ToolCall(c["name"], args))
    return sorted(by.items())


def check_grounded(traj: dict[str, Any], instr: Instruction, ctx: FilterContext) -> str | None:
    messages = traj.get("messages", [])
    functions = {t["function"]["name"]: t["function"] for t in traj.get("tools", [])}
    for idx, calls in _turns(traj):
        before = messages[:idx]
        _, found = ground_calls(calls, before, traj.get("tools", []))
        if found:
            u = found[0]
            what = "invented optional" if u.action == "dropped" else "copied example"
            return f"{what} value {u.value!r} for {u.param} of {u.name}"
        evidence = Evidence.of(conversation_texts(before))
        for call in calls:
            props = (functions.get(call.name, {}).get("parameters") or {}).get("properties") or {}
            for param, value in call.arguments.items():
                if value in ((props.get(param) or {}).get("enum") or []):
                    continue
                if not evidence.has(value):
                    return f"value {value!r} for {param} of {call.name} is not in the conversation"
    return None


# --------------------------------------------------------------------------- category rules
_ASKS = re.compile(
    # "Please enter the mass of your suitcase in kilograms." (the default model, asked to ask)
    r"[?？]|\b(which|what|please (provide|tell|specify|let me know|enter|give|share|send|state)|"
    r"could you|can you|i( will|'ll)? need)\b|请|哪|什么|多少|吗",
    re.IGNORECASE,
)


def check_category(traj: dict[str, Any], instr: Instruction, ctx: FilterContext) -> str | None:
    calls = traj.get("calls", [])
    turns = _turns(traj)
    cat = instr.category
    answer = traj["sample"]["conversations"][-1].get("content", "") if traj.get("sample") else ""
    if wrong := _wrong_language(answer, instr.lang):
        return wrong
    if cat in ("no_fit", "missing_value"):
        if calls:
            return f"a {cat} request must not call a tool, it called {calls[0]['name']}"
        if cat == "missing_value" and not _ASKS.search(answer):
            return "a missing_value reply must ask for the missing value"
        return None
    if not calls:
        return f"a {cat} request needs a call, none was made"
    if cat in ("single", "choice") and len(calls) != 1:
        return f"a {cat} request needs exactly one call, it made {len(calls)}"
    if cat == "parallel" and not any(len(c) >= 2 for _, c in turns):
        return "a parallel request needs two or more calls in one turn"
    if cat == "sequential" and len(turns) < 2:
        return "a sequential request needs calls in two or more turns"
    if cat == "multi_turn":
        users = [i for i, m in enumerate(traj["messages"]) if m.get("role") == "user"]
        if len(users) < 2 or not any(idx > users[-1] for idx, _ in turns):
            return "the follow-up turn made no call"
    if answer.rstrip().endswith(("?", "？")):
        # the default model answered a planned call's result with "请问您需要将金额2.50写成人民币大写吗？"
        return "the reply asks back although its calls ran"
    return None


_QUOTED = re.compile(r'"[^"\n]*"|“[^”\n]*”|「[^」\n]*」|\'[^\'\n]*\'')


def _cjk_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum(1 for c in letters if "\u4e00" <= c <= "\u9fff") / len(letters) if letters else 0.0


def _wrong_language(answer: str, lang: str) -> str | None:
    """A reply in another language than the request's (the default model answered some Chinese
    requests in English); a reply may quote some words of the other language (a result's names)."""
    share = _cjk_share(_QUOTED.sub(" ", answer))  # an English reply quoting "三万五千" is English
    if lang == "zh" and share == 0.0 and answer.strip():
        return "the reply is not in the request's language (zh)"
    if lang == "en" and share > 0.5:
        return "the reply is not in the request's language (en)"
    return None


# --------------------------------------------------------------------------- blueprint
def _fold(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        s = v.strip()
        try:
            return float(s) if re.fullmatch(r"-?\d+(\.\d+)?", s) else _fold_text(s)
        except ValueError:
            return _fold_text(s)
    if isinstance(v, list):
        return [_fold(x) for x in v]
    if isinstance(v, dict):
        return {k: _fold(x) for k, x in v.items()}
    return v


def _fold_text(s: str) -> str:
    t = unicodedata.normalize("NFKC", s).casefold()
    return " ".join(re.split(r"[\W_]+", t)).strip()


def _same(a: Any, b: Any) -> bool:
    fa, fb = _fold(a), _fold(b)
    if isinstance(fa, float) and isinstance(fb, float):
        return math.isclose(fa, fb, rel_tol=1e-6, abs_tol=1e-9)
    return fa == fb


def _matches(
    want: dict[str, Any], got: dict[str, Any], required: set[str], defaults: dict[str, Any] | None = None
) -> str | None:
    """Why ``got`` does not have the argument values ``want`` gives (None when it does). With
    ``defaults`` (exact matching), ``got`` must also have every value ``want`` gives and no other,
    save a parameter at its declared default."""
    for k, v in want.items():
        if is_placeholder(v):
            continue
        if k not in got:
            if k in required or (defaults is not None and not (k in defaults and _same(v, defaults[k]))):
                return f"{k} is missing"
            continue
        if not _same(v, got[k]):
            return f"{k}={got[k]!r}, the blueprint has {v!r}"
    if defaults is not None:
        for k, v in got.items():
            if k not in want and not (k in defaults and _same(v, defaults[k])):
                return f"{k}={v!r} is not in the blueprint"
    return None


def match_calls(
    want: Sequence[dict[str, Any]],
    got: Sequence[dict[str, Any]],
    functions: dict[str, dict[str, Any]],
    exact: bool = False,
) -> str | None:
    """Why the calls ``got`` (``{"name", "arguments"}``) are not the calls ``want``, in any order
    (None when they are): the same tool names, and for every wanted call a call of its own with
    the argument values it gives (``"<result>"`` not compared); ``exact``: and no other argument,
    save one at its parameter's declared default. ``functions``: the tools' function specs by name."""
    names_w = sorted(c["name"] for c in want)
    names_g = sorted(c["name"] for c in got)
    if names_w != names_g:
        return f"calls {names_g or 'nothing'}, the blueprint {names_w or 'nothing'}"
    left = list(got)
    for w in want:
        params = functions.get(w["name"], {}).get("parameters") or {}
        req = set(params.get("required") or [])
        props = params.get("properties") or {}
        defaults = {k: p["default"] for k, p in props.items() if "default" in p} if exact else None
        problems = []
        for g in left:
            if g["name"] != w["name"]:
                continue
            p = _matches(w.get("arguments") or {}, g.get("arguments") or {}, req, defaults)
            if p is None:
                left.remove(g)
                break
            problems.append(p)
        else:
            return f"{w['name']}: {problems[0] if problems else 'no matching call'}"
    return None


def check_blueprint(traj: dict[str, Any], instr: Instruction, ctx: FilterContext) -> str | None:
    if instr.calls is None:
        return None
    functions = {t["function"]["name"]: t["function"] for t in traj.get("tools", [])}
    return match_calls(instr.calls, traj.get("calls", []), functions)


# --------------------------------------------------------------------------- environment state
def replay_state(sources: Sources, instr: Instruction) -> Any:
    """The state the blueprint's calls leave on a fresh instance from the request's seed."""
    inst = sources.instance(instr)
    try:
        box = inst.toolbox()
        for c in instr.calls or []:
            box.execute({"name": c["name"], "arguments": c.get("arguments") or {}})
        return inst.state()
    finally:
        inst.close()


def _canon(state: Any) -> str:
    return json.dumps(state, sort_keys=True, ensure_ascii=False, default=str)


def check_env_state(traj: dict[str, Any], instr: Instruction, ctx: FilterContext) -> str | None:
    if instr.env is None:
        return None
    if traj.get("env_check"):
        return f"the task's check failed: {traj['env_check'][0]}"
    if instr.calls is None or any(is_placeholder(v) for c in instr.calls for v in c["arguments"].values()):
        return None  # a code-written task (its check ran above) or a blueprint that cannot be replayed
    if ctx.sources is None:
        return "no environment to replay the blueprint on"
    expected = replay_state(ctx.sources, instr)
    if _canon(expected) != _canon(traj.get("env_state")):
        return "the final state differs from the blueprint's replayed on a fresh instance"
    return None


# --------------------------------------------------------------------------- decontamination
def user_texts(traj: dict[str, Any]) -> list[str]:
    return [m["content"] for m in traj.get("messages", []) if m.get("role") == "user" and m.get("content")]


def check_decontam(traj: dict[str, Any], instr: Instruction, ctx: FilterContext) -> str | None:
    index = ctx.bfcl()
    for text in user_texts(traj) or [instr.request]:
        overlap, case = index.request_overlap(text)
        if overlap > ctx.threshold:
            return f"overlaps BFCL {case} ({overlap:.2f} > {ctx.threshold})"
    names = [t["function"]["name"] for t in traj.get("tools", [])] + [
        c["name"] for c in traj.get("calls", [])
    ]
    hits = index.name_hits(names)
    if hits:
        return f"uses BFCL function name(s) {', '.join(hits)}"
    return None


# --------------------------------------------------------------------------- semantic check
def semantic_prompt(traj: dict[str, Any]) -> str:
    actions = []
    for c in traj.get("calls", []):
        obs = str(c.get("observation") or "")[:300]
        actions.append(f"- called {c['name']}({json.dumps(c.get('arguments'), ensure_ascii=False)}) → {obs}")
    texts = user_texts(traj)
    answer = traj["sample"]["conversations"][-1].get("content", "")
    functions = []
    for spec in traj.get("tools", []):
        fn = spec.get("function", spec)
        functions.append(f"- {fn.get('name')}: {(fn.get('description') or '').strip()[:100]}")
    return SEMANTIC_PROMPT.format(
        functions="\n".join(functions) or "- none",
        request="\n".join(texts)[:1200],
        actions="\n".join(actions) or "- called no function",
        answer=str(answer)[:800],
    )


def check_semantic(traj: dict[str, Any], instr: Instruction, ctx: FilterContext) -> str | None:
    if not ctx.semantic or ctx.teacher is None:
        return None
    reply = ctx.teacher.ask(
        SEMANTIC_SYSTEM, semantic_prompt(traj), max_tokens=3, seed=instr.seed, purpose="semantic"
    )
    traj["semantic"] = {"answer": reply.text.strip(), **reply.usage()}
    if not reply.text.strip().lower().lstrip("\"'*` ").startswith("yes"):
        return f"the teacher judged that the reply does not resolve the request ({reply.text.strip()!r})"
    return None


#: the stages every trajectory goes through, in order (dedupe runs on the requests, before any
#: trajectory, in run order: :class:`Dedupe`)
STAGES: tuple[tuple[str, Stage], ...] = (
    ("format", check_format),
    ("execution", check_execution),
    ("grounded", check_grounded),
    ("category", check_category),
    ("blueprint", check_blueprint),
    ("env_state", check_env_state),
    ("decontam", check_decontam),
    ("semantic", check_semantic),
)


def run_stages(
    traj: dict[str, Any], instr: Instruction, ctx: FilterContext, stages: Sequence[tuple[str, Stage]] = STAGES
) -> tuple[str, str] | None:
    """``(stage, reason)`` of the first stage that rejects the trajectory, or None."""
    for name, stage in stages:
        reason = stage(traj, instr, ctx)
        if reason:
            return name, reason
    return None


# --------------------------------------------------------------------------- dedupe
def normalise_request(text: str) -> str:
    """Case, width, punctuation and spacing folded (the key of exact duplicates)."""
    return _fold_text(text)


class Dedupe:
    """Requests seen so far: an exact duplicate (after :func:`normalise_request`) or a near one
    (rapidfuzz ``ratio`` ≥ :data:`NEAR_DUPLICATE` to one seen) is a duplicate."""

    def __init__(self, threshold: float = NEAR_DUPLICATE):
        self.threshold = threshold
        self.keys: list[str] = []
        self._exact: dict[str, int] = {}

    def duplicate_of(self, text: str) -> str | None:
        """The seen request ``text`` duplicates (normalised), or None."""
        from rapidfuzz import fuzz, process

        key = normalise_request(text)
        if key in self._exact:
            return key
        hit = process.extractOne(key, self.keys, scorer=fuzz.ratio, score_cutoff=self.threshold)
        return hit[0] if hit else None

    def add(self, text: str) -> None:
        key = normalise_request(text)
        if key not in self._exact:
            self._exact[key] = len(self.keys)
            self.keys.append(key)

    def check_add(self, text: str) -> str | None:
        """A reason when ``text`` is a duplicate; else remember it and return None."""
        dup = self.duplicate_of(text)
        if dup is not None:
            return f"duplicates the request {dup[:80]!r}"
        self.add(text)
        return None


def dedupe_key(instr: Instruction) -> str:
    """What dedupe compares: the request and its follow-ups."""
    return " / ".join([instr.request, *instr.followups])
