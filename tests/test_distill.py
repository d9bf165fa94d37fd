"""``calltune distill`` end to end on a scripted teacher and a tiny student (a 2-layer Llama with a
1,000-piece tokenizer: it trains, exports to GGUF and runs on llama.cpp in seconds): every stage
writes its outputs and the report says what the journals say; interrupted inside each stage in
turn, the resumed runs end with the same outputs as an uninterrupted run, redo no finished stage
and write no journal line twice; other settings are refused; the split and the scores."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from datagen_fixtures import FakeTeacher, StubIndex
from typer.testing import CliRunner

from calltune.datagen.instructions import Instruction
from calltune.datagen.pipeline import read_jsonl
from calltune.distill import STAGES, Distill, DistillConfig, DistillError
from calltune.distill import stages as stages_mod
from calltune.distill.heldout import expected_calls, first_turn, is_heldout, score, summarize
from calltune.distill.report import trained_tokens
from calltune.train.dataclass_cli import option_flags

pytest.importorskip("llama_cpp")
pytest.importorskip("peft")
pytest.importorskip("sentencepiece")
pytestmark = pytest.mark.slow

#: the user's tools file: four of the datagen fixtures' tools (the scripted teacher writes for them)
TOOLS = (
    "from datagen_fixtures import add_numbers, multiply, reverse_text, shout\n\n"
    "TOOLS = [add_numbers, multiply, shout, reverse_text]\n"
)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict[str, Path]:
    from calltune.testing.models import build_tiny_llama
    from calltune.train.export import ExportError, find_converter

    try:
        find_converter()
    except ExportError as e:
        pytest.skip(str(e))
    d = tmp_path_factory.mktemp("distill")
    tools = d / "my_tools.py"
    tools.write_text(TOOLS)
    return {"dir": d, "tools": tools, "student": build_tiny_llama(d / "tiny")}


def config(base: dict[str, Path], out: Path, **kw: Any) -> DistillConfig:
    args: dict[str, Any] = {
        "out": str(out),
        "tools": [str(base["tools"])],
        "n": 24,
        "seed": 1,
        "heldout": 0.3,
        "student": str(base["student"]),
        "max_tokens": 48,
        "max_steps": 4,
        "batch_size": 1,
        "grad_accum": 1,
        "max_length": 2048,
        "save_every": 2,
        "speed_prompts": 2,
        "progress": False,
    }
    return DistillConfig(**{**args, **kw})


def pool(base: dict[str, Path]) -> Any:
    from calltune.datagen.cli import _load_sources

    return _load_sources([str(base["tools"])], None, None, None)[0]


def distill(base: dict[str, Path], out: Path, teacher: FakeTeacher | None = None, **kw: Any) -> Distill:
    return Distill(config(base, out, **kw), pool(base), lambda: teacher or FakeTeacher(), bfcl=StubIndex())


# --------------------------------------------------------------------------- scoring (no model)
ADD = {
    "type": "function",
    "function": {
        "name": "add",
        "parameters": {
            "type": "object",
            "properties": {
                "a": {"type": "integer"},
                "b": {"type": "integer"},
                "round": {"type": "boolean", "default": False},
            },
            "required": ["a", "b"],
        },
    },
}


def row(category: str, expected: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": "x", "category": category, "tools": [ADD], "expected": expected}


def call(a: Any, b: Any, **more: Any) -> dict[str, Any]:
    return {"name": "add", "arguments": {"a": a, "b": b, **more}}


def turn(*calls: dict[str, Any], content: str = "") -> dict[str, Any]:
    return {"calls": list(calls), "content": content}


def test_exact_calls_are_order_free_and_every_argument_counts():
    par = row("parallel", [call(1, 2), call(3, 4)])
    assert score(par, turn(call(3, 4), call(1, 2))) is None  # order-free
    assert score(par, turn(call("1", 2.0), call(3, 4))) is None  # number spelling folded
    assert score(par, turn(call(1, 2), call(3, 5))) == "add: b=5, the blueprint has 4"  # a wrong argument
    assert score(par, turn(call(1, 2))) == "calls ['add'], the blueprint ['add', 'add']"
    assert score(par, turn(call(1, 2), call(1, 2))) is not None  # the same call twice is not the other
    single = row("single", [call(1, 2)])
    assert score(single, turn(call(1, 2, round=False))) is None  # a declared default is no extra
    assert score(single, turn(call(1, 2, round=True))) == "add: round=True is not in the blueprint"
    assert score(row("single", [call(1, 2, round=True)]), turn(call(1, 2))) == "add: round is missing"
    assert score(single, turn()) == "calls nothing, the blueprint ['add']"
    assert score(single, turn({"name": "add", "arguments": "a=1"})) == "arguments that are not an object"


def test_no_call_categories_want_an_answer_without_a_call():
    for cat in ("no_fit", "missing_value"):
        assert score(row(cat, []), turn(content="I cannot do that.")) is None
        assert score(row(cat, []), turn(call(1, 2), content="Let me add.")) == "called add"
        assert score(row(cat, []), turn(content="  ")) == "no answer"
    rows = [
        {**row("single", [call(1, 2)]), "id": "s"},
        {**row("no_fit", []), "id": "n"},
        {**row("missing_value", []), "id": "m"},
    ]
    s = summarize(rows, {"s": turn(call(1, 2)), "n": turn(content="no")})
    assert s["exact_calls"] == {"correct": 1, "of": 1, "share": 1.0}
    assert s["no_call"] == {"correct": 1, "of": 2, "share": 0.5} and s["missing"] == 1
    assert s["by_category"]["missing_value"] == {"correct": 0, "of": 1, "share": 0.0}


def test_the_first_turn_expected_and_read():
    def instr(cat: str, calls: list[dict[str, Any]]) -> Instruction:
        return Instruction("g.0", cat, "en", "r", ["add"], calls, 0, "g")

    seq = [call(1, 2), {"name": "add", "arguments": {"a": "<result>", "b": 1}}]
    assert expected_calls(instr("sequential", seq)) == seq[:1]
    assert expected_calls(instr("multi_turn", [call(1, 2), call(3, 4)])) == [call(1, 2)]
    assert expected_calls(instr("parallel", [call(1, 2), call(3, 4)])) == [call(1, 2), call(3, 4)]
    assert expected_calls(instr("no_fit", [])) == []
    messages = [
        {"role": "user", "content": "add 1 and 2"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c", "content": "3"},
        {"role": "assistant", "content": "3"},
    ]
    assert first_turn(messages) == turn(call(1, 2))
    assert first_turn(messages[:1]) == turn()


def test_the_split_is_stable_and_disjoint():
    ids = [f"g{g:04d}.{k}" for g in range(200) for k in range(3)]
    held = {i for i in ids if is_heldout(i, 0, 0.2)}
    assert held == {i for i in ids if is_heldout(i, 0, 0.2)}  # the same every time
    assert 0.15 < len(held) / len(ids) < 0.25
    assert held != {i for i in ids if is_heldout(i, 1, 0.2)}  # the seed picks another share
    assert {i for i in ids if is_heldout(i, 0, 0.1)} <= held  # a smaller share holds out fewer of the same


def test_trained_tokens_counts_each_surviving_step_once():
    first = [{"step": s, "loss": 1.0, "tokens": 10 * s, "elapsed_s": float(s)} for s in (1, 2, 3)]
    resumed = [{"step": s, "loss": 1.0, "tokens": 10 * (s - 2), "elapsed_s": float(s - 2)} for s in (3, 4)]
    assert trained_tokens([*first, *resumed, {"step": 4, "eval_loss": 0.5}]) == {"steps": 4, "tokens": 40}


# --------------------------------------------------------------------------- end to end
def _strip_times(rec: dict[str, Any]) -> dict[str, Any]:
    timed = {"decode_tokens", "decode_s", "seconds", "completion_tokens"}
    out = {k: v for k, v in rec.items() if k not in timed}
    if "probe" in out:
        out["probe"] = _strip_times(out["probe"])
    return out


def _canon(calls: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(c, sort_keys=True) for c in calls)


@pytest.fixture(scope="module")
def whole(base, tmp_path_factory) -> dict[str, Any]:
    """An uninterrupted run, through the command line (the scripted teacher stands in for the model)."""
    from calltune.cli import app
    from calltune.distill import cli as distill_cli

    out = tmp_path_factory.mktemp("whole") / "run"
    c, default = config(base, out), DistillConfig(out="")
    args = ["distill"]
    for f in fields(c):  # each setting of config() as its option
        value = getattr(c, f.name)
        if f.name != "out" and value == getattr(default, f.name):
            continue
        flag = option_flags(f)[0]
        if isinstance(value, bool):
            args.append(flag.split("/")[0 if value else 1])
        else:
            args += [x for v in (value if isinstance(value, list) else [value]) for x in (flag, str(v))]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(distill_cli, "engine_from_options", lambda *a, **k: FakeTeacher())
        mp.setattr("calltune.datagen.decontam.bfcl_index", lambda: StubIndex())
        r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    recorded = json.loads((out / "distill.json").read_text())["config"]
    assert recorded == c.to_dict()  # the options are the config
    return {"out": out, "output": r.output}


def test_every_stage_writes_its_outputs_and_the_report_is_the_journals(whole):
    out = whole["out"]
    state = json.loads((out / "distill.json").read_text())
    assert [s for s in STAGES if state["stages"][s]["done"]] == list(STAGES)
    rows = read_jsonl(out / "split" / "heldout.jsonl")
    train = read_jsonl(out / "split" / "train.jsonl")
    instructions = read_jsonl(out / "data" / "instructions.jsonl")
    kept = read_jsonl(out / "data" / "kept.jsonl")
    held = {i["id"] for i in instructions if is_heldout(i["id"], 1, 0.3)}
    # the split: no request on both sides; held out whether the filters kept it or not
    assert {r["id"] for r in rows} == held and not held & {s["id"] for s in train}
    assert [s["id"] for s in train] == [s["id"] for s in kept if s["id"] not in held]
    cats = Counter(r["category"] for r in rows)
    assert (
        cats["no_fit"] + cats["missing_value"] > 0
        and sum(cats.values()) > cats["no_fit"] + cats["missing_value"]
    )
    # training, export
    meta = json.loads((out / "student" / "calltune.json").read_text())
    assert meta["export"]["quant"] == "q8_0" and (out / "student" / "model.gguf").is_file()
    # the journals: one line per held-out request each
    teacher = read_jsonl(out / "eval" / "teacher.jsonl")
    student = read_jsonl(out / "eval" / "student.jsonl")
    assert [r["id"] for r in teacher] == [r["id"] for r in student] == [r["id"] for r in rows]
    assert [bool(r.get("probe")) for r in teacher] == [True, True] + [False] * (len(rows) - 2)
    # the report says what the journals say (scored here independently)
    rep = json.loads((out / "report.json").read_text())
    for name, results in (("teacher", teacher), ("student", student)):
        by = {r["id"]: r for r in results}
        want_calls = [r for r in rows if r["expected"]]
        exact = sum(_canon(by[r["id"]]["calls"]) == _canon(r["expected"]) for r in want_calls)
        none = sum(
            not by[r["id"]]["calls"] and bool(by[r["id"]]["content"].strip())
            for r in rows
            if not r["expected"]
        )
        assert rep[name]["exact_calls"] == {
            "correct": exact,
            "of": len(want_calls),
            "share": round(exact / len(want_calls), 4),
        }
        assert rep[name]["no_call"]["correct"] == none and rep[name]["no_call"]["of"] == len(rows) - len(
            want_calls
        )
    # the scripted teacher answers every request as its blueprint says
    assert rep["teacher"]["exact_calls"]["share"] == rep["teacher"]["no_call"]["share"] == 1.0
    assert rep["teacher"]["probes_same_as_trajectory"] == 2
    speed = sum(r["decode_tokens"] for r in student) / sum(r["decode_s"] for r in student)
    assert rep["student"]["decode"]["tokens_per_s"] == pytest.approx(speed, rel=1e-3)
    log = [r for r in read_jsonl(out / "student" / "train_log.jsonl") if "loss" in r]
    assert rep["training"]["steps"] == 4 and rep["training"]["tokens"] == log[-1]["tokens"] > 0
    assert rep["train_samples"] == len(train) and rep["heldout"]["requests"] == len(rows)
    # printed: the table and the command that serves the student
    assert "exact calls" in whole["output"] and "no call where none fits" in whole["output"]
    assert f"calltune serve --model {out / 'student'}" in whole["output"].replace("\n", "")
    md = (out / "report.md").read_text()
    assert md.startswith("# Distillation report") and "| exact calls |" in md


class _Interrupt:
    """Raises KeyboardInterrupt in the ``at``-th call of a wrapped function (after the call, when ``after``)."""

    def __init__(self, fn: Any, at: int, after: bool = False):
        self.fn, self.at, self.after, self.calls = fn, at, after, 0

    def __call__(self, *args: Any, **kw: Any) -> Any:
        self.calls += 1
        if self.calls == self.at and not self.after:
            raise KeyboardInterrupt
        out = self.fn(*args, **kw)
        if self.calls == self.at:
            raise KeyboardInterrupt
        return out


def test_interrupted_in_each_stage_then_resumed_gives_the_same_outputs(base, whole, tmp_path, monkeypatch):
    from calltune.train import export as export_mod
    from calltune.train.trainer import Trainer

    out = tmp_path / "run"
    seen: list[str] = []
    for name in STAGES:  # which stages each run calls
        orig = getattr(Distill, name)
        monkeypatch.setattr(Distill, name, lambda self, _o=orig, _n=name: (seen.append(_n), _o(self))[1])
    step_end = Trainer.on_step_end

    def stop_at_step_3(self: Trainer) -> None:
        step_end(self)
        if self.state.step == 3:
            raise KeyboardInterrupt

    interruptions = {
        "generate": lambda mp: None,  # the teacher is killed after 20 generations
        "split": lambda mp: mp.setattr(stages_mod, "write_jsonl", _Interrupt(stages_mod.write_jsonl, 2)),
        "train": lambda mp: mp.setattr(Trainer, "on_step_end", stop_at_step_3),
        "export": lambda mp: mp.setattr(
            export_mod, "_convert", _Interrupt(export_mod._convert, 1, after=True)
        ),
        "evaluate": lambda mp: mp.setattr(
            stages_mod, "run_first_turn", _Interrupt(stages_mod.run_first_turn, 4)
        ),
        "report": lambda mp: mp.setattr(
            stages_mod, "report_markdown", _Interrupt(stages_mod.report_markdown, 1)
        ),
    }
    runs: list[list[str]] = []
    for stage, interrupt in interruptions.items():
        seen.clear()
        with monkeypatch.context() as mp, pytest.raises(KeyboardInterrupt):
            interrupt(mp)  # undone when this run ends
            distill(base, out, FakeTeacher(fail_after=20) if stage == "generate" else None).run()
        runs.append(list(seen))
        assert not json.loads((out / "distill.json").read_text())["stages"][stage]["done"], stage
    seen.clear()
    distill(base, out).run()
    runs.append(list(seen))
    # each run went on with the stage the last one was stopped in, and never redid a finished one
    assert runs == [
        ["generate"],
        ["generate", "split"],
        ["split", "train"],
        ["train", "export"],
        ["export", "evaluate"],
        ["evaluate", "report"],
        ["report"],
    ]
    # no journal line twice
    ids = [t["id"] for t in read_jsonl(out / "data" / "trajectories.jsonl")]
    assert len(ids) == len(set(ids)) == 24
    for name in ("teacher", "student"):
        lines = [r["id"] for r in read_jsonl(out / "eval" / f"{name}.jsonl")]
        assert len(lines) == len(set(lines))
    train_steps = [r["step"] for r in read_jsonl(out / "student" / "train_log.jsonl") if "loss" in r]
    assert train_steps == [1, 2, 3, 3, 4]  # resumed from the step-2 checkpoint
    # the same outputs as the uninterrupted run
    ref = whole["out"]
    for rel in ("data/kept.jsonl", "split/train.jsonl", "split/heldout.jsonl"):
        assert (out / rel).read_text() == (ref / rel).read_text(), rel
    for rel in ("student/adapter_model.safetensors", "student/model.gguf"):  # training resumed exactly
        assert (out / rel).read_bytes() == (ref / rel).read_bytes(), rel
    for name in ("teacher", "student"):
        got = [_strip_times(r) for r in read_jsonl(out / "eval" / f"{name}.jsonl")]
        assert got == [_strip_times(r) for r in read_jsonl(ref / "eval" / f"{name}.jsonl")], name
    rep, ref_rep = (json.loads((d / "report.json").read_text()) for d in (out, ref))
    for key in ("heldout", "train_samples", "wrong"):
        assert rep[key] == ref_rep[key], key
    for name in ("teacher", "student"):
        assert {k: v for k, v in rep[name].items() if k != "decode"} == {
            k: v for k, v in ref_rep[name].items() if k != "decode"
        }
    assert (rep["training"]["steps"], rep["training"]["tokens"]) == (
        ref_rep["training"]["steps"],
        ref_rep["training"]["tokens"],
    )
    assert (out / "report.md").is_file()
    # a finished run run again does nothing but give its report
    seen.clear()
    assert distill(base, out).run() == rep and seen == []


def test_a_resumed_run_with_other_settings_is_refused(base, whole):
    with pytest.raises(DistillError, match=r"other settings \(heldout, n\)"):
        distill(base, whole["out"], heldout=0.5, n=30).run()
    with pytest.raises(DistillError, match="between 0 and 1"):
        config(base, whole["out"], heldout=1.0).check()


def test_without_an_export_the_student_is_evaluated_on_transformers(base, whole):
    from calltune.datagen.trajectories import AgentSettings
    from calltune.distill.firstturn import run_first_turn
    from calltune.distill.report import report_markdown
    from calltune.formats import get_format

    out = whole["out"]
    eng = Distill(config(base, out, export=False), pool(base), FakeTeacher).student_engine()
    try:
        assert type(eng).__name__ == "TransformersEngine"  # the run, not its GGUF
        row = read_jsonl(out / "split" / "heldout.jsonl")[0]
        rec = run_first_turn(eng, get_format("chatglm3"), row, AgentSettings(max_tokens=8), row["seed"])
        assert rec["completion_tokens"] > 0 and rec["decode_s"] > 0 and rec["error"] is None
    finally:
        eng.close()
    rep = json.loads((out / "report.json").read_text())
    assert "Export: none (--no-export)" in report_markdown({**rep, "export": None})


def test_the_command_refuses_other_settings_and_says_how_to_go_on(base, whole, monkeypatch):
    from calltune.cli import app

    out = whole["out"]
    args = ["distill", "--out", str(out), "--tools", str(base["tools"]), "--student", str(base["student"])]
    r = CliRunner().invoke(app, args)  # the defaults are not the run's settings
    assert r.exit_code == 2 and "holds a distillation with other settings (" in " ".join(r.output.split())

    def interrupted(self: Distill) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Distill, "run", interrupted)
    r = CliRunner().invoke(app, args)
    said = "".join(r.output.split())  # rich wraps long lines
    assert r.exit_code == 130 and "".join(f"run the same command to continue {out}".split()) in said


def test_a_gguf_teacher_decodes_concurrency_sequences_together(base, tmp_path, monkeypatch):
    """-j N loads a llama.cpp teacher as `data generate --concurrency N` does (N sequences decoded
    together); the first real run printed 'run as 1' and generated one trajectory at a time."""
    from calltune.cli import app
    from calltune.distill import cli as distill_cli

    gguf = tmp_path / "teacher.gguf"
    gguf.write_bytes(b"GGUF")
    loads: list[dict[str, Any]] = []

    def run(self: Distill) -> None:
        self.teacher()
        raise KeyboardInterrupt

    monkeypatch.setattr(distill_cli, "engine_from_options", lambda *a, **k: loads.append(k) or FakeTeacher())
    monkeypatch.setattr(Distill, "run", run)
    args = ["distill", "--out", str(tmp_path / "run"), "--tools", str(base["tools"]), "--teacher", str(gguf)]
    assert CliRunner().invoke(app, [*args, "-j", "4"]).exit_code == 130
    assert CliRunner().invoke(app, [*args, "--out", str(tmp_path / "run1")]).exit_code == 130
    assert loads == [{"parallel": 4}, {}]


def test_the_distill_example_offers_its_plants_as_an_enum() -> None:
    # a free-string plant let the teacher invent plants the tools refused (the first real run)
    from calltune.tools.loader import load_tools_file

    example = Path(__file__).resolve().parents[1] / "examples" / "distill_tools.py"
    tools = {t.name: t for t in load_tools_file(example)}
    watering = tools["next_watering_date"]
    plants = watering.parameters["properties"]["plant"]["enum"]
    assert set(plants) == {
        "monstera",
        "snake plant",
        "boston fern",
        "pothos",
        "peace lily",
        "basil",
        "tomato",
        "orchid",
        "aloe vera",
        "fiddle leaf fig",
    }
    assert [
        name
        for name, t in tools.items()
        if "plant" in t.parameters["properties"] and t.parameters["properties"]["plant"].get("enum") != plants
    ] == []
    assert watering.validate({"plant": "monstera", "last_watered": "2026-01-02"}) == []
    assert watering.validate({"plant": "cactus", "last_watered": "2026-01-02"}) != []
