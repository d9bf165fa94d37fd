"""The test kit itself: free ports bind, the sample tools run and validate, the scripted
engine honours stop strings, the kit imports nothing heavy, and a served app answers."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import calltune.testing as kit
from calltune.engines import SamplingParams
from calltune.errors import CalltuneError
from calltune.formats import get_format
from calltune.tools import Toolbox, to_tool_specs


def test_free_port_is_bindable_on_loopback() -> None:
    port = kit.free_port()
    assert 1024 <= port <= 65535
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", port))  # raises if the port were taken
        assert s.getsockname()[1] == port


def test_sample_specs_validate_and_match_the_tools() -> None:
    specs = to_tool_specs(kit.SAMPLE_SPECS)
    assert [s["function"]["name"] for s in specs] == [
        "get_current_weather",
        "get_local_time",
        "convert_currency",
    ]
    assert to_tool_specs(kit.SAMPLE_TOOLS) == specs
    assert kit.SAMPLE_SPECS == [kit.WEATHER, kit.LOCAL_TIME, kit.CONVERT]
    weather = kit.WEATHER["function"]["parameters"]
    assert weather["required"] == ["location"]
    assert weather["properties"]["unit"]["enum"] == ["celsius", "fahrenheit"]
    assert kit.CONVERT["function"]["parameters"]["required"] == ["amount", "from_currency", "to_currency"]


def test_sample_tools_execute_through_a_toolbox() -> None:
    box = Toolbox(kit.SAMPLE_TOOLS)
    weather, time_, money, bad = box.execute_many(
        [
            {
                "id": "1",
                "name": "get_current_weather",
                "arguments": {"location": "Oslo", "unit": "fahrenheit"},
            },
            {"id": "2", "name": "get_local_time", "arguments": {"city": "Rome"}},
            {
                "id": "3",
                "name": "convert_currency",
                "arguments": {"amount": 100, "from_currency": "usd", "to_currency": "EUR"},
            },
            {"id": "4", "name": "get_current_weather", "arguments": {"location": "Oslo", "unit": "kelvin"}},
        ]
    )
    assert weather.ok and json.loads(weather.content) == {
        "location": "Oslo",
        "temperature": 72,
        "unit": "fahrenheit",
    }
    assert time_.ok and "Rome" in time_.content
    assert money.ok and json.loads(money.content) == {"amount": 92.59, "currency": "EUR"}
    assert not bad.ok and bad.kind == "invalid_arguments"
    assert kit.get_current_weather("Paris") == {"location": "Paris", "temperature": 22, "unit": "celsius"}


def test_scripted_engine_from_the_kit_honours_stops_and_max_tokens() -> None:
    eng = kit.ScriptedEngine(["alpha beta STOP gamma", "0123456789"], chunk_size=4)
    chunks = list(eng.stream("p1", SamplingParams(max_tokens=100, stop=["STOP", "gamma"])))
    assert "".join(c.text for c in chunks) == "alpha beta "
    assert (chunks[-1].finish_reason, chunks[-1].stop) == ("stop", "STOP")
    assert all(len(c.text) <= 4 for c in chunks) and len(chunks) > 1
    done = eng.generate("p2", SamplingParams(max_tokens=4))
    assert (done.text, done.finish_reason) == ("0123", "length")
    assert eng.prompts == ["p1", "p2"]
    assert isinstance(eng.tokenizer, kit.CharTokenizer)


def test_hermes_call_parses_back_to_the_call() -> None:
    text = kit.hermes_call("get_current_weather", {"location": "Zürich"})
    assert "Zürich" in text  # not \u-escaped, as models write it
    result = get_format("hermes").parse(text)
    assert not result.errors
    assert [(c.name, c.arguments) for c in result.tool_calls] == [
        ("get_current_weather", {"location": "Zürich"})
    ]


def test_importing_the_kit_stays_cheap() -> None:
    code = (
        "import sys, calltune.testing as t; t.ScriptedEngine; t.WEATHER; t.hermes_call; "
        "print(sorted(m for m in ('torch', 'transformers', 'fastapi', 'openai', 'uvicorn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_unknown_kit_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_helper"):
        kit.no_such_helper  # noqa: B018


def test_served_scripted_engine_answers_with_a_tool_call() -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("openai")
    call = kit.hermes_call("get_current_weather", {"location": "Paris"})
    with kit.served([call]) as (engine, client, srv):
        assert srv.base_url.startswith("http://127.0.0.1:")
        r = client.chat.completions.create(
            model="test-model", messages=[{"role": "user", "content": kit.WEATHER_Q}], tools=[kit.WEATHER]
        )
    (tc,) = r.choices[0].message.tool_calls
    assert tc.function.name == "get_current_weather" and json.loads(tc.function.arguments) == {
        "location": "Paris"
    }
    prompt = engine.prompts[0]
    assert kit.WEATHER_Q in (prompt if isinstance(prompt, str) else engine.tokenizer.decode(prompt))


def test_missing_gemma_is_a_test_asset_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from calltune.testing import models

    monkeypatch.setattr(models, "TOK_DIR", tmp_path / "none")
    monkeypatch.setattr(models, "_GEMMA_CACHED", tmp_path / "none.gguf")
    monkeypatch.setattr("calltune.models.gemma_installed", lambda: False)
    models._base_tokenizer.cache_clear()
    try:
        with pytest.raises(models.TestAssetMissing, match="Gemma 3"):
            models.fresh_tokenizer()
    finally:
        models._base_tokenizer.cache_clear()
    assert issubclass(models.TestAssetMissing, CalltuneError)
