from __future__ import annotations

import pytest

from calltune.engines.scripted import CharTokenizer
from calltune.formats import get_format

fmt = get_format("glm4")

TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "天气",
        "parameters": {"type": "object", "properties": {}},
    },
}


def test_render_exact():
    msgs = [
        {"role": "system", "content": "简短回答。"},
        {"role": "user", "content": "北京天气？"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "a",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "北京"}'},
                },
                {
                    "id": "b",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "上海"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "a", "content": "晴"},
        {"role": "tool", "tool_call_id": "b", "content": "雨"},
        {"role": "assistant", "content": "北京晴，上海雨。"},
    ]
    assert fmt.render(msgs, [TOOL]) == (
        "[gMASK]<sop><|system|>\n"
        "你是一个名为 ChatGLM 的人工智能助手。你是基于智谱AI训练的语言模型 GLM-4 模型开发的，"
        "你的任务是针对用户的问题和要求提供适当的答复和支持。\n\n# 可用工具\n\n## get_weather\n\n"
        '{\n    "name": "get_weather",\n    "description": "天气",\n    "parameters": {\n'
        '        "type": "object",\n        "properties": {}\n    }\n}\n'
        "在调用上述函数时，请使用 Json 格式表示调用的参数。"
        "<|system|>\n简短回答。<|user|>\n北京天气？"
        '<|assistant|>get_weather\n{"city": "北京"}<|assistant|>get_weather\n{"city": "上海"}'
        "<|observation|>\n晴<|observation|>\n雨<|assistant|>\n北京晴，上海雨。<|assistant|>"
    )


def test_no_tools_and_stops():
    assert fmt.render([{"role": "user", "content": "hi"}]) == "[gMASK]<sop><|user|>\nhi<|assistant|>"
    assert fmt.stop == ["<|user|>", "<|observation|>", "<|endoftext|>"]
    assert fmt.stop_means_call("<|observation|>") and not fmt.stop_means_call("<|endoftext|>")


@pytest.mark.parametrize(
    "text, content, calls, code",
    [
        ("\n你好！", "你好！", [], []),
        ('get_weather\n{"city": "北京"}', "", [("get_weather", {"city": "北京"})], []),
        (
            'get_weather\n{"a": 1}<|assistant|>get_weather\n{"a": 2}',
            "",
            [("get_weather", {"a": 1}), ("get_weather", {"a": 2})],
            [],
        ),
        ("get_weather\n{'a': True, 'b': None}", "", [("get_weather", {"a": True, "b": None})], []),
        ("get_weather\ntool_call(a=1)", "", [("get_weather", {"a": 1})], []),
        ('get_weather\n```json\n{"a": 1}\n```', "", [("get_weather", {"a": 1})], []),
        ("get_weather\n", "", [("get_weather", {})], []),
        ("python\n```python\nprint(1)\n```", "", [], ["print(1)"]),
    ],
)
def test_parse(text, content, calls, code):
    res = fmt.parse(text)
    assert res.content == content
    assert [(c.name, c.arguments) for c in res.tool_calls] == calls
    assert res.code == code
    assert res.errors == []


def test_bad_arguments_are_errors():
    res = fmt.parse("get_weather\n{not json")
    assert res.tool_calls == []
    assert res.errors[0].name == "get_weather"
    assert "not a JSON object" in res.errors[0].message
    assert fmt.parse("get_weather\n[1, 2]").errors[0].message.endswith("got list")
    assert fmt.parse("get_weather\n{__import__('os'): 1}").errors != []


def test_loss_like_chatglm3():
    tok = CharTokenizer(fmt.special_tokens)
    msgs = [
        {"role": "user", "content": "U"},
        {"role": "assistant", "content": "A"},
        {"role": "user", "content": "V"},
    ]
    ids, mask = fmt.encode_segments(fmt.segments(msgs, add_generation_prompt=False), tok)
    inv = {tok.special_id(m): m for m in fmt.special_tokens}
    target = [False] + mask[:-1]
    assert "".join(inv.get(i) or chr(i) for i, t in zip(ids, target, strict=True) if t) == "\nA<|user|>"
    assert ids[:2] == [tok.special_id("[gMASK]"), tok.special_id("<sop>")]


def test_tool_name_with_newline_is_rejected():
    from calltune.formats import FormatError

    msgs = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "tool_calls": [{"id": "a", "function": {"name": "f\nx", "arguments": "{}"}}]},
    ]
    for name in ("glm4", "chatglm3"):
        with pytest.raises(FormatError, match="newline"):
            get_format(name).render(msgs)
