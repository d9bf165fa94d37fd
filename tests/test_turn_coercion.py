"""Coercion of an argument to the string its schema declares (no generation)."""

from __future__ import annotations

import json

from calltune.datagen.library.domains._spec import function_spec
from calltune.formats import get_format
from calltune.testing import ScriptedEngine, hermes_call
from calltune.turn import Turn, TurnSettings
from calltune.turn.coercion import coerce_calls
from calltune.types import ToolCall

TOKEN = function_spec(
    "create_token",
    "Creates a signed token.",
    {
        "username": {"type": "string"},
        "options": {"type": "string", "description": "The options object, as text."},
        "ttl": {"type": "integer"},
        "either": {"type": ["string", "object"]},
        "nested": {"type": "object", "properties": {"tag": {"type": "string"}}},
    },
    ["username"],
)


def test_structures_numbers_and_booleans_become_their_json_text_where_a_string_is_declared() -> None:
    call = ToolCall(
        "create_token",
        {
            "username": "ann",
            "options": {"role": "admin", "ids": [1, 2]},
            "ttl": 60,
            "either": {"kept": True},
            "nested": {"tag": 7},
        },
    )
    (out,), coerced = coerce_calls([call], [TOKEN])
    assert out.arguments["options"] == '{"role": "admin", "ids": [1, 2]}'
    assert json.loads(out.arguments["options"]) == {"role": "admin", "ids": [1, 2]}
    assert out.arguments["ttl"] == 60  # declared integer: untouched
    assert out.arguments["either"] == {"kept": True}  # a union is not "exactly string"
    assert out.arguments["nested"] == {"tag": "7"}
    assert out.arguments["username"] == "ann"
    assert [(c.param, c.was) for c in coerced] == [("options", "object"), ("nested.tag", "number")]
    assert out.id == call.id


def test_null_unknown_functions_and_strings_are_left_alone() -> None:
    calls = [
        ToolCall("create_token", {"username": "ann", "options": None}),
        ToolCall("not_offered", {"options": {"a": 1}}),
    ]
    out, coerced = coerce_calls(calls, [TOKEN])
    assert out[0].arguments == {"username": "ann", "options": None}
    assert out[1].arguments == {"options": {"a": 1}}
    assert coerced == []
    (b,), found = coerce_calls([ToolCall("create_token", {"username": True})], [TOKEN])
    assert b.arguments["username"] == "true" and found[0].was == "boolean"


def _turn(out: str, coerce: bool) -> Turn:
    return Turn(
        ScriptedEngine([out]),
        get_format("hermes"),
        TurnSettings(
            check_relevance=False, continue_calls=False, ground_arguments=False, coerce_strings=coerce
        ),
    )


def test_the_turn_writes_out_the_declared_string_and_says_so_and_can_be_switched_off() -> None:
    msgs = [{"role": "user", "content": "Token for ann with role admin."}]
    out = hermes_call("create_token", {"username": "ann", "options": {"role": "admin"}})
    r = _turn(out, True).run(msgs, [TOKEN])
    assert r.calls[0].arguments["options"] == '{"role": "admin"}'
    assert r.coerced == [{"name": "create_token", "param": "options", "was": "object"}]
    off = _turn(out, False).run(msgs, [TOKEN])
    assert off.calls[0].arguments["options"] == {"role": "admin"} and off.coerced == []
