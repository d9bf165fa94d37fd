"""Structured outputs on the real default model (Qwen2.5-Coder-1.5B GGUF) through ``calltune serve``."""

from __future__ import annotations

import json

import jsonschema
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("openai")

from calltune.testing import served  # noqa: E402

CONTACT = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 60},
        "age": {"type": "integer", "minimum": 0, "maximum": 130},
        "email": {"type": "string", "format": "email"},
        "role": {"enum": ["engineer", "manager", "designer", "other"]},
    },
    "required": ["name", "age", "email", "role"],
    "additionalProperties": False,
}


@pytest.mark.model
def test_default_model_answers_with_schema_valid_json(default_engine) -> None:
    rf = {"type": "json_schema", "json_schema": {"name": "contact", "schema": CONTACT, "strict": True}}
    ask = [
        {
            "role": "user",
            "content": "Extract the contact: 'I'm Maria Lopez, 34, a software engineer. Mail: maria.lopez@example.com'",
        }
    ]
    with served(default_engine) as (_, client, _srv):
        client = client.with_options(timeout=600)  # a shared 2-core CPU; the first grammar compiles
        resp = client.chat.completions.create(
            model="m", messages=ask, response_format=rf, temperature=0, max_tokens=200
        )
        stream = client.chat.completions.create(
            model="m", messages=ask, response_format=rf, temperature=0, max_tokens=200, stream=True
        )
        streamed = "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices)
    content = resp.choices[0].message.content
    doc = json.loads(content)
    cls = jsonschema.validators.validator_for(CONTACT)
    cls(CONTACT, format_checker=cls.FORMAT_CHECKER).validate(doc)
    assert (doc["name"], doc["age"], doc["email"]) == ("Maria Lopez", 34, "maria.lopez@example.com")
    assert streamed == content, "greedy decoding: the stream writes the same answer"
