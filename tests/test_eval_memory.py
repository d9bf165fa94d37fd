"""BFCL memory (agentic): the scenario's prerequisite chain fills BFCL's own memory store through
calltune's agent, the question is answered from that store and judged by BFCL's agentic checker;
the chain runs once per system and scenario and resumes where it was cut off."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from calltune.engines.scripted import ScriptedEngine
from calltune.eval.bfcl_data import load_cases, load_category
from calltune.eval.leaderboard import overall_score
from calltune.eval.memory import judge_memory, run_memory_case
from calltune.eval.runner import run_bfcl
from calltune.eval.systems import CalltuneSystem
from calltune.testing import hermes_call

pytest.importorskip("bfcl_eval")
pytest.importorskip("rank_bm25")

#: the notetaker scenario: 5 prerequisite entries of 5, 4, 5, 5, 5 user turns
PREREQ_TURNS = 24


class NoteTaker(ScriptedEngine):
    """Stores every user message of a prerequisite conversation in archival memory (the first
    also in core memory), says "Noted." after each result, and answers a question (its prompt
    has BFCL's answer-format instruction) with ``answer`` (or keeps calling forever with ``loop``). ``stop_at``: the generation at which
    it stops the run as Ctrl-C would."""

    def __init__(self, answer: str | None = None, loop: bool = False, stop_at: int = -1):
        super().__init__([], cycle=False)
        self.answer, self.loop, self.stop_at, self.n_notes = answer, loop, stop_at, 0

    def stream(self, prompt, params, constraint=None):  # noqa: ANN001, ANN201
        if len(self.prompts) == self.stop_at:
            raise KeyboardInterrupt
        text = prompt if isinstance(prompt, str) else self.tokenizer.decode(prompt)
        last = text.rsplit("<|im_start|>", 2)[-2]
        if self.loop:  # a new search each step (a repeated call would be answered instead)
            out = hermes_call("core_memory_key_search", {"query": f"drop-off time {len(self.prompts)}"})
        elif "<tool_response>" in last:
            out = "Noted."
        elif "For your final answer to the user" in text:  # BFCL's prompt of a question
            out = self.answer or "I do not know."
        else:
            user = last.split("\n", 1)[1].split("<|im_end|>")[0].strip()
            self.n_notes += 1
            out = hermes_call("archival_memory_add", {"key": f"note_{self.n_notes}", "value": user[:1500]})
            if self.n_notes == 1:
                out = hermes_call("core_memory_add", {"key": "first_note", "value": user[:250]}) + "\n" + out
        self.outputs = [out]
        self._i = 0
        return super().stream(prompt, params, constraint)


def _system(engine: ScriptedEngine) -> CalltuneSystem:
    return CalltuneSystem(
        engine,
        format="hermes",
        name="scripted",
        check_relevance=False,
        continue_calls=False,
        check_missed_calls=False,  # the script answers what it is asked, nothing more
        max_tokens=4096,
    )


def _notetaker(i: int = 0, category: str = "memory_kv"):  # noqa: ANN202
    return [c for c in load_category(category) if c.memory.scenario == "notetaker"][i]


def _final(state: Path, category: str = "memory_kv") -> dict[str, Any]:
    backend = category.removeprefix("memory_")
    return json.loads(
        (state / "agentic" / "memory" / backend / "memory_snapshot" / "notetaker_final.json").read_text()
    )


def test_memory_questions_load_with_their_chain_answers_and_the_answer_format_prompt() -> None:
    case = _notetaker()
    spec = case.memory
    assert case.id == "memory_kv_130-notetaker-0" and spec.backend_class == "MemoryAPI_kv"
    assert [len(e["turns"]) for e in spec.prereq] == [5, 4, 5, 5, 5]
    assert spec.ground_truth == ["08:00 AM"]
    assert case.messages[0]["role"] == "system" and "'answer'" in case.messages[0]["content"]
    assert {"core_memory_add", "archival_memory_key_search"} <= {f["name"] for f in case.functions}
    rec_sum = _notetaker(category="memory_rec_sum")
    assert rec_sum.memory.backend_class == "MemoryAPI_rec_sum"
    assert "memory_append" in {f["name"] for f in rec_sum.functions}


def test_memory_scenarios_narrow_the_sample_and_an_unknown_one_is_named() -> None:
    from calltune.eval.bfcl_data import BfclDataError

    cases = load_cases("memory_kv,simple_python", 10, multi_turn_limit=10, memory_scenarios="notetaker,")
    memory = [c for c in cases if c.category == "memory_kv"]
    assert len(memory) == 10 and {c.memory.scenario for c in memory} == {"notetaker"}
    assert len([c for c in cases if c.category == "simple_python"]) == 10  # other categories untouched
    unfiltered = load_cases("memory_kv", None, multi_turn_limit=10)
    assert len({c.memory.scenario for c in unfiltered}) > 1
    with pytest.raises(BfclDataError, match="unknown memory scenario.*notetaker"):
        load_cases("memory_kv", 10, memory_scenarios=["weather"])


def test_the_chain_fills_bfcls_store_and_the_question_sees_it(tmp_path: Path) -> None:
    eng = NoteTaker(answer="{'answer': '08:00 AM', 'context': 'from my notes'}")
    rec = run_memory_case(_system(eng), _notetaker(), tmp_path)
    assert rec["valid"], rec["errors"]
    assert rec["prereq"]["ran"] == 5 and rec["prereq"]["entries"] == 5
    store = _final(tmp_path)
    assert len(store["archival_memory"]) == PREREQ_TURNS  # one note per user turn, every entry
    assert store["core_memory"]["first_note"].startswith("Monday: Team meeting ran over")
    # the question's prompt carries BFCL's memory prompt with the core memory the chain left
    q = eng.tokenizer.decode(eng.prompts[-1])
    assert "first_note" in q and "Monday: Team meeting ran over" in q
    assert "personal organization assistant" in q  # BFCL's notetaker setting
    # the chain ran each entry on the store the one before left (BFCL's snapshots)
    chain = json.loads((tmp_path / "memory_kv-notetaker.prereq.json").read_text())
    assert [e["calls"] for e in chain["entries"]] == [6, 4, 5, 5, 5]


def test_a_second_question_reuses_the_chain_and_a_wrong_answer_fails(tmp_path: Path) -> None:
    run_memory_case(_system(NoteTaker(answer="{'answer': '08:00 AM'}")), _notetaker(0), tmp_path)
    eng = NoteTaker(answer="{'answer': 'Tuesday', 'context': 'a guess'}")
    rec = run_memory_case(_system(eng), _notetaker(1), tmp_path)
    assert rec["prereq"]["ran"] == 0 and len(eng.prompts) == 1  # only the question was generated
    assert not rec["valid"] and rec["error_type"] == "agentic:answer_not_found"
    assert rec["answer"] == "{'answer': 'Tuesday', 'context': 'a guess'}"


def test_a_question_answered_only_with_calls_has_no_last_message(tmp_path: Path) -> None:
    run_memory_case(_system(NoteTaker()), _notetaker(0), tmp_path)
    rec = run_memory_case(_system(NoteTaker(loop=True)), _notetaker(2), tmp_path)
    assert not rec["valid"] and rec["error_type"] == "agentic:no_last_message"
    assert rec["finish_reason"] == "force_quit"


def test_agentic_verdict_is_bfcls() -> None:
    assert judge_memory("{'answer': '08:00 AM'}", ["08:00 AM"])["valid"]
    assert judge_memory("Drop-off is at 8:00am.", ["08:00 AM"])["error_type"] == "agentic:answer_not_found"
    assert judge_memory("the answer is friday", ["Friday"])["valid"]  # case and punctuation folded
    assert judge_memory(None, ["Friday"])["error_type"] == "agentic:no_last_message"


def test_a_chain_cut_off_mid_entry_resumes_without_filling_the_store_twice(tmp_path: Path) -> None:
    # entry 0: 5 turns x (call, answer) = 10 generations; stop inside entry 1
    first = NoteTaker(stop_at=13)
    first_system = _system(first)
    with pytest.raises(KeyboardInterrupt):
        run_memory_case(first_system, _notetaker(), tmp_path)
    chain = json.loads((tmp_path / "memory_kv-notetaker.prereq.json").read_text())
    assert chain["done"] == ["memory_kv_prereq_32-notetaker-0"]
    # the cut entry had stored notes in the live store; the resumed run starts it again from
    # the store entry 0 left (its snapshot), so no note is stored twice
    eng = NoteTaker(answer="{'answer': '08:00 AM'}")
    eng.n_notes = 5  # the next keys, as a model that already wrote five notes would use
    rec = run_memory_case(_system(eng), _notetaker(), tmp_path)
    assert rec["valid"] and rec["prereq"]["ran"] == 4
    store = _final(tmp_path)
    assert sorted(store["archival_memory"], key=lambda k: int(k.split("_")[1])) == [
        f"note_{i}" for i in range(1, PREREQ_TURNS + 1)
    ]


def test_runner_runs_memory_cases_and_the_leaderboard_counts_them(tmp_path: Path) -> None:
    cases = [_notetaker(0), _notetaker(1)]
    assert {c.id for c in cases} <= {c.id for c in load_cases("memory", None)}
    sysobj = _system(NoteTaker(answer="{'answer': '08:00 AM', 'context': 'noted Monday'}"))
    summary = run_bfcl([sysobj], cases, tmp_path, progress=False)
    cat = summary["systems"]["scripted"]["categories"]["memory_kv"]
    assert cat["n"] == 2 and cat["accuracy"] == 0.5  # the drop-off time is right, the payment day is not
    assert (tmp_path / "memory" / "scripted" / "memory_kv-notetaker.prereq.json").is_file()
    part = overall_score({"memory_kv": 0.5})["agentic"]
    assert part.value == pytest.approx(0.5 / 3 / 2) and "memory_vector" in part.missing


def test_a_question_over_the_context_window_fails_as_such(tmp_path: Path) -> None:
    run_memory_case(_system(NoteTaker()), _notetaker(0), tmp_path)
    small = NoteTaker(answer="{'answer': '08:00 AM'}")
    small.context_length = 500  # the memory prompt and the tool list alone are longer
    rec = run_memory_case(_system(small), _notetaker(0), tmp_path)
    assert not rec["valid"] and rec["error_type"] == "agentic:context_length", rec["errors"]
