"""The default model as the teacher: a few requests end to end with the library's tools."""

from __future__ import annotations

import pytest

from calltune.datagen.instructions import CATEGORIES, ToolPool
from calltune.datagen.library import load_library
from calltune.datagen.pipeline import Pipeline, Settings, read_jsonl
from calltune.datagen.teacher import Teacher
from calltune.train.data import load_records
from calltune.train.validate import check_records


@pytest.mark.model
def test_default_model_teacher_keeps_a_valid_trajectory(default_engine, tmp_path):
    # one generation of one single-call request over one domain's tools: the cheapest
    # category, so that the run stays short; the report's times are the numbers docs/datagen.md quotes
    mix = {c: 0.0 for c in CATEGORIES} | {"single": 1.0}
    pool = ToolPool(load_library(["units"]))
    settings = Settings(n=1, seed=0, mix=mix, zh_share=0.0, per_generation=1)
    out = tmp_path / "run"
    report = Pipeline(out, Teacher(default_engine), pool, settings, command=["test"]).run()
    kept = read_jsonl(out / "kept.jsonl")
    print(report["counts"], report["time"], [(r["stage"], r["reason"]) for r in report["rejects"]])
    assert report["counts"]["trajectories"] >= 1
    assert kept, report["rejects"]
    rep = check_records(load_records(out / "kept.jsonl"))
    assert rep.valid == rep.total == len(kept)
    assert any(m["role"] == "tool" for s in kept for m in s["conversations"])
    assert report["decontam"]["ok"]


NO_CALL_REQUESTS = {
    # told by the blueprint's note which value is missing, the teacher asks for it
    "missing_value": dict(
        request="How many pounds is my suitcase? The airline's scale showed it in kilograms.",
        target="convert_mass",
        missing="value",
    ),
    # told that none of its functions fits (the request was written for one not offered), it declines
    "no_fit": dict(
        request="Book me a table for two at an Italian restaurant near the station tonight at 8.",
        target="book_restaurant",
    ),
}


@pytest.mark.model
@pytest.mark.parametrize("category", sorted(NO_CALL_REQUESTS))
def test_default_model_teacher_answers_a_no_call_request_in_words(default_engine, category):
    """A request whose blueprint says no call is right, through the real teacher: it answers in
    words, the note it was given stays out of the sample, and every filter keeps the trajectory
    (format, category rule, language, the teacher's own semantic check)."""
    from calltune.datagen.filters import FilterContext, run_stages
    from calltune.datagen.instructions import Instruction
    from calltune.datagen.trajectories import Sources, first_turn_note, run_trajectory

    pool = ToolPool(load_library(["units"]))
    ins = Instruction(
        id="m.0",
        category=category,
        lang="en",
        tools=["convert_mass", "convert_length"],
        calls=[],
        seed=0,
        group="m",
        **NO_CALL_REQUESTS[category],
    )
    teacher = Teacher(default_engine)
    traj = run_trajectory(ins, Sources(pool, {}), teacher)
    answer = traj["messages"][-1]["content"]
    print(answer, traj["tokens"], traj["seconds"])
    assert traj["calls"] == [] and traj["error"] is None
    assert first_turn_note(ins, pool) not in str(traj["sample"])
    assert (
        run_stages(traj, ins, FilterContext(teacher=teacher, sources=Sources(pool, {}), index=None)) is None
    ), answer
