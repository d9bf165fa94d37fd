"""The parse contract every registered chat format keeps.

One table of assistant turns (content and calls). Each turn is rendered through the format
itself, so every format is tested with its own call syntax; what the model would have
generated (the rendered turn without its stop string) must parse back to the turn, and
streaming it however it is split (chunks of 1 character, 3 characters, seeded random sizes, and
every split point into two chunks) must give the same content, calls, errors and final result
as parsing it at once — with the call arguments streamed as they are written: the pieces of a
call join to exactly its ``arguments_json()``, and a long argument arrives in several pieces,
the first before the model has finished writing the call. Arguments that hold the format's own
markers and stop strings must not end or start a call. Hostile turns (a call's arguments
replaced by unbalanced or runaway text) must become ParseErrors, never exceptions. A leading
``<think>`` block (or, when the prompt opened it, text up to ``</think>``) is reasoning for
every format, never content and never a call.
Each format is also run wrapped in the sandbox's code-block fallback, which turns fenced
Python into interpreter code when the ``python`` tool is offered.
"""

from __future__ import annotations

import json
import random
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import pytest

from calltune.formats import ChatFormat, get_format, list_formats
from calltune.formats.reasoning import read_turn, turn_parser
from calltune.sandbox import with_code_fallback
from calltune.testing import model_turn
from calltune.testing.deltas import Assembled, assemble
from calltune.types import Delta, ParseResult

#: replaced, in argument values, by every marker and stop string of the format under test
MARKERS = "\x00markers\x00"
#: an argument value that hostile cases replace (with its quotes) by broken text
SENTINEL = "SENTINEL"


@dataclass(frozen=True)
class Case:
    content: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: the text that replaces the quoted SENTINEL argument: the turn then holds no valid call
    corrupt: str | None = None
    #: (content, code) under the code-block fallback when the python tool is offered
    as_code: tuple[str, list[str]] | None = None


CASES: dict[str, Case] = {
    "plain_text": Case("Hello, world! 你好。"),
    "multiline_text_with_json_and_code": Case(
        'Two lines:\nthe value is {"a": 1} and `x < y` holds.\n```text\nplain\n```'
    ),
    "fenced_python_code": Case(
        'Let me run it.\n```python\nprint("<|im_start|>")\nx = [1, 2]\n```\nDone.',
        as_code=("Let me run it.", ['print("<|im_start|>")\nx = [1, 2]']),
    ),
    "one_call": Case(calls=[("get_weather", {"city": "Paris"})]),
    "no_arguments": Case(calls=[("now", {})]),
    "content_then_call": Case("Let me check.", [("get_weather", {"city": "Paris", "unit": "celsius"})]),
    "two_parallel_calls": Case(
        calls=[("get_weather", {"city": "Paris"}), ("get_time", {"zone": "Europe/Paris"})]
    ),
    "nested_and_list_arguments": Case(
        calls=[
            (
                "search",
                {
                    "filter": {"tags": ["a", "b"], "range": {"min": -1, "max": 2.5}},
                    "flags": [True, False, None],
                    "items": [{"k": "v"}, []],
                    "empty": {},
                    "from": "keyword",
                    "a-b": 10**12,
                },
            )
        ]
    ),
    "unicode_tool_name": Case("好的。", [("查询天气", {"城市": "北京", "日期": ["今天", "明天"]})]),
    "strings_with_the_formats_markers": Case(
        "Calling.",
        [
            ("echo", {"text": MARKERS, "quoted": 'a "b" \\ it\'s ```', "nested": [{"m": MARKERS}]}),
            ("get_weather", {"city": "Paris"}),
        ],
    ),
    "long_argument_with_markers": Case(
        "Writing the file.",
        [
            (
                "write_file",
                {
                    "path": "notes/é.md",
                    "text": ('Line with "quotes", a \\ and ' + MARKERS + " inside.\n") * 12,
                    "lines": 12,
                },
            )
        ],
    ),
    "unbalanced_arguments": Case(calls=[("f", {"x": SENTINEL})], corrupt='[1, {"k": 2]'),
    "unterminated_string": Case(calls=[("f", {"x": SENTINEL})], corrupt='"never closed'),
    "runaway_nesting": Case(calls=[("f", {"x": SENTINEL})], corrupt="[" * 5000),
}

#: every registered format, and each one wrapped in the code-block fallback
FORMATS = [*list_formats(), *(f"{name}+code_fallback" for name in list_formats())]


def make_format(format_id: str) -> ChatFormat:
    name, _, wrapper = format_id.partition("+")
    return with_code_fallback(name) if wrapper else get_format(name)


def _fill(value: Any, markers: str) -> Any:
    if isinstance(value, str):
        return value.replace(MARKERS, markers)
    if isinstance(value, list):
        return [_fill(v, markers) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, markers) for k, v in value.items()}
    return value


def expected_calls(fmt: ChatFormat, case: Case) -> list[tuple[str, dict[str, Any]]]:
    markers = " ".join(sorted({*fmt.special_tokens, *fmt.stop}))
    return [(name, _fill(args, markers)) for name, args in case.calls]


def generated_turn(fmt: ChatFormat, case: Case) -> str:
    """What a model speaking ``fmt`` writes for ``case`` (broken where the case says so)."""
    turn = model_turn(fmt, expected_calls(fmt, case), case.content)
    if case.corrupt is not None:
        quoted = [q + SENTINEL + q for q in "\"'" if q + SENTINEL + q in turn]
        assert len(quoted) == 1, turn
        turn = turn.replace(quoted[0], case.corrupt)
    return turn


#: texts up to this long are also split at every point (two chunks)
SHORT = 700


def chunked(text: str, mode: str) -> list[str]:
    if mode.startswith("random"):
        seed = int(mode.partition("_")[2] or 0)
        rng, out, i = random.Random(20240611 + seed), [], 0
        while i < len(text):
            n = rng.randint(1, 12)
            out.append(text[i : i + n])
            i += n
        return out
    size = {"chars_1": 1, "chars_3": 3}[mode]
    return [text[i : i + size] for i in range(0, len(text), size)]


def summary(res: ParseResult) -> tuple[Any, ...]:
    return (
        res.content,
        [(c.name, c.arguments) for c in res.tool_calls],
        [(e.message, e.raw, e.name) for e in res.errors],
        res.code,
        res.reasoning,
    )


def stream(
    fmt: ChatFormat, chunks: list[str], tool_names: Collection[str] | None, opened: bool | None = None
) -> tuple[list[Delta], ParseResult]:
    """Feed ``chunks`` to the format's stream parser (``opened`` not None: the turn's parser,
    with the thinking split off)."""
    sp = fmt.stream_parser(tool_names) if opened is None else turn_parser(fmt, tool_names, opened=opened)
    deltas: list[Delta] = []
    for chunk in chunks:
        deltas += sp.feed(chunk)
    deltas += sp.finish()
    return deltas, sp.result()


def tool_names_for(case_calls: list[tuple[str, dict[str, Any]]], given: bool) -> list[str] | None:
    return [n for n, _ in case_calls] + ["other_tool", "python"] if given else None


def check_stream(deltas: list[Delta], result: ParseResult, parsed: ParseResult) -> Assembled:
    """The streamed deltas and result against the parse of the whole text."""
    assert summary(result) == summary(parsed)
    got = assemble(deltas)
    assert got.content == parsed.content
    assert got.reasoning == parsed.reasoning
    assert [(c.name, c.arguments) for c in got.calls] == [
        (c.name, c.arguments_json()) for c in parsed.tool_calls
    ]
    assert [c.id for c in got.calls] == [c.id for c in result.tool_calls]  # the result's calls, as sent
    for c in got.calls:
        assert json.loads(c.arguments) == result.tool_calls[c.index].arguments
    assert got.errors == [e.message for e in parsed.errors]
    return got


@pytest.mark.parametrize("names_given", [False, True], ids=["no_tool_names", "tool_names"])
@pytest.mark.parametrize("case_id", list(CASES))
@pytest.mark.parametrize("format_name", FORMATS)
def test_parse_reads_back_the_rendered_turn(format_name: str, case_id: str, names_given: bool) -> None:
    fmt, case = make_format(format_name), CASES[case_id]
    calls = expected_calls(fmt, case)
    res = fmt.parse(generated_turn(fmt, case), tool_names=tool_names_for(calls, names_given))
    if case.corrupt is not None:
        assert res.tool_calls == [] and res.errors, summary(res)
        assert all(e.message for e in res.errors)
        return
    content, code = case.content, []
    if case.as_code and names_given and format_name.endswith("+code_fallback"):
        content, code = case.as_code
    assert res.errors == [] and res.code == code
    assert res.content == content
    assert [(c.name, c.arguments) for c in res.tool_calls] == calls


@pytest.mark.parametrize("mode", ["chars_1", "chars_3", "random_0", "random_1", "random_2"])
@pytest.mark.parametrize("names_given", [False, True], ids=["no_tool_names", "tool_names"])
@pytest.mark.parametrize("case_id", list(CASES))
@pytest.mark.parametrize("format_name", FORMATS)
def test_streaming_equals_parse(format_name: str, case_id: str, names_given: bool, mode: str) -> None:
    fmt, case = make_format(format_name), CASES[case_id]
    text = generated_turn(fmt, case)
    names = tool_names_for(expected_calls(fmt, case), names_given)
    parsed = fmt.parse(text, tool_names=names)
    check_stream(*stream(fmt, chunked(text, mode), names), parsed)


#: (format, case) pairs whose turn is short enough to split at every point; the long ones get
#: the seeded random splits above
SHORT_TURNS = [
    (f, c) for f in FORMATS for c in CASES if len(generated_turn(make_format(f), CASES[c])) <= SHORT
]


@pytest.mark.parametrize("names_given", [False, True], ids=["no_tool_names", "tool_names"])
@pytest.mark.parametrize(("format_name", "case_id"), SHORT_TURNS)
def test_every_split_point_equals_parse(format_name: str, case_id: str, names_given: bool) -> None:
    fmt, case = make_format(format_name), CASES[case_id]
    text = generated_turn(fmt, case)
    assert len(text) <= SHORT
    names = tool_names_for(expected_calls(fmt, case), names_given)
    parsed = fmt.parse(text, tool_names=names)
    for i in range(len(text) + 1):
        check_stream(*stream(fmt, [text[:i], text[i:]], names), parsed)


@pytest.mark.parametrize("names_given", [False, True], ids=["no_tool_names", "tool_names"])
@pytest.mark.parametrize("format_name", FORMATS)
def test_a_long_argument_streams_while_it_is_written(format_name: str, names_given: bool) -> None:
    fmt, case = make_format(format_name), CASES["long_argument_with_markers"]
    text = generated_turn(fmt, case)
    names = tool_names_for(expected_calls(fmt, case), names_given)
    sp = fmt.stream_parser(names)
    chunks = chunked(text, "chars_3")
    first_piece_at = end_at = None
    deltas: list[Delta] = []
    for k, chunk in enumerate(chunks):
        new = sp.feed(chunk)
        deltas += new
        if first_piece_at is None and any(d.kind == "tool_call_args" for d in new):
            first_piece_at = k
        if any(d.kind == "tool_call_end" for d in new):
            end_at = k
    deltas += sp.finish()
    end_at = len(chunks) if end_at is None else end_at
    got = check_stream(deltas, sp.result(), fmt.parse(text, tool_names=names))
    (call,) = got.calls
    assert len(call.pieces) > 20  # the long text came in many pieces
    assert first_piece_at is not None and first_piece_at < end_at - 100  # long before the call ended
    # the text argument's first characters went out before the model wrote its last ones
    fed_when_first = "".join(chunks[: first_piece_at + 1])
    assert "inside.\n" not in fed_when_first.split("Line with", 1)[-1]


def thinking_for(fmt: ChatFormat) -> str:
    """Thinking that holds the format's own call syntax and markers (none of it is a call)."""
    call = generated_turn(fmt, CASES["one_call"])
    markers = " ".join(sorted({*fmt.special_tokens, *fmt.stop}))
    return f"The user wants the weather. I could write:\n{call}\nand {markers} <think> nested.\n"


REASONING_CASES = [
    "plain_text",
    "content_then_call",
    "two_parallel_calls",
    "strings_with_the_formats_markers",
]


@pytest.mark.parametrize("opened", [False, True], ids=["tag_written", "tag_opened_by_prompt"])
@pytest.mark.parametrize("case_id", REASONING_CASES)
@pytest.mark.parametrize("format_name", FORMATS)
def test_thinking_is_reasoning_never_content_or_a_call(format_name: str, case_id: str, opened: bool) -> None:
    fmt, case = make_format(format_name), CASES[case_id]
    turn = generated_turn(fmt, case)
    names = tool_names_for(expected_calls(fmt, case), True)
    thinking = thinking_for(fmt)
    text = ("" if opened else "\n<think>\n") + thinking + "</think>\n\n" + turn
    answer = fmt.parse(turn, tool_names=names)
    parsed = read_turn(fmt, text, names, opened=opened)
    assert parsed.reasoning == thinking.strip()
    assert summary(parsed)[:4] == summary(answer)[:4]  # the answer parses as without the thinking
    for mode in ("chars_1", "random_0", "random_1"):
        check_stream(*stream(fmt, chunked(text, mode), names, opened), parsed)
    for i in range(0, len(text) + 1, 1 if len(text) <= SHORT else 7):
        check_stream(*stream(fmt, [text[:i], text[i:]], names, opened), parsed)


@pytest.mark.parametrize("format_name", FORMATS)
def test_unfinished_thinking_is_all_reasoning(format_name: str) -> None:
    fmt = make_format(format_name)
    thinking = thinking_for(fmt)
    for text, opened in (("<think>\n" + thinking, False), (thinking, True)):
        parsed = read_turn(fmt, text, ["get_weather"], opened=opened)
        assert (parsed.reasoning, parsed.content, parsed.tool_calls, parsed.errors) == (
            thinking.strip(),
            "",
            [],
            [],
        )
        check_stream(*stream(fmt, chunked(text, "chars_1"), ["get_weather"], opened), parsed)
    # not at the start: the tag is text of the answer
    later = read_turn(fmt, "Answer first. <think>no</think>", ["get_weather"])
    assert later.reasoning == "" and "<think>no</think>" in later.content


@pytest.mark.parametrize("format_name", FORMATS)
def test_every_format_takes_tool_names_in_parse_and_stream_parser(format_name: str) -> None:
    fmt = make_format(format_name)
    text = generated_turn(fmt, CASES["one_call"])
    for names in (None, [], ["get_weather"], ("get_weather", "x"), {"get_weather"}):
        assert summary(fmt.parse(text, names)) == summary(fmt.parse(text, tool_names=names))
        sp = fmt.stream_parser(tool_names=names)
        sp.feed(text)
        sp.finish()
        assert summary(sp.result()) == summary(fmt.parse(text, tool_names=names))


def test_the_table_covers_each_formats_call_syntax() -> None:
    # the turns really differ per format (each is written in the format's own syntax)
    turns = {name: generated_turn(get_format(name), CASES["one_call"]) for name in list_formats()}
    assert len(set(turns.values())) == len(list_formats())
    markers_case = CASES["strings_with_the_formats_markers"]
    for name in list_formats():
        fmt = get_format(name)
        turn = generated_turn(fmt, markers_case)
        assert all(m in turn for m in [*fmt.special_tokens, *fmt.stop])
