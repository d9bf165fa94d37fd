"""The turn sends calls while the model writes them — only calls it will not take back — and
keeps a reasoning model's thinking apart (calltune.turn.live, calltune.formats.reasoning).

Scripted engines only; the server's side of the same behaviour is in test_server_streaming.py."""

from __future__ import annotations

import json

from calltune.engines import SamplingParams
from calltune.formats import HermesFormat, get_format
from calltune.testing import WEATHER, ScriptedEngine
from calltune.testing.deltas import assemble
from calltune.turn import Turn, TurnResult, TurnSettings
from calltune.turn.live import LiveCalls, complete_members
from calltune.types import Delta

LONG = 'A rather long line of text to write, with a "quote" and a </tool_call> marker. ' * 8
NOTE = {
    "type": "function",
    "function": {
        "name": "save_note",
        "description": "Save a note.",
        "parameters": {"type": "object", "properties": {"text": {"type": "string"}}},
    },
}
USER = [{"role": "user", "content": "Save a note, then tell me the weather in Boston."}]


def call(name: str, **args: object) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": args}) + "\n</tool_call>"


def prompt_text(engine: ScriptedEngine, i: int) -> str:
    p = engine.prompts[i]
    return p if isinstance(p, str) else engine.tokenizer.decode(p)


#: the checks after a generation that may take a call back, off unless a test turns them on
CHECKS_OFF = {"continue_calls": False, "check_relevance": False, "ground_arguments": False}


def checks_off(**settings: object) -> TurnSettings:
    return TurnSettings(**{**CHECKS_OFF, **settings})  # type: ignore[arg-type]


def run(engine: ScriptedEngine, messages=USER, tools=(NOTE, WEATHER), fmt=None, **settings):  # noqa: ANN001, ANN201
    t = Turn(engine, fmt or get_format("hermes"), checks_off(**settings))
    events = list(t.stream(messages, list(tools), params=SamplingParams(max_tokens=4096)))
    result = events[-1]
    assert isinstance(result, TurnResult)
    deltas = [e for e in events[:-1] if isinstance(e, Delta)]
    return deltas, result, assemble(deltas, parser=False)


def test_a_call_goes_out_while_it_is_written() -> None:
    eng = ScriptedEngine(["Saving." + call("save_note", text=LONG)], chunk_size=4)
    deltas, result, got = run(eng)
    (sent,) = got.calls
    assert sent.id == result.calls[0].id and sent.arguments == result.calls[0].arguments_json()
    assert len(sent.pieces) > 50  # piece by piece, as the chunks came
    kinds = [d.kind for d in deltas]
    assert kinds.index("tool_call_start") < kinds.index("tool_call_args") < kinds.index("tool_call_end")


def test_stream_arguments_off_sends_each_call_whole_once_settled() -> None:
    eng = ScriptedEngine(["Saving." + call("save_note", text=LONG)], chunk_size=4)
    _, result, got = run(eng, stream_arguments=False)
    (sent,) = got.calls
    assert sent.pieces == [result.calls[0].arguments_json()]


def test_with_the_relevance_check_on_calls_are_sent_once_checked() -> None:
    # the check may drop the call: nothing of it goes out before it has been checked
    eng = ScriptedEngine([call("save_note", text=LONG), "yes"], chunk_size=4)
    _, result, got = run(eng, check_relevance=True)
    assert [c.pieces for c in got.calls] == [[result.calls[0].arguments_json()]]
    assert result.relevance == [{"name": "save_note", "fits": True, "answer": "yes"}]
    eng = ScriptedEngine([call("save_note", text=LONG), "no", "I cannot save notes."], chunk_size=4)
    _, result, got = run(eng, check_relevance=True)
    assert got.calls == [] and result.calls == [] and got.content.endswith("I cannot save notes.")


def test_a_call_repeating_an_answered_one_is_never_sent() -> None:
    answered = [
        *USER,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {
                        "name": "get_current_weather",
                        "arguments": '{"location": "Boston", "unit": "c"}',
                    },
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "22 C"},
    ]
    repeat = call("get_current_weather", location="Boston", unit="c")
    eng = ScriptedEngine([repeat, "It is 22 C in Boston."], chunk_size=2)
    _, result, got = run(eng, messages=answered)
    assert got.calls == [] and got.aborted == [] and result.calls == []
    assert result.content == "It is 22 C in Boston." and "repeated" in result.attempts[0].note
    # same name and first argument, another unit: held until it differs, then sent as written
    other = call("get_current_weather", location="Boston", unit="f", days=3)
    eng = ScriptedEngine([other], chunk_size=2)
    _, result, got = run(eng, messages=answered)
    (sent,) = got.calls
    assert sent.arguments == result.calls[0].arguments_json() and len(sent.pieces) > 3


def test_without_parallel_calls_only_the_first_goes_out() -> None:
    out = call("save_note", text="a") + "\n" + call("get_current_weather", location="Boston")
    eng = ScriptedEngine([out], chunk_size=3)
    t = Turn(eng, get_format("hermes"), checks_off())
    plan = t.plan([NOTE, WEATHER], "auto", parallel=False)
    events = list(t.stream(USER, [NOTE, WEATHER], plan=plan))
    got = assemble([e for e in events[:-1] if isinstance(e, Delta)], parser=False)
    assert [c.name for c in got.calls] == ["save_note"] == [c.name for c in events[-1].calls]


def test_a_call_that_breaks_off_after_it_went_out_is_withdrawn() -> None:
    eng = ScriptedEngine(['<tool_call>\n{"name": "save_note", "arguments": {"text": "abc", ]}\n</tool_call>'])
    deltas, result, got = run(eng)
    assert [c.name for c in got.aborted] == ["save_note"] and got.calls == []
    assert result.calls == [] and len(result.errors) == 1


def test_continued_calls_follow_the_ones_sent_while_written() -> None:
    first = call("save_note", text=LONG)
    eng = ScriptedEngine([first, call("get_current_weather", location="Boston"), "Done."], chunk_size=5)
    deltas, result, got = run(eng, continue_calls=True)
    assert [c.name for c in result.calls] == ["save_note", "get_current_weather"]
    assert [(c.index, c.id) for c in got.calls] == [(i, c.id) for i, c in enumerate(result.calls)]
    assert len(got.calls[0].pieces) > 10 and len(got.calls[1].pieces) == 1  # the continuation's is settled


def test_complete_members_of_a_canonical_prefix() -> None:
    assert complete_members('{"a": 1, "b": "x') == [("a", 1)]
    assert complete_members('{"a": [1, {"k": null}], "b": "x", ') == [("a", [1, {"k": None}]), ("b", "x")]
    assert complete_members("{") == [] and complete_members("") == []
    gate = LiveCalls({'f\0{"a": 1}'})
    start = Delta("tool_call_start", index=0, id="c", name="f")
    assert gate.relay(start) == [] and gate.relay(Delta("tool_call_args", '{"a": 1', 0, "c", "f")) == []
    out = gate.relay(Delta("tool_call_args", ', "b": 2}', 0, "c", "f"))
    assert [d.text for d in out] == ["", '{"a": 1', ', "b": 2}']  # not a repeat: everything at once


# -- reasoning ------------------------------------------------------------------------------------
THINKING = (
    'The user wants the weather. Maybe <tool_call>{"name": "save_note", "arguments": {}}</tool_call>? No.'
)


def test_thinking_is_reasoning_never_content_nor_a_call() -> None:
    out = f"<think>\n{THINKING}\n</think>\n\nChecking." + call("get_current_weather", location="Boston")
    eng = ScriptedEngine([out], chunk_size=3)
    deltas, result, got = run(eng)
    assert result.reasoning == got.reasoning == THINKING
    assert result.attempts[0].reasoning == THINKING  # the agent's trace steps are these attempts
    assert result.content == got.content == "Checking."
    assert [c.name for c in result.calls] == ["get_current_weather"]
    first_reasoning = next(i for i, d in enumerate(deltas) if d.kind == "reasoning")
    assert first_reasoning < next(i for i, d in enumerate(deltas) if d.kind == "content")


def test_thinking_without_tools_and_when_the_prompt_opened_it() -> None:
    eng = ScriptedEngine([f"<think>{THINKING}</think>\n\nHello."])
    _, result, _ = run(eng, tools=())
    assert (result.reasoning, result.content) == (THINKING, "Hello.")

    class OpensThinking(HermesFormat):
        template_opens_thinking = True

    eng = ScriptedEngine([f"{THINKING}\n</think>\n\nHello."])
    _, result, got = run(eng, fmt=OpensThinking(), thinking=True)
    assert prompt_text(eng, 0).endswith("<|im_start|>assistant\n<think>\n")
    assert (result.reasoning, result.content, got.reasoning) == (THINKING, "Hello.", THINKING)


def test_the_thinking_switch_reaches_the_prompt() -> None:
    eng = ScriptedEngine(["Hi.", "Hi.", "Hi."])
    for thinking in (None, True, False):
        run(eng, tools=(), thinking=thinking)
    plain, on, off = (prompt_text(eng, i) for i in range(3))
    assert plain == on and plain.endswith("<|im_start|>assistant\n")  # Qwen3: the model opens it
    assert off == plain + "<think>\n\n</think>\n\n"  # Qwen3's template with enable_thinking=False
