"""The default model answers two general requests and the filters keep both."""

from __future__ import annotations

import time

import pytest

from calltune.datagen.general import GeneralRun, GeneralSettings
from calltune.datagen.general_requests import build_requests
from calltune.datagen.pipeline import read_jsonl
from calltune.datagen.teacher import Teacher

pytestmark = pytest.mark.model


def test_default_model_answers_two_general_requests(default_engine, tmp_path):
    reqs = build_requests(700)
    chosen = [
        next(r for r in reqs if r.kind == "math" and r.lang == "en" and "km per hour" in r.text),
        next(r for r in reqs if r.kind == "translation" and r.answer_lang == "zh"),
    ]
    run = GeneralRun(tmp_path, Teacher(default_engine), GeneralSettings(max_tokens=96), requests=chosen)
    t0 = time.perf_counter()
    rep = run.run()
    print(f"\n2 general answers in {time.perf_counter() - t0:.1f} s: {rep['teacher_tokens']}")
    rejected = read_jsonl(tmp_path / "rejected.jsonl")
    assert rep["kept"] == 2, rejected
    kept = read_jsonl(tmp_path / "kept.jsonl")
    assert [k["id"] for k in kept] == [r.id for r in chosen]
    for k in kept:
        print(k["conversations"][0]["content"], "->", k["conversations"][1]["content"][:200])
