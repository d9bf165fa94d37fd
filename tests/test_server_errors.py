"""Bad input gets an OpenAI-style error body with a 4xx status: never a 500, never a hang."""

from __future__ import annotations

import httpx
import openai
import pytest

from calltune.engines import ScriptedEngine
from calltune.testing import WEATHER, WEATHER_Q, served

USER = [{"role": "user", "content": "hi"}]


def _check(r: httpx.Response, status: int, param: str | None = None, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["type"] == "invalid_request_error" and err["message"]
    if param is not None:
        assert err["param"] == param
    if code is not None:
        assert err["code"] == code
    return err


@pytest.fixture(scope="module")
def server():
    with served(["ok"] * 50, max_body_bytes=20_000) as (_, client, srv):
        yield client, srv


def post(srv, body=None, content=None, **kw) -> httpx.Response:
    return httpx.post(srv.base_url + "/v1/chat/completions", json=body, content=content, timeout=10, **kw)


def test_malformed_json(server) -> None:
    _, srv = server
    err = _check(
        post(srv, content=b'{"messages": [', headers={"content-type": "application/json"}),
        400,
        code="invalid_json",
    )
    assert "not valid JSON" in err["message"]
    _check(post(srv, content=b"[1, 2]", headers={"content-type": "application/json"}), 400)


@pytest.mark.parametrize(
    ("field", "value", "param"),
    [
        ("temperature", "hot", "temperature"),
        ("temperature", 5, "temperature"),
        ("max_tokens", -3, "max_tokens"),
        ("messages", "hello", "messages"),
        ("messages", [], "messages"),
        ("stream", {"yes": 1}, "stream"),
        ("tools", {"name": "x"}, "tools"),
        ("tool_choice", "sometimes", "tool_choice"),
        ("stop", 12, "stop"),
        ("n", 2, "n"),
    ],
)
def test_known_field_with_wrong_type_or_value(server, field, value, param) -> None:
    _, srv = server
    err = _check(post(srv, {"model": "m", "messages": USER, field: value}), 400)
    assert err["param"] == param, err


def test_deeply_nested_bodies(server) -> None:
    _, srv = server
    err = _check(
        post(srv, content=b"[" * 5000 + b"]" * 5000, headers={"content-type": "application/json"}), 400
    )
    assert err["code"] == "invalid_json"
    deep: dict = {"type": "object"}
    for _ in range(400):
        deep = {"type": "object", "properties": {"a": deep}}
    tool = {"type": "function", "function": {"name": "f", "parameters": deep}}
    r = post(srv, {"messages": USER, "tools": [tool]})
    assert r.status_code in (200, 400), r.text


def test_unknown_fields_are_ignored(server) -> None:
    _, srv = server
    r = post(
        srv, {"model": "m", "messages": USER, "frequency_penalty": 0.5, "logprobs": False, "x_custom": [1]}
    )
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "ok"


def test_tool_choice_naming_a_tool_not_in_tools(server) -> None:
    client, _ = server
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(
            model="m",
            messages=USER,
            tools=[WEATHER],
            tool_choice={"type": "function", "function": {"name": "launch_rocket"}},
        )
    assert exc.value.status_code == 400
    assert exc.value.body["param"] == "tool_choice" and exc.value.body["code"] == "invalid_tool_choice"
    assert "launch_rocket" in exc.value.body["message"]
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="m", messages=USER, tool_choice="required")


def test_invalid_json_schema_in_a_tool(server) -> None:
    client, _ = server
    bad = {"type": "function", "function": {"name": "f", "parameters": {"type": "objekt", "properties": {}}}}
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model="m", messages=USER, tools=[bad])
    assert exc.value.body["code"] == "invalid_tool_schema"
    assert exc.value.body["param"].startswith("tools[0]")
    no_name = {"type": "function", "function": {"parameters": {"type": "object"}}}
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model="m", messages=USER, tools=[no_name])
    assert "name" in exc.value.body["message"]


def test_tool_message_without_matching_call(server) -> None:
    client, _ = server
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(
            model="m",
            messages=[*USER, {"role": "tool", "tool_call_id": "call_nope", "content": "42"}],
            tools=[WEATHER],
        )
    assert exc.value.body["param"] == "messages"
    assert "call_nope" in exc.value.body["message"]
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model="m", messages=[{"role": "wizard", "content": "x"}])
    assert "wizard" in exc.value.body["message"]


IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}


def test_an_image_part_is_a_400_not_silently_dropped(server) -> None:
    client, srv = server
    content = [{"type": "text", "text": "What is in this picture?"}, IMAGE]
    err = _check(
        post(srv, {"messages": [{"role": "user", "content": content}]}),
        400,
        param="messages.[0].content.[1].type",
        code="unsupported_content_type",
    )
    assert "images are not supported by this model" in err["message"] and "image_url" in err["message"]
    with pytest.raises(openai.BadRequestError) as exc:  # the OpenAI client gets it as a BadRequestError
        client.chat.completions.create(
            model="m",
            messages=[*USER, {"role": "assistant", "content": "ok"}, {"role": "user", "content": [IMAGE]}],
        )
    assert exc.value.body["param"] == "messages.[2].content.[0].type"
    audio = {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
    err = _check(post(srv, {"messages": [{"role": "user", "content": [audio]}]}), 400)
    assert "audio inputs are not supported" in err["message"]
    # text parts are still read, and the server still answers
    text_only = [{"type": "text", "text": "hi"}, {"type": "text", "text": " there"}]
    r = post(srv, {"messages": [{"role": "user", "content": text_only}]})
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "ok"


def test_oversized_body(server) -> None:
    _, srv = server
    r = post(srv, {"model": "m", "messages": [{"role": "user", "content": "x" * 30_000}]})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "request_too_large"


def test_prompt_longer_than_the_context_window() -> None:
    engine = ScriptedEngine(["never"], default_format="hermes", context_length=300)
    with served(engine) as (_, client, _srv):
        for stream in (False, True):
            with pytest.raises(openai.BadRequestError) as exc:
                r = client.chat.completions.create(
                    model="m",
                    messages=[{"role": "user", "content": WEATHER_Q * 20}],
                    tools=[WEATHER],
                    stream=stream,
                )
                list(r) if stream else None
            assert exc.value.status_code == 400
            assert exc.value.body["code"] == "context_length_exceeded"
            assert "maximum context length is 300 tokens" in exc.value.body["message"]
        # a prompt that fits but an explicit max_tokens that does not
        with pytest.raises(openai.BadRequestError) as exc:
            client.chat.completions.create(model="m", messages=USER, max_tokens=10_000)
        assert exc.value.body["code"] == "context_length_exceeded"
    assert engine.prompts == []  # nothing was generated


def test_unknown_route_and_method(server) -> None:
    _, srv = server
    r = httpx.get(srv.base_url + "/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["message"]
    r = httpx.get(srv.base_url + "/v1/chat/completions")
    assert r.status_code == 405 and "error" in r.json()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"messages": [{"content": "no role"}]},
        {"messages": [None]},
        {"messages": USER, "functions": [WEATHER["function"]], "tools": [WEATHER]},
        {"messages": USER, "tools": [WEATHER], "tool_choice": {"type": "function"}},
        {"messages": USER, "tools": [{"type": "retrieval"}]},
        {"messages": USER, "tools": [WEATHER, WEATHER]},
        {"messages": USER, "stream_options": {"include_usage": "maybe"}},
        {"messages": USER, "top_p": 0},
        {"messages": USER, "stop": [""]},
        {"messages": USER, "max_completion_tokens": 0},
        {"messages": USER, "seed": 1.5},
        {"messages": [*USER, {"role": "assistant", "tool_calls": "abc"}]},
        {"messages": [*USER, {"role": "assistant", "tool_calls": [{"function": None}]}]},
        {"messages": [*USER, {"role": "assistant", "tool_calls": [{"function": {"arguments": "{}"}}]}]},
        {"messages": [{"role": "user", "content": {"text": "a dict"}}]},
        {"messages": USER, "tools": [{"type": "function", "function": None}]},
        {"messages": USER, "tools": [{"type": "function", "function": {"name": "f", "parameters": [1]}}]},
        {
            "messages": [
                *USER,
                {
                    "role": "assistant",
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "not json"}}
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "1"},
            ]
        },
    ],
)
def test_bad_bodies_are_4xx(server, body) -> None:
    _, srv = server
    _check(post(srv, body), 400)
