"""The generation pipeline end to end on a scripted teacher: seed-format output with every
category, resume without duplicates, hostile teacher text counted as rejects."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from datagen_fixtures import CounterEnv, FakeTeacher, StubIndex, sample_pool_tools

from calltune.datagen.instructions import CATEGORIES, ToolPool, parse_items
from calltune.datagen.pipeline import Pipeline, Settings, read_jsonl
from calltune.datagen.teacher import Teacher
from calltune.train.data import load_records
from calltune.train.validate import check_records


def make(out: Path, engine: FakeTeacher | None = None, envs=None, **kw) -> Pipeline:
    kw.setdefault("n", 30)
    kw.setdefault("zh_share", 0.34)
    settings = Settings(**kw)
    return Pipeline(
        out,
        Teacher(engine or FakeTeacher()),
        ToolPool(sample_pool_tools()),
        settings,
        envs,
        command=["test"],
        bfcl=StubIndex(),
    )


def kept_ids(out: Path) -> list[str]:
    return [s["id"] for s in read_jsonl(out / "kept.jsonl")]


def test_end_to_end_every_category_valid_seed_format(tmp_path):
    out = tmp_path / "run"
    report = make(out, n=36).run()
    kept = read_jsonl(out / "kept.jsonl")
    rep = check_records(load_records(out / "kept.jsonl"))
    assert rep.total == len(kept) and rep.valid == rep.total and rep.total >= 25
    cats = {s["meta"]["category"] for s in kept}
    assert cats == set(CATEGORIES), (cats, read_jsonl(out / "rejects.jsonl"))
    langs = {(s["meta"]["category"], s["meta"]["lang"]) for s in kept}
    assert {"zh"} <= {lang for _, lang in langs}
    # Chinese-named tools reach kept samples, simulated tools are marked
    names = {
        c["name"]
        for s in kept
        for m in s["conversations"]
        if m["role"] == "tool"
        for c in m.get("calls", [m])
    }
    assert "城市人口" in names and "lookup_capital" in names
    assert any(s["meta"]["simulated"] == ["lookup_capital"] for s in kept)
    # no_fit: the target is not offered and nothing is called; parallel: one turn of two calls
    instr = {i["id"]: i for i in read_jsonl(out / "instructions.jsonl")}
    for s in kept:
        i = instr[s["id"]]
        tools = [t["name"] for t in s["tools"]]
        roles = [m["role"] for m in s["conversations"]]
        if i["category"] == "no_fit":
            assert i["target"] not in tools and "tool" not in roles
        if i["category"] == "parallel":
            assert any(len(m.get("calls", [])) >= 2 for m in s["conversations"])
        if i["category"] == "multi_turn":
            assert roles.count("user") == 2
    # the report: every stage, yield, time, decontamination
    assert report["counts"]["kept"] == len(kept)
    assert [s["stage"] for s in report["stages"]][:3] == ["instructions", "dedupe", "decontam (requests)"]
    assert report["decontam"]["ok"] is True
    assert (out / "report.md").read_text().startswith("# Generation report")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs"][0]["command"] == ["test"] and manifest["settings"]["n"] == 36


@pytest.mark.parametrize("fail_after", [3, 40], ids=["while-constructing", "while-running"])
def test_resume_after_a_kill_ends_with_the_same_kept_set(tmp_path, fail_after):
    whole = tmp_path / "whole"
    make(whole, n=18).run()
    expected = kept_ids(whole)
    assert len(expected) >= 12

    part = tmp_path / "part"
    # killed after 3 generations (constructing) or in the middle of the trajectories
    with pytest.raises(KeyboardInterrupt):
        make(part, FakeTeacher(fail_after=fail_after), n=18).run()
    done = read_jsonl(part / "trajectories.jsonl")
    gens = read_jsonl(part / "generations.jsonl")
    if fail_after == 3:
        assert (len(gens), len(done)) == (3, 0)
    else:
        assert 0 < len(done) < 18
    with (part / "trajectories.jsonl").open("a") as f:  # a line cut off by the kill
        f.write('{"id": "g0009.2", "verdict": {"ke')
    teacher = FakeTeacher()
    make(part, teacher, n=18).run()
    assert kept_ids(part) == expected
    ids = [t["id"] for t in read_jsonl(part / "trajectories.jsonl")]
    assert len(ids) == len(set(ids)) == 18  # every trajectory once, none run twice
    gens = [g["group"]["id"] for g in read_jsonl(part / "generations.jsonl")]
    assert len(gens) == len(set(gens))
    asked = sum("different requests" in p for p in map(teacher.tokenizer.decode, teacher.prompts))
    assert asked == len(gens) - (
        3 if fail_after == 3 else len(gens)
    )  # finished generations are not asked again
    manifest = json.loads((part / "manifest.json").read_text())
    assert len(manifest["runs"]) == 2


def test_resume_refuses_other_settings_and_extends_n(tmp_path):
    from calltune.datagen.pipeline import PipelineError

    out = tmp_path / "run"
    make(out, n=6).run()
    with pytest.raises(PipelineError, match="other settings \\(seed\\)"):
        make(out, n=6, seed=3).run()
    make(out, n=9).run()
    assert len(read_jsonl(out / "instructions.jsonl")) == 9
    assert len(read_jsonl(out / "trajectories.jsonl")) == 9


def test_rounds_run_trajectories_before_all_requests_exist_and_keep_the_same_set(tmp_path):
    envs = {"counter": CounterEnv()}
    whole = tmp_path / "whole"
    make(whole, envs=envs, n=18, env_share=0.6).run()
    rounds = tmp_path / "rounds"
    teacher = FakeTeacher()
    make(rounds, teacher, envs=envs, n=18, env_share=0.6, round_size=6).run()
    assert sorted(kept_ids(rounds)) == sorted(kept_ids(whole))
    code = [i for i in kept_ids(rounds) if i.startswith("e-")]
    assert code, kept_ids(rounds)
    # code-written tasks are spread over the rounds, not all run first
    order = [t["id"] for t in read_jsonl(rounds / "trajectories.jsonl")]
    assert not order[0].startswith("e-") or not all(i.startswith("e-") for i in order[: len(code)])
    # the first trajectory ran before the last requests were written
    prompts = list(map(teacher.tokenizer.decode, teacher.prompts))
    asks = [i for i, p in enumerate(prompts) if "different requests" in p]
    others = [i for i, p in enumerate(prompts) if "different requests" not in p]
    assert others and asks and others[0] < asks[-1]
    ids = [t["id"] for t in read_jsonl(rounds / "trajectories.jsonl")]
    assert len(ids) == len(set(ids)) == 18
    # a finished run resumed with more rounds goes on where it stopped
    make(rounds, FakeTeacher(), envs=envs, n=24, env_share=0.6, round_size=6).run()
    assert len(read_jsonl(rounds / "trajectories.jsonl")) == 24


def test_concurrency_runs_trajectories_at_once_with_the_same_result(tmp_path):
    one = tmp_path / "one"
    make(one, n=9).run()
    many = tmp_path / "many"
    make(many, n=9, concurrency=3).run()
    assert kept_ids(many) == kept_ids(one)


def test_on_an_engine_that_reuses_only_finished_prefixes_one_group_runs_one_at_a_time(tmp_path):
    from calltune.datagen.instructions import Instruction
    from calltune.datagen.pipeline import _next_item

    def ins(i: str, group: str) -> Instruction:
        return Instruction(i, "single", "en", "request", ["add_numbers"], [], 0, group=group)

    queue = list(enumerate([ins("a.0", "a"), ins("a.1", "a"), ins("b.0", "b"), ins("a.2", "a")]))
    assert _next_item(queue, set())[1].id == "a.0"
    assert _next_item(queue, {"a"})[1].id == "b.0"  # a.1 waits for a.0 and reads its prefix
    assert _next_item(queue, {"a", "b"}) is None
    assert [i.id for _, i in queue] == ["a.1", "a.2"]
    assert _next_item(queue, None)[1].id == "a.1"  # an engine that shares running prefixes

    class Lanes(FakeTeacher):
        shares_running_prefixes = False

    one = tmp_path / "one"
    make(one, n=9).run()
    lanes = tmp_path / "lanes"
    make(lanes, Lanes(), n=9, concurrency=3).run()
    assert sorted(kept_ids(lanes)) == sorted(kept_ids(one))
    by_group: dict[str, list[tuple[float, float]]] = {}
    for t in read_jsonl(lanes / "trajectories.jsonl"):
        by_group.setdefault(t["id"].rsplit(".", 1)[0], []).append((t["started"], t["seconds"]))
    assert any(len(v) > 1 for v in by_group.values())
    for spans in by_group.values():  # never two of one group at once
        spans.sort()
        assert all(b[0] >= a[0] + a[1] - 0.002 for a, b in zip(spans, spans[1:], strict=False))


HOSTILE = {
    # not JSON, and Python that would run if it were evaluated
    "malformed": '[{"request": "Please call add_numbers(a=1, b=2).", "calls": [{"name": "add_numbers", '
    '"arguments": {"a": __import__("os").system("touch {marker}"), "b": 2}}]}]',
    "unknown": '[{"request": "Please call rm_rf(path=slash).", "calls": [{"name": "rm_rf", "arguments": {"path": "/"}}]}]',
    "prose": "Sure! Here are some requests you could use.",
    "schema": '[{"request": "Please call add_numbers(a=one, b=2).", "calls": [{"name": "add_numbers", "arguments": {"a": "one", "b": 2}}]}]',
    "good": None,  # a usable request, whose agent turn then writes code as arguments
}


@pytest.mark.parametrize("plan", [False, True], ids=["agent-writes-calls", "planned-calls"])
def test_hostile_teacher_text_becomes_counted_rejects(tmp_path, plan):
    """Planned calls: the blueprint's calls run, and the hostile call comes in the answer turn."""
    from calltune.datagen.trajectories import AgentSettings

    marker = tmp_path / "pwned"
    kinds = list(HOSTILE)

    def hostile(prompt: str) -> str | None:
        if "different requests" in prompt:
            kind = kinds[hostile.n % len(kinds)]
            hostile.n += 1
            shown = re.search(r"\n- (\S+?)\(", prompt).group(1)  # a tool on offer
            return HOSTILE[kind] and HOSTILE[kind].replace("{marker}", str(marker)).replace(
                "add_numbers", shown
            )
        if prompt.endswith("<|im_start|>assistant\n") and (
            "<tools>" in prompt or "<tool_response>" in prompt
        ):
            # the agent's turn: a call whose arguments are code
            code = f'__import__("os").system("touch {marker}")'
            return (
                '<tool_call>\n{"name": "add_numbers", "arguments": {"a": ' + code + ', "b": 1}}\n</tool_call>'
            )
        return None

    hostile.n = 0
    out = tmp_path / "run"
    only_single = {c: 0.0 for c in CATEGORIES} | {"single": 1.0}
    teacher = FakeTeacher(override=hostile)
    make(
        out, teacher, n=2, per_generation=1, mix=only_single, zh_share=0, agent=AgentSettings(plan_calls=plan)
    ).run()
    rejects = read_jsonl(out / "rejects.jsonl")
    reasons = [r["reason"] for r in rejects]
    assert any(r.startswith("malformed JSON") for r in reasons)
    assert "blueprint calls unknown tool 'rm_rf'" in reasons
    assert "no JSON list in the reply" in reasons
    assert any("break its schema" in r for r in reasons)
    assert not marker.exists()
    assert read_jsonl(out / "kept.jsonl") == []
    formats = [r for r in rejects if r["stage"] == "format"]
    assert len(formats) == 2 and all(
        "unparseable call" in r["reason"] or "stopped" in r["reason"] or "call markup" in r["reason"]
        for r in formats
    )
    if plan:  # the hostile call came where no tools were offered: text, never run
        assert all("call markup (<tool_call>)" in r["reason"] for r in formats)
    report = json.loads((out / "report.json").read_text())
    assert report["stages"][0]["rejected"] >= 4 and report["counts"]["trajectories"] == 2


def test_parse_items_reads_literals_and_keeps_complete_items():
    items, problems = parse_items("```json\n[{'request': 'a b c d e f', 'calls': []}, {\"request\": \"cut")
    assert items == [{"request": "a b c d e f", "calls": []}] and problems[0].startswith("malformed JSON")
    items, problems = parse_items('{"request": "one"}\n{"request": "two"}')
    assert [i["request"] for i in items] == ["one", "two"] and problems == []


TOOLS_PY = "from datagen_fixtures import add_numbers, multiply\n\nTOOLS = [add_numbers, multiply]\n"


def test_cli_generate_with_tool_files_then_report_and_check(tmp_path, monkeypatch):
    from datagen_fixtures import CAPITAL
    from typer.testing import CliRunner

    import calltune.datagen.cli as dcli
    from calltune.cli import app

    (tmp_path / "mathy.py").write_text(TOOLS_PY)
    (tmp_path / "geo.json").write_text(json.dumps([CAPITAL]))
    monkeypatch.setattr(dcli, "engine_from_options", lambda *a, **k: FakeTeacher())
    monkeypatch.setattr("calltune.datagen.filters.FilterContext.bfcl", lambda self: StubIndex())
    out = tmp_path / "run"
    args = ["data", "generate", "--out", str(out), "--n", "8", "--zh-share", "0"]
    args += [
        "--tools",
        str(tmp_path / "mathy.py"),
        "--tools",
        str(tmp_path / "geo.json"),
        "--mix",
        "no_fit=0",
    ]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "kept / trajectories" in r.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["domains"] == ["geo", "mathy"] and manifest["settings"]["mix"]["no_fit"] == 0.0
    r = CliRunner().invoke(app, ["data", "report", str(out), "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert rep["counts"]["trajectories"] == 8 and rep["counts"]["kept"] >= 5
    assert "no_fit" not in rep["categories"]["instructions"]
    r = CliRunner().invoke(app, ["data", "check", str(out / "kept.jsonl")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["data", "generate", "--out", str(out), "--mix", "bogus=1"])
    assert r.exit_code == 2 and "--mix" in r.output


def test_a_blueprint_whose_values_the_request_does_not_state_is_rejected_before_a_trajectory():
    from calltune.datagen.instructions import Group, _Bad, read_item

    pool = ToolPool(sample_pool_tools())
    tools = {n: pool.tool(n) for n in pool.by_name}
    group = Group("g0", 0, "choice", "en", ["add_numbers", "multiply"], ["shout"], seed=1)
    call = {"name": "add_numbers", "arguments": {"a": 12, "b": 30}}
    ok = read_item({"request": "What is 12 plus 30?", "calls": [call]}, group, tools, 0)
    assert ok.calls == [call]
    with pytest.raises(_Bad, match="does not state the value of b for add_numbers"):
        read_item({"request": "Add 12 to my number.", "calls": [call]}, group, tools, 1)
    # multi-turn: the follow-up's call may use the first turn's result, which no text states
    mt = Group("g1", 1, "multi_turn", "en", ["add_numbers", "multiply"], ["shout"], seed=2)
    item = {
        "request": "What is 12 plus 30?",
        "calls": [call],
        "followup": "And that times three?",
        "followup_calls": [{"name": "multiply", "arguments": {"a": 42, "b": 3}}],
    }
    assert len(read_item(item, mt, tools, 0).calls) == 2
    item["request"] = "What is 12 plus my age?"
    with pytest.raises(_Bad, match="value of b for add_numbers"):
        read_item(item, mt, tools, 1)


def test_a_request_that_spells_out_the_call_is_rejected():
    from calltune.datagen.instructions import Group, _Bad, read_item

    pool = ToolPool(sample_pool_tools())
    tools = {n: pool.tool(n) for n in pool.by_name}
    group = Group("g0", 0, "single", "en", ["add_numbers"], ["shout"], seed=1)
    call = {"name": "add_numbers", "arguments": {"a": 12, "b": 30}}
    for request in ["What is 12 plus 30? add_numbers(a=12, b=30)", "Add 12 and 30: add_numbers (12, 30)"]:
        with pytest.raises(_Bad, match=r"spells out the call add_numbers\(\.\.\.\)"):
            read_item({"request": request, "calls": [call]}, group, tools, 0)
    zh = Group("g1", 1, "single", "zh", ["城市人口"], ["shout"], seed=1)
    zcall = {"name": "城市人口", "arguments": {"city": "上海"}}
    with pytest.raises(_Bad, match="spells out the call 城市人口"):
        read_item({"request": "上海有多少人口？城市人口（city: 上海）", "calls": [zcall]}, zh, tools, 0)
    assert read_item({"request": "上海有多少人口？", "calls": [zcall]}, zh, tools, 0).calls == [zcall]
    # naming the tool in words is not spelling a call
    assert read_item({"request": "Use add_numbers for 12 and 30.", "calls": [call]}, group, tools, 0)


def test_a_parallel_request_that_states_a_result_is_rejected():
    from calltune.datagen.instructions import Group, _Bad, read_item

    pool = ToolPool(sample_pool_tools())
    tools = {n: pool.tool(n) for n in pool.by_name}
    group = Group("g0", 0, "parallel", "en", ["add_numbers", "multiply"], ["shout"], seed=1)
    calls = [
        {"name": "add_numbers", "arguments": {"a": 12, "b": 30}},
        {"name": "multiply", "arguments": {"a": 15, "b": 2000}},
    ]
    with pytest.raises(_Bad, match="states 42, which no call takes"):
        read_item({"request": "12 plus 30 is 42, and 15 times 2,000?", "calls": calls}, group, tools, 0)
    ok = read_item({"request": "What is 12 plus 30, and 15 times 2,000?", "calls": calls}, group, tools, 0)
    assert ok.calls == calls


def test_wall_time_counts_work_done_at_once_once():
    from calltune.datagen.report import busy_seconds

    at_once = [{"started": 100.0, "seconds": 10.0}, {"started": 102.0, "seconds": 4.0}]
    later = [{"started": 120.0, "seconds": 5.0}, {"started": 108.0, "seconds": 6.0}]
    assert busy_seconds(at_once) == 10.0
    assert busy_seconds(at_once + later) == 10.0 + 4.0 + 5.0  # 100-110, 108-114, 120-125
    assert busy_seconds([{"seconds": 7.0}, *at_once]) == 17.0  # an old record without a start


def test_reply_schemas_hold_each_kind_to_its_number_of_calls_and_the_shown_functions():
    import jsonschema

    from calltune.datagen.instructions import reply_schemas

    specs = ToolPool(sample_pool_tools()).specs(["add_numbers", "multiply"])
    strict, loose = reply_schemas("parallel", specs, 3)

    def ok(schema, reply) -> bool:
        return jsonschema.Draft202012Validator(schema).is_valid(reply)

    add = {"name": "add_numbers", "arguments": {"a": 1, "b": 2}}
    mul = {"name": "multiply", "arguments": {"a": 3, "b": 4}}
    assert ok(strict, [{"calls": [add, mul], "request": "1 plus 2, and 3 times 4"}])
    assert list(strict["items"]["properties"]) == ["calls", "request"]  # calls written first
    assert not ok(strict, [{"calls": [add], "request": "1 plus 2"}])  # one call is not parallel
    assert not ok(strict, [{"calls": [add, {"name": "rm_rf", "arguments": {}}], "request": "x"}])
    bad_type = {"name": "multiply", "arguments": {"a": "three", "b": 4}}
    assert not ok(strict, [{"calls": [add, bad_type], "request": "x"}]) and ok(
        loose, [{"calls": [add, bad_type], "request": "x"}]
    )
    seq, seq_loose = reply_schemas("sequential", specs, 3)
    assert ok(
        seq, [{"calls": [add, {"name": "multiply", "arguments": {"a": "<result>", "b": 4}}], "request": "x"}]
    )
    # the second call takes the first's result; two independent calls are not sequential
    assert not ok(seq, [{"calls": [add, mul], "request": "x"}]) and ok(
        seq_loose, [{"calls": [add, mul], "request": "x"}]
    )
    assert not ok(
        seq, [{"calls": [{"name": "multiply", "arguments": {"a": "<result>", "b": 4}}, add], "request": "x"}]
    )
    assert not ok(
        seq,
        [{"calls": [add, {"name": "multiply", "arguments": {"a": "<result>", "b": "four"}}], "request": "x"}],
    )
    # xgrammar compiles it (prefixItems)
    xg = pytest.importorskip("xgrammar")
    assert "<result>" in str(xg.Grammar.from_json_schema(json.dumps(seq)))
    single = reply_schemas("single", specs, 3)[0]
    assert not ok(single, [{"request": "x", "calls": [add, mul]}]) and ok(
        single, [{"request": "x", "calls": [add]}]
    )
    assert not ok(single, [{"request": "x", "calls": [add]}] * 4)  # k items at most
    missing = reply_schemas("missing_value", specs, 2)[0]
    assert ok(missing, [{"request": "add 1 to it", "tool": "add_numbers", "missing": "b"}])
    assert not ok(missing, [{"request": "add 1 to it", "tool": "shout", "missing": "b"}])
    assert not ok(missing, [{"request": "add 1 to it", "tool": "add_numbers", "missing": "c"}])


def test_the_teacher_enforces_the_first_schema_its_grammar_can_express():
    pytest.importorskip("xgrammar")
    from calltune.datagen.teacher import Teacher
    from calltune.engines import ScriptedEngine

    class Guidable(ScriptedEngine):
        supports_constraints = True

    schema = {"type": "array", "items": {"type": "integer"}}
    eng = Guidable(["[1, 2]"])
    unenforceable = {"type": "array", "items": {"not": {"type": "null"}}}
    Teacher(eng).ask("s", "u", max_tokens=20, schemas=[unenforceable, schema])
    assert eng.constraints[-1].response_schema == schema  # "not" cannot be enforced: the next one
    plain = ScriptedEngine(["[1, 2]"])
    Teacher(plain).ask("s", "u", max_tokens=20, schemas=[schema])
    assert plain.constraints[-1] is None  # an engine without grammars is asked by the prompt alone


def test_a_second_run_on_a_folder_in_use_is_refused(tmp_path):
    from calltune.datagen.pipeline import PipelineError

    out = tmp_path / "run"
    first = make(out, n=3)
    with first._exclusive():
        with pytest.raises(PipelineError, match=r"in use by another run \(pid \d+\)"):
            make(out, n=3).run()
        with pytest.raises(PipelineError, match="in use by another run"):
            make(out, n=3).refilter()
    make(out, n=3).run()  # free again once the first let go
    assert len(read_jsonl(out / "trajectories.jsonl")) == 3


def test_refilter_applies_changed_code_filters_to_the_kept_trajectories(tmp_path):
    out = tmp_path / "run"
    make(out, n=12).run()
    kept = kept_ids(out)
    trajs = read_jsonl(out / "trajectories.jsonl")
    # a kept single trajectory whose reply (as an older filter let through) asks back
    victim = next(t for t in trajs if t["verdict"]["kept"] and t["category"] in ("single", "choice"))
    victim["sample"]["conversations"][-1]["content"] = "Do you want the sum?"
    (out / "trajectories.jsonl").write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in trajs))
    teacher = FakeTeacher()
    res = make(out, teacher, n=12).refilter()
    assert res == {"checked": len(kept), "rejected": 1, "by_stage": {"category": 1}}
    assert not teacher.prompts  # nothing generated, no semantic check asked
    assert kept_ids(out) == [i for i in kept if i != victim["id"]]
    again = {t["id"]: t for t in read_jsonl(out / "trajectories.jsonl")}[victim["id"]]
    assert again["verdict"] == {
        "kept": False,
        "stage": "category",
        "reason": "the reply asks back although its calls ran",
        "refiltered": True,
    }
    assert any(r["id"] == victim["id"] for r in read_jsonl(out / "rejects.jsonl"))


def test_the_report_of_a_stopped_run_counts_every_kept_sample(tmp_path):
    # killed while running a round's trajectories: kept.jsonl holds samples whose requests
    # the instructions view does not list yet (it is rewritten at the end of a round)
    from calltune.datagen.report import build_report

    part = tmp_path / "part"
    with pytest.raises(KeyboardInterrupt):
        make(part, FakeTeacher(fail_after=40), n=18, round_size=9).run()
    kept = kept_ids(part)
    assert kept
    counts = build_report(part)["counts"]
    assert counts["kept"] == len(kept)
    assert counts["trajectories"] == len(read_jsonl(part / "trajectories.jsonl"))
