"""The generation pipeline end to end on a scripted teacher: seed-format output with every
category, resume without duplicates, hostile teacher text counted as rejects."""

from __future__ import annotations

import json
from pathlib import Path

from datagen_fixtures import FakeTeacher, StubIndex, sample_pool_tools

from calltune.datagen.instructions import CATEGORIES, ToolPool
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
