"""Structured outputs: ``response_format`` on ``calltune serve``, the Turn, the Agent and the CLI.

The picking engine stands in for a constrained model (it writes the first of its candidates
the request's grammar allows); the tiny random transformers model runs the real decode loop
with the grammar's logits processor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from structured_fixtures import PERSON, PERSON_BAD, PERSON_FORMAT, PERSON_OK, PickingEngine

pytest.importorskip("fastapi")
pytest.importorskip("openai")

from typer.testing import CliRunner  # noqa: E402

import calltune.engines as engines  # noqa: E402
from calltune.agent import Agent  # noqa: E402
from calltune.cli import app  # noqa: E402
from calltune.engines import ScriptedEngine  # noqa: E402
from calltune.formats import get_format  # noqa: E402
from calltune.testing import WEATHER, WEATHER_Q, get_current_weather, hermes_call, served  # noqa: E402
from calltune.turn import (  # noqa: E402
    ResponseFormatError,
    Turn,
    TurnSettings,
    parse_response_format,
    response_instruction,
    schema_response_format,
)

GOOD = json.dumps(PERSON_OK)
PROSE = "Sure! Ann is 31 and an admin living in Lyon."
FENCED = "```json\n" + GOOD + "\n```"
CANDIDATES = [PROSE, FENCED, json.dumps(PERSON_BAD[1][0]), GOOD]
ASK = [{"role": "user", "content": "Make up a person."}]
CALL = hermes_call("get_current_weather", {"location": "Boston"})


def _post(srv: Any, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(srv.base_url + "/v1/chat/completions", json={"model": "m", **body}, timeout=30)


# ------------------------------------------------------------------------------- the server


def test_json_schema_answer_is_schema_valid() -> None:
    engine = PickingEngine(CANDIDATES)
    with served(engine) as (_, client, _srv):
        resp = client.chat.completions.create(model="m", messages=ASK, response_format=PERSON_FORMAT)
    msg = resp.choices[0].message
    assert msg.content == GOOD and not msg.tool_calls
    assert resp.choices[0].finish_reason == "stop"
    jsonschema.validate(json.loads(msg.content), PERSON)
    (c,) = engine.constraints
    assert c.response_schema is not None and not c.allows_calls
    # the model is told the schema too, so that its values mean something
    prompt = engine.tokenizer.decode(engine.prompts[0])
    assert response_instruction(parse_response_format(PERSON_FORMAT)) in prompt


def test_json_schema_answer_streams() -> None:
    engine = PickingEngine(CANDIDATES, chunk_size=4)
    with served(engine) as (_, client, _srv):
        stream = client.chat.completions.create(
            model="m", messages=ASK, response_format=PERSON_FORMAT, stream=True
        )
        pieces = [ch.choices[0].delta.content for ch in stream if ch.choices and ch.choices[0].delta.content]
    assert "".join(pieces) == GOOD
    assert len(pieces) > 5, "content is streamed as it is generated, not in one piece at the end"


def test_json_object_mode() -> None:
    engine = PickingEngine(["The answer is 42.", "[42]", '{"answer": 42}'])
    with served(engine) as (_, client, _srv):
        resp = client.chat.completions.create(
            model="m", messages=ASK, response_format={"type": "json_object"}
        )
    assert json.loads(resp.choices[0].message.content) == {"answer": 42}


def test_text_is_the_default() -> None:
    engine = PickingEngine([PROSE])
    with served(engine) as (_, client, _srv):
        resp = client.chat.completions.create(model="m", messages=ASK, response_format={"type": "text"})
    assert resp.choices[0].message.content == PROSE and engine.constraints == [None]


@pytest.mark.parametrize(
    ("response_format", "code", "says"),
    [
        ({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "nope"}}}, "invalid_response_format", "not a valid JSON Schema"),
        ({"type": "json_schema", "json_schema": {"schema": PERSON}}, "invalid_response_format", "name"),
        ({"type": "json_schema"}, "invalid_response_format", "json_schema"),
        ({"type": "xml"}, "invalid_response_format", "xml"),
        ({"type": "json_schema", "json_schema": {"name": "x", "schema": {"uniqueItems": True}}}, "unsupported_response_format", "uniqueItems"),
        ({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "string", "pattern": "(("}}}, "invalid_response_format", "not a valid JSON Schema"),
        ({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "minProperties": 1}}}, "unsupported_response_format", "cannot be enforced"),
    ],
)  # fmt: skip
def test_bad_response_format_is_a_400(response_format: dict, code: str, says: str) -> None:
    engine = PickingEngine([GOOD])
    with served(engine) as (_, _client, srv):
        for stream in (False, True):
            r = _post(srv, {"messages": ASK, "response_format": response_format, "stream": stream})
            assert r.status_code == 400, r.text
            err = r.json()["error"]
            assert (err["type"], err["param"], err["code"]) == (
                "invalid_request_error",
                "response_format",
                code,
            )
            assert says in err["message"]
    assert engine.prompts == [], "nothing was generated"


def test_engine_without_guided_decoding_is_a_400() -> None:
    with served(ScriptedEngine([GOOD])) as (_, _client, srv):
        r = _post(srv, {"messages": ASK, "response_format": PERSON_FORMAT})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "unsupported_response_format" and "guided decoding" in err["message"]


def test_tools_and_response_format_call_or_answer() -> None:
    """With tools on an auto turn the model may call a tool; when it answers, the content follows
    the schema."""
    calling = PickingEngine([PROSE, CALL, GOOD])
    with served(calling) as (_, client, _srv):
        resp = client.chat.completions.create(
            model="m", messages=ASK, tools=[WEATHER], response_format=PERSON_FORMAT
        )
    (tc,) = resp.choices[0].message.tool_calls
    assert (tc.function.name, json.loads(tc.function.arguments)) == (
        "get_current_weather",
        {"location": "Boston"},
    )
    (c,) = calling.constraints
    assert c.allows_calls and c.response_schema is not None
    answering = PickingEngine([PROSE, GOOD, CALL])
    with served(answering) as (_, client, _srv):
        for stream in (False, True):
            resp = client.chat.completions.create(
                model="m", messages=ASK, tools=[WEATHER], response_format=PERSON_FORMAT, stream=stream
            )
            if stream:
                content = "".join(ch.choices[0].delta.content or "" for ch in resp if ch.choices)
            else:
                content, calls = resp.choices[0].message.content, resp.choices[0].message.tool_calls
                assert not calls
            assert content == GOOD


def test_required_with_response_format_is_only_calls() -> None:
    engine = PickingEngine([GOOD, CALL])
    with served(engine) as (_, client, _srv):
        resp = client.chat.completions.create(
            model="m", messages=ASK, tools=[WEATHER], tool_choice="required", response_format=PERSON_FORMAT
        )
    assert [tc.function.name for tc in resp.choices[0].message.tool_calls] == ["get_current_weather"]
    assert engine.constraints[0].response_schema is None


# ------------------------------------------------------------------------------- Turn and Agent


def test_answer_turn_after_a_repeated_call_keeps_the_schema() -> None:
    """The turn generated again without tools (here: after a repeated call) is still an answer
    that follows the schema."""
    engine = PickingEngine([CALL, PROSE, GOOD])
    turn = Turn(engine, get_format("hermes"), TurnSettings(check_relevance=False, continue_calls=False))
    answered = [
        {"role": "user", "content": WEATHER_Q},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_current_weather", "arguments": '{"location": "Boston"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": '{"temperature": 22}'},
    ]  # fmt: skip
    plan = turn.plan([WEATHER], "auto", response_format=PERSON_FORMAT)
    result = turn.run(answered, [WEATHER], "auto", plan=plan)
    assert result.content == GOOD and not result.calls
    assert [c.allows_calls for c in engine.constraints] == [True, False]


def test_agent_with_a_pydantic_response_format() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Weather(pydantic.BaseModel):
        city: str
        temperature: float
        sunny: bool

    answer = '{"city": "Boston", "temperature": 22, "sunny": true}'
    engine = PickingEngine([PROSE, CALL, answer])
    agent = Agent(
        engine, [get_current_weather], response_format=Weather, check_relevance=False, continue_calls=False
    )
    result = agent.run(WEATHER_Q)
    assert Weather.model_validate(result.parsed()) == Weather(city="Boston", temperature=22, sunny=True)
    assert [o["name"] for st in result.trace.steps for o in st.observations] == ["get_current_weather"]


def test_parse_response_format_spellings() -> None:
    rf = parse_response_format(PERSON_FORMAT)
    assert (rf.type, rf.name, rf.strict, rf.schema) == ("json_schema", "person", True, PERSON)
    assert parse_response_format(rf.to_openai()) == rf
    assert parse_response_format({"type": "text"}) is None and parse_response_format(None) is None
    assert parse_response_format({"type": "json_object"}).schema == {"type": "object"}
    assert schema_response_format(PERSON, name="p") == parse_response_format(
        {"type": "json_schema", "json_schema": {"name": "p", "schema": PERSON}}
    )
    assert schema_response_format({"name": "person", "schema": PERSON, "strict": True}) == rf
    assert schema_response_format(PERSON_FORMAT) == rf
    with pytest.raises(ResponseFormatError):
        parse_response_format("json")


# ------------------------------------------------------------------------------- the CLI


def test_cli_run_with_a_schema_prints_the_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = tmp_path / "person.json"
    schema.write_text(json.dumps(PERSON))
    engine = PickingEngine([PROSE, GOOD])
    monkeypatch.setattr(engines, "load_engine", lambda model=None, **kw: engine)
    r = CliRunner().invoke(app, ["run", "-f", "hermes", "--schema", str(schema), "Make up a person."])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == PERSON_OK
    assert engine.constraints[-1].response_schema == PERSON


def test_cli_run_with_a_bad_schema_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "nope"}')
    r = CliRunner().invoke(app, ["run", "--schema", str(bad), "hi"])
    assert r.exit_code == 2 and "not a valid JSON Schema" in r.output


# ------------------------------------------------------------------------------- a real decode loop

SMALL = {
    "type": "object",
    "properties": {"unit": {"enum": ["celsius", "fahrenheit"]}, "ok": {"type": "boolean"}},
    "required": ["unit", "ok"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("transformers")
    from calltune.testing.models import tiny_engine

    eng = tiny_engine(tmp_path_factory.mktemp("tiny"))
    yield eng
    eng.close()


def test_tiny_random_model_writes_schema_valid_json(tiny: Any) -> None:
    rf = {"type": "json_schema", "json_schema": {"name": "small", "schema": SMALL}}
    with served(tiny) as (_, client, _srv):
        for seed in range(3):
            resp = client.chat.completions.create(
                model="m", messages=ASK, response_format=rf, temperature=1.0, seed=seed, max_tokens=180
            )
            assert resp.choices[0].finish_reason == "stop"
            jsonschema.validate(json.loads(resp.choices[0].message.content), SMALL)
        stream = client.chat.completions.create(
            model="m", messages=ASK, response_format=rf, temperature=1.0, seed=7, max_tokens=180, stream=True
        )
        content = "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices)
    jsonschema.validate(json.loads(content), SMALL)
