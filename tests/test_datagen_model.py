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
