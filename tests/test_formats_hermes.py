from __future__ import annotations

import json
import pathlib
import time

import pytest

from calltune.engines.scripted import CharTokenizer
from calltune.formats import get_format

fmt = get_format("hermes")
TEMPLATE = pathlib.Path(__file__).parent / "data" / "qwen2.5-coder-chat-template.jinja"

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "查询时间",
        "description": "当前时间",
        "parameters": {"type": "object", "properties": {}},
    },
}

DIALOGUE = [
    {"role": "user", "content": "Weather in Paris and the time?"},
    {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [
            {
                "id": "a",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {"id": "b", "type": "function", "function": {"name": "查询时间", "arguments": "{}"}},
        ],
    },
    {"role": "tool", "tool_call_id": "a", "content": '{"temp": 21}'},
    {"role": "tool", "tool_call_id": "b", "content": "12:00"},
    {"role": "assistant", "content": "21 degrees, noon."},
    {"role": "user", "content": "thanks"},
]


def decode(tok: CharTokenizer, ids: list[int]) -> str:
    inv = {tok.special_id(m): m for m in fmt.special_tokens}
    return "".join(inv[i] if i in inv else chr(i) for i in ids)


def jinja_render(messages, tools, add_generation_prompt=True) -> str:
    jinja2 = pytest.importorskip("jinja2")
    env = jinja2.Environment()
    env.filters["tojson"] = lambda x: json.dumps(x, ensure_ascii=False)
    msgs = []
    for m in messages:
        m = dict(m)
        if m.get("tool_calls"):
            m["tool_calls"] = [
                {
                    "function": {
                        "name": c["function"]["name"],
                        "arguments": json.loads(c["function"]["arguments"]),
                    }
                }
                for c in m["tool_calls"]
            ]
        msgs.append(m)
    tpl = env.from_string(TEMPLATE.read_text())
    return tpl.render(messages=msgs, tools=tools, add_generation_prompt=add_generation_prompt)


@pytest.mark.parametrize(
    "messages, tools",
    [
        (DIALOGUE, [WEATHER, TIME]),
        ([{"role": "system", "content": "You are terse."}] + DIALOGUE, [WEATHER, TIME]),
        (DIALOGUE[:1], None),
        ([{"role": "system", "content": "Sys"}, {"role": "user", "content": "hi"}], None),
        (
            [
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "北京"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c", "content": "晴"},
            ],
            [WEATHER],
        ),
    ],
)
def test_render_matches_the_models_own_template(messages, tools):
    assert fmt.render(messages, tools) == jinja_render(messages, tools)
    assert fmt.render(messages, tools, False) == jinja_render(messages, tools, False)


def test_render_exact_small_dialogue():
    msgs = [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c", "content": "ok"},
    ]
    assert fmt.render(msgs) == (
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nhi<|im_end|>\n"
        '<|im_start|>assistant\n<tool_call>\n{"name": "f", "arguments": {"x": 1}}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\n<tool_response>\nok\n</tool_response><|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert fmt.stop == ["<|im_end|>", "<|endoftext|>"]
    assert fmt.stop_means_call("<|im_end|>") is False


def calls(res):
    return [(c.name, c.arguments) for c in res.tool_calls]


@pytest.mark.parametrize(
    "text, content, expected",
    [
        (
            '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
            "",
            [("get_weather", {"city": "Paris"})],
        ),
        (
            'Sure.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
            "Sure.",
            [("get_weather", {"city": "Paris"})],
        ),
        (
            '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}',
            "",
            [("get_weather", {"city": "Paris"})],
        ),
        (
            '<tool_call>{"name": "get_weather", "parameters": {"city": "Paris"}}</tool_call>',
            "",
            [("get_weather", {"city": "Paris"})],
        ),
        (
            '<tool_call>\n{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}\n</tool_call>',
            "",
            [("get_weather", {"city": "Paris"})],
        ),
        (
            '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```',
            "",
            [("get_weather", {"city": "Paris"})],
        ),
        (
            'I will call it:\n```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```\nDone.',
            "I will call it:\n\nDone.",
            [("get_weather", {"city": "Paris"})],
        ),
        (
            '```\n[{"name": "get_weather", "arguments": {"city": "A"}}, {"name": "get_weather", "arguments": {"city": "B"}}]\n```',
            "",
            [("get_weather", {"city": "A"}), ("get_weather", {"city": "B"})],
        ),
        (
            '  {"name": "get_weather", "arguments": {"city": "Paris"}}\n',
            "",
            [("get_weather", {"city": "Paris"})],
        ),
        ('[{"name": "get_weather", "parameters": {"city": "A"}}]', "", [("get_weather", {"city": "A"})]),
        (
            '<tool_call>\n[{"name": "a", "arguments": {}}, {"name": "b", "arguments": {"n": 2}}]\n</tool_call>',
            "",
            [("a", {}), ("b", {"n": 2})],
        ),
        ("<tool_call>\n{'name': 'f', 'arguments': {'ok': True}}\n</tool_call>", "", [("f", {"ok": True})]),
        (
            '<tool_call>\n{"type": "function", "function": {"name": "f", "arguments": {"k": null}}}\n</tool_call>',
            "",
            [("f", {"k": None})],
        ),
    ],
)
def test_tolerant_call_forms(text, content, expected):
    res = fmt.parse(text)
    assert calls(res) == expected
    assert res.content == content
    assert res.errors == []


def test_parallel_tagged_calls():
    text = (
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "A"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "查询时间", "arguments": {}}\n</tool_call>'
    )
    res = fmt.parse(text)
    assert calls(res) == [("get_weather", {"city": "A"}), ("查询时间", {})]
    assert res.content == ""
    assert len({c.id for c in res.tool_calls}) == 2


@pytest.mark.parametrize(
    "text",
    [
        'Here is an example: {"name": "get_weather", "arguments": {"city": "x"}} and more text',
        '{"name": "get_weather", "arguments": {"city": "x"}} is what a call looks like.',
        '{"city": "Paris", "temp": 21}',
        '```json\n{"city": "Paris", "temp": 21}\n```',
        '```json\n{"name": "Bob", "age": 3}\n```',
        "```python\nprint({'name': 'f', 'arguments': {}})\n```",
        "Use `x` and ``y`` here.",
        "[1, 2, 3]",
        '{"name": "get_weather"}',
    ],
)
def test_prose_and_json_that_is_not_a_call_stays_content(text):
    res = fmt.parse(text)
    assert res.tool_calls == []
    assert res.errors == []
    assert res.content == text.strip()


def test_tool_names_restrict_fenced_and_bare_forms():
    fenced = '```json\n{"name": "delete_all", "arguments": {}}\n```'
    assert calls(fmt.parse(fenced)) == [("delete_all", {})]
    res = fmt.parse(fenced, tool_names={"get_weather"})
    assert res.tool_calls == [] and res.content == fenced
    assert fmt.parse('{"name": "delete_all", "arguments": {}}', tool_names=["x"]).tool_calls == []
    # inside <tool_call> tags the intent is explicit: the call is kept (the toolbox rejects unknown names)
    tagged = '<tool_call>\n{"name": "delete_all", "arguments": {}}\n</tool_call>'
    assert calls(fmt.parse(tagged, tool_names=["x"])) == [("delete_all", {})]


def test_broken_tagged_call_is_an_error():
    res = fmt.parse('<tool_call>\n{"name": "f", "arguments": {"a": 1}\n</tool_call>')
    assert res.tool_calls == []
    assert len(res.errors) == 1 and "cannot parse" in res.errors[0].message
    res = fmt.parse('<tool_call>\n{"name": "f", "arguments": [1]}\n</tool_call>')
    assert res.errors[0].message.endswith("must be a JSON object, got list")
    res = fmt.parse("<tool_call>")
    assert res.errors[0].message == "empty <tool_call> block"


def test_hostile_input_is_fast():
    for junk in [
        "{" * 100_000,
        "[" * 100_000,
        "<tool_call>" + "[" * 100_000,
        "x" * 10_000_000,
        "```json\n" + "{" * 100_000,
    ]:
        t0 = time.perf_counter()
        res = fmt.parse(junk)
        assert time.perf_counter() - t0 < 3.0
        assert res.tool_calls == []


def test_loss_trains_exactly_what_the_model_generates():
    tok = CharTokenizer(fmt.special_tokens)
    ids, mask = fmt.encode_segments(fmt.segments(DIALOGUE, [WEATHER, TIME], add_generation_prompt=True), tok)
    target = [False] + mask[:-1]
    trained = []
    cur = ""
    for i, t in zip(ids, target, strict=True):
        if t:
            cur += decode(tok, [i])
        elif cur:
            trained.append(cur)
            cur = ""
    if cur:
        trained.append(cur)
    assert trained == [
        'Checking.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "查询时间", "arguments": {}}\n</tool_call><|im_end|>',
        "21 degrees, noon.<|im_end|>",
    ]
    assert decode(tok, ids) == fmt.render(DIALOGUE, [WEATHER, TIME])


# what the default model writes for requests that need several calls (seen on BFCL outputs)
SEVERAL_IN_ONE_FENCE = (
    '```json\n{\n  "name": "get_weather",\n  "arguments": {"city": "A"}\n}\n'
    '{\n  "name": "get_weather",\n  "arguments": {"city": "B"}\n}\n```'
)
DOUBLED_BRACES = (
    '{{"name": "get_weather", "arguments": {"city": "A"}}}}\n{{"name": "查询时间", "arguments": {}}}'
)
TOOLS_WRAPPED = '<tools>\n{"name": "get_weather", "arguments": {"city": "A"}}\n</tools>'
EMPTY_TOOLS_THEN_BARE = '<tools></tools>\n\n{{"name": "get_weather", "arguments": {"city": "A"}}}'


@pytest.mark.parametrize(
    "text, expected",
    [
        (SEVERAL_IN_ONE_FENCE, [("get_weather", {"city": "A"}), ("get_weather", {"city": "B"})]),
        (DOUBLED_BRACES, [("get_weather", {"city": "A"}), ("查询时间", {})]),
        (
            '<tool_call>\n{{"name": "get_weather", "arguments": {"city": "A"}}}\n</tool_call>',
            [("get_weather", {"city": "A"})],
        ),
        (
            '{"name": "get_weather", "arguments": {"city": "A"}},\n{"name": "get_weather", "arguments": {"city": "B"}}',
            [("get_weather", {"city": "A"}), ("get_weather", {"city": "B"})],
        ),
        (TOOLS_WRAPPED, [("get_weather", {"city": "A"})]),
        (EMPTY_TOOLS_THEN_BARE, [("get_weather", {"city": "A"})]),
        # the default model's spelling after a tool result: doubled open, plain close (one short)
        (
            '{{"name": "get_weather", "arguments": {"city": "A", "unit": "celsius"}}',
            [("get_weather", {"city": "A", "unit": "celsius"})],
        ),
    ],
)
def test_several_calls_in_one_block_and_doubled_braces(text, expected):
    names = {"get_weather", "查询时间"}
    for res in (fmt.parse(text, tool_names=names), _streamed(text, names)):
        assert calls(res) == expected
        assert res.content == "" and res.errors == []


def _streamed(text, names):
    sp = fmt.stream_parser(names)
    for ch in text:
        sp.feed(ch)
    sp.finish()
    return sp.result()


@pytest.mark.parametrize(
    "text",
    [
        # one value is not a call: the whole block is content, nothing half-executed
        '```json\n{"name": "get_weather", "arguments": {"city": "A"}}\n{"city": "B"}\n```',
        '{"name": "get_weather", "arguments": {"city": "A"}}\nand then prose',
        "<tools>\nnot json\n</tools>",
        '<tools>\n{"name": "unknown_tool", "arguments": {}}\n</tools>',
        '{{"name": "unknown_tool", "arguments": {}}}',
        '{{"name": "unknown_tool", "arguments": {}}',
        "{{ a template placeholder, not JSON",
    ],
)
def test_mixed_blocks_are_not_calls(text):
    names = {"get_weather"}
    for res in (fmt.parse(text, tool_names=names), _streamed(text, names)):
        assert res.tool_calls == [] and res.errors == []
        assert res.content == text.strip()


def test_tool_guidance_is_appended_to_the_tool_block_only():
    msgs = [{"role": "user", "content": "hi"}]
    plain = fmt.render(msgs, [WEATHER])
    guided = get_format("hermes").__class__(tool_guidance="Use tools wisely.").render(msgs, [WEATHER])
    head = plain[: plain.index("</tool_call><|im_end|>") + len("</tool_call>")]
    assert guided.startswith(head)
    assert guided[len(head) :].startswith("\n\nUse tools wisely.<|im_end|>\n<|im_start|>user\nhi")
    # without tools there is no tool block to extend
    no_tools = get_format("hermes").__class__(tool_guidance="Use tools wisely.").render(msgs)
    assert "Use tools wisely" not in no_tools
