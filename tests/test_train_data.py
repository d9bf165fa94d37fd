"""Seed-format data: reading with locations, validation, converters, AgentTuning mixing."""

from __future__ import annotations

import json

import pytest

from calltune.train.convert import (
    ConvertError,
    convert_file,
    openai_to_seed,
    seed_to_openai,
    seed_to_sharegpt,
    sharegpt_to_seed,
)
from calltune.train.data import DataError, iter_records, load_records, write_samples
from calltune.train.mixing import MixError, mix
from calltune.train.validate import InvalidDataError, check_records, filter_valid, validate_sample

ADD = {
    "name": "add",
    "description": "Add two integers.",
    "parameters": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
}
SHOUT = {
    "name": "shout",
    "description": "Upper-case a text.",
    "parameters": {"type": "object", "properties": {"text": {"type": "string"}}},
}


def good_sample() -> dict:
    return {
        "tools": [ADD, SHOUT],
        "conversations": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "2+3?"},
            {"role": "assistant", "content": "Let me add."},
            {"role": "tool", "name": "add", "parameters": {"a": 2, "b": 3}, "observation": {"sum": 5}},
            {"role": "assistant", "content": "It is 5."},
            {"role": "user", "content": "Shout hi and add 1 and 1"},
            {
                "role": "tool",
                "calls": [
                    {"name": "shout", "parameters": {"text": "hi"}, "observation": "HI"},
                    {"name": "add", "parameters": {"a": 1, "b": 1}, "observation": 2},
                ],
            },
            {"role": "assistant", "content": "HI, and 2.", "loss": False},
        ],
    }


# --------------------------------------------------------------------------- reading
def test_jsonl_and_json_list_records_have_line_numbers(tmp_path):
    s = good_sample()
    jl = tmp_path / "a.jsonl"
    jl.write_text("\n" + json.dumps(s) + "\n\n" + json.dumps(s) + "\n")
    recs = list(iter_records(jl))
    assert [(r.line, r.index) for r in recs] == [(2, 0), (4, 1)]
    js = tmp_path / "a.json"
    js.write_text("[\n" + json.dumps(s) + ",\n\n  " + json.dumps(s) + "\n]\n")
    recs = list(iter_records(js))
    assert [(r.line, r.index) for r in recs] == [(2, 0), (4, 1)]
    assert recs[1].location == f"{js}:4"


def test_bad_json_reports_its_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text(json.dumps(good_sample()) + "\n{oops\n")
    with pytest.raises(DataError, match=r"bad.jsonl:2: invalid JSON"):
        list(iter_records(p))


def test_write_samples_roundtrip(tmp_path):
    for name in ("x.jsonl", "x.json"):
        p = tmp_path / name
        assert write_samples(p, [good_sample(), good_sample()]) == 2
        assert [r.sample for r in load_records(p)] == [good_sample(), good_sample()]


# --------------------------------------------------------------------------- validation
def test_good_sample_is_valid():
    assert validate_sample(good_sample()) == ([], [])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda c: c.insert(2, {"role": "system", "content": "late"}),
            "conversations[2]: a system message may only appear at the start",
        ),
        (
            lambda c: c.insert(2, {"role": "user", "content": "again"}),
            "conversations[2]: two user messages in a row",
        ),
        (
            lambda c: c.__setitem__(1, {"role": "assistant", "content": "first"}),
            "conversations[1]: an assistant message must follow",
        ),
        (
            lambda c: c.__setitem__(3, {"role": "tool", "name": "mul", "parameters": {}, "observation": 1}),
            "conversations[3]: calls 'mul', which is not in 'tools'",
        ),
        (
            lambda c: c.__setitem__(
                3, {"role": "tool", "name": "add", "parameters": {"a": "2", "b": 3}, "observation": 5}
            ),
            "conversations[3]: arguments of 'add' at a break its schema",
        ),
        (
            lambda c: c.__setitem__(3, {"role": "tool", "name": "add", "parameters": {"a": 2, "b": 3}}),
            "conversations[3]: missing 'observation'",
        ),
        (lambda c: c[4].__setitem__("loss", "yes"), "conversations[4]: 'loss' must be true or false"),
        (
            lambda c: c[6]["calls"][1]["parameters"].pop("b"),
            "conversations[6].calls[1]: arguments of 'add' break its schema: 'b' is a required property",
        ),
        (
            lambda c: c.append({"role": "narrator", "content": "x"}),
            "conversations[8]: unknown role 'narrator'",
        ),
    ],
)
def test_validation_errors_name_the_message(edit, message):
    s = good_sample()
    edit(s["conversations"])
    errors, _ = validate_sample(s)
    assert any(e.startswith(message) for e in errors), errors


def test_check_points_to_the_bad_sample_and_skip_invalid_counts(tmp_path):
    bad = good_sample()
    bad["conversations"].insert(1, {"role": "user", "content": "dup"})
    p = tmp_path / "d.jsonl"
    write_samples(p, [good_sample(), good_sample(), bad, good_sample()])
    recs = load_records(p)
    rep = check_records(recs)
    assert (rep.total, rep.valid, rep.invalid) == (4, 3, 1)
    assert [str(e) for e in rep.errors] == [
        f"{p}:3 (sample 2): error: conversations[2]: two user messages in a row"
    ]
    assert rep.stats["tool_calls"] == 9 and rep.stats["parallel_turns"] == 3
    with pytest.raises(InvalidDataError, match="1 of 4 samples are invalid"):
        filter_valid(recs)
    keep, rep2 = filter_valid(recs, skip_invalid=True)
    assert [r.index for r in keep] == [0, 1, 3] and rep2.invalid == 1


def test_openai_messages_get_a_conversion_hint():
    errors, _ = validate_sample({"messages": []})
    assert errors == [
        "missing 'conversations' (OpenAI 'messages'? run `calltune data convert --from openai`)"
    ]


# --------------------------------------------------------------------------- converters
def test_seed_to_openai_exact():
    oa = seed_to_openai(good_sample())
    m = oa["messages"]
    assert [x["role"] for x in m] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
    ]
    assert m[2] == {
        "role": "assistant",
        "content": "Let me add.",
        "tool_calls": [
            {"id": "call_0", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'}}
        ],
    }
    assert m[3] == {
        "role": "tool",
        "tool_call_id": "call_0",
        "name": "add",
        "content": '{"sum": 5}',
        "loss": False,
    }
    assert [c["function"]["name"] for c in m[6]["tool_calls"]] == ["shout", "add"]
    assert m[9] == {"role": "assistant", "content": "HI, and 2.", "loss": False}
    assert oa["tools"][0] == {"type": "function", "function": ADD}


def test_openai_roundtrip():
    seed = good_sample()
    oa = seed_to_openai(seed)
    back = openai_to_seed(oa)
    # observations come back as the strings the model saw
    expected = json.loads(json.dumps(seed))
    expected["conversations"][3]["observation"] = '{"sum": 5}'
    expected["conversations"][6]["calls"][1]["observation"] = "2"
    assert back == expected
    assert seed_to_openai(back) == oa


def test_openai_legacy_function_call_and_errors():
    s = {
        "functions": [ADD],
        "messages": [
            {"role": "user", "content": "1+1"},
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "add", "arguments": '{"a": 1, "b": 1}'},
            },
            {"role": "function", "name": "add", "content": "2"},
            {"role": "assistant", "content": "2"},
        ],
    }
    assert openai_to_seed(s) == {
        "tools": [ADD],
        "conversations": [
            {"role": "user", "content": "1+1"},
            {"role": "tool", "name": "add", "parameters": {"a": 1, "b": 1}, "observation": "2"},
            {"role": "assistant", "content": "2"},
        ],
    }
    dangling = {
        "messages": [
            {"role": "user", "content": "x"},
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}}
                ],
            },
        ]
    }
    with pytest.raises(ConvertError, match=r"messages\[1\]: tool call 'add' \(c1\) has no tool result"):
        openai_to_seed(dangling)


def test_sharegpt_roundtrip_and_parallel():
    sg = {
        "system": "Be brief.",
        "tools": json.dumps([ADD, SHOUT]),
        "conversations": [
            {"from": "human", "value": "2+3 and shout yo"},
            {
                "from": "function_call",
                "value": json.dumps(
                    [
                        {"name": "add", "arguments": {"a": 2, "b": 3}},
                        {"name": "shout", "arguments": {"text": "yo"}},
                    ]
                ),
            },
            {"from": "observation", "value": json.dumps([5, "YO"])},
            {"from": "gpt", "value": "5, YO"},
            {"from": "human", "value": "1+1"},
            {"from": "function_call", "value": json.dumps({"name": "add", "arguments": {"a": 1, "b": 1}})},
            {"from": "observation", "value": "2"},
            {"from": "gpt", "value": "2"},
        ],
    }
    seed = sharegpt_to_seed(sg)
    assert seed["conversations"][0] == {"role": "system", "content": "Be brief."}
    assert seed["conversations"][2] == {
        "role": "tool",
        "calls": [
            {"name": "add", "parameters": {"a": 2, "b": 3}, "observation": 5},
            {"name": "shout", "parameters": {"text": "yo"}, "observation": "YO"},
        ],
    }
    assert seed["conversations"][5] == {
        "role": "tool",
        "name": "add",
        "parameters": {"a": 1, "b": 1},
        "observation": "2",
    }
    assert validate_sample(seed) == ([], [])
    assert seed_to_sharegpt(seed) == sg
    assert sharegpt_to_seed(seed_to_sharegpt(seed)) == seed


def test_sharegpt_errors():
    with pytest.raises(ConvertError, match=r"conversations\[0\]: unknown 'from' 'bot'"):
        sharegpt_to_seed({"conversations": [{"from": "bot", "value": "x"}]})
    with pytest.raises(
        ConvertError, match="2 parallel calls need an observation that is a JSON list of 2 results"
    ):
        sharegpt_to_seed(
            {
                "conversations": [
                    {"from": "human", "value": "x"},
                    {
                        "from": "function_call",
                        "value": json.dumps([{"name": "a", "arguments": {}}, {"name": "b", "arguments": {}}]),
                    },
                    {"from": "observation", "value": "one result"},
                ]
            }
        )


def test_convert_file_reports_location(tmp_path):
    src = tmp_path / "in.jsonl"
    ok = seed_to_openai(good_sample())
    src.write_text(json.dumps(ok) + "\n" + json.dumps({"nope": 1}) + "\n")
    with pytest.raises(
        ConvertError, match=r"in.jsonl:2 \(sample 1\): an OpenAI sample needs a 'messages' list"
    ):
        convert_file(src, tmp_path / "out.jsonl", "openai")
    n, problems = convert_file(src, tmp_path / "out.jsonl", "openai", skip_invalid=True)
    assert n == 1 and len(problems) == 1
    assert load_records(tmp_path / "out.jsonl")[0].sample == openai_to_seed(ok)


# --------------------------------------------------------------------------- mixing
def test_mixing_ratio_by_tokens_holds():
    agent = [("a", w) for w in [30, 50, 20, 40, 60] * 4]  # 800 label tokens
    general = [("g", w) for w in [10, 25, 35, 15, 45, 20] * 10]  # 1500 available
    mixed, rep = mix(agent, general, eta=0.2, weight=lambda x: x[1], seed=1)
    a = sum(w for k, w in mixed if k == "a")
    g = sum(w for k, w in mixed if k == "g")
    assert a == 800 and rep.agent_weight == 800 and rep.general_weight == g
    assert abs(a / (a + g) - 0.2) < 0.01
    assert rep.eta_realised == pytest.approx(a / (a + g))
    assert rep.general_passes > 2  # 3200 needed from 1500 available: general data repeats
    assert sum(1 for k, _ in mixed if k == "a") == 20


def test_mixing_by_samples_and_errors():
    mixed, rep = mix(list(range(10)), [-1] * 100, eta=0.25, by="samples")
    assert rep.agent_samples == 10 and rep.general_samples == 30 and rep.eta_realised == 0.25
    assert len(mixed) == 40
    with pytest.raises(MixError, match="eta must be in"):
        mix([1], [2], eta=0)
    with pytest.raises(MixError, match="asks for general data"):
        mix([1], [], eta=0.5)
    only, rep1 = mix([1, 2], [], eta=1.0)
    assert sorted(only) == [1, 2] and rep1.eta_realised == 1.0
