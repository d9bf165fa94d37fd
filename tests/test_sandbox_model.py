"""The seed's code-interpreter scenario on the real default model (Qwen2.5-Coder-1.5B GGUF).

Run with: ``flock /tmp/calltune-cpu.lock pytest -m model tests/test_sandbox_model.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("ipykernel")

from calltune.agent import Agent  # noqa: E402
from calltune.engines import SamplingParams  # noqa: E402
from calltune.sandbox import Sandbox, python_tool, system_prompt, with_code_fallback  # noqa: E402

pytestmark = pytest.mark.model


def _orders(path: Path) -> Path:
    rows = [
        {"order_id": 1, "city": "Lyon", "price": 12.5},
        {"order_id": 2, "city": "Oslo", "price": None},
        {"order_id": 3, "city": "Quito", "price": 8.0},
        {"order_id": 4, "city": None, "price": 3.2},
        {"order_id": 5, "city": "Hanoi", "price": None},
        {"order_id": 6, "city": "Perth", "price": 41.0},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _agent(engine, sb: Sandbox, tool) -> Agent:
    # the code model often answers with a ```python block instead of a tool call: run it anyway
    return Agent(
        engine,
        [tool],
        format=with_code_fallback(engine.default_format),
        system="You are a helpful data assistant.\n\n" + system_prompt(sb),
        max_steps=4,
        params=SamplingParams(max_tokens=400, temperature=0.0),
    )


def test_missing_values_answer_comes_from_the_real_result(default_engine, tmp_path: Path) -> None:
    with Sandbox(workdir=tmp_path / "w", timeout=60) as sb:
        inside = sb.upload(_orders(tmp_path / "orders.jsonl"))
        tool = python_tool(lambda: sb)
        result = _agent(default_engine, sb, tool).run(
            f"Does {inside} have missing values? Which columns have them, and how many?"
        )
        cells = tool.session.results
        print(result.to_json())
        assert cells, "the model did not run any code"
        assert any(c.error is None and "price" in c.text for c in cells), [c.to_observation() for c in cells]
        answer = result.answer.lower()
        assert "price" in answer
        assert "missing" in answer or "null" in answer or "nan" in answer


def test_draw_a_heart_produces_a_png(default_engine, tmp_path: Path) -> None:
    from PIL import Image

    with Sandbox(workdir=tmp_path / "w", timeout=60) as sb:
        tool = python_tool(lambda: sb)
        result = _agent(default_engine, sb, tool).run("Draw a heart with matplotlib.")
        print(result.to_json())
        images = [p for c in tool.session.results for p in c.images]
        assert images, [c.to_observation() for c in tool.session.results]
        for p in images:
            with Image.open(p) as im:
                im.verify()
            with Image.open(p) as im:
                assert im.format == "PNG" and im.size[0] >= 100
