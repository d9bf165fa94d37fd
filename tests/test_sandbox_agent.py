"""The sandbox in the agent loop with a scripted model: the ChatGLM3 interpreter role and the
OpenAI-style python tool (Hermes) share one kernel per conversation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("ipykernel")

from calltune.agent import Agent  # noqa: E402
from calltune.engines.scripted import ScriptedEngine  # noqa: E402
from calltune.sandbox import Sandbox, python_tool, system_prompt  # noqa: E402


def _data(tmp_path: Path) -> Path:
    f = tmp_path / "people.jsonl"
    rows = [{"name": "ann", "age": 31}, {"name": "bo", "age": None}, {"name": None, "age": 40}]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return f


def test_chatglm3_interpreter_role_runs_code_and_fences_the_result(tmp_path: Path) -> None:
    sb = Sandbox(workdir=tmp_path / "w", timeout=10)
    path = sb.upload(_data(tmp_path))
    tool = python_tool(lambda: sb)
    code1 = f"import pandas as pd\ndf = pd.read_json({path!r}, lines=True)\nprint(df.isna().sum().to_dict())"
    outputs = [
        f"interpreter\n```python\n{code1}\n```<|observation|>",
        "interpreter\n```python\nlen(df)\n```<|observation|>",  # state persists across cells
        "\nThe file has 2 missing values: one name and one age.<|user|>",
    ]
    eng = ScriptedEngine(outputs, default_format="chatglm3")
    try:
        agent = Agent(eng, [tool], format="chatglm3", system=system_prompt(sb), check_relevance=False)
        result = agent.run("Does the file have missing values?")
    finally:
        sb.close()
    assert result.answer == "The file has 2 missing values: one name and one age."
    tool_msgs = [m for m in result.messages if m["role"] == "tool"]
    assert [m["content"] for m in tool_msgs] == ["{'name': 1, 'age': 1}", "3"]
    prompts = [eng.tokenizer.decode(p) if isinstance(p, list) else p for p in eng.prompts]
    # the prompt of the second turn shows the observation in a ```result fence
    assert "<|observation|>\n```result\n{'name': 1, 'age': 1}\n```" in prompts[1]
    assert f"Uploaded files: {path} (JSON Lines, one JSON object per line, not CSV: " in prompts[0]


def test_hermes_python_tool_call_draws_an_image(tmp_path: Path) -> None:
    sb = Sandbox(workdir=tmp_path / "w", timeout=20)
    tool = python_tool(lambda: sb)
    code = (
        "import numpy as np, matplotlib.pyplot as plt\n"
        "t = np.linspace(0, 2 * np.pi, 200)\n"
        "plt.plot(16 * np.sin(t) ** 3, 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t), 'r')\n"
        "plt.axis('equal')\nplt.show()"
    )
    call = json.dumps({"name": "python", "arguments": {"code": code}})
    outputs = [f"<tool_call>\n{call}\n</tool_call>", "Here is the heart."]
    eng = ScriptedEngine(outputs, default_format="hermes")
    try:
        result = Agent(eng, [tool], format="hermes", continue_calls=False, check_relevance=False).run(
            "draw a heart"
        )
        images = tool.session.last_result.images
        assert len(images) == 1 and Path(images[0]).read_bytes()[:4] == b"\x89PNG"
        obs = next(m["content"] for m in result.messages if m["role"] == "tool")
        assert obs == f"[image saved: {sb.sandbox_dir}/figure_1.png]"
        assert result.answer == "Here is the heart."
    finally:
        sb.close()


def test_fenced_python_blocks() -> None:
    from calltune.sandbox import fenced_python_blocks

    text = "Here:\n```python\nprint(1)\n```\nand\n```py\nx = 2\n```\n```json\n{}\n```\n```python\ny = 3"
    assert fenced_python_blocks(text) == ["print(1)", "x = 2", "y = 3"]
    assert fenced_python_blocks("no code here") == []


def test_code_block_fallback_runs_fenced_code_from_a_code_model(tmp_path: Path) -> None:
    from calltune.sandbox import with_code_fallback

    sb = Sandbox(workdir=tmp_path / "w", timeout=10)
    path = sb.upload(_data(tmp_path))
    tool = python_tool(lambda: sb)
    outputs = [
        "Let me check.\n```python\nimport pandas as pd\n"
        f"print(pd.read_json({path!r}, lines=True).isna().sum().to_dict())\n```",
        "Yes: `name` and `age` each have one missing value.",
    ]
    eng = ScriptedEngine(outputs, default_format="hermes")
    fmt = with_code_fallback("hermes")
    assert fmt.name == "hermes" and fmt.stop == with_code_fallback(fmt).stop
    try:
        result = Agent(eng, [tool], format=fmt, check_relevance=False).run("Missing values?")
    finally:
        sb.close()
    assert [m["content"] for m in result.messages if m["role"] == "tool"] == ["{'name': 1, 'age': 1}"]
    call_msg = next(m for m in result.messages if m.get("tool_calls"))
    assert call_msg["content"] == "Let me check."
    assert result.answer == "Yes: `name` and `age` each have one missing value."
    # without the python tool the block stays plain content
    assert fmt.parse("```python\nprint(1)\n```", tool_names=["other"]).code == []
    # only the first block runs by default (later ones are usually optional variations)
    two = "```python\na = 1\n```\nOr drop rows:\n```python\nb = 2\n```"
    assert fmt.parse(two, tool_names=["python"]).code == ["a = 1"]
    assert with_code_fallback("hermes", max_blocks=2).parse(two, tool_names=["python"]).code == [
        "a = 1",
        "b = 2",
    ]
