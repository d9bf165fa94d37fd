"""The OpenAI contract of ``POST /v1/chat/completions``, driven by the official openai client."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from server_helpers import RecordingEngine, prompt_text

from calltune.testing import LOCAL_TIME, WEATHER, WEATHER_Q, served
from calltune.testing import hermes_call as call_text

PARIS = {"location": "Paris", "unit": "celsius"}


def test_non_streamed_tool_call() -> None:
    out = call_text("get_current_weather", PARIS)
    with served([out]) as (engine, client, _):
        r = client.chat.completions.create(
            model="test-model", messages=[{"role": "user", "content": WEATHER_Q}], tools=[WEATHER]
        )
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls
    assert call.type == "function"
    assert call.id.startswith("call_")
    assert call.function.name == "get_current_weather"
    assert json.loads(call.function.arguments) == PARIS
    assert call.function.arguments == json.dumps(PARIS)
    # what the model saw: the Hermes tools block with the tool, the question, the generation prompt
    seen = prompt_text(engine)
    assert '"name": "get_current_weather"' in seen and "<tools>" in seen
    assert seen.endswith(f"<|im_start|>user\n{WEATHER_Q}<|im_end|>\n<|im_start|>assistant\n")
    assert r.usage.prompt_tokens == len(seen)  # ScriptedEngine: one token per character
    assert r.usage.completion_tokens == len(out)
    assert r.usage.total_tokens == len(seen) + len(out)
    assert r.model == "test-model" and r.object == "chat.completion"


def test_streamed_tool_call_arguments_equal_non_streamed() -> None:
    out = "Let me check.\n" + call_text("get_current_weather", PARIS)
    with served([out, out]) as (_, client, _srv):
        msgs = [{"role": "user", "content": WEATHER_Q}]
        full = client.chat.completions.create(model="m", messages=msgs, tools=[WEATHER])
        chunks = list(
            client.chat.completions.create(
                model="m", messages=msgs, tools=[WEATHER], stream=True, stream_options={"include_usage": True}
            )
        )
    assert chunks[0].choices[0].delta.role == "assistant"
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == full.choices[0].message.content == "Let me check."
    call_deltas = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    first = call_deltas[0]
    assert first.index == 0 and first.id.startswith("call_") and first.function.name == "get_current_weather"
    assert all(tc.id is None and tc.function.name is None for tc in call_deltas[1:])
    args = "".join(tc.function.arguments or "" for tc in call_deltas)
    assert args == full.choices[0].message.tool_calls[0].function.arguments
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["tool_calls"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == len(out)


def test_stream_content_arrives_in_several_deltas() -> None:
    text = "Paris is the capital of France and its largest city."
    with served([text]) as (_, client, _srv):
        chunks = list(
            client.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": "Tell me about Paris"}],
                tools=[WEATHER],
                stream=True,
            )
        )
    pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(pieces) > 3
    assert "".join(pieces) == text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)


def test_text_that_starts_like_a_call_is_released_as_content() -> None:
    text = "<tool_call> is the tag I would use, but no call is needed here."
    with served([text, text]) as (_, client, _srv):
        msgs = [{"role": "user", "content": "hi"}]
        full = client.chat.completions.create(model="m", messages=msgs, tools=[WEATHER])
        chunks = list(client.chat.completions.create(model="m", messages=msgs, tools=[WEATHER], stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert full.choices[0].message.tool_calls is None
    assert streamed == full.choices[0].message.content
    assert "no call is needed" in streamed


def test_parallel_calls_and_parallel_false() -> None:
    out = (
        call_text("get_current_weather", {"location": "Paris"})
        + "\n"
        + call_text("get_local_time", {"city": "Paris"})
    )
    msgs = [{"role": "user", "content": "Weather and time in Paris?"}]
    with served([out, out, out]) as (_, client, _srv):
        r = client.chat.completions.create(model="m", messages=msgs, tools=[WEATHER, LOCAL_TIME])
        calls = r.choices[0].message.tool_calls
        assert [c.function.name for c in calls] == ["get_current_weather", "get_local_time"]
        assert [json.loads(c.function.arguments) for c in calls] == [{"location": "Paris"}, {"city": "Paris"}]
        assert calls[0].id != calls[1].id
        stream = list(
            client.chat.completions.create(model="m", messages=msgs, tools=[WEATHER, LOCAL_TIME], stream=True)
        )
        deltas = [tc for c in stream for tc in (c.choices[0].delta.tool_calls or [])]
        assert sorted({d.index for d in deltas}) == [0, 1]
        for i, c in enumerate(calls):
            assert "".join(d.function.arguments or "" for d in deltas if d.index == i) == c.function.arguments
        single = client.chat.completions.create(
            model="m", messages=msgs, tools=[WEATHER, LOCAL_TIME], parallel_tool_calls=False
        )
        assert [c.function.name for c in single.choices[0].message.tool_calls] == ["get_current_weather"]


def test_tool_choice_named_forces_and_retries() -> None:
    # first answer makes no call: the server retries with a stronger prompt and gets the call
    outputs = ["I think it is sunny.", call_text("get_local_time", {"city": "Oslo"})]
    with served(outputs) as (engine, client, _):
        r = client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "What time is it in Oslo?"}],
            tools=[WEATHER, LOCAL_TIME],
            tool_choice={"type": "function", "function": {"name": "get_local_time"}},
        )
    [call] = r.choices[0].message.tool_calls
    assert call.function.name == "get_local_time" and json.loads(call.function.arguments) == {"city": "Oslo"}
    assert r.choices[0].finish_reason == "tool_calls"
    assert len(engine.prompts) == 2
    first, second = prompt_text(engine, 0), prompt_text(engine, 1)
    # only the named tool is offered, with an instruction to call it
    assert '"name": "get_local_time"' in first and "get_current_weather" not in first
    assert "You must answer by calling the function `get_local_time`" in first
    assert second.count("You must answer by calling the function `get_local_time`") == 2


def test_tool_choice_required_streamed() -> None:
    with served([call_text("get_current_weather", {"location": "Rome"})]) as (_, client, _srv):
        chunks = list(
            client.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": "Rome?"}],
                tools=[WEATHER],
                tool_choice="required",
                stream=True,
            )
        )
    deltas = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert deltas[0].function.name == "get_current_weather"
    assert json.loads("".join(d.function.arguments or "" for d in deltas)) == {"location": "Rome"}


def test_tool_choice_none_hides_tools_and_returns_text() -> None:
    raw = 'Sure: <tool_call>\n{"name": "get_current_weather", "arguments": {}}\n</tool_call>'
    with served([raw]) as (engine, client, _):
        r = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": WEATHER_Q}], tools=[WEATHER], tool_choice="none"
        )
    seen = prompt_text(engine)
    assert "<tools>" not in seen and "get_current_weather" not in seen
    assert r.choices[0].message.tool_calls is None
    assert r.choices[0].message.content == raw
    assert r.choices[0].finish_reason == "stop"


def test_tool_result_round_trip() -> None:
    with served(["It is 22 °C and sunny in Paris."]) as (engine, client, _):
        r = client.chat.completions.create(
            model="m",
            tools=[WEATHER],
            messages=[
                {"role": "user", "content": WEATHER_Q},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_current_weather", "arguments": '{"location": "Paris"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": '{"temperature": 22, "sky": "sunny"}'},
            ],
        )
    assert r.choices[0].message.content == "It is 22 °C and sunny in Paris."
    assert r.choices[0].finish_reason == "stop"
    seen = prompt_text(engine)
    assert '<tool_response>\n{"temperature": 22, "sky": "sunny"}\n</tool_response>' in seen
    assert '"name": "get_current_weather", "arguments": {"location": "Paris"}' in seen


def test_legacy_functions_api() -> None:
    fn = WEATHER["function"]
    out = call_text("get_current_weather", {"location": "Berlin"})
    with served([out, out, "Cold: 3 degrees."]) as (engine, client, _):
        r = client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "Berlin?"}],
            functions=[fn],
            function_call={"name": fn["name"]},
        )
        msg = r.choices[0].message
        assert r.choices[0].finish_reason == "function_call"
        assert msg.tool_calls is None
        assert msg.function_call.name == "get_current_weather"
        assert json.loads(msg.function_call.arguments) == {"location": "Berlin"}
        chunks = list(
            client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "Berlin?"}], functions=[fn], stream=True
            )
        )
        streamed = "".join(
            c.choices[0].delta.function_call.arguments or ""
            for c in chunks
            if c.choices[0].delta.function_call
        )
        assert streamed == msg.function_call.arguments
        assert chunks[-1].choices[0].finish_reason == "function_call"
        # the legacy "function" role carries the result back
        r2 = client.chat.completions.create(
            model="m",
            functions=[fn],
            messages=[
                {"role": "user", "content": "Berlin?"},
                {
                    "role": "assistant",
                    "content": None,
                    "function_call": {"name": fn["name"], "arguments": '{"location": "Berlin"}'},
                },
                {"role": "function", "name": fn["name"], "content": '{"temperature": 3}'},
            ],
        )
    assert r2.choices[0].message.content == "Cold: 3 degrees."
    assert '<tool_response>\n{"temperature": 3}\n</tool_response>' in prompt_text(engine)


def test_sampling_parameters_stop_and_length() -> None:
    engine = RecordingEngine(["alpha beta STOP gamma", "0123456789abcdef"])
    with served(engine) as (_, client, _srv):
        r = client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "x"}],
            stop=["STOP"],
            temperature=0.3,
            top_p=0.9,
            seed=7,
        )
        # no tools: the text is returned as generated, up to the stop string
        assert r.choices[0].message.content == "alpha beta "
        assert r.choices[0].finish_reason == "stop"
        p = engine.params[0]
        assert (p.temperature, p.top_p, p.seed) == (0.3, 0.9, 7)
        assert list(p.stop) == ["<|im_end|>", "<|endoftext|>", "STOP"]
        r = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}], max_completion_tokens=5
        )
        assert r.choices[0].message.content == "01234"
        assert r.choices[0].finish_reason == "length"
        assert r.usage.completion_tokens == 5


def test_models_and_health() -> None:
    with served(["x"]) as (_, client, srv):
        models = client.models.list()
        assert [m.id for m in models.data] == ["test-model"]
        health = httpx.get(srv.base_url + "/health").json()
        assert health["status"] == "ok" and health["format"] == "hermes" and health["model"] == "test-model"
        assert health["queue"] == {"waiting": 0, "running": 0, "completed": 0, "cancelled": 0}
        # CORS is off by default: no Access-Control-Allow-Origin header
        r = httpx.get(srv.base_url + "/v1/models", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in r.headers


def test_cors_can_be_enabled() -> None:
    with served(["x"], cors=["http://localhost:3000"]) as (_, _c, srv):
        r = httpx.options(
            srv.base_url + "/v1/chat/completions",
            headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
        )
        assert r.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_api_key() -> None:
    with served(["hello"], api_key="s3cret") as (_, client, srv):
        assert (
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
            .choices[0]
            .message.content
            == "hello"
        )
        bad = openai.OpenAI(base_url=srv.base_url + "/v1", api_key="wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as exc:
            bad.models.list()
        assert exc.value.status_code == 401
        assert exc.value.body["code"] == "invalid_api_key"
        r = httpx.get(srv.base_url + "/v1/models")
        assert r.status_code == 401 and r.json()["error"]["type"] == "invalid_request_error"
        assert httpx.get(srv.base_url + "/health").status_code == 200


def test_render_endpoint_shows_the_prompt_with_role_markers() -> None:
    with served(["x"]) as (_, _c, srv):
        r = httpx.post(
            srv.base_url + "/calltune/render",
            json={"messages": [{"role": "user", "content": WEATHER_Q}], "tools": [WEATHER]},
        )
    data = r.json()
    assert r.status_code == 200
    assert data["format"] == "hermes" and data["tool_mode"] == "auto"
    assert data["prompt"].endswith("<|im_start|>assistant\n")
    assert data["prompt_tokens"] == len(data["prompt"])
    markers = [s["text"] for s in data["segments"] if s["special"]]
    assert "<|im_start|>" in markers and "<|im_end|>" in markers


def test_playground_is_served() -> None:
    with served(["x"]) as (_, _c, srv):
        page = httpx.get(srv.base_url + "/")
        js = httpx.get(srv.base_url + "/static/app.js")
        icons = [httpx.get(srv.base_url + p) for p in ("/static/favicon.svg", "/favicon.ico")]
    assert page.status_code == 200 and "calltune playground" in page.text
    assert js.status_code == 200 and "/v1/chat/completions" in js.text
    # the page names its icon, and the browser's own /favicon.ico is no 404
    assert '<link rel="icon" href="/static/favicon.svg"' in page.text
    for icon in icons:
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.text.startswith("<svg")


class ConstrainedScriptedEngine(RecordingEngine):
    """Claims guided-decoding support, so the server hands it the constraint."""

    supports_constraints = True


def test_named_tool_choice_goes_through_guided_decoding_when_the_engine_can() -> None:
    from calltune.guided import Constraint

    engine = ConstrainedScriptedEngine([call_text("get_local_time", {"city": "Oslo"}), "plain"])
    with served(engine) as (_, client, _srv):
        r = client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "Time in Oslo?"}],
            tools=[WEATHER, LOCAL_TIME],
            tool_choice={"type": "function", "function": {"name": "get_local_time"}},
            parallel_tool_calls=False,
        )
        assert r.choices[0].message.tool_calls[0].function.name == "get_local_time"
        c = engine.constraints[0]
        assert isinstance(c, Constraint)
        assert (c.mode, c.tool_names, c.parallel) == ("named:get_local_time", ["get_local_time"], False)
        assert "You must answer" not in prompt_text(engine, 0)  # the grammar forces the call, not the prompt
        # auto mode stays unguided by default (no strict tools)
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], tools=[WEATHER]
        )
        assert engine.constraints[1] is None
