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


@pytest.mark.model
def test_default_model_teacher_asks_for_the_value_a_missing_value_request_leaves_out(default_engine):
    """A missing_value request through the real teacher: told by the blueprint's note which value
    is missing, it asks for it, and the trajectory passes the filters up to the teacher's own
    semantic check (format, category rule, language) without the note in the sample."""
    from calltune.datagen.filters import FilterContext, run_stages
    from calltune.datagen.instructions import Instruction
    from calltune.datagen.trajectories import Sources, ask_note, run_trajectory

    pool = ToolPool(load_library(["units"]))
    ins = Instruction(
        id="m.0",
        category="missing_value",
        lang="en",
        request="How many pounds is my suitcase? The airline's scale showed it in kilograms.",
        tools=["convert_mass", "convert_length"],
        calls=[],
        seed=0,
        group="m",
        target="convert_mass",
        missing="value",
    )
    teacher = Teacher(default_engine)
    traj = run_trajectory(ins, Sources(pool, {}), teacher)
    answer = traj["messages"][-1]["content"]
    print(answer, traj["tokens"], traj["seconds"])
    assert traj["calls"] == [] and traj["error"] is None
    assert ask_note(ins, pool) not in str(traj["sample"])
    assert (
        run_stages(traj, ins, FilterContext(teacher=teacher, sources=Sources(pool, {}), index=None)) is None
    ), answer
