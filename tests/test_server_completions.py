"""``POST /v1/completions``: the raw prompt to the engine, as OpenAI's client and calltune's
remote engine send it; a ``response_format`` enforced by the served engine's grammar."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("openai")

from test_guided_server import GrammarPickingEngine  # noqa: E402

from calltune.datagen.teacher import Teacher  # noqa: E402
from calltune.engines import SamplingParams  # noqa: E402
from calltune.engines.openai_remote import OpenAIRemoteEngine, ResponseSchema  # noqa: E402
from calltune.testing import ScriptedEngine, served  # noqa: E402

SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
CANDIDATES = ["Sure! Here is some prose.", '{"a": 1}']


def test_the_prompt_reaches_the_engine_as_sent_and_the_text_comes_back():
    with served(["Paris is the capital."]) as (engine, client, _):
        r = client.completions.create(model="test-model", prompt="<|im_start|>user\nHi", max_tokens=40)
        assert r.object == "text_completion" and r.choices[0].text == "Paris is the capital."
        assert r.choices[0].finish_reason == "stop"
        assert engine.prompts[-1] == "<|im_start|>user\nHi"  # no chat format around it
        assert (
            r.usage.completion_tokens > 0
            and r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
        )


def test_a_stream_carries_the_same_text_then_the_usage_and_the_stop_that_matched():
    engine = ScriptedEngine(["one two three. four"], cycle=True, default_format="hermes")
    with served(engine) as (_, client, srv):
        full = client.completions.create(model="test-model", prompt="x", stop=["."], max_tokens=40)
        chunks = list(
            client.completions.create(
                model="test-model",
                prompt="x",
                stop=["."],
                max_tokens=40,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        text = "".join(c.choices[0].text for c in chunks if c.choices)
        assert text == full.choices[0].text == "one two three"
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
        last = [c for c in chunks if c.choices][-1]
        assert last.choices[0].finish_reason == "stop"
        raw = httpx.post(srv.base_url + "/v1/completions", json={"prompt": "x", "stop": ["."]}).json()
        assert raw["choices"][0]["stop_reason"] == "."  # vLLM's field, read by the remote engine


def test_a_response_format_is_enforced_by_the_served_engines_grammar():
    engine = GrammarPickingEngine(CANDIDATES)
    rf = {"type": "json_schema", "json_schema": {"name": "r", "schema": SCHEMA}}
    with served(engine) as (_, client, _srv):
        plain = client.completions.create(model="test-model", prompt="p", max_tokens=40)
        shaped = client.completions.create(
            model="test-model", prompt="p", max_tokens=40, extra_body={"response_format": rf}
        )
    assert plain.choices[0].text == CANDIDATES[0] and engine.constraints[0] is None
    assert json.loads(shaped.choices[0].text) == {"a": 1} and engine.constraints[1] is not None


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"prompt": ["a", "b"]}, "prompt"),
        ({"prompt": "a", "n": 2}, "n"),
        ({"prompt": "a", "echo": True}, "echo"),
        ({"prompt": "a", "logprobs": 2}, "logprobs"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "a", "stop": [""]}, "stop"),
        ({"prompt": "a", "max_tokens": 10**9}, "max_tokens"),
        ({"prompt": "a", "max_tokens": 0}, "max_tokens"),
        ({"prompt": "a", "response_format": {"type": "json_schema"}}, "response_format"),
        ({"prompt": "a", "response_format": {"type": "json_object"}}, "response_format"),  # no grammar
        ({"max_tokens": 3}, "prompt"),
    ],
)
def test_bad_requests_are_400s_that_name_the_parameter(body: dict[str, Any], param: str):
    with served(["x"]) as (_, _client, srv):
        r = httpx.post(srv.base_url + "/v1/completions", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param, r.json()


def test_the_remote_engine_and_a_remote_teacher_get_schema_shaped_replies_from_calltune_serve():
    """What `calltune data generate --teacher http://127.0.0.1:PORT/v1` does: the teacher's
    schemas travel as response_format; a schema the server cannot enforce (uniqueItems) is
    refused, and the teacher asks with the next one."""
    engine = GrammarPickingEngine(CANDIDATES)
    with served(engine) as (_, _client, srv):
        remote = OpenAIRemoteEngine(srv.base_url + "/v1")
        params = SamplingParams(max_tokens=40)
        assert remote.generate("p", params).text == CANDIDATES[0]
        assert json.loads(remote.generate("p", params, ResponseSchema(SCHEMA)).text) == {"a": 1}
        teacher = Teacher(remote, "hermes")
        unenforceable = {"type": "array", "uniqueItems": True}
        reply = teacher.ask("sys", "user", max_tokens=40, schemas=[unenforceable, SCHEMA])
        assert json.loads(reply.text) == {"a": 1}
        refused_all = teacher.ask("sys", "user", max_tokens=40, schemas=[unenforceable])
        assert refused_all.text == CANDIDATES[0]  # then no schema: the prompt alone asks
    assert sum(c is not None for c in engine.constraints) == 2


def test_chat_and_text_completions_share_the_engines_slots():
    with served(ScriptedEngine(["a"], cycle=True, default_format="hermes")) as (_, client, srv):
        client.completions.create(model="test-model", prompt="x", max_tokens=5)
        client.chat.completions.create(model="test-model", messages=[{"role": "user", "content": "x"}])
        assert httpx.get(srv.base_url + "/health").json()["queue"]["completed"] == 2


def test_a_remote_teacher_and_a_remote_turn_send_the_rendered_text_not_byte_ids():
    """Prompts for a remote engine were token ids made on this side: one per UTF-8 byte when the
    server has no /tokenize, which the server read as its own vocabulary's ids."""
    from calltune.agent import Agent

    engine = ScriptedEngine(["ok"], cycle=True, default_format="hermes")
    with served(engine) as (_, _client, srv):
        remote = OpenAIRemoteEngine(srv.base_url + "/v1")
        Teacher(remote, "hermes").ask("Be brief.", "hello there", max_tokens=5)
        assert isinstance(engine.prompts[-1], str) and "<|im_start|>user\nhello there" in engine.prompts[-1]
        Agent(remote, format="hermes", check_relevance=False, continue_calls=False).run("Weather in Paris?")
        assert isinstance(engine.prompts[-1], str) and "Weather in Paris?" in engine.prompts[-1]
