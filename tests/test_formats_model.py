"""The hermes format against the real default model (Qwen2.5-Coder-1.5B-Instruct on llama.cpp)."""

from __future__ import annotations

import pytest

from calltune.engines import SamplingParams
from calltune.formats import get_format
from calltune.testing.deltas import assemble

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}


@pytest.mark.model
def test_default_model_call_is_parsed_and_streams_identically(default_engine):
    fmt = get_format(default_engine.default_format)
    assert fmt.name == "hermes"
    ids = fmt.encode(
        [{"role": "user", "content": "What's the weather in Lisbon in celsius?"}],
        default_engine.tokenizer,
        [WEATHER],
    )
    params = SamplingParams(max_tokens=96, temperature=0.0, stop=fmt.stop)
    sp = fmt.stream_parser(tool_names=["get_weather"])
    deltas = []
    text = ""
    for chunk in default_engine.stream(ids, params):
        text += chunk.text
        deltas += sp.feed(chunk.text)
    deltas += sp.finish()
    res = fmt.parse(text, tool_names=["get_weather"])
    assert [(c.name, c.arguments.get("city")) for c in res.tool_calls] == [("get_weather", "Lisbon")]
    got = assemble(deltas)
    assert [c.arguments for c in got.calls] == [res.tool_calls[0].arguments_json()]
    assert len(got.calls[0].pieces) > 3  # streamed while the model wrote it (a fenced JSON call)
    assert got.content == res.content


@pytest.mark.model
def test_default_model_plain_answer_is_content(default_engine):
    fmt = get_format("hermes")
    prompt = fmt.render([{"role": "user", "content": "Write a haiku about autumn."}], [WEATHER])
    out = default_engine.generate(prompt, SamplingParams(max_tokens=48, temperature=0.0, stop=fmt.stop))
    res = fmt.parse(out.text, tool_names=["get_weather"])
    assert res.tool_calls == [] and res.errors == []
    assert res.content == out.text.strip()
