"""Guided decoding on the real default model (Qwen2.5-Coder-1.5B-Instruct GGUF on llama.cpp)."""

from __future__ import annotations

import jsonschema
import pytest

from calltune.engines import SamplingParams
from calltune.formats import get_format
from calltune.guided import build_constraint
from calltune.guided.schema import normalize_schema

pytestmark = pytest.mark.model

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "description": "forecast days"},
            },
            "required": ["city", "unit"],
        },
    },
}
CONVERT = {
    "type": "function",
    "function": {
        "name": "convert_currency",
        "description": "Convert an amount of money from one currency to another",
        "parameters": {
            "type": "object",
            "properties": {
                "amount": {"type": "number"},
                "from_code": {"type": "string", "enum": ["EUR", "USD", "GBP", "JPY"]},
                "to_code": {"type": "string", "enum": ["EUR", "USD", "GBP", "JPY"]},
            },
            "required": ["amount", "from_code", "to_code"],
        },
    },
}
TOOLS = [WEATHER, CONVERT]
SCHEMAS = {t["function"]["name"]: normalize_schema(t["function"]["parameters"]) for t in TOOLS}


def _run(engine, question: str, mode: str, fmt_name: str | None = None, parallel: bool = True):
    fmt = get_format(fmt_name or engine.default_format)
    msgs = [{"role": "user", "content": question}]
    prompt = fmt.encode(msgs, engine.tokenizer, TOOLS)
    c = build_constraint(fmt, TOOLS, mode, parallel=parallel)
    comp = engine.generate(prompt, SamplingParams(max_tokens=160, temperature=0.0, stop=fmt.stop), c)
    return fmt.parse(comp.text.removesuffix("<|observation|>")), comp, c


def test_required_on_a_question_no_tool_fits_still_yields_a_valid_call(default_engine) -> None:
    parsed, comp, c = _run(default_engine, "Who wrote the play Hamlet?", "required")
    assert comp.finish_reason == "stop"
    assert parsed.tool_calls and not parsed.errors, comp.text
    for call in parsed.tool_calls:
        assert call.name in SCHEMAS
        jsonschema.validate(call.arguments, SCHEMAS[call.name])
    assert c.last_processor.stats["calls"] == comp.completion_tokens


def test_named_tool_yields_exactly_that_tool(default_engine) -> None:
    # the question is about weather, but the named tool is the currency converter
    parsed, comp, _ = _run(default_engine, "What's the weather in Rome?", "named:convert_currency")
    assert [c.name for c in parsed.tool_calls] == ["convert_currency"] * len(parsed.tool_calls), comp.text
    assert parsed.tool_calls
    for call in parsed.tool_calls:
        jsonschema.validate(call.arguments, SCHEMAS["convert_currency"])


def test_chatglm3_syntax_on_the_default_model(default_engine) -> None:
    # the model was never trained on ChatGLM3's format; the grammar still makes the call well
    # formed and ends the turn with <|observation|> (one call: with parallel calls allowed, a
    # model that does not know the format tends to repeat the call until max_tokens)
    parsed, comp, _ = _run(
        default_engine, "Convert 20 euros to dollars.", "required", fmt_name="chatglm3", parallel=False
    )
    assert comp.stop == "<|observation|>", comp.text
    assert [c.name for c in parsed.tool_calls] == ["convert_currency"], comp.text
    assert parsed.tool_calls[0].arguments == {"amount": 20, "from_code": "EUR", "to_code": "USD"}
