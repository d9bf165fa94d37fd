"""Decontamination against BFCL: planted questions and names are caught, unrelated text is not.

The planted texts are taken from the installed bfcl_eval data at test time (never copied
into the repository).
"""

from __future__ import annotations

import json
import re
import time

import pytest

pytest.importorskip("bfcl_eval")

from calltune.datagen import decontam  # noqa: E402
from calltune.datagen.decontam import (  # noqa: E402
    NGRAM,
    BfclIndex,
    ContaminationError,
    bfcl_index,
    check_records,
    normalize_name,
    tokens,
)
from calltune.eval.bfcl_data import bfcl_data_dir  # noqa: E402

UNRELATED = "Draft a polite note to my landlord about the broken heater in the hallway since last Monday."


def _rows(name: str) -> list[dict]:
    path = bfcl_data_dir() / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _first_user_text(row: dict) -> str:
    return next(decontam._user_texts(row["question"]))


@pytest.fixture(scope="module")
def idx() -> BfclIndex:
    return bfcl_index()


@pytest.fixture(scope="module")
def planted() -> tuple[str, str]:
    """A long simple_python question and its case id."""
    for row in _rows("BFCL_v4_simple_python.json"):
        text = _first_user_text(row)
        if len(tokens(text)) >= 15:
            return row["id"], text
    raise AssertionError("no long simple_python question")


@pytest.fixture(scope="module")
def planted_zh() -> tuple[str, str]:
    """A live question with at least 12 Chinese characters and its case id."""
    for row in _rows("BFCL_v4_live_multiple.json"):
        text = _first_user_text(row)
        if len(re.findall(r"[\u4e00-\u9fff]", text)) >= 12:
            return row["id"], text
    raise AssertionError("no Chinese live_multiple question")


def _light_paraphrase(text: str) -> str:
    """Case and punctuation changes only (the tokens stay the same)."""
    out = text.upper().replace(",", " ,  ").replace("?", "!!").replace(".", ";")
    return "«" + out.replace("，", ", ").replace("？", "?").replace("。", ". ") + "»"


def test_tokens_split_words_and_chinese_characters():
    assert tokens("What's the WEATHER, in São_Paulo?") == [
        "what",
        "s",
        "the",
        "weather",
        "in",
        "são",
        "paulo",
    ]
    assert tokens("北京今天天气 ok？") == ["北", "京", "今", "天", "天", "气", "ok"]
    assert normalize_name("Finance.Get_Stock-Price") == "getstockprice"
    assert normalize_name("查询_天气") == "查询天气"


def test_planted_question_is_caught_with_its_case_id(idx, planted):
    cid, text = planted
    assert idx.request_overlap(text) == (1.0, cid)
    assert idx.request_overlap(_light_paraphrase(text)) == (1.0, cid)
    wrapped, got = idx.request_overlap("Quick one: " + text.lower())  # 2 new words, >= 15 copied
    assert got == cid and wrapped >= 0.8


def test_planted_chinese_question_is_caught_by_characters(idx, planted_zh):
    cid, text = planted_zh
    score, got = idx.request_overlap(_light_paraphrase(text))
    assert (score, got) == (1.0, cid)


def test_unrelated_text_scores_low(idx):
    score, _ = idx.request_overlap(UNRELATED)
    assert score < 0.2
    assert idx.request_overlap("帮我写一首关于秋天落叶和远方朋友的短诗，要押韵")[0] < 0.2
    assert idx.request_overlap("") == (0.0, None)
    assert idx.request_overlap("?!") == (0.0, None)


def test_short_texts_score_by_length():
    index = BfclIndex(
        [("c1", "What can you do?"), ("c2", "please book a table for two tonight at eight")], []
    )
    assert index.request_overlap("what can you do") == (4 / NGRAM, "c1")
    assert index.request_overlap("Book a table!") == (3 / NGRAM, "c2")  # inside a question
    assert index.request_overlap("a table book") == (0.0, None)  # not in a row
    assert index.request_overlap("please book a table for two tonight at eight") == (1.0, "c2")


def test_planted_function_names_are_caught(idx):
    single = _rows("BFCL_v4_simple_python.json")[0]["function"][0]["name"]
    multi = next(decontam._json_objects(bfcl_data_dir() / "multi_turn_func_doc" / "gorilla_file_system.json"))
    planted = ["mytools." + single.upper().replace("_", "-"), multi["name"], "zz_quux_frobnicate_widget"]
    assert idx.name_hits(planted) == planted[:2]


def test_library_has_no_bfcl_names(idx):
    from calltune.datagen.library import load_library

    lib = load_library()
    hits = idx.name_hits([t.name for t in lib])
    assert hits == [], "rename these library tools (BFCL function names): " + ", ".join(
        f"{t.domain}.{t.name}" for t in lib if t.name in hits
    )


def _sample(user: str, tools: list[str] = ()) -> dict:
    return {
        "tools": [
            {"name": n, "description": "d", "parameters": {"type": "object", "properties": {}}} for n in tools
        ],
        "conversations": [
            {"role": "user", "content": user},
            {"role": "assistant", "content": "Sure."},
        ],
    }


def test_check_records_reports_overlap_and_names(idx, planted):
    cid, text = planted
    bfcl_name = _rows("BFCL_v4_simple_python.json")[0]["function"][0]["name"]
    recs = [
        {"id": "clean", **_sample(UNRELATED, ["draft_note"])},
        {"id": "copied", **_sample(text.lower())},
        {
            "id": "named",
            **_sample("Translate 'good morning' into French for my colleague, please.", [bfcl_name]),
        },
    ]
    rep = check_records(recs, threshold=0.5, index=idx)
    assert (rep.records, rep.texts) == (3, 3)
    assert rep.max_overlap == 1.0 and rep.max_case.record == "copied" and rep.max_case.bfcl_id == cid
    assert [c.record for c in rep.over_threshold] == ["copied"]
    assert rep.name_hits == [bfcl_name] and rep.name_hit_records == {bfcl_name: "named"}
    assert not rep.ok
    d = json.loads(json.dumps(rep.to_dict(), ensure_ascii=False))
    assert d["ok"] is False and d["max_case"]["bfcl_id"] == cid and d["name_hits"][0]["record"] == "named"
    with pytest.raises(ContaminationError) as e:
        rep.raise_if_contaminated()
    assert e.value.report is rep and isinstance(e.value, ValueError)
    clean = check_records(recs[:1], index=idx)
    assert clean.ok and clean.max_overlap < 0.2
    clean.raise_if_contaminated()


def test_index_build_and_1000_checks_timing(planted):
    t0 = time.perf_counter()
    questions, names = decontam._read_bfcl(bfcl_data_dir())
    index = BfclIndex(questions, names)
    build = time.perf_counter() - t0
    cid, text = planted
    texts = [f"Request {i}: {UNRELATED}" for i in range(999)] + [text]
    t0 = time.perf_counter()
    scores = [index.request_overlap(t) for t in texts]
    checks = time.perf_counter() - t0
    print(
        f"\nBFCL index: {index.n_texts} user texts, {index.n_questions} distinct, {len(index.names)} names; "
        f"build {build:.2f} s; 1000 checks {checks * 1000:.0f} ms"
    )
    assert scores[-1] == (1.0, cid)
    assert max(s for s, _ in scores[:-1]) < 0.2


def test_cli_exits_non_zero_on_a_planted_question(tmp_path, planted):
    from typer.testing import CliRunner

    from calltune.cli import app
    from calltune.train.data import write_samples

    cid, text = planted
    bad = tmp_path / "bad.jsonl"
    write_samples(bad, [_sample(UNRELATED), _sample(text)])
    runner = CliRunner()
    r = runner.invoke(app, ["data", "decontam", str(bad), "--json"])
    assert r.exit_code == 1, r.output
    rep = json.loads(r.stdout)
    assert rep["max_case"]["bfcl_id"] == cid and rep["max_case"]["record"] == f"{bad}:2"
    table = runner.invoke(app, ["data", "decontam", str(tmp_path), "--threshold", "0.9"])
    assert table.exit_code == 1 and cid in table.stdout and "overlap above 0.9" in table.stdout
    good = tmp_path / "good" / "ok.jsonl"
    write_samples(good, [_sample(UNRELATED)])
    assert runner.invoke(app, ["data", "decontam", str(good)]).exit_code == 0
    assert runner.invoke(app, ["data", "decontam", str(tmp_path / "missing.jsonl")]).exit_code == 2


def test_report_of_a_stopped_run_checks_its_kept_set_and_catches_a_planted_question(tmp_path, planted):
    """A run cut off before its end never wrote decontam.json (the report said "not run"):
    `calltune data report` checks kept.jsonl as it is now, again whenever it has grown."""
    from datagen_fixtures import FakeTeacher, StubIndex, sample_pool_tools
    from typer.testing import CliRunner

    from calltune.cli import app
    from calltune.datagen.instructions import ToolPool
    from calltune.datagen.pipeline import Pipeline, Settings
    from calltune.datagen.teacher import Teacher

    out = tmp_path / "run"
    pool = ToolPool(sample_pool_tools())
    Pipeline(out, Teacher(FakeTeacher()), pool, Settings(n=3), None, command=["t"], bfcl=StubIndex()).run()
    (out / "decontam.json").unlink()  # as after a kill
    kept = (out / "kept.jsonl").read_text(encoding="utf-8").splitlines()
    runner = CliRunner()
    r = runner.invoke(app, ["data", "report", str(out), "--json"])
    assert r.exit_code == 0, r.output
    first = json.loads(r.stdout)["decontam"]
    # (the scripted pool's generic `multiply` is also a BFCL name: a name hit, not an overlap)
    assert first["records"] == len(kept) and first["max_overlap"] < first["threshold"], first
    cid, text = planted
    (out / "kept.jsonl").write_text("\n".join([*kept, json.dumps(_sample(text))]) + "\n", encoding="utf-8")
    r = runner.invoke(app, ["data", "report", str(out), "--json"])
    d = json.loads(r.stdout)["decontam"]
    assert d["records"] == len(kept) + 1 and not d["ok"] and d["max_case"]["bfcl_id"] == cid
    assert "CONTAMINATED" in (out / "report.md").read_text(encoding="utf-8")
