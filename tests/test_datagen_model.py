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
def test_default_model_behind_calltune_serve_teaches_over_loopback(default_engine, tmp_path):
    """`calltune data generate --teacher http://127.0.0.1:PORT/v1` against `calltune serve`: the
    teacher's prompts go as text to /v1/completions, its reply schemas as response_format (the
    server's grammar), and the trajectory's turns through the remote engine."""
    from calltune.engines.openai_remote import OpenAIRemoteEngine
    from calltune.testing import served

    mix = {c: 0.0 for c in CATEGORIES} | {"single": 1.0}
    pool = ToolPool(load_library(["units"]))
    settings = Settings(n=1, seed=0, mix=mix, zh_share=0.0, per_generation=1)
    out = tmp_path / "run"
    with served(default_engine) as (_, _client, srv):
        remote = OpenAIRemoteEngine(srv.base_url + "/v1")
        report = Pipeline(out, Teacher(remote, "hermes"), pool, settings, command=["test"]).run()
    print(report["counts"], [(r["stage"], r["reason"]) for r in report["rejects"]])
    assert not [r for r in report["rejects"] if "JSON" in r["reason"]]  # the grammar shaped it
    kept = read_jsonl(out / "kept.jsonl")
    assert kept, report["rejects"]
    assert any(m["role"] == "tool" for s in kept for m in s["conversations"])


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


@pytest.mark.model
def test_default_model_teacher_answers_each_turn_of_a_planned_multi_turn_request(default_engine):
    """A multi_turn blueprint through the real teacher: each turn's call runs as its planned
    step, the teacher answers each turn from its result, and every filter keeps it."""
    from calltune.datagen.filters import FilterContext, run_stages
    from calltune.datagen.instructions import Instruction
    from calltune.datagen.trajectories import Sources, run_trajectory

    pool = ToolPool(load_library(["units"]))
    first = {"name": "convert_mass", "arguments": {"value": 23, "from_unit": "kilogram", "to_unit": "pound"}}
    second = {"name": "convert_length", "arguments": {"value": 1.5, "from_unit": "meter", "to_unit": "foot"}}
    ins = Instruction(
        id="t.0",
        category="multi_turn",
        lang="en",
        request="My suitcase weighs 23 kilogram. How many pound is that?",
        tools=["convert_mass", "convert_length"],
        calls=[first, second],
        seed=0,
        group="t",
        followups=["Thanks. And it is 1.5 meter long: how many foot is that?"],
    )
    teacher = Teacher(default_engine)
    traj = run_trajectory(ins, Sources(pool, {}), teacher)
    answers = [m["content"] for m in traj["messages"] if m["role"] == "assistant" and not m.get("tool_calls")]
    print(answers, traj["tokens"], traj["seconds"])
    assert [c["name"] for c in traj["calls"]] == ["convert_mass", "convert_length"]
    assert all(c["ok"] for c in traj["calls"]) and traj["tokens"]["generations"] == 2
    assert (
        run_stages(traj, ins, FilterContext(teacher=teacher, sources=Sources(pool, {}), index=None)) is None
    ), answers
