"""Planned first steps: the calls the teacher wrote with a request run as the agent's first step
(no second generation of them); the teacher goes on from their results."""

from __future__ import annotations

import json

import pytest
from datagen_fixtures import FakeTeacher, StubIndex, sample_pool_tools

from calltune.datagen.filters import FilterContext, run_stages
from calltune.datagen.instructions import Instruction, ToolPool
from calltune.datagen.pipeline import Pipeline, PipelineError, Settings, read_jsonl
from calltune.datagen.teacher import Teacher
from calltune.datagen.trajectories import AgentSettings, Sources, planned_calls, run_trajectory

POOL = ToolPool(sample_pool_tools())
ADD = {"name": "add_numbers", "arguments": {"a": 12, "b": 30}}
SHOUT = {"name": "shout", "arguments": {"text": "<result>"}}


def instr(category: str = "single", calls=None, **kw) -> Instruction:
    base = dict(
        id="p.0",
        category=category,
        lang="en",
        request="Please call add_numbers(a=12, b=30).",
        tools=["add_numbers", "shout"],
        calls=[ADD] if calls is None else calls,
        seed=3,
        group="p",
    )
    base.update(kw)
    return Instruction(**base)


@pytest.mark.parametrize(
    ("category", "calls", "followups", "want"),
    [
        ("single", [ADD], [], ["add_numbers"]),
        ("choice", [ADD], [], ["add_numbers"]),
        ("parallel", [ADD, {"name": "add_numbers", "arguments": {"a": 1, "b": 2}}], [], ["add_numbers"] * 2),
        ("sequential", [ADD, SHOUT], [], ["add_numbers"]),  # the second needs the first's result
        ("sequential", [SHOUT, ADD], [], []),
        ("multi_turn", [ADD], ["And now 1 and 2?"], []),  # a call for each turn, or none
        ("multi_turn", [ADD, ADD], ["And now 1 and 2?"], ["add_numbers"]),
        ("no_fit", [], [], []),
        ("single", None, [], []),  # a code-written task has no blueprint
    ],
)
def test_planned_calls_per_category(category, calls, followups, want):
    ins = instr(category, calls if calls is not None else [], followups=followups)
    if calls is None:
        ins.calls = None
    assert [c.name for c in planned_calls(ins)] == want


def run(ins: Instruction, plan: bool) -> tuple[dict, FakeTeacher]:
    teacher = FakeTeacher()
    traj = run_trajectory(ins, Sources(POOL, {}), Teacher(teacher), AgentSettings(plan_calls=plan))
    return traj, teacher


def test_a_planned_trajectory_spends_one_generation_less_and_passes_every_filter():
    ins = instr()
    planned, t_planned = run(ins, True)
    agent, t_agent = run(ins, False)
    assert planned["planned"] == 1 and agent["planned"] == 0
    assert planned["tokens"]["generations"] == agent["tokens"]["generations"] - 1
    assert len(t_planned.prompts) < len(t_agent.prompts)
    # the same conversation either way (the ids of calls aside)
    strip = [
        {k: v for k, v in m.items() if k not in ("tool_calls", "tool_call_id")} for m in planned["messages"]
    ]
    assert strip == [
        {k: v for k, v in m.items() if k not in ("tool_calls", "tool_call_id")} for m in agent["messages"]
    ]
    assert planned["calls"][0]["arguments"] == {"a": 12, "b": 30} and planned["calls"][0]["ok"]
    ctx = FilterContext(teacher=Teacher(FakeTeacher()), sources=Sources(POOL, {}), index=StubIndex())
    assert run_stages(planned, ins, ctx) is None


def test_a_sequential_request_plans_its_first_call_and_the_teacher_makes_the_second():
    ins = instr(
        "sequential",
        [ADD, SHOUT],
        request="Please call add_numbers(a=12, b=30), then call shout(text=<result>).",
    )
    traj, _ = run(ins, True)
    assert traj["planned"] == 1
    assert [c["name"] for c in traj["calls"]] == ["add_numbers", "shout"]
    assert traj["calls"][1]["arguments"] == {"text": "42"} and traj["calls"][1]["ok"]


def test_a_failing_planned_call_is_an_execution_reject():
    ins = instr(calls=[{"name": "add_numbers", "arguments": {"a": "twelve", "b": 30}}])
    traj, _ = run(ins, True)
    ctx = FilterContext(teacher=Teacher(FakeTeacher()), sources=Sources(POOL, {}), index=StubIndex())
    stage, reason = run_stages(traj, ins, ctx)
    assert stage in ("format", "execution") and "add_numbers" in reason, (stage, reason)


def make(out, plan: bool, **kw) -> Pipeline:
    settings = Settings(n=kw.pop("n", 6), agent=AgentSettings(plan_calls=plan), **kw)
    return Pipeline(out, Teacher(FakeTeacher()), POOL, settings, None, command=["test"], bfcl=StubIndex())


def test_a_run_resumes_with_plan_calls_switched_but_not_with_other_agent_settings(tmp_path):
    out = tmp_path / "run"
    make(out, False).run()
    make(out, True, n=9).run()  # switching plan_calls is allowed on resume
    trajs = read_jsonl(out / "trajectories.jsonl")
    assert len(trajs) == 9 and len({t["id"] for t in trajs}) == 9
    assert all(t["planned"] == 0 for t in trajs[:6])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["agent"]["plan_calls"] is True and len(manifest["runs"]) == 2
    settings = Settings(n=9, agent=AgentSettings(max_steps=2))
    with pytest.raises(PipelineError, match=r"other settings \(agent\)"):
        Pipeline(out, Teacher(FakeTeacher()), POOL, settings, None, command=["t"], bfcl=StubIndex()).run()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_missing_value_request_is_asked_for_with_a_note_the_sample_does_not_keep(lang):
    """The blueprint names the value the request leaves out: the first turn is told to ask for
    it (no call allowed), and the note stays out of the stored conversation and sample."""
    from calltune.datagen.trajectories import first_turn_note

    request = "Please add 12 to a number." if lang == "en" else "请把 12 加上一个数。"
    ins = instr("missing_value", [], request=request, lang=lang, target="add_numbers", missing="b")
    note = first_turn_note(ins, POOL)
    assert note and "'b'" in note and "- add_numbers(a: integer" in note
    traj, teacher = run(ins, True)
    assert traj["calls"] == [] and traj["planned"] == 0 and traj["tokens"]["generations"] == 1
    seen = [p if isinstance(p, str) else teacher.tokenizer.decode(p) for p in teacher.prompts]
    assert len([p for p in seen if note in p]) == 1  # the teacher saw the note once
    assert all(note not in json.dumps(m, ensure_ascii=False) for m in traj["messages"])
    assert note not in json.dumps(traj["sample"], ensure_ascii=False)
    assert [m["role"] for m in traj["messages"]][-2:] == ["user", "assistant"]
    ctx = FilterContext(teacher=Teacher(FakeTeacher()), sources=Sources(POOL, {}), index=StubIndex())
    assert run_stages(traj, ins, ctx) is None
    assert first_turn_note(instr(), POOL) is None  # other categories get no note


def test_a_no_fit_request_is_told_no_function_fits_and_the_sample_keeps_no_note():
    from calltune.datagen.trajectories import first_turn_note

    ins = instr("no_fit", [], request="Please translate 'hello' into French.", target="translate")
    note = first_turn_note(ins, POOL)
    assert note and "cannot do this" in note
    traj, teacher = run(ins, True)
    assert traj["calls"] == [] and traj["tokens"]["generations"] == 1
    seen = [p if isinstance(p, str) else teacher.tokenizer.decode(p) for p in teacher.prompts]
    assert len([p for p in seen if note in p]) == 1
    assert note not in json.dumps(traj["sample"], ensure_ascii=False)
    ctx = FilterContext(teacher=Teacher(FakeTeacher()), sources=Sources(POOL, {}), index=StubIndex())
    assert run_stages(traj, ins, ctx) is None


def test_a_multi_turn_request_plans_each_turns_call_and_the_teacher_answers_each():
    from calltune.datagen.trajectories import planned_turns

    second = {"name": "add_numbers", "arguments": {"a": 1, "b": 2}}
    ins = instr("multi_turn", [ADD, second], followups=["Now add 1 and 2, please."])
    assert [[c.arguments for c in t] for t in planned_turns(ins)] == [
        [ADD["arguments"]],
        [second["arguments"]],
    ]
    traj, _ = run(ins, True)
    assert traj["planned"] == 2 and traj["tokens"]["generations"] == 2  # one answer per turn
    assert [c["arguments"] for c in traj["calls"]] == [ADD["arguments"], second["arguments"]]
    assert [m["role"] for m in traj["messages"]] == ["user", "assistant", "tool", "assistant"] * 2
    ctx = FilterContext(teacher=Teacher(FakeTeacher()), sources=Sources(POOL, {}), index=StubIndex())
    assert run_stages(traj, ins, ctx) is None
    unplanned, _ = run(ins, False)
    assert unplanned["planned"] == 0


def test_a_sequential_request_names_its_second_function_for_the_turn_after_the_planned_call():
    """The default model answered from the first result without the second call in 12 of 15
    sequential trajectories: the turn after the planned call is bound to the blueprint's next
    function. This teacher answers in prose after a result whenever it may (sees more than one
    function), as the default model did; named, it sees only ``shout`` and calls it."""
    from calltune.datagen.trajectories import next_call_choice

    def lazy(prompt: str) -> str | None:
        both = all(f'"name": "{n}", "description"' in prompt for n in ("add_numbers", "shout"))
        return "The sum is 42." if both and "<tool_response>" in prompt else None

    ins = instr(
        "sequential",
        [ADD, SHOUT],
        request="Please call add_numbers(a=12, b=30), then call shout(text=<result>).",
    )
    assert next_call_choice(ins) == {"type": "function", "function": {"name": "shout"}}
    assert next_call_choice(instr()) is None  # single: answered from the planned call's result
    assert next_call_choice(instr("sequential", [SHOUT, ADD])) is None  # nothing planned first
    teacher = FakeTeacher(override=lazy)
    traj = run_trajectory(ins, Sources(POOL, {}), Teacher(teacher), AgentSettings())
    assert [c["name"] for c in traj["calls"]] == ["add_numbers", "shout"]
    assert traj["calls"][1]["arguments"] == {"text": "42"}
    ctx = FilterContext(teacher=Teacher(FakeTeacher()), sources=Sources(POOL, {}), index=StubIndex())
    assert run_stages(traj, ins, ctx) is None
