"""Grammars built by calltune.guided accept valid calls and reject invalid ones, per format.

Checked byte by byte with xgrammar's matcher (``Constraint.matches``); the token-level
checks with the real model vocabulary are in test_guided_tokens.py.
"""

from __future__ import annotations

import json

import jsonschema
import pytest
from guided_fixtures import (
    ADD,
    BOOK,
    FORMATS,
    FULL,
    INVALID,
    REQ,
    STRICT_ONLY,
    TOOLS,
    TURN,
    chatglm3_call,
    glm4_call,
    hermes_call,
)

from calltune.formats import get_format
from calltune.guided import GuidedError, build_constraint, parse_mode
from calltune.guided.pyliteral import PyLiteralGrammar
from calltune.guided.schema import normalize_schema


def _schema_valid(args: dict) -> bool:
    try:
        jsonschema.validate(args, normalize_schema(BOOK))
        return True
    except jsonschema.ValidationError:
        return False


def test_fixtures_are_what_they_claim() -> None:
    assert _schema_valid(REQ) and _schema_valid(FULL)
    for args, why in INVALID:
        assert _schema_valid(args) == (why in STRICT_ONLY), why


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("args", [REQ, FULL], ids=["required-only", "all-features"])
def test_required_accepts_valid_calls(fmt: str, args: dict) -> None:
    c = build_constraint(fmt, TOOLS, "required")
    text = TURN[fmt]([("book_hotel", args)])
    assert c.matches(text)
    # the format's own parser reads it back to the same arguments
    parsed = get_format(fmt).parse(text.removesuffix("<|observation|>"))
    assert [(tc.name, tc.arguments) for tc in parsed.tool_calls] == [("book_hotel", args)]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("args,why", INVALID, ids=[w for _, w in INVALID])
def test_required_rejects_invalid_calls(fmt: str, args: dict, why: str) -> None:
    c = build_constraint(fmt, TOOLS, "required")
    assert not c.matches(TURN[fmt]([("book_hotel", args)])), why


@pytest.mark.parametrize("fmt", FORMATS)
def test_required_rejects_text_unknown_tools_and_empty(fmt: str) -> None:
    c = build_constraint(fmt, TOOLS, "required")
    assert not c.matches("The weather is nice.")
    assert not c.matches("\nThe weather is nice.")
    assert not c.matches(TURN[fmt]([("get_weather", {"city": "x"})]))
    assert not c.matches("")


@pytest.mark.parametrize("fmt", FORMATS)
def test_parallel_calls_allowed_only_when_parallel(fmt: str) -> None:
    two = TURN[fmt]([("add", {"a": 1, "b": 2}), ("book_hotel", REQ)])
    assert build_constraint(fmt, TOOLS, "required", parallel=True).matches(two)
    assert not build_constraint(fmt, TOOLS, "required", parallel=False).matches(two)
    assert build_constraint(fmt, TOOLS, "required", parallel=False).matches(TURN[fmt]([("add", {"a": 1})]))


@pytest.mark.parametrize("fmt", FORMATS)
def test_named_allows_exactly_that_tool(fmt: str) -> None:
    c = build_constraint(fmt, TOOLS, "named:add")
    assert c.tool_names == ["add"]
    assert c.matches(TURN[fmt]([("add", {"a": 1, "b": None})]))
    assert c.matches(TURN[fmt]([("add", {"a": 1}), ("add", {"a": 2})]))
    assert not c.matches(TURN[fmt]([("book_hotel", REQ)]))
    assert not c.matches(TURN[fmt]([("add", {"b": 1})]))
    # an OpenAI tool_choice object means the same
    assert build_constraint(fmt, TOOLS, {"type": "function", "function": {"name": "add"}}).mode == "named:add"


def test_auto_hermes_is_lazy() -> None:
    c = build_constraint("hermes", TOOLS, "auto")
    assert c.matches("Paris is the capital of France.")
    assert c.matches("Let me add these.\n" + hermes_call("add", {"a": 1, "b": 2}))
    assert c.matches(hermes_call("add", {"a": 1}) + "\n" + hermes_call("book_hotel", FULL))
    # once <tool_call> is written, the call is constrained
    assert not c.matches("Sure. " + hermes_call("add", {"a": "one"}))
    assert not c.matches("Sure. " + hermes_call("nope", {"a": 1}))
    assert not c.matches("<tool_call>\nnot json\n</tool_call>")


@pytest.mark.parametrize("fmt,call", [("chatglm3", chatglm3_call), ("glm4", glm4_call)])
def test_auto_glm_text_or_calls(fmt: str, call) -> None:
    c = build_constraint(fmt, TOOLS, "auto")
    assert c.matches("\nParis is the capital of France.")
    assert c.matches(call("add", {"a": 1}) + "<|observation|>")
    # text, then a call as a new assistant message (the seed's example)
    assert c.matches("\nLet me check.<|assistant|>" + call("add", {"a": 1}) + "<|observation|>")
    assert not c.matches("\nLet me check.<|assistant|>" + call("add", {"a": "x"}) + "<|observation|>")
    assert not c.matches(call("nope", {"a": 1}) + "<|observation|>")


@pytest.mark.parametrize("fmt", FORMATS)
def test_none_forbids_starting_a_call(fmt: str) -> None:
    c = build_constraint(fmt, TOOLS, "none")
    text = "Paris is the capital." if fmt == "hermes" else "\nParis is the capital."
    assert c.matches(text)
    assert not c.matches(TURN[fmt]([("add", {"a": 1})]))
    if fmt == "hermes":
        assert not c.matches("Sure: " + hermes_call("add", {"a": 1}))
    else:
        assert not c.matches("\nSure<|assistant|>" + TURN[fmt]([("add", {"a": 1})]))


def test_chatglm3_python_literal_spellings() -> None:
    c = build_constraint("chatglm3", TOOLS, "named:book_hotel")
    base = "city='Paris', nights=2, budget=3, pets=True, rooms=[], unit=\"f\", where={'x': 0, \"y\": 1e3}"
    ok = [
        base,
        base + ", note=None, mode=None",
        base + ", guests=[{'name': 'A\\'s'}], tags={'k': \"v\"}, pair=(1, 'x')",
        base + ", anything={'a': [1, 2.5, False, None, 'x']}",
    ]
    for args in ok:
        assert c.matches(f"book_hotel\n```python\ntool_call({args})\n```<|observation|>"), args
    bad = [
        base.replace("pets=True", "pets=true"),  # JSON spelling: the grammar writes Python
        base.replace("nights=2", "nights=2.0"),
        base.replace("city='Paris'", "city=Paris"),  # a name, not a literal
        base + ", note=null",
        base + ", unit='c'",  # given twice
        "nights=2, " + base.replace("nights=2, ", ""),  # out of declared order
    ]
    for args in bad:
        assert not c.matches(f"book_hotel\n```python\ntool_call({args})\n```<|observation|>"), args


def test_chatglm3_non_identifier_names_use_double_star_dict() -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "route",
            "parameters": {
                "type": "object",
                "properties": {
                    "to": {"type": "string"},
                    "from": {"type": "string"},
                    "max-stops": {"type": "integer"},
                },
                "required": ["to"],
            },
        },
    }
    c = build_constraint("chatglm3", [tool], "required")
    from calltune.formats.pyliteral import render_tool_call

    for args in (
        {"to": "B"},
        {"to": "B", "from": "A"},
        {"to": "B", "from": "A", "max-stops": 2},
        {"to": "B", "max-stops": 0},
    ):
        text = f"route\n```python\n{render_tool_call(args)}\n```<|observation|>"
        assert c.matches(text), text
    assert not c.matches("route\n```python\ntool_call(to='B', **{})\n```<|observation|>")


def test_strict_only_constrains_strict_tools() -> None:
    strict = {"type": "function", "function": {"name": "s", "strict": True, "parameters": ADD}}
    loose = {"type": "function", "function": {"name": "l", "parameters": ADD}}
    assert build_constraint("hermes", [loose], "auto", strict_only=True) is None
    c = build_constraint("hermes", [strict, loose], "auto", strict_only=True)
    assert c is not None and c.tool_names == ["s", "l"]
    assert not c.matches(hermes_call("s", {"a": "x"}))
    assert c.matches(hermes_call("s", {"a": 1}))
    assert c.matches(hermes_call("l", {"a": "x", "anything": [1]}))  # not strict: any object


def test_bad_input_errors_are_clear() -> None:
    with pytest.raises(GuidedError, match="unknown guided mode"):
        parse_mode("sometimes")
    with pytest.raises(GuidedError, match="not among the tools"):
        build_constraint("hermes", TOOLS, "named:nope")
    with pytest.raises(GuidedError, match="needs at least one tool"):
        build_constraint("hermes", [], "required")
    with pytest.raises(GuidedError, match="no call syntax for format 'llama3'"):
        build_constraint("llama3", TOOLS, "required")
    assert build_constraint("hermes", [], "auto") is None


def test_pyliteral_grammar_string_lengths_and_arrays() -> None:
    g = PyLiteralGrammar()
    root = g.kwargs_rule(
        {
            "type": "object",
            "properties": {
                "code": {"type": "string", "minLength": 2, "maxLength": 3},
                "ids": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 2},
            },
            "required": ["code", "ids"],
        }
    )
    import xgrammar as xgr

    grammar = xgr.Grammar.from_ebnf(g.ebnf(root))
    from calltune.guided.tokenizer_info import byte_tokenizer_info

    compiled = xgr.GrammarCompiler(byte_tokenizer_info()).compile_grammar(grammar)

    def ok(s: str) -> bool:
        m = xgr.GrammarMatcher(compiled)
        return m.accept_string(s) and m.is_completed()

    assert ok("code='ab', ids=[1]") and ok('code="abc", ids=[1, 2]')
    assert not ok("code='a', ids=[1]") and not ok("code='abcd', ids=[1]")
    assert not ok("code='ab', ids=[]") and not ok("code='ab', ids=[1, 2, 3]")


def test_auto_hermes_fenced_json_calls_are_constrained() -> None:
    c = build_constraint("hermes", TOOLS, "auto")
    fenced = '```json\n{\n  "name": "add",\n  "arguments": {\n    "a": 20,\n    "b": 1\n  }\n}\n```'
    assert c.matches(fenced)
    assert c.matches("Here it is:\n" + fenced + "\nDone.")
    assert get_format("hermes").parse(fenced).tool_calls[0].arguments == {"a": 20, "b": 1}
    assert not c.matches(fenced.replace("20", '"20"'))
    assert not c.matches('```json\n{"x": 1}\n```')
    both = [{"name": "add", "arguments": {"a": 1}}, {"name": "book_hotel", "arguments": REQ}]
    listed = "```json\n" + json.dumps(both, indent=2) + "\n```"
    assert c.matches(listed)
    assert [tc.name for tc in get_format("hermes").parse(listed).tool_calls] == ["add", "book_hotel"]
    assert not build_constraint("hermes", TOOLS, "auto", parallel=False).matches(listed)


def test_chatglm3_numbers_are_bounded() -> None:
    c = build_constraint("chatglm3", TOOLS, "named:add")

    def call(a: str) -> str:
        return f"add\n```python\ntool_call(a={a})\n```<|observation|>"

    assert c.matches(call("1234567890123456789")) and c.matches(call("-0.5e-10"))
    assert not c.matches(call("1" * 20))  # a model looping on digits is stopped
    assert not c.matches(call("01"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_parallel_calls_are_bounded(fmt: str) -> None:
    from calltune.guided.syntax import MAX_PARALLEL_CALLS

    c = build_constraint(fmt, TOOLS, "required")
    assert c.matches(TURN[fmt]([("add", {"a": i}) for i in range(MAX_PARALLEL_CALLS)]))
    # a model repeating its calls is stopped after MAX_PARALLEL_CALLS
    assert not c.matches(TURN[fmt]([("add", {"a": i}) for i in range(MAX_PARALLEL_CALLS + 1)]))
