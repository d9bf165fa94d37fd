from __future__ import annotations

import random

import pytest

from calltune.formats import get_format
from calltune.testing.deltas import assemble
from calltune.types import Delta

OUTPUTS = {
    "hermes": [
        "Hello, world!",
        "  Plain answer with trailing space.  \n",
        'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
        '<tool_call>\n{"name": "a", "arguments": {"x": [1, 2]}}\n</tool_call>\n<tool_call>\n{"name": "查询天气", "arguments": {"城市": "北京"}}\n</tool_call>',
        '<tool_call>\n{"name": "a", "arguments": {"x": 1}}',
        '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```',
        'Call:\n```json\n[{"name": "a", "parameters": {}}, {"name": "b", "arguments": "{\\"k\\": 1}"}]\n```\nbye',
        '{"name": "get_weather", "arguments": {"city": "Paris"}}',
        '{"name": "get_weather", "arguments": {"city": "Paris"}} but then prose',
        "Code:\n```python\nprint('<tool_call>')\n```\nand `inline` ``x`` <b>bold</b> a < b",
        '<tool_call>\n{"name": "broken", "arguments": {\n</tool_call>after',
        # markers and fences inside the JSON strings of calls do not end or start them
        '```json\n{"name": "w", "arguments": {"t": "```\\n</tool_call><tool_call><|im_end|>"}}\n```',
        '<tool_call>\n{"name": "w", "arguments": {"t": "</tool_call> and <tool_call>", "n": 2}}\n</tool_call>x',
        # a fence that began like a call but holds something else is content, as a whole
        '```json\n{"name": "f", "arguments": {"a": 1}}\n{"x": 2}\n```\nDone.',
        # the arguments written in another spelling: sent when complete
        '<tool_call>\n{"arguments": {"a": 1}, "name": "f"}\n</tool_call>',
        '<tool_call>\n{"name": "f", "arguments": {"a": True, "b": \'x\',}}\n</tool_call>',
        # a key given twice with two values parses differently from how it was written: an error
        '<tool_call>\n{"name": "f", "arguments": {"a": 1, "b": 2, "a": 3}}\n</tool_call>',
        '<tool_call>\n{"name": "f", "arguments": {"a": 1, "a": 1}}\n</tool_call>',
        "Less than <tool but not a call <tool_cal",
        "ends with backticks ``",
    ],
    "chatglm3": [
        "\n根据查询结果，今天北京的气温为 22 摄氏度。",
        '\n好的，让我们来查看今天的天气<|assistant|>get_current_weather\n```python\ntool_call(location="beijing", unit="celsius")\n```',
        "f\n```python\ntool_call(x=1)\n```<|assistant|>查询天气\n```python\ntool_call(城市='北京', n=-1, ok=true)\n```",
        "\nLet me compute.<|assistant|>interpreter\n```python\nprint(1)\n```",
        "f\n```python\ntool_call(x=__import__('os'))\n```",
        "Hello there\nno call here <|assist",
        "get_weather\ntool_call(city='Paris')",
        "f\n```python\ntool_call(t='<|assistant|>x\\'y```', n=[1, 2,], m={'k': None})\n```",
        "f\n```python\ntool_call(t='a' 'b', u=(1, 2), **{'from': 1})\n```",
    ],
    "glm4": [
        "\n你好！有什么可以帮你？",
        'get_weather\n{"city": "Paris"}',
        'get_weather\n{"city": "Paris"}<|assistant|>查询天气\n{"城市": "北京"}',
        '\nSure.<|assistant|>get_weather\n{"city": "Paris"}',
        "python\n```python\nprint(2)\n```",
        "f\n{not json",
        'f\n{"t": "<|assistant|>g\\n{}", "u": "\\ud83d\\ude00"}<|assistant|>g\n{}',
    ],
}

CASES = [(name, text) for name, texts in OUTPUTS.items() for text in texts]


def collect(deltas: list[Delta]) -> tuple[str, dict[int, tuple[str, str]], list[str]]:
    """Content, the complete calls by index (name, arguments) and the errors, held to the contract."""
    got = assemble(deltas)
    return got.content, {c.index: (c.name or "", c.arguments) for c in got.calls}, got.errors


def stream(fmt, chunks: list[str]) -> tuple[list[Delta], object]:
    sp = fmt.stream_parser()
    deltas: list[Delta] = []
    for c in chunks:
        deltas += sp.feed(c)
    deltas += sp.finish()
    return deltas, sp.result()


def random_chunks(text: str, rng: random.Random) -> list[str]:
    out, i = [], 0
    while i < len(text):
        n = rng.randint(1, 9)
        out.append(text[i : i + n])
        i += n
    return out


@pytest.mark.parametrize("name, text", CASES)
def test_streaming_equals_parse(name, text):
    fmt = get_format(name)
    ref = fmt.parse(text)
    rng = random.Random(hash(text) & 0xFFFF)
    splits = [[text], list(text)] + [random_chunks(text, rng) for _ in range(5)]
    for chunks in splits:
        deltas, res = stream(fmt, chunks)
        content, calls, errors = collect(deltas)
        assert content == ref.content
        assert [calls[i] for i in sorted(calls)] == [(c.name, c.arguments_json()) for c in ref.tool_calls]
        assert errors == [e.message for e in ref.errors]
        assert res.content == ref.content
        assert [(c.name, c.arguments) for c in res.tool_calls] == [
            (c.name, c.arguments) for c in ref.tool_calls
        ]
        assert res.code == ref.code


@pytest.mark.parametrize("name, text", CASES)
def test_every_split_point_equals_parse(name, text):
    fmt = get_format(name)
    ref = fmt.parse(text)
    for i in range(len(text) + 1):
        deltas, res = stream(fmt, [text[:i], text[i:]])
        content, calls, errors = collect(deltas)
        assert (content, errors) == (ref.content, [e.message for e in ref.errors]), i
        assert [calls[i] for i in sorted(calls)] == [(c.name, c.arguments_json()) for c in ref.tool_calls]
        assert [(c.name, c.arguments) for c in res.tool_calls] == [
            (c.name, c.arguments) for c in ref.tool_calls
        ]


def test_a_key_given_twice_with_two_values_is_an_error():
    res = get_format("hermes").parse(
        '<tool_call>\n{"name": "f", "arguments": {"a": 1, "a": 3}}\n</tool_call>'
    )
    assert res.tool_calls == [] and "a key given twice" in res.errors[0].message
    same = get_format("hermes").parse(
        '<tool_call>\n{"name": "f", "arguments": {"a": 1, "a": 1}}\n</tool_call>'
    )
    assert same.tool_calls[0].arguments == {"a": 1} and same.errors == []


def test_hermes_holds_back_only_until_clear():
    sp = get_format("hermes").stream_parser()
    assert [d.text for d in sp.feed("Hello <")] == ["Hello"]
    assert [d.text for d in sp.feed("b>")] == [" <b>"]
    assert sp.feed(" <tool_") == []
    ds = sp.feed('call>\n{"name": "f", ')
    assert ds == []  # now inside a call: nothing of it leaks as content
    ds = sp.feed('"arguments": {"a": 1')  # the call starts; the number may go on
    assert [(d.kind, d.name, d.text) for d in ds] == [
        ("tool_call_start", "f", ""),
        ("tool_call_args", "f", '{"a": '),
    ]
    ds = sp.feed('5, "b": "x y')
    assert [d.text for d in ds] == ['15, "b": "x y']  # one piece per feed
    ds = sp.feed('"}}\n</tool_call>')
    assert [(d.kind, d.text) for d in ds] == [
        ("tool_call_args", '"}'),
        ("tool_call_end", '{"a": 15, "b": "x y"}'),
    ]
    assert ds[-1].id == sp.result().tool_calls[0].id
    assert sp.finish() == []
    assert sp.result().content == "Hello <b>"


def test_hermes_broken_call_is_withdrawn_after_it_started():
    sp = get_format("hermes").stream_parser()
    ds = sp.feed('<tool_call>\n{"name": "f", "arguments": {"a": [1, 2')
    assert [(d.kind, d.text) for d in ds] == [
        ("tool_call_start", ""),
        ("tool_call_args", '{"a": [1'),
    ]  # the comma waits for what follows
    ds = sp.feed("}\n</tool_call>")
    assert [d.kind for d in ds] == ["tool_call_abort", "error"]
    assert sp.result().tool_calls == [] and len(sp.result().errors) == 1


def test_hermes_bare_json_prose_is_released():
    sp = get_format("hermes").stream_parser()
    # complete JSON that is not call-shaped is content at once
    assert [d.text for d in sp.feed('{"a": 1}')] == ['{"a": 1}']
    sp2 = get_format("hermes").stream_parser()
    assert sp2.feed('{"name": "f", "arguments": {}}') == []  # a call if the output ends here
    assert [d.text for d in sp2.feed(" and more")] == ['{"name": "f", "arguments": {}} and more']
    assert [d.kind for d in sp.finish()] == []


def test_hermes_plain_json_content_is_released_on_completion():
    sp = get_format("hermes").stream_parser()
    ds = sp.feed('{"a": 1}')
    ds += sp.feed("\n")
    ds += sp.finish()
    assert "".join(d.text for d in ds) == '{"a": 1}'


def test_chatglm3_content_streams_before_the_turn_ends():
    sp = get_format("chatglm3").stream_parser()
    assert sp.feed("\n") == []
    assert [d.text for d in sp.feed("好的，")] == ["好的，"]
    assert [d.text for d in sp.feed("我来查<|assis")] == ["我来查"]
    assert sp.feed("tant|>get_weather\n```python\ntool_") == []
    ds = sp.feed("call(city='Par")  # Python literals, streamed as the JSON that is sent
    assert [(d.kind, d.text) for d in ds] == [("tool_call_start", ""), ("tool_call_args", '{"city": "Par')]
    ds = sp.feed("is', days=2)\n```")
    assert "".join(d.text for d in ds if d.kind == "tool_call_args") == 'is", "days": 2}'
    assert ds[-1].kind == "tool_call_end" and ds[-1].text == '{"city": "Paris", "days": 2}'
    assert sp.finish() == []


def test_feed_after_finish_is_an_error():
    sp = get_format("hermes").stream_parser()
    sp.finish()
    with pytest.raises(RuntimeError):
        sp.feed("x")


PIECES = [
    "<tool_call>",
    "</tool_call>",
    "<|assistant|>",
    "<|assis",
    "```",
    "```json\n",
    "```python\n",
    "`",
    "{",
    "}",
    "[",
    "]",
    '"',
    "\\",
    "\n",
    " ",
    "name",
    '{"name": "f", "arguments": {"a": 1}}',
    '"name": "g", "parameters": {}',
    "tool_call(x=1)",
    "tool_call(",
    ")",
    "interpreter\n",
    "get_weather\n",
    "查询",
    "hello",
    "<",
    ">",
    "'",
]


@pytest.mark.parametrize("name", ["hermes", "chatglm3", "glm4"])
def test_fuzz_streaming_equals_parse(name):
    fmt = get_format(name)
    rng = random.Random(1234)
    for _ in range(300):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 14)))
        ref = fmt.parse(text)
        for chunks in (list(text), random_chunks(text, rng)):
            deltas, res = stream(fmt, chunks)
            content, calls, errors = collect(deltas)
            assert content == ref.content, text
            assert [calls[i] for i in sorted(calls)] == [
                (c.name, c.arguments_json()) for c in ref.tool_calls
            ], text
            assert errors == [e.message for e in ref.errors], text
            assert res.code == ref.code, text
