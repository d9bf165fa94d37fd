"""Streaming through the real server with the openai client: call arguments as the model writes
them (hermes, chatglm3, glm4), what a client sees when a call is checked or breaks off, and a
reasoning model's ``reasoning_content``. Scripted engines on a loopback port (calltune.testing)."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from calltune.formats import get_format
from calltune.testing import ScriptedEngine, model_turn, served

NOTE = {
    "type": "function",
    "function": {
        "name": "save_note",
        "description": "Save a note.",
        "parameters": {
            "type": "object",
            "properties": {"text": {"type": "string"}, "tags": {"type": "array"}},
        },
    },
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
TOOLS = [NOTE, WEATHER]
ASK = [{"role": "user", "content": "Save a note and tell me the weather in Paris."}]
TEXT = "Remember to water the plants; the </tool_call> and <|assistant|> here are text. " * 6
ARGS = [{"text": TEXT, "tags": ["home", "daily"]}, {"city": "Paris"}]


def output(fmt_name: str) -> str:
    """What a model speaking the format writes for two parallel calls."""
    return model_turn(fmt_name, list(zip(["save_note", "get_weather"], ARGS, strict=True)))


def stream_calls(client: openai.OpenAI, **kw) -> tuple[list, dict[int, dict], list[float]]:  # noqa: ANN003
    """The chunks, the calls assembled by index, and the arrival times of argument pieces."""
    chunks, calls, times = [], {}, []
    t0 = time.perf_counter()
    for ch in client.chat.completions.create(model="m", messages=ASK, tools=TOOLS, stream=True, **kw):
        chunks.append(ch)
        for tc in (ch.choices[0].delta.tool_calls or []) if ch.choices else []:
            c = calls.setdefault(tc.index, {"id": None, "name": None, "args": []})
            if tc.id:
                assert c["id"] is None and tc.type == "function" and tc.function.name  # the first delta
                c["id"], c["name"] = tc.id, tc.function.name
            if tc.function and tc.function.arguments:
                c["args"].append(tc.function.arguments)
                times.append(time.perf_counter() - t0)
    return chunks, calls, times


@pytest.mark.parametrize("fmt_name", ["hermes", "chatglm3", "glm4"])
def test_arguments_stream_as_they_are_written(fmt_name: str) -> None:
    text = output(fmt_name)
    engine = ScriptedEngine([text, text], default_format=fmt_name, chunk_size=3, delay_s=0.002)
    with served(engine, format=get_format(fmt_name)) as (_, client, _):
        whole = client.chat.completions.create(model="m", messages=ASK, tools=TOOLS, max_tokens=4096)
        chunks, calls, times = stream_calls(client, max_tokens=4096)
    want = whole.choices[0].message.tool_calls
    assert [c.function.name for c in want] == ["save_note", "get_weather"]
    assert sorted(calls) == [0, 1]  # parallel calls keep their own index
    for i, c in enumerate(want):
        assert calls[i]["name"] == c.function.name
        assert "".join(calls[i]["args"]) == c.function.arguments  # byte for byte
        assert json.loads(c.function.arguments) == ARGS[i]
    assert len(calls[0]["args"]) > 50  # the long one in many pieces
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    # the first argument byte came long before the generation ended
    assert times[0] < 0.5 * times[-1]


def test_no_stream_arguments_sends_each_call_in_one_chunk() -> None:
    text = output("hermes")
    with served([text], stream_arguments=False) as (_, client, _):
        _, calls, _ = stream_calls(client, max_tokens=4096)
    assert [len(c["args"]) for c in calls.values()] == [1, 1]
    assert json.loads("".join(calls[0]["args"])) == ARGS[0]


def test_calls_the_relevance_check_may_drop_are_sent_once_checked() -> None:
    text = output("hermes")
    with served([text, "yes", "yes"], check_relevance=True) as (_, client, _):
        _, calls, _ = stream_calls(client, max_tokens=4096)
    assert [len(c["args"]) for c in calls.values()] == [1, 1]
    with served([text, "no", "no", "I can do neither."], check_relevance=True) as (_, client, _):
        chunks, calls, _ = stream_calls(client, max_tokens=4096)
    assert calls == {}  # nothing of a dropped call ever reached the client
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).endswith(
        "I can do neither."
    )


def test_a_call_that_breaks_off_ends_the_stream_with_an_error() -> None:
    broken = '<tool_call>\n{"name": "save_note", "arguments": {"text": "abc", ]}\n</tool_call>'
    with served([broken, broken]) as (_, client, _):
        got: list = []
        with pytest.raises(openai.APIError, match="broke off after its arguments began to stream"):
            for ch in client.chat.completions.create(model="m", messages=ASK, tools=TOOLS, stream=True):
                got.append(ch)
        assert any(ch.choices and ch.choices[0].delta.tool_calls for ch in got)  # its start went out
        assert not any(ch.choices and ch.choices[0].finish_reason for ch in got)
        assert not any(ch.choices and ch.choices[0].delta.content for ch in got)  # nor again as text
        # not streamed: the broken call is content, as before
        r = client.chat.completions.create(model="m", messages=ASK, tools=TOOLS)
        assert r.choices[0].message.tool_calls is None and "save_note" in r.choices[0].message.content


def test_a_call_cut_by_max_tokens_finishes_with_length() -> None:
    with served([output("hermes")]) as (_, client, _):
        chunks, calls, _ = stream_calls(client, max_tokens=60)
    assert calls and chunks[-1].choices[0].finish_reason == "length"


def test_legacy_function_call_streams_its_arguments() -> None:
    with served([output("hermes")]) as (_, client, _):
        stream = client.chat.completions.create(
            model="m", messages=ASK, functions=[NOTE["function"]], stream=True, max_tokens=4096
        )
        pieces = [
            ch.choices[0].delta.function_call.arguments
            for ch in stream
            if ch.choices
            and ch.choices[0].delta.function_call
            and ch.choices[0].delta.function_call.arguments
        ]
    assert len(pieces) > 50 and json.loads("".join(pieces)) == ARGS[0]


THINKING = (
    'I should check the weather. <tool_call>{"name": "save_note", "arguments": {}}</tool_call> not yet.'
)


def test_reasoning_content_streamed_and_not() -> None:
    out = f"<think>\n{THINKING}\n</think>\n\nChecking.\n" + (
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    )
    with served([out, out]) as (_, client, _):
        r = client.chat.completions.create(model="m", messages=ASK, tools=TOOLS)
        chunks = list(client.chat.completions.create(model="m", messages=ASK, tools=TOOLS, stream=True))
    msg = r.choices[0].message
    assert msg.content == "Checking." and msg.model_extra["reasoning_content"] == THINKING
    assert [c.function.name for c in msg.tool_calls] == ["get_weather"]
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas) == THINKING
    assert "".join(d.content or "" for d in deltas) == "Checking."
    assert (
        sum(len(d.tool_calls or []) for d in deltas) >= 2
        and chunks[-1].choices[0].finish_reason == "tool_calls"
    )


def test_chat_template_kwargs_enable_thinking_reaches_the_prompt() -> None:
    engine = ScriptedEngine(["Hi.", "Hi."])
    with served(engine) as (_, client, srv):
        client.chat.completions.create(
            model="m", messages=ASK, extra_body={"chat_template_kwargs": {"enable_thinking": False}}
        )
        client.chat.completions.create(model="m", messages=ASK)
        bad = httpx.post(
            srv.base_url + "/v1/chat/completions",
            json={"messages": ASK, "chat_template_kwargs": {"enable_thinking": "no"}},
        )
    off, default = (engine.tokenizer.decode(p) for p in engine.prompts)
    assert off == default + "<think>\n\n</think>\n\n"
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "chat_template_kwargs"
