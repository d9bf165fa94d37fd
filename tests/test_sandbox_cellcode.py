"""A cell written like a function body: its last top-level ``return EXPR`` runs as ``EXPR``."""

from __future__ import annotations

from pathlib import Path

import pytest

from calltune.sandbox.cellcode import final_return_as_value

FUNCTION_BODY = (
    "import pandas as pd\ndf = pd.DataFrame({'a': [1, None]})\n"
    "# Return the result\nreturn {'has_missing_values': bool(df.isnull().values.any())}\n"
)


def test_the_last_return_becomes_the_cells_value() -> None:
    out = final_return_as_value(FUNCTION_BODY)
    assert out.endswith("({'has_missing_values': bool(df.isnull().values.any())})")
    assert "return" not in out.replace("# Return", "")
    compile(out, "<cell>", "exec")  # no SyntaxError: 'return' outside function
    assert final_return_as_value("x = 1\nreturn") == "x = 1\n"
    assert final_return_as_value("return (1 +\n  2)\n") == "(1 +\n  2)"
    assert final_return_as_value("def f():\n    return 1\nreturn f()") == "def f():\n    return 1\n(f())"


@pytest.mark.parametrize(
    "code",
    [
        "x = 1\nx",  # nothing to change
        "def f():\n    return 1",  # a return inside a function is the function's
        "if x:\n    return 2\nreturn 3",  # an earlier return outside a function: left to fail
        "return 1\nx = 2",  # not the last statement
        "return (",  # not Python: left to the kernel's error
    ],
)
def test_other_code_is_left_as_written(code: str) -> None:
    assert final_return_as_value(code) == code


def test_the_python_tool_shows_the_returned_value(tmp_path: Path) -> None:
    pytest.importorskip("ipykernel")
    from calltune.sandbox import Sandbox, python_tool

    with Sandbox(workdir=tmp_path / "w", timeout=20) as sb:
        tool = python_tool(lambda: sb)
        observation = tool.session.run_code(FUNCTION_BODY)
    assert "'has_missing_values': True" in observation, observation
    assert "SyntaxError" not in observation
