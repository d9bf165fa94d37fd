from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eval_fixtures import write_data

pytest.importorskip("bfcl_eval")

from calltune.engines.scripted import ScriptedEngine  # noqa: E402
from calltune.eval.bfcl_data import BfclDataError, load_cases, parse_categories, select  # noqa: E402
from calltune.eval.report import compare_runs, load_run, markdown, summarize  # noqa: E402
from calltune.eval.runner import run_bfcl  # noqa: E402
from calltune.eval.systems import (  # noqa: E402
    CalltuneSystem,
    LlamaCppNativeSystem,
    SystemOutput,
    merge_consecutive,
)
from calltune.formats.base import ChatFormat, Segment, StreamParser  # noqa: E402
from calltune.types import ParseError, ParseResult, ToolCall  # noqa: E402


class LineFormat(ChatFormat):
    """A toy protocol for the tests: each ``CALL name {json}`` line is a call."""

    name = "lines"
    stop = ["<end>"]

    def segments(self, messages, tools=None, add_generation_prompt=True):  # noqa: ANN001, ANN201
        segs = [Segment("TOOLS " + json.dumps(tools or []) + "\n")]
        segs += [Segment(f"{m['role']}: {m['content']}\n") for m in messages]
        return segs + ([Segment("assistant: ")] if add_generation_prompt else [])

    def parse(self, text: str, tool_names=None) -> ParseResult:  # noqa: ANN001
        calls, errors, content = [], [], []
        for line in text.splitlines():
            if line.startswith("CALL "):
                name, _, args = line[5:].partition(" ")
                try:
                    calls.append(ToolCall(name, json.loads(args)))
                except json.JSONDecodeError as e:
                    errors.append(ParseError(str(e), line, name))
            else:
                content.append(line)
        return ParseResult("\n".join(content), calls, errors)

    def stream_parser(self, tool_names=None) -> StreamParser:  # noqa: ANN001
        return _WholeTurnParser(self)


class _WholeTurnParser(StreamParser):
    """Holds the text back and parses it whole at the end (enough for a toy format)."""

    def __init__(self, fmt: LineFormat) -> None:
        self.fmt, self.parts, self.res = fmt, [], ParseResult("")

    def feed(self, chunk: str) -> list:
        self.parts.append(chunk)
        return []

    def finish(self) -> list:
        from calltune.types import Delta

        self.res = self.fmt.parse("".join(self.parts))
        return [Delta("content", self.res.content)] if self.res.content else []

    def result(self) -> ParseResult:
        return self.res


# one output per case, in the runner's order: round robin over categories, each in sampling order
OUTPUTS = {
    "simple_python_0": 'CALL geometry_rectangle_area {"width": 3, "height": 4.5}<end>',  # right
    "simple_python_1": 'CALL ship_parcel {"weight_kg": 3, "address": {"city": "Lyon"}}<end>',  # wrong value
    "parallel_0": 'CALL weather_temperature {"city": "Oslo"}\nCALL weather_temperature {"city": "Rome"}<end>',  # right
    "irrelevance_0": "Shakespeare wrote it.<end>",  # right
}


def _scripted_for(cases) -> ScriptedEngine:  # noqa: ANN001
    return ScriptedEngine([OUTPUTS[c.id] for c in cases])


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return write_data(tmp_path / "data")


def test_load_and_stratified_seeded_subset(data_dir: Path) -> None:
    cats = parse_categories("simple,parallel,irrelevance")
    assert cats == ["simple_python", "parallel", "irrelevance"]
    cases = load_cases(cats, None, 0, data_dir)
    # round robin over categories
    assert [c.category for c in cases] == ["simple_python", "parallel", "irrelevance", "simple_python"]
    by_id = {c.id: c for c in cases}
    assert by_id["parallel_0"].messages == [{"role": "user", "content": "Temperature in Oslo and in Rome?"}]
    assert by_id["irrelevance_0"].possible_answer is None
    assert by_id["parallel_0"].possible_answer[1] == {"weather.temperature": {"city": ["Rome"]}}
    one = load_cases(cats, 1, 0, data_dir)
    assert [c.category for c in one] == ["simple_python", "parallel", "irrelevance"]
    assert one[0].id in {"simple_python_0", "simple_python_1"}
    # same seed → same subset; the limit-1 subset is inside the full ranking, at its head
    assert [c.id for c in load_cases(cats, 1, 0, data_dir)] == [c.id for c in one]
    sp = [c for c in cases if c.category == "simple_python"]
    assert [c.id for c in select(sp, 1, seed=0)] == [one[0].id]
    assert {c.id for c in select(sp, 2, seed=0)} == {"simple_python_0", "simple_python_1"}
    with pytest.raises(BfclDataError, match="unknown BFCL category 'simple_cobol'"):
        parse_categories("simple_cobol")


def test_scripted_run_produces_expected_summary(data_dir: Path, tmp_path: Path) -> None:
    cases = load_cases("simple_python,parallel,irrelevance", None, 0, data_dir)
    eng = _scripted_for(cases)
    system = CalltuneSystem(
        eng, format=LineFormat(), guided=False, name="calltune", continue_calls=False, check_relevance=False
    )
    out = tmp_path / "run"
    summary = run_bfcl([system], cases, out, progress=False, config={"limit": None})
    s = summary["systems"]["calltune"]
    assert {c: (v["correct"], v["n"]) for c, v in s["categories"].items()} == {
        "simple_python": (1, 2),
        "parallel": (1, 1),
        "irrelevance": (1, 1),
    }
    assert s["overall"]["accuracy"] == 0.75
    assert s["categories"]["simple_python"]["error_types"] == {"value_error:others": 1}
    assert s["mean_category_accuracy"] == pytest.approx((0.5 + 1 + 1) / 3)
    # the prompt went through the format with the converted (underscored) tool names
    prompt_ids = eng.prompts[[c.id for c in cases].index("simple_python_0")]
    assert '"name": "geometry_rectangle_area"' in eng.tokenizer.decode(prompt_ids)
    recs = {r["id"]: r for r in load_run(out)["calltune"]}
    r = recs["parallel_0"]
    assert r["valid"] is True and r["category"] == "parallel" and r["system"] == "calltune"
    assert r["calls_bfcl"] == [
        {"weather.temperature": {"city": "Oslo"}},
        {"weather.temperature": {"city": "Rome"}},
    ]
    assert r["calls"][0]["name"] == "weather_temperature"
    assert r["prompt"].startswith("TOOLS ") and r["raw"].startswith("CALL weather_temperature")
    assert r["prompt_tokens"] == len(r["prompt"]) and r["completion_tokens"] == len(r["raw"])
    assert recs["simple_python_1"]["error_type"] == "value_error:others"
    for f in ("summary.json", "report.md", "accuracy.png", "run.json"):
        assert (out / f).is_file()
    md = (out / "report.md").read_text()
    assert "| simple_python | 50.0 % (1/2) |" in md
    assert "| calltune | simple_python | `value_error:others` ×1 |" in md
    assert (out / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class CountingSystem:
    def __init__(self, name: str, calls: list[tuple[str, dict[str, Any]]] | None = None):
        self.name = name
        self.seen: list[str] = []
        self.calls = calls or []

    def answer(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> SystemOutput:
        self.seen.append(messages[-1]["content"])
        if "boom" in self.name:
            raise RuntimeError("server down")
        return SystemOutput(raw="", calls=[ToolCall(n, a) for n, a in self.calls], latency_s=0.5)


def test_resume_skips_finished_ids(data_dir: Path, tmp_path: Path) -> None:
    cases = load_cases("simple_python,parallel,irrelevance", None, 0, data_dir)
    out = tmp_path / "run"
    first = CountingSystem("a")
    run_bfcl([first], cases[:2], out, progress=False)
    assert len(first.seen) == 2
    # a torn last line (killed mid-write) is tolerated
    with (out / "cases" / "a.jsonl").open("a") as f:
        f.write('{"id": "trunc')
    again = CountingSystem("a")
    b = CountingSystem("b")
    summary = run_bfcl([again, b], cases, out, progress=False)
    assert len(again.seen) == 2  # only the two cases it had not finished
    assert len(b.seen) == 4
    assert summary["systems"]["a"]["overall"]["n"] == 4
    assert len(load_run(out)["a"]) == 4
    # nothing to do on a third run
    third = CountingSystem("a")
    run_bfcl([third], cases, out, progress=False)
    assert third.seen == []


def test_system_errors_become_failed_records_and_report_compares_runs(data_dir: Path, tmp_path: Path) -> None:
    cases = load_cases("irrelevance", None, 0, data_dir)
    run_bfcl([CountingSystem("boom")], cases, tmp_path / "x", progress=False)
    run_bfcl([CountingSystem("quiet")], cases, tmp_path / "y", progress=False)
    rec = load_run(tmp_path / "x")["boom"][0]
    assert (rec["valid"], rec["error_type"], rec["errors"]) == (
        False,
        "system_error:RuntimeError",
        ["server down"],
    )
    merged = compare_runs([tmp_path / "x", tmp_path / "y"])
    assert set(merged) == {"x/boom", "y/quiet"}
    md = markdown(summarize(merged))
    assert "| irrelevance | 0.0 % (0/1) | 100.0 % (1/1) |" in md


def test_latency_stats() -> None:
    recs = [
        {
            "id": str(i),
            "category": "simple_python",
            "valid": i % 2 == 0,
            "latency_s": float(i),
            "error_type": "x",
        }
        for i in range(1, 21)
    ]
    o = summarize({"s": recs})["systems"]["s"]["overall"]
    assert o["latency_mean_s"] == pytest.approx(10.5)
    assert o["latency_p95_s"] == 19.0
    assert o["accuracy"] == 0.5


def test_common_cases_are_per_category_so_a_multi_turn_only_ablation_empties_nothing() -> None:
    def rec(i: str, cat: str, valid: bool) -> dict[str, Any]:
        return {"id": i, "category": cat, "valid": valid, "latency_s": 1.0, "error_type": None}

    runs = {
        "a": [rec("s1", "simple_python", True), rec("s2", "simple_python", False)]
        + [rec("m1", "multi_turn_base", True), rec("m2", "multi_turn_base", True)],
        "b": [rec("s1", "simple_python", False), rec("s2", "simple_python", False)]
        + [rec("m1", "multi_turn_base", False), rec("m2", "multi_turn_base", True)],
        # multi-turn only, and one case short: m2 drops out of every system's multi-turn figure
        "ablation": [rec("m1", "multi_turn_base", False)],
    }
    out = summarize(runs)["systems"]
    assert out["a"]["categories"]["simple_python"]["n"] == 2
    assert out["b"]["categories"]["simple_python"]["accuracy"] == 0.0
    assert out["a"]["categories"]["multi_turn_base"]["n"] == 1
    assert out["b"]["categories"]["multi_turn_base"]["accuracy"] == 0.0
    assert "simple_python" not in out["ablation"]["categories"]
    assert "–" in markdown(summarize(runs)).split("simple_python", 1)[1].splitlines()[0]


def test_native_llama_system_reads_openai_tool_calls() -> None:
    class FakeLlama:
        def __init__(self) -> None:
            self.kw: dict[str, Any] = {}

        def create_chat_completion(self, **kw: Any) -> dict[str, Any]:
            self.kw = kw
            return {
                "choices": [
                    {
                        "message": {
                            "role": "assistant",
                            "content": None,
                            "tool_calls": [
                                {
                                    "id": "c1",
                                    "type": "function",
                                    "function": {"name": "f", "arguments": '{"x": 1}'},
                                },
                                {
                                    "id": "c2",
                                    "type": "function",
                                    "function": {"name": "g", "arguments": "{bad"},
                                },
                            ],
                        },
                        "finish_reason": "tool_calls",
                    }
                ],
                "usage": {"prompt_tokens": 11, "completion_tokens": 7},
            }

    class FakeEngine:
        def __init__(self) -> None:
            self.llama = FakeLlama()

    eng = FakeEngine()
    s = LlamaCppNativeSystem(eng)
    tools = [
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    ]
    out = s.answer([{"role": "user", "content": "hi"}], tools)
    assert eng.llama.kw["tool_choice"] == "auto" and eng.llama.kw["tools"] == tools
    assert [(c.name, c.arguments) for c in out.calls] == [("f", {"x": 1})]
    assert out.parse_errors[0]["name"] == "g"
    assert (out.prompt_tokens, out.completion_tokens, out.finish_reason) == (11, 7, "tool_calls")


def test_merge_consecutive_user_messages() -> None:
    msgs = [
        {"role": "user", "content": "a"},
        {"role": "user", "content": "b"},
        {"role": "assistant", "content": "c"},
    ]
    assert merge_consecutive(msgs) == [
        {"role": "user", "content": "a\n\nb"},
        {"role": "assistant", "content": "c"},
    ]


def test_scripted_run_through_the_real_hermes_format(data_dir: Path, tmp_path: Path) -> None:
    formats = pytest.importorskip("calltune.formats")
    if not hasattr(formats, "get_format"):
        pytest.skip("calltune.formats.get_format not available yet")
    cases = load_cases("simple_python,parallel,irrelevance", None, 0, data_dir)
    outputs = {
        # a fenced JSON block (what the default model tends to write) is read as a call
        "simple_python_0": '```json\n{"name": "geometry_rectangle_area", "arguments": {"width": 3, "height": 4.5}}\n```',
        "simple_python_1": '<tool_call>\n{"name": "ship_parcel", "arguments": {"weight_kg": 2}}\n</tool_call>',
        "parallel_0": '<tool_call>\n{"name": "weather_temperature", "arguments": {"city": "Oslo"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "weather_temperature", "arguments": {"city": "Rome"}}\n</tool_call>',
        "irrelevance_0": "Hamlet was written by William Shakespeare.",
    }
    eng = ScriptedEngine([outputs[c.id] for c in cases])
    system = CalltuneSystem(
        eng, format="hermes", guided=False, name="calltune", continue_calls=False, check_relevance=False
    )
    summary = run_bfcl([system], cases, tmp_path / "run", progress=False)
    s = summary["systems"]["calltune"]
    assert {c: (v["correct"], v["n"]) for c, v in s["categories"].items()} == {
        "simple_python": (1, 2),
        "parallel": (1, 1),
        "irrelevance": (1, 1),
    }
    assert s["categories"]["simple_python"]["error_types"] == {"simple_function_checker:missing_required": 1}
    prompt = load_run(tmp_path / "run")["calltune"][0]["prompt"]
    assert "<tools>" in prompt and "<|im_start|>user" in prompt


def test_lock_file_is_held_while_cases_run_and_released_after(data_dir: Path, tmp_path: Path) -> None:
    import fcntl

    lock = tmp_path / "cpu.lock"
    held: list[bool] = []

    class Probe(CountingSystem):
        def answer(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> SystemOutput:
            with open(lock, "a") as fh:  # another process's view: the lock is taken
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    held.append(False)
                    fcntl.flock(fh, fcntl.LOCK_UN)
                except BlockingIOError:
                    held.append(True)
            return super().answer(messages, tools)

    cases = load_cases("simple_python,parallel,irrelevance", None, 0, data_dir)
    run_bfcl([Probe("p")], cases, tmp_path / "run", progress=False, lock_file=lock, lock_slice_s=0.0)
    assert held == [True, True, True, True]
    with open(lock, "a") as fh:  # released at the end
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_rescore_reparses_stored_outputs_without_generating(data_dir: Path, tmp_path: Path) -> None:
    from calltune.eval.runner import rescore

    cases = load_cases("simple_python,parallel,irrelevance", None, 0, data_dir)
    eng = _scripted_for(cases)
    out = tmp_path / "run"
    run_bfcl(
        [
            CalltuneSystem(
                eng, format=LineFormat(), guided=False, name="a", continue_calls=False, check_relevance=False
            )
        ],
        cases,
        out,
        progress=False,
    )

    class StrictLineFormat(LineFormat):  # reads only the first call of a turn
        def parse(self, text: str, tool_names=None) -> ParseResult:  # noqa: ANN001
            r = super().parse(text)
            return ParseResult(r.content, r.tool_calls[:1], r.errors)

    summary = rescore(out, "a", "a-first-call-only", StrictLineFormat(), data_dir=data_dir)
    cats = summary["systems"]["a-first-call-only"]["categories"]
    assert cats["parallel"]["error_types"] == {"parallel_function_checker_no_order:wrong_count": 1}
    assert summary["systems"]["a"]["categories"]["parallel"]["correct"] == 1
    recs = {r["id"]: r for r in load_run(out)["a-first-call-only"]}
    assert recs["simple_python_0"]["valid"] is True and recs["simple_python_0"]["rescored_from"] == "a"
    with pytest.raises(ValueError, match="already exists"):
        rescore(out, "a", "a-first-call-only", StrictLineFormat(), data_dir=data_dir)


def test_call_continuation_is_recorded_and_first_round_rescore_recovers_the_run_without_it(
    data_dir: Path, tmp_path: Path
) -> None:
    from calltune.eval.runner import rescore

    cases = [c for c in load_cases("parallel", None, 0, data_dir)]
    assert [c.id for c in cases] == ["parallel_0"]
    # the model writes one call and ends its turn; let go on, it writes the second one, then stops
    eng = ScriptedEngine(
        [
            '<tool_call>\n{"name": "weather_temperature", "arguments": {"city": "Oslo"}}\n</tool_call><|im_end|>',
            '<tool_call>\n{"name": "weather_temperature", "arguments": {"city": "Rome"}}\n</tool_call><|im_end|>',
            "<|im_end|>",
        ]
    )
    system = CalltuneSystem(
        eng, format="hermes", guided=False, name="calltune", check_relevance=False
    )  # continuation: default on
    out = tmp_path / "run"
    summary = run_bfcl([system], cases, out, progress=False)
    assert summary["systems"]["calltune"]["categories"]["parallel"]["correct"] == 1
    rec = load_run(out)["calltune"][0]
    assert [c["arguments"]["city"] for c in rec["calls"]] == ["Oslo", "Rome"]
    assert "Rome" not in rec["raw_first"] and "Rome" in rec["raw"]
    # the continuation prompt is the first prompt + the first output: the model goes on after its call
    first, second = (eng.tokenizer.decode(p) for p in eng.prompts[:2])
    assert second.startswith(first) and second.endswith("</tool_call>\n")
    summary = rescore(out, "calltune", "calltune-no-continue", "hermes", data_dir=data_dir, first_round=True)
    cats = summary["systems"]["calltune-no-continue"]["categories"]
    assert cats["parallel"]["error_types"] == {"parallel_function_checker_no_order:wrong_count": 1}


def test_relevance_check_in_the_eval_turns_a_misfit_call_into_no_call(data_dir: Path, tmp_path: Path) -> None:
    from calltune.eval.runner import rescore

    cases = load_cases("irrelevance", None, 0, data_dir)
    # the model calls the only tool on offer; asked whether it fits, it says no; answered again
    # without tools it writes text
    eng = ScriptedEngine(
        [
            '```json\n{"name": "weather_temperature", "arguments": {"city": "Stratford"}}\n```',
            "No.",
            "William Shakespeare wrote Hamlet.",
        ]
    )
    system = CalltuneSystem(eng, format="hermes", guided=False, name="calltune", continue_calls=False)
    out = tmp_path / "run"
    summary = run_bfcl([system], cases, out, progress=False)
    assert summary["systems"]["calltune"]["categories"]["irrelevance"]["correct"] == 1
    rec = load_run(out)["calltune"][0]
    assert rec["calls"] == [] and rec["dropped"] == ["weather_temperature"]
    assert rec["relevance"][0]["fits"] is False and rec["raw"] == "William Shakespeare wrote Hamlet."
    # re-scoring keeps what the check dropped dropped
    summary = rescore(out, "calltune", "again", "hermes", data_dir=data_dir)
    assert summary["systems"]["again"]["categories"]["irrelevance"]["correct"] == 1
    # without the check (same run, no generation): the dropped call counts again
    summary = rescore(out, "calltune", "no-check", "hermes", data_dir=data_dir, keep_dropped=True)
    cats = summary["systems"]["no-check"]["categories"]
    assert cats["irrelevance"]["error_types"] == {"irrelevance_error:decoder_success": 1}


def _one_output_system(text: str) -> CalltuneSystem:
    """calltune on a scripted engine that writes ``text`` once (no continuation, no relevance check)."""
    return CalltuneSystem(
        ScriptedEngine([text + "<|im_end|>"]),
        format="hermes",
        guided=False,
        name="calltune",
        check_relevance=False,
        continue_calls=False,
    )


def test_fan_out_in_the_eval_and_keep_merged_rescore_recovers_the_run_without_it(
    data_dir: Path, tmp_path: Path
) -> None:
    from calltune.eval.runner import rescore

    cases = load_cases("parallel", None, 0, data_dir)
    merged = (
        '<tool_call>\n{"name": "weather_temperature", "arguments": {"city": "Oslo and Rome"}}\n</tool_call>'
    )
    system = _one_output_system(merged)
    out = tmp_path / "run"
    summary = run_bfcl([system], cases, out, progress=False)
    assert summary["systems"]["calltune"]["categories"]["parallel"]["correct"] == 1
    rec = load_run(out)["calltune"][0]
    assert [c["arguments"]["city"] for c in rec["calls"]] == ["Oslo", "Rome"]
    assert rec["fanned"] == [{"name": "weather_temperature", "params": ["city"], "parts": 2}]
    summary = rescore(out, "calltune", "calltune-merged", "hermes", data_dir=data_dir, keep_merged=True)
    cats = summary["systems"]["calltune-merged"]["categories"]
    assert cats["parallel"]["error_types"] == {"parallel_function_checker_no_order:wrong_count": 1}
    summary = rescore(out, "calltune", "calltune-again", "hermes", data_dir=data_dir)
    assert summary["systems"]["calltune-again"]["categories"]["parallel"]["correct"] == 1


def test_coercion_in_the_eval_writes_a_js_object_out_and_keep_uncoerced_recovers_the_run_without_it(
    data_dir: Path, tmp_path: Path
) -> None:
    from calltune.eval.runner import rescore

    cases = load_cases("simple_javascript", None, 0, data_dir)
    # BFCL shows every JavaScript parameter as a string; the model writes the object itself
    out_text = '<tool_call>\n{"name": "makeToken", "arguments": {"username": "ann", "options": {"role": "admin"}}}\n</tool_call>'
    system = _one_output_system(out_text)
    out = tmp_path / "run"
    summary = run_bfcl([system], cases, out, progress=False)
    assert summary["systems"]["calltune"]["categories"]["simple_javascript"]["correct"] == 1
    rec = load_run(out)["calltune"][0]
    assert rec["calls"][0]["arguments"]["options"] == '{"role": "admin"}'
    assert rec["coerced"] == [{"name": "makeToken", "param": "options", "was": "object"}]
    summary = rescore(out, "calltune", "calltune-uncoerced", "hermes", data_dir=data_dir, keep_uncoerced=True)
    cats = summary["systems"]["calltune-uncoerced"]["categories"]
    assert cats["simple_javascript"]["error_types"] == {"type_error:js": 1}
    summary = rescore(out, "calltune", "calltune-again", "hermes", data_dir=data_dir)
    assert summary["systems"]["calltune-again"]["categories"]["simple_javascript"]["correct"] == 1
