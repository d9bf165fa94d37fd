"""Each filter stage rejects a crafted bad trajectory, and for its own reason."""

from __future__ import annotations

import copy

import pytest
from datagen_fixtures import CounterEnv, FakeTeacher, StubIndex, sample_pool_tools

from calltune.datagen.filters import (
    Dedupe,
    FilterContext,
    check_blueprint,
    check_category,
    check_decontam,
    check_env_state,
    check_execution,
    check_format,
    check_grounded,
    check_semantic,
    run_stages,
)
from calltune.datagen.instructions import Instruction, ToolPool
from calltune.datagen.teacher import Teacher
from calltune.datagen.trajectories import Sources, run_trajectory

POOL = ToolPool(sample_pool_tools())


def instr(**kw) -> Instruction:
    base = dict(
        id="t.0",
        category="single",
        lang="en",
        request="Please call add_numbers(a=12, b=30).",
        tools=["add_numbers"],
        calls=[{"name": "add_numbers", "arguments": {"a": 12, "b": 30}}],
        seed=7,
        group="t",
    )
    base.update(kw)
    return Instruction(**base)


def ctx(engine=None, envs=None) -> FilterContext:
    return FilterContext(
        teacher=Teacher(engine or FakeTeacher()), sources=Sources(POOL, envs or {}), index=StubIndex()
    )


def good(ins: Instruction, envs=None) -> tuple[dict, FilterContext]:
    c = ctx(envs=envs)
    traj = run_trajectory(ins, c.sources, c.teacher)
    assert run_stages(traj, ins, c) is None, traj  # the good trajectory passes every stage
    return traj, c


def test_format_rejects_parse_errors_and_runs_without_answer():
    ins = instr()
    traj, c = good(ins)
    bad = copy.deepcopy(traj)
    bad["parse_errors"] = [{"message": "expected a JSON object", "raw": "<tool_call>{", "name": None}]
    assert "unparseable call" in check_format(bad, ins, c)
    bad = copy.deepcopy(traj)
    bad["stopped"] = ["max_steps"]
    assert "stopped without an answer (max_steps)" in check_format(bad, ins, c)
    bad = copy.deepcopy(traj)
    bad["sample"]["conversations"].insert(0, {"role": "assistant", "content": "hi"})
    assert check_format(bad, ins, c).startswith("invalid sample: conversations[0]")


def test_execution_rejects_a_failed_call():
    engine = FakeTeacher(override=lambda p: '{"capital": ' if "stand in for a real API" in p else None)
    ins = instr(
        request="Please call lookup_capital(country=France).",
        tools=["lookup_capital"],
        calls=[{"name": "lookup_capital", "arguments": {"country": "France"}}],
    )
    c = ctx(engine)
    traj = run_trajectory(ins, c.sources, c.teacher)
    reason = run_stages(traj, ins, c)
    assert reason[0] == "execution" and "SimulationError" in reason[1] and "not JSON" in reason[1]
    assert check_execution(traj, ins, c) == reason[1] and traj["simulated"] == ["lookup_capital"]


def test_grounded_rejects_values_the_conversation_does_not_hold():
    ins = instr()
    traj, c = good(ins)
    bad = copy.deepcopy(traj)
    bad["calls"][0]["arguments"] = {"a": 12, "b": 31}
    assert check_grounded(bad, ins, c) == "value 31 for b of add_numbers is not in the conversation"


def test_category_rules():
    ins = instr(category="no_fit", tools=["multiply", "shout"], calls=[], target="add_numbers")
    traj, c = good(ins)
    assert traj["calls"] == []
    called = copy.deepcopy(good(instr())[0])
    assert check_category(called, ins, c) == "a no_fit request must not call a tool, it called add_numbers"
    mv = instr(category="missing_value", calls=[], target="add_numbers", missing="a")
    silent = copy.deepcopy(traj)
    silent["sample"]["conversations"][-1]["content"] = "Done."
    assert check_category(silent, mv, c) == "a missing_value reply must ask for the missing value"
    for ask in ("Please enter the mass in kilograms.", "I'll need the amount first."):
        silent["sample"]["conversations"][-1]["content"] = ask
        assert check_category(silent, mv, c) is None, ask
    par = instr(category="parallel")
    assert check_category(called, par, c) == "a parallel request needs two or more calls in one turn"


def test_blueprint_rejects_other_arguments():
    ins = instr()
    traj, c = good(ins)
    other = instr(calls=[{"name": "add_numbers", "arguments": {"a": 12, "b": 3}}])
    assert check_blueprint(traj, other, c) == "add_numbers: b=30, the blueprint has 3"
    names = instr(calls=[{"name": "multiply", "arguments": {"a": 12, "b": 30}}])
    assert check_blueprint(traj, names, c) == "calls ['add_numbers'], the blueprint ['multiply']"
    # "<result>" stands for an earlier result: not compared
    ph = instr(calls=[{"name": "add_numbers", "arguments": {"a": "<result>", "b": 30}}])
    assert check_blueprint(traj, ph, c) is None


def test_env_state_replays_the_blueprint_and_runs_the_task_check():
    envs = {"counter": CounterEnv()}
    ins = instr(
        request="Please call incr(name=apples, by=4).",
        tools=["incr"],
        calls=[{"name": "incr", "arguments": {"name": "apples", "by": 4}}],
        env="counter",
        env_seed=5,
    )
    traj, c = good(ins, envs)
    assert traj["env_state"] == {"apples": 2 + 4}
    bad = copy.deepcopy(traj)
    bad["env_state"] = {"apples": 9}
    assert (
        check_env_state(bad, ins, c)
        == "the final state differs from the blueprint's replayed on a fresh instance"
    )

    # a code-written task (no blueprint): its own check decides; task 0 wants apples = 2 + 5
    def task(by: int) -> Instruction:
        req = f"Please call incr(name=apples, by={by})."
        return instr(request=req, tools=["incr"], calls=None, env="counter", env_seed=5, task=0)

    right = task(5)
    t2 = run_trajectory(right, c.sources, c.teacher)
    assert t2["env_check"] == [] and check_env_state(t2, right, c) is None
    wrong = task(6)
    t3 = run_trajectory(wrong, c.sources, c.teacher)
    assert check_env_state(t3, wrong, c) == "the task's check failed: apples is 8, not 7"


def test_decontam_rejects_bfcl_overlap_and_names():
    ins = instr(request="Please call add_numbers(a=12, b=30). BFCLCOPY")
    c = ctx()
    traj = run_trajectory(ins, c.sources, c.teacher)
    assert check_decontam(traj, ins, c) == "overlaps BFCL simple_0 (0.90 > 0.5)"
    named = copy.deepcopy(good(instr())[0])
    named["tools"][0]["function"]["name"] = "bfcl_name"
    assert check_decontam(named, instr(), c) == "uses BFCL function name(s) bfcl_name"


def test_semantic_rejects_a_no_from_the_teacher():
    ins = instr()
    traj, _ = good(ins)
    no = ctx(FakeTeacher(override=lambda p: "No." if "correctly resolve" in p else None))
    reason = check_semantic(traj, ins, no)
    assert reason == "the teacher judged that the reply does not resolve the request ('No.')"
    assert traj["semantic"]["answer"] == "No."
    eng = no.teacher.engine
    prompt = eng.tokenizer.decode(eng.prompts[-1]) if isinstance(eng.prompts[-1], list) else eng.prompts[-1]
    assert "called add_numbers" in prompt and "The result is 42." in prompt
    assert "Functions the assistant had:\n- add_numbers: " in prompt  # a decline can be judged


@pytest.mark.parametrize(
    "first, second, dup",
    [
        ("Please convert 5 km to miles.", "please convert 5 km to miles!", True),
        ("Please convert 5 km to miles.", "Please convert 5 km into miles.", True),
        ("Please convert 5 km to miles.", "What is the capital of France?", False),
        ("把5公里换算成英里。", "把 5 公里换算成英里", True),
    ],
)
def test_dedupe_exact_and_near(first, second, dup):
    d = Dedupe()
    assert d.check_add(first) is None
    assert (d.check_add(second) is not None) is dup


def test_format_rejects_call_markup_in_an_answer():
    ins = instr()
    traj, c = good(ins)
    for text, mark in [
        ('<tool_call>\n{"name": "add_numbers", "arguments": {"a": 1, "b": 2}}\n</tool_call>', "<tool_call>"),
        ("The sum is 42.<|observation|>", "<|observation|>"),
    ]:
        bad = copy.deepcopy(traj)
        bad["sample"]["conversations"][-1]["content"] = text
        assert check_format(bad, ins, c) == f"an answer holds tool-call markup ({mark})"
    assert check_format(traj, ins, c) is None


def test_category_rejects_a_reply_in_another_language_or_one_that_asks_back():
    ins = instr()
    traj, c = good(ins)
    asks = copy.deepcopy(traj)
    asks["sample"]["conversations"][-1]["content"] = "Do you want me to add 12 and 30?"
    assert check_category(asks, ins, c) == "the reply asks back although its calls ran"
    zh = instr(lang="zh", request="请计算 add_numbers[a=12, b=30]。")
    english = copy.deepcopy(traj)
    assert check_category(english, zh, c) == "the reply is not in the request's language (zh)"
    quoting = copy.deepcopy(traj)
    quoting["sample"]["conversations"][-1]["content"] = 'The number "三万五千" in Arabic numerals is 35000.'
    assert check_category(quoting, zh, c) == "the reply is not in the request's language (zh)"
    mixed = copy.deepcopy(traj)
    mixed["sample"]["conversations"][-1]["content"] = "好的，New York 到 Tokyo 的距离是 10851 公里。"
    assert check_category(mixed, zh, c) is None
    chinese = copy.deepcopy(traj)
    chinese["sample"]["conversations"][-1]["content"] = "结果是 42。"
    assert check_category(chinese, zh, c) is None
    assert check_category(chinese, ins, c) == "the reply is not in the request's language (en)"
    quoted = copy.deepcopy(traj)  # an English reply may quote a Chinese name
    quoted["sample"]["conversations"][-1]["content"] = "The city 上海 has 42 parks, the result says."
    assert check_category(quoted, ins, c) is None
