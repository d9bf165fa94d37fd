"""BFCL's overall score and sub-scores, against a hand-computed example; the Java/JavaScript
categories judged in their own conventions; groups of categories on the command line."""

from __future__ import annotations

import json

import pytest

from calltune.eval.bfcl_checker import check_case
from calltune.eval.bfcl_data import (
    CATEGORIES,
    MULTI_TURN_CATEGORIES,
    NOT_RUN,
    BfclDataError,
    load_category,
    parse_categories,
)
from calltune.eval.leaderboard import LIVE_COUNTS, PUBLISHED, leaderboard_markdown, overall_score


def test_overall_matches_a_hand_computed_example() -> None:
    acc = {
        "simple_python": 0.9,
        "simple_java": 0.6,
        "simple_javascript": 0.3,  # simple = 0.6
        "multiple": 0.8,
        "parallel": 0.7,
        "parallel_multiple": 0.5,  # non-live = (0.6 + 0.8 + 0.7 + 0.5) / 4 = 0.65
        "live_simple": 0.5,
        "live_multiple": 0.4,
        "live_parallel": 1.0,
        "live_parallel_multiple": 0.0,
        "irrelevance": 0.9,
        "live_irrelevance": 0.7,  # irrelevance = 0.8
        "multi_turn_base": 0.2,
        "multi_turn_miss_func": 0.1,
        "multi_turn_miss_param": 0.1,
        "multi_turn_long_context": 0.0,  # multi-turn = 0.1
    }
    live = (0.5 * 258 + 0.4 * 1053 + 1.0 * 16 + 0.0 * 24) / (258 + 1053 + 16 + 24)
    s = overall_score(acc)
    assert s["simple"].value == pytest.approx(0.6)
    assert s["non_live"].value == pytest.approx(0.65)
    assert s["live"].value == pytest.approx(live)
    assert s["irrelevance"].value == pytest.approx(0.8)
    assert s["multi_turn"].value == pytest.approx(0.1)
    assert s["agentic"].value == 0.0 and not s["agentic"].complete
    expected = (10 * 0.65 + 10 * live + 10 * 0.8 + 30 * 0.1 + 40 * 0.0) / 100
    assert s["overall"].value == pytest.approx(expected)
    assert set(s["overall"].missing) == set(NOT_RUN) | {"memory_kv", "memory_rec_sum"}
    assert s["non_live"].complete and s["multi_turn"].complete
    # the memory categories that run offline count in agentic: memory = mean of its three,
    # agentic = mean of web search and memory
    s = overall_score({**acc, "memory_kv": 0.6, "memory_rec_sum": 0.3})
    assert s["agentic"].value == pytest.approx((0.6 + 0.3 + 0.0) / 3 / 2)
    assert set(s["agentic"].missing) == {"memory_vector", "web_search_base", "web_search_no_snippet"}
    assert s["overall"].value == pytest.approx(expected + 40 * 0.15 / 100)


def test_missing_categories_count_zero_and_are_named() -> None:
    s = overall_score({"simple_python": 1.0, "multiple": 1.0})
    assert s["simple"].value == pytest.approx(1 / 3)
    assert s["non_live"].value == pytest.approx((1 / 3 + 1) / 4)
    assert "simple_java" in s["non_live"].missing and "parallel" in s["non_live"].missing


def test_live_weights_are_bfcls_category_sizes() -> None:
    for cat, n in LIVE_COUNTS.items():
        assert len(load_category(cat)) == n


def test_report_block_labels_published_rows_and_lists_what_did_not_run() -> None:
    md = leaderboard_markdown({"calltune": {"simple_python": 0.5, "memory_kv": 0.6}})
    assert "| calltune (measured) |" in md
    header = next(line for line in md.splitlines() if line.startswith("| system |"))
    cols = [c.strip() for c in header.strip("|").split("|")]
    row = next(line for line in md.splitlines() if line.startswith("| calltune (measured) |"))
    cells = dict(zip(cols, (c.strip() for c in row.strip("|").split("|")), strict=True))
    assert cells["agentic"] == "10.0*"  # memory_kv 60 % → memory 20 → agentic 10, incomplete
    for row in PUBLISHED:
        assert f"| {row.name} (published) |" in md
        assert row.source in md
    for cat in NOT_RUN:
        assert f"`{cat}`" in md


def test_category_groups_and_refusals() -> None:
    assert parse_categories("multi_turn") == list(MULTI_TURN_CATEGORIES)
    assert parse_categories("all") == list(CATEGORIES)
    assert "simple_java" in parse_categories("non_live")
    with pytest.raises(BfclDataError, match="needs the network"):
        parse_categories("web_search_base")


def test_java_and_javascript_are_judged_in_their_own_conventions() -> None:
    java = load_category("simple_java")[0]
    # the model sees every parameter as a string (BFCL's own preparation)
    shown = java.functions[0]["parameters"]["properties"]
    assert {p["type"] for p in shown.values()} == {"string"}
    assert "Java 8 SDK syntax" in java.functions[0]["description"]
    ((name, answer),) = java.possible_answer[0].items()
    right = {k: v[0] for k, v in answer.items() if v and v[0] != ""}
    assert check_case("simple_java", java.checker_functions, [(name, right)], java.possible_answer).valid
    bad = dict(right)
    key = next(iter(bad))
    bad[key] = 12345  # not a string in Java's representation
    v = check_case("simple_java", java.checker_functions, [(name, bad)], java.possible_answer)
    assert not v.valid and v.error_type == "type_error:java"

    js = load_category("simple_javascript")[0]
    ((name, answer),) = js.possible_answer[0].items()
    # JavaScript values are written in JavaScript's syntax, as strings ("true", not True)
    right = {
        k: v[0] if isinstance(v[0], str) else json.dumps(v[0]) for k, v in answer.items() if v and v[0] != ""
    }
    assert check_case("simple_javascript", js.checker_functions, [(name, right)], js.possible_answer).valid


def test_the_tuning_split_never_overlaps_the_measured_subset() -> None:
    from calltune.eval.bfcl_data import load_cases

    measured = {c.id for c in load_cases("simple_python,multi_turn_base", 30, 0, multi_turn_limit=10)}
    tune = {
        c.id
        for c in load_cases(
            "simple_python,multi_turn_base", 30, 0, multi_turn_limit=10, offset=30, multi_turn_offset=10
        )
    }
    assert len(measured) == len(tune) == 40
    assert not measured & tune
