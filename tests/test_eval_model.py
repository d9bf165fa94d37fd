from __future__ import annotations

from pathlib import Path

import pytest
from eval_fixtures import write_data

pytest.importorskip("bfcl_eval")

from calltune.eval.bfcl_data import load_cases  # noqa: E402
from calltune.eval.runner import run_bfcl  # noqa: E402
from calltune.eval.systems import CalltuneSystem, LlamaCppNativeSystem  # noqa: E402


@pytest.mark.model
def test_default_model_end_to_end_on_a_hand_written_case(default_engine, tmp_path: Path) -> None:  # noqa: ANN001
    cases = [
        c
        for c in load_cases("simple_python", None, 0, write_data(tmp_path / "data"))
        if c.id == "simple_python_0"
    ]
    systems = [
        CalltuneSystem(default_engine, max_tokens=128),
        LlamaCppNativeSystem(default_engine, max_tokens=128),
    ]
    summary = run_bfcl(systems, cases, tmp_path / "run", progress=False)
    ct = summary["systems"]["calltune"]["overall"]
    # calltune reads the model's call (tags or fenced JSON) and BFCL's checker accepts it
    assert (ct["n"], ct["correct"]) == (1, 1)
    assert ct["prompt_tokens_mean"] > 50 and ct["completion_tokens_mean"] > 5
    assert summary["systems"]["llama-cpp-native"]["overall"]["n"] == 1
