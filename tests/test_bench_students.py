"""bench/students.py: the student table refuses systems measured on other cases."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "students.py"


def _module():
    spec = importlib.util.spec_from_file_location("bench_students", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _eval_dir(path: Path, cases: list[tuple[str, str, bool]]) -> Path:
    (path / "cases").mkdir(parents=True)
    lines = [json.dumps({"id": i, "category": c, "valid": v}) for i, c, v in cases]
    (path / "cases" / "calltune.jsonl").write_text("\n".join(lines) + "\n")
    return path


def test_table_counts_per_category_and_refuses_other_case_ids(tmp_path):
    st = _module()
    a = _eval_dir(
        tmp_path / "a",
        [("simple_python_1", "simple_python", True), ("simple_python_2", "simple_python", False)],
    )
    b = _eval_dir(
        tmp_path / "b",
        [("simple_python_1", "simple_python", False), ("simple_python_2", "simple_python", False)],
    )
    res = st.build([("a", a, None), ("b", b, None)], ("simple_python", "multiple"))
    assert res["systems"]["a"]["categories"]["simple_python"] == {"correct": 1, "n": 2, "accuracy": 50.0}
    assert res["systems"]["b"]["categories"]["multiple"] is None
    md = st.to_markdown(res)
    assert (
        "| a | 50.0 (1/2) | – |" in md and "FunctionGemma 270M (model card, published) | 61.6 | 63.5 |" in md
    )
    c = _eval_dir(tmp_path / "c", [("simple_python_3", "simple_python", True)])
    with pytest.raises(SystemExit, match="other cases"):
        st.build([("a", a, None), ("c", c, None)], ("simple_python",))
