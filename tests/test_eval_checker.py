from __future__ import annotations

import sys

import pytest
from eval_fixtures import ANSWERS, AREA, SHIP, TEMP

pytest.importorskip("bfcl_eval")

from calltune.eval.bfcl_checker import check_case, load_ast_checker  # noqa: E402

AREA_GT = ANSWERS["simple_python"][0]["ground_truth"]
SHIP_GT = ANSWERS["simple_python"][1]["ground_truth"]
PAR_GT = ANSWERS["parallel"][0]["ground_truth"]


def test_checker_imports_through_the_stand_in() -> None:
    checker, language = load_ast_checker()
    assert checker.__module__ == "bfcl_eval.eval_checker.ast_eval.ast_checker"
    assert language.PYTHON.value == "python"
    stand_in = sys.modules["bfcl_eval.constants.model_config"]
    assert stand_in.MODEL_CONFIG_MAPPING["anything"].underscore_to_dot is False


def test_known_right_outputs_are_valid() -> None:
    # int for a float parameter is accepted (BFCL's own int → float rule), optional omitted
    assert check_case(
        "simple_python", [AREA], [("geometry.rectangle_area", {"width": 3, "height": 4.5})], AREA_GT
    ).valid
    # string comparison ignores case and punctuation as BFCL does
    v = check_case(
        "simple_python",
        [SHIP],
        [("ship_parcel", {"weight_kg": 2, "address": {"city": "lyon"}, "express": False})],
        SHIP_GT,
    )
    assert v.valid, v.errors
    # parallel: order does not matter
    calls = [("weather.temperature", {"city": "Rome"}), ("weather.temperature", {"city": "Oslo"})]
    assert check_case("parallel", [TEMP], calls, PAR_GT).valid
    assert check_case("irrelevance", [TEMP], [], None).valid


@pytest.mark.parametrize(
    ("category", "funcs", "calls", "gt", "error_type"),
    [
        (
            "simple_python",
            [AREA],
            [("geometry.rectangle_area", {"width": 3, "height": 5})],
            AREA_GT,
            "value_error:others",
        ),
        (
            "simple_python",
            [AREA],
            [("geometry.rectangle_area", {"width": 3})],
            AREA_GT,
            "simple_function_checker:missing_required",
        ),
        (
            "simple_python",
            [AREA],
            [("geometry_area", {"width": 3, "height": 4.5})],
            AREA_GT,
            "simple_function_checker:wrong_func_name",
        ),
        (
            "simple_python",
            [AREA],
            [("geometry.rectangle_area", {"width": "3", "height": 4.5})],
            AREA_GT,
            "type_error:simple",
        ),
        (
            "simple_python",
            [SHIP],
            [("ship_parcel", {"weight_kg": 2, "address": {"city": "Paris"}})],
            SHIP_GT,
            "value_error:dict_value",
        ),
        ("simple_python", [AREA], [], AREA_GT, "ast_decoder:decoder_failed"),
        (
            "parallel",
            [TEMP],
            [("weather.temperature", {"city": "Oslo"})],
            PAR_GT,
            "parallel_function_checker_no_order:wrong_count",
        ),
        (
            "parallel",
            [TEMP],
            [("weather.temperature", {"city": "Oslo"})] * 2,
            PAR_GT,
            "parallel_function_checker_no_order:cannot_find_match",
        ),
        (
            "irrelevance",
            [TEMP],
            [("weather.temperature", {"city": "Oslo"})],
            None,
            "irrelevance_error:decoder_success",
        ),
    ],
)
def test_known_wrong_outputs_get_bfcl_error_types(category, funcs, calls, gt, error_type) -> None:  # noqa: ANN001
    v = check_case(category, funcs, calls, gt)
    assert v.valid is False
    assert v.error_type == error_type


def test_underscored_name_is_wrong_unless_mapped_back() -> None:
    v = check_case(
        "simple_python", [AREA], [("geometry_rectangle_area", {"width": 3, "height": 4.5})], AREA_GT
    )
    assert (v.valid, v.error_type) == (False, "simple_function_checker:wrong_func_name")


def test_missing_answer_is_an_error() -> None:
    with pytest.raises(ValueError, match="needs a possible answer"):
        check_case("simple_python", [AREA], [("x", {})], None)
