"""The server with the real default model (Qwen2.5-Coder-1.5B GGUF on llama.cpp), via the openai client."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from openai import OpenAI

from calltune.server import create_app
from calltune.server.background import BackgroundServer
from calltune.testing import LOCAL_TIME, WEATHER, WEATHER_Q

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def real_server(default_engine):
    app = create_app(default_engine, model_name="default")
    with BackgroundServer(app) as srv:
        yield OpenAI(base_url=srv.base_url + "/v1", api_key="unused", max_retries=0, timeout=600), srv


def test_real_tool_call_streamed_and_not(real_server) -> None:
    client, _ = real_server
    msgs = [{"role": "user", "content": WEATHER_Q}]
    r = client.chat.completions.create(model="default", messages=msgs, tools=[WEATHER], max_tokens=96)
    assert r.choices[0].finish_reason == "tool_calls"
    [call] = r.choices[0].message.tool_calls
    assert call.function.name == "get_current_weather"
    assert json.loads(call.function.arguments)["location"].lower().startswith("paris")
    assert r.usage.prompt_tokens > 100 and r.usage.completion_tokens > 5

    chunks = list(
        client.chat.completions.create(
            model="default",
            messages=msgs,
            tools=[WEATHER],
            max_tokens=96,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    deltas = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert deltas[0].function.name == "get_current_weather" and deltas[0].id.startswith("call_")
    # greedy decoding: the streamed arguments are exactly the non-streamed JSON
    assert "".join(d.function.arguments or "" for d in deltas) == call.function.arguments
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "tool_calls"
    ]
    assert chunks[-1].usage.completion_tokens == r.usage.completion_tokens


def test_real_named_tool_choice(real_server) -> None:
    client, _ = real_server
    r = client.chat.completions.create(
        model="default",
        messages=[{"role": "user", "content": "I am flying to Oslo tomorrow."}],
        tools=[WEATHER, LOCAL_TIME],
        tool_choice={"type": "function", "function": {"name": "get_local_time"}},
        max_tokens=96,
    )
    calls = r.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_local_time"]
    assert "oslo" in json.loads(calls[0].function.arguments)["city"].lower()


def test_real_disconnect_mid_stream_frees_the_engine(real_server) -> None:
    client, srv = real_server
    body = {
        "model": "default",
        "messages": [{"role": "user", "content": "Write a long story about a lighthouse keeper."}],
        "max_tokens": 400,
        "stream": True,
    }
    seen = 0
    with httpx.stream("POST", srv.base_url + "/v1/chat/completions", json=body, timeout=300) as r:
        for line in r.iter_lines():
            if '"content"' in line:
                seen += 1
                if seen == 4:
                    break
    t0 = time.monotonic()
    while httpx.get(srv.base_url + "/health").json()["queue"]["running"]:
        assert time.monotonic() - t0 < 2.0, "the engine kept generating after the client left"
        time.sleep(0.05)
    # the engine is free at once: a short request does not wait for the ~400-token story
    t0 = time.monotonic()
    r = client.chat.completions.create(
        model="default", messages=[{"role": "user", "content": "Say OK."}], max_tokens=4
    )
    assert r.choices[0].finish_reason in ("stop", "length")
    assert time.monotonic() - t0 < 15.0


BOSTON = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}


def test_real_round_trip_call_result_answer_does_not_loop(real_server) -> None:
    """The OpenAI client's call → tool result → answer round trip, asked again with the same tools."""
    client, _ = real_server
    msgs: list = [{"role": "user", "content": "What's the weather like in Boston?"}]
    r = client.chat.completions.create(model="default", messages=msgs, tools=[BOSTON], max_tokens=128)
    [tc] = r.choices[0].message.tool_calls
    assert tc.function.name == "get_current_weather" and "boston" in tc.function.arguments.lower()
    msgs += [
        r.choices[0].message.model_dump(exclude_none=True),
        {
            "role": "tool",
            "tool_call_id": tc.id,
            "content": json.dumps({"temperature": 22, "unit": "celsius"}),
        },
    ]
    r2 = client.chat.completions.create(model="default", messages=msgs, tools=[BOSTON], max_tokens=128)
    assert r2.choices[0].message.tool_calls is None, r2.choices[0].message
    assert r2.choices[0].finish_reason == "stop"
    assert "22" in (r2.choices[0].message.content or "")


def test_real_two_cities_come_back_as_two_calls_in_one_response(real_server) -> None:
    client, _ = real_server
    r = client.chat.completions.create(
        model="default",
        messages=[{"role": "user", "content": "What's the weather in Boston and in Tokyo?"}],
        tools=[BOSTON],
        max_tokens=160,
    )
    calls = r.choices[0].message.tool_calls or []
    cities = sorted(json.loads(c.function.arguments)["location"].split(",")[0].lower() for c in calls)
    assert cities == ["boston", "tokyo"], r.choices[0].message


def test_real_arguments_stream_as_the_model_writes_them(default_engine) -> None:
    # nothing after the generation may take the call back: it streams as it is written
    app = create_app(default_engine, model_name="default", check_relevance=False, ground_arguments=False)
    with BackgroundServer(app) as srv:
        client = OpenAI(base_url=srv.base_url + "/v1", api_key="unused", max_retries=0, timeout=600)
        msgs = [{"role": "user", "content": WEATHER_Q}]
        kw = {"model": "default", "messages": msgs, "tools": [WEATHER], "max_tokens": 96}
        [call] = client.chat.completions.create(**kw).choices[0].message.tool_calls
        chunks = list(client.chat.completions.create(**kw, stream=True))
    deltas = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    pieces = [d.function.arguments for d in deltas if d.function and d.function.arguments]
    assert deltas[0].function.name == "get_current_weather" and deltas[0].id
    assert len(pieces) > 3  # the default model writes a fenced JSON call: it streams too
    assert "".join(pieces) == call.function.arguments  # byte for byte, greedy
