"""General chat data: scripted teacher end to end, each filter, resume, the η mixture reads it."""

from __future__ import annotations

import json

import pytest

from calltune.datagen.decontam import BfclIndex
from calltune.datagen.general import (
    SYSTEM,
    GeneralRun,
    GeneralSettings,
    check_answer,
    generate_general,
)
from calltune.datagen.general_requests import KINDS, GeneralRequest, build_requests, request_id
from calltune.datagen.pipeline import read_jsonl
from calltune.datagen.teacher import Teacher
from calltune.testing import ScriptedEngine, hermes_call

#: an index with nothing of ours in it (the real BFCL index is tested in test_datagen_decontam)
EMPTY_INDEX = BfclIndex([("other_0", "a question about something else entirely and at some length")], [])


_WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa".split()


def good_answer(req: GeneralRequest) -> str:
    """An answer every filter keeps (distinct per request)."""
    if req.expect is not None:
        base = f"The answer is {req.expect:g}." if req.answer_lang == "en" else f"答案是{req.expect:g}。"
    elif req.answer_lang == "zh":
        base = "好的，这是我的回答：每天按时休息，保持好心情。"
    else:
        base = "Here is a short, friendly answer that covers the main points clearly."
    tag = req.id[-6:] if req.kind == "summarise" else req.id[-12:]  # a summary stays short
    return f"{base} {' '.join(_WORDS[int(c, 16)] for c in tag)}."


def _run(tmp_path, outputs, n, index=EMPTY_INDEX, **kw):
    eng = ScriptedEngine(outputs)
    rep = generate_general(tmp_path, Teacher(eng), GeneralSettings(n=n, **kw), index=index)
    return eng, rep


def test_requests_cover_every_kind_and_both_languages():
    reqs = build_requests(60)
    assert {r.kind for r in reqs} == set(KINDS)
    assert {r.lang for r in reqs} == {"en", "zh"}
    assert 0.2 <= sum(r.lang == "zh" for r in reqs) / len(reqs) <= 0.4
    assert len({r.id for r in reqs}) == len({r.text for r in reqs}) == 60
    assert [r.id for r in build_requests(20)] == [r.id for r in reqs[:20]]  # a prefix: resumable
    assert build_requests(20, seed=1) != build_requests(20)
    math = [r for r in build_requests(700) if r.kind == "math"]
    assert math and all(r.expect is not None and r.expect >= 0 for r in math)
    assert all(r.id == request_id(r.kind, r.lang, r.text) for r in reqs)


def test_end_to_end_with_a_scripted_teacher(tmp_path):
    n = 18
    reqs = build_requests(n)
    eng, rep = _run(tmp_path, [good_answer(r) for r in reqs], n)
    assert (rep["kept"], rep["rejected"]) == (n, 0)
    assert rep["decontam"]["ok"] and rep["decontam"]["texts"] == n
    kept = read_jsonl(tmp_path / "kept.jsonl")
    assert [k["id"] for k in kept] == [r.id for r in reqs]
    assert kept[0]["conversations"] == [
        {"role": "user", "content": reqs[0].text},
        {"role": "assistant", "content": good_answer(reqs[0])},
    ]
    assert json.loads((tmp_path / "report.json").read_text())["kept"] == n
    # every prompt: the same system prompt, the request, no tools
    prompts = [eng.tokenizer.decode(p) for p in eng.prompts]
    assert all(p.startswith(prompts[0][: prompts[0].index(SYSTEM) + len(SYSTEM)]) for p in prompts)
    assert all(reqs[i].text in p and "<tools>" not in p for i, p in enumerate(prompts))


def test_kept_file_feeds_the_eta_mixture(tmp_path):
    from calltune.train.data import load_records
    from calltune.train.mixing import mix
    from calltune.train.validate import filter_valid

    reqs = build_requests(6)
    _run(tmp_path, [good_answer(r) for r in reqs], 6, keep_system=True)
    records, rep = filter_valid(load_records(tmp_path / "kept.jsonl"))
    assert (rep.total, rep.valid) == (6, 6)
    assert records[0].sample["conversations"][0] == {"role": "system", "content": SYSTEM}
    mixed, mrep = mix(["agent"] * 2, records, eta=0.25, by="samples")
    assert mrep.general_samples == 6 and len(mixed) == 8


def _req(kind="writing", lang="en", answer_lang=None, **kw) -> GeneralRequest:
    return GeneralRequest("general-x", kind, lang, "a request", answer_lang or lang, **kw)


@pytest.mark.parametrize(
    ("req", "answer", "finish", "reason"),
    [
        (_req(), "   \n", "stop", "empty"),
        (_req(), "Here is the start of a long answer that was cut", "length", "truncated"),
        (_req(), "Sure.", "stop", "too_short"),
        (_req(), "word " * 1000, "stop", "too_long"),
        (
            _req("summarise", max_chars=40),
            "This summary is longer than the text it summarises.",
            "stop",
            "too_long",
        ),
        (_req(), "I'm sorry, but I can't help with writing that poem for you.", "stop", "refusal"),
        (_req(), "As an AI language model, I cannot write poems about the sea.", "stop", "refusal"),
        (_req(lang="zh"), "抱歉，我无法帮助你完成这个请求。", "stop", "refusal"),
        (_req(), hermes_call("write_poem", {"topic": "sea"}), "stop", "tool_markup"),
        (_req(), 'write_poem\n```python\ntool_call(topic="sea")\n```', "stop", "tool_markup"),
        (_req(), "The poem goes here <|observation|> and more text after it", "stop", "tool_markup"),
        (_req(lang="zh"), "This is an English answer to a Chinese request.", "stop", "language"),
        (_req("translation", answer_lang="zh"), "The museum opens at nine o'clock.", "stop", "language"),
        (_req(), "这是一个用中文写的回答，但是请求是英文的。", "stop", "language"),
        (
            _req("math", expect=38.0),
            "He gets 42 dollars back after buying the notebooks.",
            "stop",
            "wrong_answer",
        ),
    ],
)
def test_each_filter_rejects_a_crafted_bad_answer(req, answer, finish, reason):
    verdict = check_answer(req, answer, finish, GeneralSettings())
    assert verdict is not None and verdict[0] == reason, verdict


@pytest.mark.parametrize(
    ("req", "answer"),
    [
        (_req(), "Here is a four-line poem about the sea, calm and blue."),
        (_req("chat"), "Great job!"),  # casual chat may be short
        (_req(lang="zh"), "好的，这是一首小诗。"),
        (_req("translation", answer_lang="zh"), "博物馆九点开门，五点关门。"),
        (_req("math", expect=1200.0), "In total it travels 1,200 km."),
        (_req("math", expect=37.5), "The sale price is $37.50."),
        (
            _req("coding"),
            "```python\ndef is_leap(y):\n    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)\n```",
        ),
    ],
)
def test_good_answers_pass_the_filters(req, answer):
    assert check_answer(req, answer, "stop", GeneralSettings()) is None


def test_run_rejects_by_reason_duplicates_and_bfcl_overlap(tmp_path):
    reqs = build_requests(5)
    index = BfclIndex([("bfcl_like_1", reqs[0].text)], [])  # the first request "is" a BFCL question
    outputs = [
        # reqs[0] is never sent to the teacher
        good_answer(reqs[1]),
        good_answer(reqs[1]),  # the same answer again: a duplicate
        "I'm sorry, but I cannot assist with that request at this time.",
        "",
    ]
    eng, rep = _run(tmp_path, outputs, 5, index=index)
    assert len(eng.prompts) == 4
    rejected = {r["id"]: r for r in read_jsonl(tmp_path / "rejected.jsonl")}
    assert (
        rejected[reqs[0].id]["reason"] == "bfcl_overlap" and "bfcl_like_1" in rejected[reqs[0].id]["detail"]
    )
    assert [rejected[r.id]["reason"] for r in reqs[2:]] == ["duplicate", "refusal", "empty"]
    assert rep["kept"] == 1 and rep["rejected_by_reason"] == {
        "bfcl_overlap": 1,
        "duplicate": 1,
        "refusal": 1,
        "empty": 1,
    }


def test_resume_skips_done_ids_and_keeps_dedupe(tmp_path):
    reqs = build_requests(8)
    # the first run dies after 3 answers (the engine runs out), one line cut off by the kill
    eng = ScriptedEngine([good_answer(r) for r in reqs[:3]])
    run = GeneralRun(tmp_path, Teacher(eng), GeneralSettings(n=8), index=EMPTY_INDEX)
    with pytest.raises(Exception, match="ran out"):
        run.run()
    with (tmp_path / "kept.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"id": "general-cut", "conversa')
    # the second run answers only the 5 left; an answer equal to one kept before is a duplicate
    dup = next(
        i for i in range(3, 8) if reqs[i].answer_lang == reqs[0].answer_lang and reqs[i].expect is None
    )
    outputs = [good_answer(reqs[0] if i == dup else reqs[i]) for i in range(3, 8)]
    eng2, rep = _run(tmp_path, outputs, 8)
    assert len(eng2.prompts) == 5
    assert all(
        reqs[i].text in eng2.tokenizer.decode(p) for i, p in zip(range(3, 8), eng2.prompts, strict=True)
    )
    kept, rejected = read_jsonl(tmp_path / "kept.jsonl"), read_jsonl(tmp_path / "rejected.jsonl")
    ids = [r["id"] for r in kept + rejected]
    assert len(ids) == len(set(ids)) == 8 and set(ids) == {r.id for r in reqs}
    assert [r["reason"] for r in rejected] == ["duplicate"] and rejected[0]["id"] == reqs[dup].id
    assert (rep["kept"], rep["rejected"]) == (7, 1)
    from calltune.train.data import load_records

    assert len(load_records(tmp_path / "kept.jsonl")) == 7  # the cut-off line is gone: valid data
    # a third run has nothing left to do
    eng3, rep3 = _run(tmp_path, [], 8)
    assert eng3.prompts == [] and rep3["kept"] == 7


def test_cli_general_with_a_scripted_teacher(tmp_path):
    from typer.testing import CliRunner

    from calltune.cli import app

    reqs = build_requests(4)
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"outputs": [good_answer(r) for r in reqs]}), encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(
        app,
        ["data", "general", "--teacher", str(script), "--engine", "scripted", "--n", "4", "--out", str(out)],
    )
    assert r.exit_code == 0, r.output
    assert "kept" in r.stdout and len(read_jsonl(out / "kept.jsonl")) == 4
    check = CliRunner().invoke(app, ["data", "check", str(out / "kept.jsonl")])
    assert check.exit_code == 0, check.output
