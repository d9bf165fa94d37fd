"""BFCL multi-turn: BFCL's own classes as tools, driven by calltune's agent on a scripted engine,
judged by BFCL's multi-turn checker; the hostile-output guarantee; resume mid-case."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from calltune.eval.bfcl_data import load_cases, load_category
from calltune.eval.multi_turn import (
    ADDITIONAL_FUNCTION_PROMPT,
    BfclEnvironment,
    UnsafeCallError,
    call_string,
    run_multi_turn_case,
)
from calltune.eval.runner import run_bfcl
from calltune.eval.systems import CalltuneSystem
from calltune.testing import ScriptedEngine, hermes_call

pytest.importorskip("bfcl_eval")


def _case(cid: str):  # noqa: ANN202
    cat = cid.rsplit("_", 1)[0]
    return {c.id: c for c in load_category(cat)}[cid]


def _parse(s: str) -> tuple[str, dict[str, Any]]:
    node = ast.parse(s, mode="eval").body
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return node.func.id, {k.arg: ast.literal_eval(k.value) for k in node.keywords}


def _script(turns: list[list[str]]) -> list[str]:
    """Outputs that make each turn's ground-truth calls in one step, then answer."""
    outs = []
    for turn in turns:
        if turn:
            outs.append("\n".join(hermes_call(*_parse(s)) for s in turn))
        outs.append("Done.")
    return outs


def _system(outputs: list[str], engine_cls: type[ScriptedEngine] = ScriptedEngine) -> CalltuneSystem:
    return CalltuneSystem(
        engine_cls(outputs),
        format="hermes",
        name="scripted",
        check_relevance=False,
        continue_calls=False,
        max_tokens=4096,  # the scripted engine's tokens are characters
    )


def test_multi_turn_case_loads_with_its_classes_docs_and_answers() -> None:
    case = _case("multi_turn_miss_func_0")
    spec = case.multi_turn
    assert spec is not None
    assert len(spec.turns) == len(spec.ground_truth) == 5
    assert spec.turns[3] == []  # the turn where the held-back function joins
    held = [d["name"] for d in spec.missed_function[3]]
    assert held == ["sort"]
    offered = {f["name"] for f in case.functions}
    assert "sort" not in offered and {"cd", "mv", "post_tweet"} <= offered


def test_right_calls_pass_bfcls_checker_and_state_is_real() -> None:
    case = _case("multi_turn_base_1")
    rec = run_multi_turn_case(_system(_script(case.multi_turn.ground_truth)), case)
    assert rec["valid"], rec["errors"]
    assert rec["error_type"] is None
    assert [len(t["steps"]) for t in rec["turns"]] == [1, 1, 1, 1]
    # the observations the model saw came from BFCL's file system
    env = BfclEnvironment(case)
    assert env.execute("ls", {"a": True}) == json.dumps({"current_directory_content": ["workspace"]})
    assert env.execute("cd", {"folder": "nowhere"}) == json.dumps(
        {"error": "cd: 'nowhere': No such file or directory"}
    )
    assert env.execute("cd", {"nofolder": 1}).startswith("Error during execution:")


def test_wrong_state_fails_the_state_check() -> None:
    case = _case("multi_turn_base_1")
    truth = [list(t) for t in case.multi_turn.ground_truth]
    truth[1] = ["cd(folder='workspace')", "mv(source='log.txt',destination='elsewhere')"]
    rec = run_multi_turn_case(_system(_script(truth)), case)
    assert not rec["valid"]
    assert rec["error_type"] == "multi_turn:instance_state_mismatch"


def test_a_turn_without_calls_fails_as_an_empty_turn() -> None:
    case = _case("multi_turn_base_1")
    outs = _script(case.multi_turn.ground_truth)
    outs[2:4] = ["I cannot do that."]  # turn 1 answered without any call
    rec = run_multi_turn_case(_system(outs), case)
    assert not rec["valid"]
    assert rec["error_type"] == "multi_turn:empty_turn_model_response"


def test_held_back_function_is_offered_only_from_its_turn() -> None:
    case = _case("multi_turn_miss_func_0")
    sysm = _system(_script([["ls()"], [], [], [], []]) + ["Done."] * 10)
    run_multi_turn_case(sysm, case)
    tok = sysm.engine.tokenizer
    prompts = [p if isinstance(p, str) else tok.decode(p) for p in sysm.engine.prompts]
    before = [p for p in prompts if ADDITIONAL_FUNCTION_PROMPT not in p]
    after = [p for p in prompts if ADDITIONAL_FUNCTION_PROMPT in p]
    assert before and after
    assert all('"name": "sort"' not in p for p in before)
    assert all('"name": "sort"' in p for p in after)


def test_call_string_accepts_only_plain_literal_calls() -> None:
    known = frozenset({"cd", "ls"})
    assert call_string("cd", {"folder": "a'b\"c"}, known) == "cd(folder='a\\'b\"c')"
    assert _parse(call_string("cd", {"folder": "x)\nimport os"}, known)) == (
        "cd",
        {"folder": "x)\nimport os"},
    )
    for name, args in [
        ("__import__", {"name": "os"}),
        ("os.system", {}),
        ("eval", {}),
        ("cd", {"folder=1, x": 2}),
        ("cd", {"class": 1}),
        ("cd", {"folder": object()}),
        ("cd", {"folder": float("nan")}),
        ("cd", "folder='x'"),
    ]:
        with pytest.raises(UnsafeCallError):
            call_string(name, args, known)  # type: ignore[arg-type]


def test_hostile_model_output_never_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Arguments that are code, names that are not methods, attribute access, a private method:
    nothing runs but the validated methods, and the checker sees only calltune-built strings."""
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_checker as mtc

    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    case = _case("multi_turn_base_1")
    hostile = "\n".join(
        [
            hermes_call("cd", {"folder": payload}),
            hermes_call("__import__", {"name": "os"}),
            hermes_call("os.system", {"command": f"touch {marker}"}),
            hermes_call("_load_scenario", {"scenario": {}}),
            hermes_call("ls", {"a": True, "b": payload}),
            hermes_call("mkdir", {"dir_name": f"x'); {payload}; ('"}),
        ]
    )
    outputs = [hostile, "Done.", f"<tool_call>{payload}</tool_call>", "Done.", "Done.", "Done."]
    seen: list[Any] = []
    real = mtc.multi_turn_checker

    def spy(decoded, *a: Any, **kw: Any):  # noqa: ANN001, ANN202
        seen.append(json.loads(json.dumps(decoded)))
        return real(decoded, *a, **kw)

    monkeypatch.setattr(mtc, "multi_turn_checker", spy)
    rec = run_multi_turn_case(_system(outputs), case)
    assert not marker.exists()
    assert not rec["valid"]
    strings = [s for turn in seen[0] for step in turn for s in step]
    # only the calls that passed validation ran: cd and mkdir with (string) payloads; ls with an
    # argument it does not declare was refused
    assert [_parse(s)[0] for s in strings] == ["cd", "mkdir"]
    for s in strings:
        name, args = _parse(s)  # a plain call with literal keyword arguments
        assert all(isinstance(v, str) for v in args.values())
    assert not marker.exists()


class _Interrupted(ScriptedEngine):
    """Stops the run (as Ctrl-C would) at a given call."""

    stop_at = -1

    def stream(self, prompt, params, constraint=None):  # noqa: ANN001, ANN201
        if len(self.prompts) == self.stop_at:
            raise KeyboardInterrupt
        return super().stream(prompt, params, constraint)


def test_resume_mid_case_continues_at_the_next_turn_with_the_state_rebuilt(tmp_path: Path) -> None:
    case = _case("multi_turn_base_1")
    outs = _script(case.multi_turn.ground_truth)
    ckpt = tmp_path / "ckpt.json"
    first = _system(outs, _Interrupted)
    first.engine.stop_at = 4  # after turns 0 and 1 (2 outputs each)
    with pytest.raises(KeyboardInterrupt):
        run_multi_turn_case(first, case, ckpt)
    state = json.loads(ckpt.read_text())
    assert len(state["turns"]) == 2
    # a fresh process: only the remaining turns' outputs are generated
    second = _system(outs[4:])
    rec = run_multi_turn_case(second, case, ckpt)
    assert rec["valid"], rec["errors"]  # turn 2's cd/grep need turn 1's mv: the state was replayed
    assert rec["resumed_at_turn"] == 2
    assert len(second.engine.prompts) == 4
    assert not ckpt.exists()
    # the resumed prompt carries the earlier turns' conversation
    p0 = second.engine.prompts[0]
    assert '"name": "mv"' in (p0 if isinstance(p0, str) else second.engine.tokenizer.decode(p0))


def test_runner_resumes_a_multi_turn_case_mid_case(tmp_path: Path) -> None:
    cases = load_cases("multi_turn_base", 1, 0)
    case = cases[0]
    outs = _script(case.multi_turn.ground_truth)
    first = _system(outs, _Interrupted)
    first.engine.stop_at = 2
    with pytest.raises(KeyboardInterrupt):
        run_bfcl([first], cases, tmp_path, progress=False)
    assert list((tmp_path / "partial").rglob("*"))
    second = _system(outs[2:])
    summary = run_bfcl([second], cases, tmp_path, progress=False)
    assert summary["systems"]["scripted"]["categories"]["multi_turn_base"]["accuracy"] == 1.0
    rec = json.loads((tmp_path / "cases" / "scripted.jsonl").read_text().splitlines()[-1])
    assert rec["resumed_at_turn"] == 1
    assert "multi_turn" in (tmp_path / "report.md").read_text()


class _OneRequestAtATime:
    """A baseline-like system: answers one request (messages + tools) with calls or text."""

    name = "one-at-a-time"

    def __init__(self, turns: list[list[str]]):
        self.replies: list[list[tuple[str, dict[str, Any]]]] = []
        for turn in turns:
            if turn:
                self.replies.append([_parse(s) for s in turn])
            self.replies.append([])
        self.seen_tools: list[list[str]] = []

    def answer(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]):  # noqa: ANN201
        from calltune.eval.output import SystemOutput
        from calltune.types import ToolCall

        self.seen_tools.append([t["function"]["name"] for t in tools])
        calls = [ToolCall(n, a) for n, a in self.replies.pop(0)]
        return SystemOutput(raw="ok" if not calls else json.dumps([c.to_dict() for c in calls]), calls=calls)


def test_a_baseline_runs_the_same_cases_one_request_at_a_time() -> None:
    case = _case("multi_turn_base_1")
    sysm = _OneRequestAtATime(case.multi_turn.ground_truth)
    rec = run_multi_turn_case(sysm, case)
    assert rec["valid"], rec["errors"]
    assert not sysm.replies
    assert all("cd" in names for names in sysm.seen_tools)


def test_rescore_leaves_multi_turn_records_out_rather_than_copying_them(tmp_path: Path) -> None:
    from calltune.eval.runner import rescore

    cases = load_cases("multi_turn_base", 1, 0)
    run_bfcl([_system(_script(cases[0].multi_turn.ground_truth))], cases, tmp_path, progress=False)
    summary = rescore(tmp_path, "scripted", "scripted-first", "hermes", first_round=True)
    assert summary["systems"]["scripted"]["categories"]["multi_turn_base"]["accuracy"] == 1.0
    assert "multi_turn_base" not in summary["systems"].get("scripted-first", {"categories": {}})["categories"]
    assert (tmp_path / "cases" / "scripted-first.jsonl").read_text() == ""
    # the defaults' column of a run whose single-turn part predates a change: carried unchanged
    summary = rescore(tmp_path, "scripted", "scripted-defaults", "hermes", carry_stateful=True)
    assert summary["systems"]["scripted-defaults"]["categories"]["multi_turn_base"]["accuracy"] == 1.0
    (rec,) = [
        json.loads(x) for x in (tmp_path / "cases" / "scripted-defaults.jsonl").read_text().splitlines()
    ]
    assert rec["carried"] and rec["system"] == "scripted-defaults" and rec["rescored_from"] == "scripted"
    with pytest.raises(ValueError, match="no fix switched off"):
        rescore(tmp_path, "scripted", "scripted-x", "hermes", first_round=True, carry_stateful=True)
    assert not (tmp_path / "cases" / "scripted-x.jsonl").exists()
