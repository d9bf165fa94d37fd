"""``calltune data check|convert|synth|show`` through typer (no model needed)."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from calltune.train.cli import register
from calltune.train.convert import seed_to_openai
from calltune.train.data import load_records, write_samples
from calltune.train.synth import FUNCTIONS, generate
from calltune.train.validate import validate_sample

app = typer.Typer()
register(app)
runner = CliRunner()


def test_data_check_reports_location_and_exit_code(tmp_path):
    good = generate(3, seed=1)
    bad = json.loads(json.dumps(good[0]))
    bad["conversations"].insert(0, {"role": "assistant", "content": "I speak first"})
    p = tmp_path / "d.jsonl"
    write_samples(p, [good[0], bad, good[1]])
    r = runner.invoke(app, ["data", "check", str(p), "--json"])
    assert r.exit_code == 1
    rep = json.loads(r.stdout)
    assert (rep["total"], rep["valid"], rep["invalid"]) == (3, 2, 1)
    assert rep["issues"][0]["location"] == f"{p}:2 (sample 1)"
    assert rep["issues"][0]["message"].startswith("conversations[0]: an assistant message must follow")
    ok = tmp_path / "ok.jsonl"
    write_samples(ok, good)
    assert runner.invoke(app, ["data", "check", str(ok)]).exit_code == 0


def test_data_convert_openai(tmp_path):
    seeds = generate(4, seed=2)
    src = tmp_path / "oa.jsonl"
    write_samples(src, [seed_to_openai(s) for s in seeds])
    dst = tmp_path / "seed.jsonl"
    r = runner.invoke(app, ["data", "convert", "--from", "openai", str(src), str(dst)])
    assert r.exit_code == 0 and "wrote 4 samples" in r.stdout
    back = [x.sample for x in load_records(dst)]
    assert [seed_to_openai(b) for b in back] == [seed_to_openai(s) for s in seeds]


def test_data_synth_and_show(tmp_path):
    r = runner.invoke(app, ["data", "synth", str(tmp_path), "--train", "30", "--test", "5"])
    assert r.exit_code == 0
    train = [x.sample for x in load_records(tmp_path / "train.jsonl")]
    assert len(train) == 30 and all(validate_sample(s) == ([], []) for s in train)
    r = runner.invoke(app, ["data", "show", str(tmp_path / "test.jsonl"), "-n", "1"])
    assert r.exit_code == 0 and "<|user|>" in r.stdout


def test_synth_set_is_varied_and_from_real_functions():
    samples = generate(300, seed=0)
    names = {f.__name__ for f in FUNCTIONS}
    called = {
        c["name"]
        for s in samples
        for m in s["conversations"]
        if m["role"] == "tool"
        for c in (m["calls"] if "calls" in m else [m])
    }
    assert called == names and "查询生肖" in called and len(names) == 16
    kinds = {
        "parallel": sum(any("calls" in m for m in s["conversations"]) for s in samples),
        "no_call": sum(all(m["role"] != "tool" for m in s["conversations"]) for s in samples),
        "chinese": sum(
            any("\u4e00" <= ch <= "\u9fff" for ch in s["conversations"][0]["content"]) for s in samples
        ),
    }
    assert all(v >= 20 for v in kinds.values()), kinds
    # observations are the functions' real results
    s = next(s for s in samples if any(m.get("name") == "gcd" for m in s["conversations"]))
    call = next(m for m in s["conversations"] if m.get("name") == "gcd")
    import math

    assert call["observation"] == math.gcd(call["parameters"]["a"], call["parameters"]["b"])
    # held-out phrasings: no test question template is used for training
    test_q = {s["conversations"][0]["content"] for s in generate(50, "test")}
    train_q = {s["conversations"][0]["content"] for s in samples}
    assert not test_q & train_q - {
        "你好",
        "Hello! Who are you?",
        "Tell me a short joke.",
        "Thanks, that's all.",
        "谢谢你的帮助！",
        "What's the capital of France?",
        "Can you book a flight to Tokyo for me?",
        "帮我订一张去上海的火车票。",
        "Write a haiku about autumn.",
        "What can you do?",
    }
