"""Grammars for ``response_format``: the answer is one JSON value that follows the schema.

Checked byte by byte (``Constraint.matches``) in every format, and at the token level: a
stand-in "model" that emits random logits decodes through the transformers logits processor,
and every output it writes parses as JSON and validates against the schema.
"""

from __future__ import annotations

import json

import jsonschema
import pytest
from guided_fixtures import TURN, random_decode, trained_hf_tokenizer
from structured_fixtures import PERSON, PERSON_BAD, PERSON_FULL, PERSON_OK

from calltune.guided import GuidedError, build_constraint
from calltune.guided.schema import normalize_schema, unenforceable_keywords
from calltune.testing import WEATHER

FORMATS = sorted(TURN)
PREFIX = {"hermes": "", "chatglm3": "\n", "glm4": "\n"}


def _validator(schema: dict) -> jsonschema.Validator:
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_fixtures_are_what_they_claim() -> None:
    v = _validator(PERSON)
    assert v.is_valid(PERSON_OK) and v.is_valid(PERSON_FULL)
    for doc, why in PERSON_BAD:
        assert not v.is_valid(doc), why


@pytest.mark.parametrize("fmt", FORMATS)
def test_answer_follows_the_schema(fmt: str) -> None:
    c = build_constraint(fmt, [], "none", response_schema=PERSON)
    assert not c.allows_calls and c.response_schema is not None
    pre = PREFIX[fmt]
    for doc in (PERSON_OK, PERSON_FULL):
        assert c.matches(pre + json.dumps(doc)), doc
        assert c.matches(pre + json.dumps(doc, indent=2)), "pretty-printed JSON is JSON too"
    for doc, why in PERSON_BAD:
        assert not c.matches(pre + json.dumps(doc)), why
    assert not c.matches(pre + "Here it is: " + json.dumps(PERSON_OK))
    assert not c.matches(pre + "```json\n" + json.dumps(PERSON_OK) + "\n```")
    assert not c.matches(pre + json.dumps(PERSON_OK)[:-1]), "an unfinished object is not complete"


@pytest.mark.parametrize("fmt", FORMATS)
def test_with_tools_calls_or_the_answer(fmt: str) -> None:
    c = build_constraint(fmt, [WEATHER], "auto", response_schema=PERSON)
    assert c.allows_calls
    assert c.matches(TURN[fmt]([("get_current_weather", {"location": "Paris"})]))
    assert c.matches(PREFIX[fmt] + json.dumps(PERSON_OK))
    assert not c.matches(PREFIX[fmt] + "It is sunny in Paris.")
    assert not c.matches(TURN[fmt]([("get_local_time", {"city": "Paris"})])), "unknown tool"
    if fmt == "hermes":  # the fenced call small Qwen models write stays a call
        fenced = '```json\n{"name": "get_current_weather", "arguments": {"location": "Paris"}}\n```'
        assert c.matches(fenced)


@pytest.mark.parametrize("fmt", FORMATS)
def test_forced_choices_ignore_the_response_schema(fmt: str) -> None:
    plain = build_constraint(fmt, [WEATHER], "required")
    with_rf = build_constraint(fmt, [WEATHER], "required", response_schema=PERSON)
    assert with_rf.key == plain.key and with_rf.response_schema is None


def test_json_object_mode_allows_any_object() -> None:
    c = build_constraint("hermes", [], "none", response_schema={"type": "object"})
    assert c.matches('{"a": [1, {"b": null}], "c": "d"}')
    assert c.matches("{}")
    assert not c.matches("[1, 2]") and not c.matches('"text"') and not c.matches("plain text")


def test_unenforceable_keywords_are_refused() -> None:
    bad = {
        "type": "object",
        "properties": {
            "ids": {"type": "array", "items": {"type": "integer"}, "uniqueItems": True},
            "code": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 3},
            "x": {"not": {"type": "string"}},
        },
    }
    found = unenforceable_keywords(bad)
    assert found == ["#/properties/ids/uniqueItems", "#/properties/code/maxLength", "#/properties/x/not"]
    with pytest.raises(GuidedError, match="uniqueItems"):
        build_constraint("hermes", [], "none", response_schema=bad)
    assert unenforceable_keywords(PERSON) == []


def test_string_lengths_become_patterns() -> None:
    """xgrammar's own length rule admits raw control characters (not JSON); the pattern does not."""
    schema = {"type": "object", "properties": {"s": {"type": "string", "minLength": 2, "maxLength": 4}}}
    assert normalize_schema(schema, aliases=False)["properties"]["s"] == {
        "type": "string",
        "pattern": "^.{2,4}$",
    }
    c = build_constraint("hermes", [], "none", response_schema=schema)
    assert c.matches('{"s": "abc"}')
    assert not c.matches('{"s": "a"}') and not c.matches('{"s": "abcde"}')
    assert not c.matches('{"s": "a\x11b"}')


def test_invalid_schema_is_a_guided_error() -> None:
    with pytest.raises(GuidedError):
        build_constraint("hermes", [], "none", response_schema={"type": "string", "pattern": "(("})


@pytest.mark.parametrize("seed", range(6))
def test_random_logits_always_give_schema_valid_json(seed: int) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    corpus = [json.dumps(PERSON_FULL), json.dumps(PERSON_OK, indent=2), "The quick brown fox, 0123456789."]
    tok = trained_hf_tokenizer(corpus, vocab_size=500)
    c = build_constraint("hermes", [], "none", response_schema=PERSON)
    proc = c.hf_logits_processor(tok, vocab_size=len(tok))
    # the stand-in model writes ASCII (random bytes would be invalid UTF-8), favours closing
    # characters so that strings and arrays end, and keeps whitespace rare
    pieces = [tok.decode([i]) for i in range(len(tok))]
    bias = torch.zeros(len(tok))
    bias[[i for i, p in enumerate(pieces) if not p.isascii()]] = float("-inf")
    bias[[i for i, p in enumerate(pieces) if p and p in '"}],@.']] += 3.0
    bias[[i for i, p in enumerate(pieces) if p and not p.strip()]] -= 3.0
    bias[tok.convert_tokens_to_ids("<|im_end|>")] = 3.0
    doc = json.loads(random_decode(proc, tok, bias, seed=seed, max_steps=400))
    _validator(PERSON).validate(doc)
