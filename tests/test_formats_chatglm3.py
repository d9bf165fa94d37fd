from __future__ import annotations

import os
import time

import pytest

from calltune.engines.scripted import CharTokenizer
from calltune.formats import FormatError, get_format
from calltune.formats.pyliteral import LiteralError, parse_tool_call, render_tool_call

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["location"],
        },
    },
}

SEED_DIALOGUE = [
    {"role": "user", "content": "今天北京的天气怎么样？"},
    {
        "role": "assistant",
        "content": "好的，让我们来查看今天的天气",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {
                    "name": "get_current_weather",
                    "arguments": '{"location": "beijing", "unit": "celsius"}',
                },
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '{"temperature": 22}'},
    {"role": "assistant", "content": "根据查询结果，今天北京的气温为 22 摄氏度。"},
]

SEED_EXPECTED = (
    "<|system|>\n"
    "Answer the following questions as best as you can. You have access to the following tools:\n"
    "[\n"
    "    {\n"
    '        "name": "get_current_weather",\n'
    '        "description": "Get the current weather in a given location",\n'
    '        "parameters": {\n'
    '            "type": "object",\n'
    '            "properties": {\n'
    '                "location": {\n'
    '                    "type": "string"\n'
    "                },\n"
    '                "unit": {\n'
    '                    "type": "string"\n'
    "                }\n"
    "            },\n"
    '            "required": [\n'
    '                "location"\n'
    "            ]\n"
    "        }\n"
    "    }\n"
    "]<|user|>\n"
    "今天北京的天气怎么样？<|assistant|>\n"
    "好的，让我们来查看今天的天气<|assistant|>get_current_weather\n"
    "```python\n"
    "tool_call(location='beijing', unit='celsius')\n"
    "```<|observation|>\n"
    '{"temperature": 22}<|assistant|>\n'
    "根据查询结果，今天北京的气温为 22 摄氏度。<|assistant|>"
)

fmt = get_format("chatglm3")


def decode(tok: CharTokenizer, ids: list[int]) -> str:
    inv = {tok.special_id(m): m for m in fmt.special_tokens}
    return "".join(inv[i] if i in inv else chr(i) for i in ids)


def test_seed_example_renders_exactly():
    text = fmt.render(SEED_DIALOGUE, [WEATHER])
    assert text == SEED_EXPECTED
    assert text.endswith("<|assistant|>")


def test_no_generation_prompt_and_own_system_message():
    text = fmt.render(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}], [WEATHER], False
    )
    assert text.startswith("<|system|>\nBe brief.\n[\n    {\n")
    assert text.endswith("]<|user|>\nhi")


def test_no_tools_plain_dialogue():
    msgs = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "U"},
        {"role": "assistant", "content": "A"},
    ]
    assert fmt.render(msgs) == "<|system|>\nS<|user|>\nU<|assistant|>\nA<|assistant|>"


def test_stop_strings_and_call_signal():
    assert fmt.stop == ["<|user|>", "<|observation|>"]
    assert fmt.stop_means_call("<|observation|>") is True
    assert fmt.stop_means_call("<|user|>") is False
    assert fmt.special_tokens == ["<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"]


def test_parse_seed_output():
    out = (
        "\n好的，让我们来查看今天的天气<|assistant|>get_current_weather\n"
        '```python\ntool_call(location="beijing", unit="celsius")\n```'
    )
    res = fmt.parse(out)
    assert res.content == "好的，让我们来查看今天的天气"
    assert [(c.name, c.arguments) for c in res.tool_calls] == [
        ("get_current_weather", {"location": "beijing", "unit": "celsius"})
    ]
    assert res.errors == []


def test_parse_plain_answer():
    res = fmt.parse("\n根据查询结果，今天北京的气温为 22 摄氏度。")
    assert res.content == "根据查询结果，今天北京的气温为 22 摄氏度。"
    assert res.tool_calls == []


def test_tool_call_literal_forms():
    assert parse_tool_call('tool_call(location="beijing", unit="celsius")') == {
        "location": "beijing",
        "unit": "celsius",
    }
    assert parse_tool_call("tool_call(a=true, b=false, c=null, d=True, e=None)") == {
        "a": True,
        "b": False,
        "c": None,
        "d": True,
        "e": None,
    }
    assert parse_tool_call("tool_call(xs=[1, -2.5, +3], m={'k': [{'n': 'v'}]}, t=(1, 2))") == {
        "xs": [1, -2.5, 3],
        "m": {"k": [{"n": "v"}]},
        "t": [1, 2],
    }
    assert parse_tool_call("tool_call()") == {}


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("tool_call(x=__import__('os').system('touch /tmp/calltune_pwned'))", "not allowed"),
        ("tool_call(**{})", "**"),
        ("tool_call(x=[1, 2)", "syntax"),
        ("tool_call(x=y)", "name 'y'"),
        ("tool_call(x=os.environ)", "attribute"),
        ("tool_call(1, 2)", "positional"),
        ("other(x=1)", "tool_call"),
        ("tool_call(x=1+2)", "not allowed"),
        ("tool_call(x=[i for i in range(9)])", "not allowed"),
        ("tool_call(x=f'{y}')", "not allowed"),
        ("tool_call(x=1, x=2)", "twice"),
        ("tool_call(x={1: 2})", "keys"),
    ],
)
def test_hostile_tool_calls_are_rejected(text, fragment):
    with pytest.raises(LiteralError) as exc:
        parse_tool_call(text)
    assert fragment.lower() in str(exc.value).lower()


def test_hostile_output_is_a_parse_error_and_executes_nothing():
    marker = "/tmp/calltune_pwned_formats_test"
    if os.path.exists(marker):
        os.remove(marker)
    out = f"f\n```python\ntool_call(x=__import__('os').system('touch {marker}'))\n```"
    res = fmt.parse(out)
    assert res.tool_calls == []
    assert len(res.errors) == 1 and res.errors[0].name == "f"
    assert not os.path.exists(marker)


@pytest.mark.parametrize(
    "junk",
    [
        "x" * 10_000_000,
        "f\n```python\ntool_call(a=" + "[" * 100_000 + "\n```",
        "f\ntool_call(a=" + "(" * 100_000,
        "f\n" + "tool_call(a='" + "y" * 10_000_000 + "')",
        "f\n" + "{" * 100_000,
    ],
)
def test_huge_or_deep_input_is_fast(junk):
    t0 = time.perf_counter()
    res = fmt.parse(junk)
    assert time.perf_counter() - t0 < 3.0
    assert res.tool_calls == []
    if junk.startswith("f\n"):
        assert len(res.errors) == 1


def test_render_tool_call_round_trips_awkward_names_and_values():
    args = {
        "from": "a",
        "a-b": 1,
        "城市": "北京",
        "q": 'it\'s "x"',
        "n": -3,
        "z": None,
        "l": [True, {"k": 1.5}],
    }
    code = render_tool_call(args)
    assert code.startswith("tool_call(城市='北京', q=")
    assert parse_tool_call(code) == args


def test_parallel_calls_and_results():
    msgs = [
        {"role": "user", "content": "q"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
                {"id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "a", "content": "1"},
        {"role": "tool", "tool_call_id": "b", "content": "2"},
    ]
    assert fmt.render(msgs) == (
        "<|user|>\nq<|assistant|>f\n```python\ntool_call(x=1)\n```<|assistant|>g\n```python\ntool_call()\n```"
        "<|observation|>\n1<|observation|>\n2<|assistant|>"
    )
    res = fmt.parse("f\n```python\ntool_call(x=1)\n```<|assistant|>g\n```python\ntool_call()\n```")
    assert [(c.name, c.arguments) for c in res.tool_calls] == [("f", {"x": 1}), ("g", {})]


def test_interpreter_render_and_parse():
    msgs = [
        {"role": "user", "content": "plot"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "c",
                    "type": "function",
                    "function": {"name": "python", "arguments": '{"code": "print(1)"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c", "content": "1"},
    ]
    assert fmt.render(msgs, add_generation_prompt=False) == (
        "<|user|>\nplot<|assistant|>interpreter\n```python\nprint(1)\n```<|observation|>\n```result\n1\n```"
    )
    legacy = [
        {"role": "user", "content": "plot"},
        {"role": "assistant", "name": "interpreter", "content": "print(2)"},
        {"role": "observation", "content": "2"},
    ]
    assert fmt.render(legacy, add_generation_prompt=False).endswith(
        "<|assistant|>interpreter\n```python\nprint(2)\n```<|observation|>\n```result\n2\n```"
    )
    res = fmt.parse("\nLet me compute.<|assistant|>interpreter\n```python\nx = 1 + 1\nprint(x)\n```")
    assert res.content == "Let me compute."
    assert res.code == ["x = 1 + 1\nprint(x)"]
    assert res.tool_calls == []


def test_first_line_that_is_not_a_name_is_content():
    assert fmt.parse("Hello there\nsecond line").content == "Hello there\nsecond line"
    assert fmt.parse("好的，我来查\n一下").content == "好的，我来查\n一下"
    res = fmt.parse("No newline at all")
    assert res.content == "No newline at all" and res.tool_calls == []


def test_loss_mask_follows_design():
    tok = CharTokenizer(fmt.special_tokens)
    msgs = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "U"},
        {"role": "assistant", "content": "A"},
        {"role": "user", "content": "V"},
        {"role": "assistant", "content": "B", "loss": False},
    ]
    ids, mask = fmt.encode_segments(fmt.segments(msgs, add_generation_prompt=False), tok)
    text = decode(tok, ids)
    assert text == "<|system|>\nS<|user|>\nU<|assistant|>\nA<|user|>\nV<|assistant|>\nB"
    unshifted = "".join(decode(tok, [i]) for i, m in zip(ids, mask, strict=True) if m)
    assert unshifted == "<|assistant|>\nA"
    target = [False] + mask[:-1]
    trained = "".join(decode(tok, [i]) for i, t in zip(ids, target, strict=True) if t)
    assert trained == "\nA<|user|>"


def test_bad_input_is_a_clear_error():
    with pytest.raises(FormatError, match="unknown role"):
        fmt.render([{"role": "robot", "content": "x"}])
    with pytest.raises(FormatError, match="not valid JSON"):
        fmt.render(
            [
                {"role": "user", "content": "q"},
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "a", "function": {"name": "f", "arguments": "{oops"}}],
                },
            ]
        )
    with pytest.raises(FormatError, match="loss"):
        fmt.render([{"role": "user", "content": "q", "loss": "yes"}])
