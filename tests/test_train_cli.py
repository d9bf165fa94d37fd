"""``calltune data check|convert|synth|show`` through typer (no model needed)."""

from __future__ import annotations

import json

import pytest
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
    s = next(
        s for s in samples if any(m.get("name") == "greatest_common_divisor" for m in s["conversations"])
    )
    call = next(m for m in s["conversations"] if m.get("name") == "greatest_common_divisor")
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


def _train_command():
    return typer.main.get_command(app).commands["train"]


def test_every_config_field_is_an_option_with_help():
    from dataclasses import fields

    from calltune.train.config import TrainConfig

    params = {p.name: p for p in _train_command().params}
    assert set(params) == {f.name for f in fields(TrainConfig)}
    for f in fields(TrainConfig):
        assert params[f.name].help, f.name
    # the names, short flags and defaults of the options that existed before they were generated
    assert params["model"].opts == ["--model", "-m"] and params["model"].required
    assert params["data"].opts == ["--data", "-d"] and params["data"].multiple
    assert params["out"].opts == ["--out", "-o"] and params["format"].opts == ["--format", "-f"]
    assert params["num_virtual_tokens"].opts == ["--prefix-tokens"]
    assert (
        params["merge"].opts == ["--merge"] and params["merge"].is_flag and not params["merge"].secondary_opts
    )
    assert params["resume"].is_flag and params["resume"].default is False
    assert params["eta"].default == 0.2 and params["max_length"].default == 1024
    r = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0
    for p in params.values():
        assert p.opts[0] in r.stdout
    assert "Share of the training signal from agent data." in r.stdout


def _captured_config(monkeypatch, args):
    import calltune.train.trainer as trainer

    seen = []

    def fake_train(cfg, log=None):
        seen.append(cfg)
        raise trainer.TrainError("stop here")

    monkeypatch.setattr(trainer, "train", fake_train)
    r = runner.invoke(app, ["train", *args])
    assert r.exit_code == 1 and "stop here" in r.stderr, r.output
    return seen[0]


def test_cli_builds_the_same_config_as_the_python_api(monkeypatch):
    from calltune.train.config import TrainConfig

    base = ["-m", "base", "-d", "a.jsonl", "-o", "runs/x"]
    assert _captured_config(monkeypatch, base) == TrainConfig(model="base", data=["a.jsonl"], out="runs/x")
    cfg = _captured_config(
        monkeypatch,
        [
            *base,
            "-d",
            "b.jsonl",
            "--method",
            "ptuning",
            "--general",
            "chat.jsonl",
            "--eta",
            "0.5",
            "--max-steps",
            "7",
            "--lr",
            "0.001",
            "--prefix-tokens",
            "8",
            "--collate",
            "pad",
            "--resume",
            "--skip-invalid",
            "--no-progress",
            "--lora-dropout",
            "0.1",
            "--gguf-file",
            "m.gguf",
        ],
    )
    assert cfg == TrainConfig(
        model="base",
        data=["a.jsonl", "b.jsonl"],
        out="runs/x",
        method="ptuning",
        general=["chat.jsonl"],
        eta=0.5,
        max_steps=7,
        lr=0.001,
        num_virtual_tokens=8,
        collate="pad",
        resume=True,
        skip_invalid=True,
        progress=False,
        lora_dropout=0.1,
        gguf_file="m.gguf",
    )


def test_generated_options_need_help():
    from dataclasses import dataclass, field

    from calltune.train.dataclass_cli import config_command

    @dataclass
    class NoHelp:
        x: int = field(default=1)

    with pytest.raises(TypeError, match="field 'x' has no help"):
        config_command(NoHelp, lambda c: None)
