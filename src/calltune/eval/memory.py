"""BFCL's memory categories (agentic): a scenario's prerequisite conversations fill BFCL's memory
store, then each question is answered from it and judged by BFCL's agentic checker.

As BFCL's own inference does it (``base_handler.inference_multi_turn``):

- every entry, prerequisite or question, gets BFCL's memory system prompt (the scenario's
  setting and the store's core content at the entry's start, ``add_memory_instruction_system_prompt``);
  a question also carries BFCL's answer-format prompt, which its loader adds;
- a scenario's prerequisite entries run in chain order, each on a store loaded from the one
  before it (BFCL's snapshot files, under the system's state folder), each user turn several
  steps until the model answers; after an entry the store is flushed (``_flush_memory_to_local_file``);
- a question runs one user turn on the store the whole chain left (BFCL's ``<scenario>_final``
  snapshot); the last assistant message without calls is its answer; BFCL's
  ``agentic_checker`` looks for one of the accepted answers in it.

The chain runs once per system and scenario, on the first question of that scenario a run
reaches, and is resumable: ``<category>-<scenario>.prereq.json`` lists the finished entries;
a run stopped mid-entry restores the store the last finished entry left and runs that entry
again (its turns are lost, the store is not double-filled). The memory functions run through
the same validated toolbox as the multi-turn classes; nothing the model writes is evaluated.
"""

from __future__ import annotations

import copy
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .bfcl_data import BfclCase, MemorySpec
from .multi_turn import BfclEnvironment, TurnRecord, _run_user_turn, bfcl_class, steps_since
from .output import merge_consecutive


def _utils() -> Any:
    from .bfcl_checker import load_bfcl_utils

    return load_bfcl_utils()


def memory_instance(spec: MemorySpec, test_id: str, category: str, state_dir: Path) -> Any:
    """BFCL's memory class for ``test_id``, loaded as BFCL loads it: a chain's first entry
    starts empty, anything later from the scenario's latest snapshot under ``state_dir``."""
    inst = bfcl_class(spec.backend_class)()
    inst._load_scenario(
        {
            "model_result_dir": state_dir,
            "scenario": spec.scenario,
            "test_id": test_id,
            "test_category": category,
        }
    )
    return inst


def _snapshot_dir(state_dir: Path, test_id: str) -> Path:
    return state_dir / _utils().get_directory_structure_by_id(test_id) / "memory_snapshot"


def memory_messages(
    turn: list[dict[str, Any]], category: str, scenario: str, inst: Any, extra_system: str | None
) -> list[dict[str, Any]]:
    """A first user turn with BFCL's memory system prompt in front (and, after it, the system's
    own system prompt where it has one, as BFCL appends an entry's own system message)."""
    # BFCL's prompts and its add_memory_instruction_system_prompt's composition (that module
    # imports BFCL's Java/JavaScript parsers, whose tree-sitter dependency is not installed)
    from bfcl_eval.constants.default_prompts import (
        MEMORY_AGENT_SETTINGS,
        MEMORY_BACKEND_INSTRUCTION_CORE_ARCHIVAL,
        MEMORY_BACKEND_INSTRUCTION_UNIFIED,
    )

    template = (
        MEMORY_BACKEND_INSTRUCTION_UNIFIED
        if "rec_sum" in category
        else MEMORY_BACKEND_INSTRUCTION_CORE_ARCHIVAL
    )
    prompt = template.format(
        scenario_setting=MEMORY_AGENT_SETTINGS[scenario], memory_content=inst._dump_core_memory_to_context()
    )
    msgs = [{"role": m["role"], "content": m.get("content", "")} for m in copy.deepcopy(turn)]
    if msgs and msgs[0]["role"] == "system":
        msgs[0]["content"] = prompt + "\n\n" + msgs[0]["content"]
    else:
        msgs.insert(0, {"role": "system", "content": prompt})
    if extra_system:
        msgs[0]["content"] += "\n\n" + extra_system
    return merge_consecutive(msgs)


class _Chain:
    """Which prerequisite entries of one scenario have run for one system (``*.prereq.json``)."""

    def __init__(self, state_dir: Path, category: str, scenario: str):
        self.path = state_dir / f"{category}-{scenario}.prereq.json"
        self.state: dict[str, Any] = {"done": [], "entries": []}
        if self.path.is_file():
            try:
                self.state = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                pass  # a torn file: the snapshots are rebuilt from the first entry

    @property
    def done(self) -> list[str]:
        return list(self.state["done"])

    def finish(self, entry_id: str, summary: dict[str, Any]) -> None:
        self.state["done"].append(entry_id)
        self.state["entries"].append(summary)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        tmp.replace(self.path)


def _restore_latest(state_dir: Path, spec: MemorySpec, done: list[str]) -> None:
    """Make the scenario's latest snapshot the one the last finished entry left (an entry cut
    off mid-way may have left nothing, or nothing else may have been flushed since)."""
    if not done:
        return
    snap = _snapshot_dir(state_dir, done[-1])
    src = snap / "prereq_checkpoints" / f"{done[-1]}.json"
    if src.is_file():
        shutil.copyfile(src, snap / f"{spec.scenario}_final.json")


def _run_turns(
    system: Any,
    env: BfclEnvironment,
    toolbox: Any,
    turns: list[list[dict[str, Any]]],
    first: list[dict[str, Any]],
    on_step: Callable[[int, int], None],
) -> tuple[list[TurnRecord], list[dict[str, Any]], bool]:
    """User turns in order (``first``: the first turn's messages, system prompt included);
    per turn the records with the call strings that ran. Returns (records, messages, force_quit)."""
    known = frozenset(env.owner)
    messages: list[dict[str, Any]] = []
    records: list[TurnRecord] = []
    for ti, turn in enumerate(turns):
        user = first if ti == 0 else [{"role": m["role"], "content": m.get("content", "")} for m in turn]
        t0 = time.perf_counter()
        start = len(env.log)
        outcome = _run_user_turn(
            system, messages + merge_consecutive(user), toolbox, lambda i, ti=ti: on_step(ti, i)
        )
        rec = TurnRecord(
            outputs=outcome.outputs,
            prompt_tokens=outcome.prompt_tokens,
            cached_tokens=outcome.cached_tokens,
            completion_tokens=outcome.completion_tokens,
            latency_s=time.perf_counter() - t0,
            stopped=outcome.stopped,
            error=outcome.error,
            notes=outcome.notes,
        )
        rec.steps = steps_since(env, start, known)
        records.append(rec)
        messages = outcome.messages
        if outcome.stopped in ("max_steps", "error"):
            return records, messages, True
    return records, messages, False


def run_prereq_chain(
    system: Any,
    case: BfclCase,
    state_dir: Path,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the prerequisite entries of ``case``'s scenario that have not run for this system;
    returns ``{"entries", "ran", "latency_s", "prompt_tokens", "completion_tokens"}`` of this call."""
    spec = case.memory
    assert spec is not None
    chain = _Chain(state_dir, case.category, spec.scenario)
    done = chain.done
    ran = {
        "entries": len(spec.prereq),
        "ran": 0,
        "latency_s": 0.0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
    }
    for k, entry in enumerate(spec.prereq):
        if entry["id"] in done:
            continue
        _restore_latest(state_dir, spec, done)
        inst = memory_instance(spec, entry["id"], case.category, state_dir)
        env = BfclEnvironment.of({spec.backend_class: inst})
        toolbox = env.toolbox(case.functions)
        first = memory_messages(
            entry["turns"][0], case.category, spec.scenario, inst, getattr(system, "system", None)
        )

        def on_step(
            ti: int, i: int, k: int = k, entry: dict[str, Any] = entry, env: BfclEnvironment = env
        ) -> None:
            env.step_key = f"{ti}.{i}"
            if on_progress is not None:
                on_progress(
                    f"{case.category} {spec.scenario} prerequisite {k + 1}/{len(spec.prereq)} "
                    f"turn {ti + 1}/{len(entry['turns'])} step {i + 1}"
                )

        t0 = time.perf_counter()
        records, _msgs, force_quit = _run_turns(system, env, toolbox, entry["turns"], first, on_step)
        inst._flush_memory_to_local_file()  # as BFCL: the store is kept even after a forced quit
        seconds = time.perf_counter() - t0
        summary = {
            "id": entry["id"],
            "turns": len(records),
            "force_quit": force_quit,
            "calls": sum(len(s) for r in records for s in r.steps),
            "steps": [r.steps for r in records],  # per turn, per step, the call strings that ran
            "latency_s": round(seconds, 3),
            "prompt_tokens": sum(r.prompt_tokens for r in records),
            "completion_tokens": sum(r.completion_tokens for r in records),
        }
        chain.finish(entry["id"], summary)
        done.append(entry["id"])
        ran["ran"] += 1
        ran["latency_s"] = round(ran["latency_s"] + seconds, 3)
        ran["prompt_tokens"] += summary["prompt_tokens"]
        ran["completion_tokens"] += summary["completion_tokens"]
    return ran


def last_answer(messages: list[dict[str, Any]]) -> str | None:
    """The last assistant message without calls (BFCL judges the last non-call message)."""
    for m in reversed(messages):
        if m.get("role") == "assistant" and not m.get("tool_calls") and str(m.get("content") or "").strip():
            return str(m["content"])
    return None


def judge_memory(answer: str | None, ground_truth: list[str]) -> dict[str, Any]:
    """BFCL's agentic verdict on an answer (None: the model never answered without a call)."""
    if answer is None:
        return {
            "valid": False,
            "error_type": "agentic:no_last_message",
            "errors": ["Cannot find the last chat message that is not a function call."],
        }
    from .bfcl_checker import load_ast_checker

    load_ast_checker()
    from bfcl_eval.eval_checker.agentic_eval.agentic_checker import agentic_checker

    res = agentic_checker(answer, list(ground_truth))
    if res.get("valid"):
        return {"valid": True, "error_type": None, "errors": []}
    return {
        "valid": False,
        "error_type": res.get("error_type") or "agentic:answer_not_found",
        "errors": [res.get("error_message", ""), {"possible_answers": list(ground_truth)}],
    }


def run_memory_case(
    system: Any,
    case: BfclCase,
    state_dir: str | Path,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """One memory question through ``system``: its scenario's chain first (where it has not run
    for this system under ``state_dir``), then the question on the store it left. The record."""
    spec = case.memory
    assert spec is not None
    state = Path(state_dir)
    prereq = run_prereq_chain(system, case, state, on_progress)
    inst = memory_instance(spec, case.id, case.category, state)
    env = BfclEnvironment.of({spec.backend_class: inst})
    toolbox = env.toolbox(case.functions)
    first = memory_messages(
        case.messages, case.category, spec.scenario, inst, getattr(system, "system", None)
    )

    def on_step(ti: int, i: int) -> None:
        env.step_key = f"{ti}.{i}"
        if on_progress is not None:
            on_progress(f"{case.id} step {i + 1}")

    t0 = time.perf_counter()
    records, messages, force_quit = _run_turns(system, env, toolbox, [case.messages], first, on_step)
    latency = time.perf_counter() - t0
    answer = None if force_quit else last_answer(messages)
    rec = records[0]
    if rec.stopped == "error":  # the system failed (a prompt over the context window, ...)
        kind = "context_length" if "context" in (rec.error or "").lower() else "inference_error"
        verdict = {"valid": False, "error_type": f"agentic:{kind}", "errors": [(rec.error or "")[:500]]}
    else:
        verdict = judge_memory(answer, spec.ground_truth)
    return {
        "id": case.id,
        "category": case.category,
        **verdict,
        "turns": [r.to_dict() for r in records],
        "answer": answer,
        "prereq": prereq,
        "prompt": "",
        "raw": "\n\n".join(rec.outputs)[-4000:],
        "calls": [],
        "calls_bfcl": [r.steps for r in records],
        "parse_errors": [],
        "latency_s": round(latency, 4),
        "prompt_tokens": rec.prompt_tokens,
        "cached_tokens": rec.cached_tokens,
        "completion_tokens": rec.completion_tokens,
        "finish_reason": "error" if rec.stopped == "error" else ("force_quit" if force_quit else "stop"),
        "guided": False,
    }
