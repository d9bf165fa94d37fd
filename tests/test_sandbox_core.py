"""Sandbox basics: state, results, errors, images, uploads, restarts, the python tool."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

pytest.importorskip("ipykernel")
pytest.importorskip("jupyter_client")

from calltune.sandbox import CellResult, Sandbox, probe_capabilities, python_tool, system_prompt  # noqa: E402
from calltune.sandbox.result import RESTART_NOTE, trim_traceback, truncate_middle  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("work")
    with Sandbox(workdir=work, timeout=10, memory_mb=1024) as s:
        yield s


def test_state_persists_and_last_value(sb: Sandbox) -> None:
    assert sb.run("x = 20\ny = x + 1").text == ""
    r = sb.run("x * 2 + y")
    assert r.text == "61\n"
    assert r.error is None and r.ok
    assert r.to_observation() == "61"


def test_stdout_stderr_and_value_in_order(sb: Sandbox) -> None:
    r = sb.run("import sys\nprint('out')\nprint('err', file=sys.stderr)\n'value'")
    assert r.text == "out\nerr\n'value'\n"


def test_error_has_trimmed_plain_traceback(sb: Sandbox) -> None:
    # its own state: pytest-xdist may run this test in a worker where the test above did not run
    sb.run("kept = 20")
    r = sb.run("def f(a):\n    return a / 0\nf(3)")
    assert r.error is not None
    assert r.error.splitlines()[-1] == "ZeroDivisionError: division by zero"
    assert "return a / 0" in r.error
    assert "\x1b[" not in r.error  # no ANSI colours
    assert r.to_observation().endswith("ZeroDivisionError: division by zero")
    # the kernel keeps going after an error, with its state
    assert sb.run("kept").text == "20\n"


def test_syntax_error(sb: Sandbox) -> None:
    r = sb.run("def broken(:\n    pass")
    assert r.error is not None and "SyntaxError" in r.error


def test_cwd_is_the_sandbox_dir_and_files_round_trip(sb: Sandbox, tmp_path: Path) -> None:
    src = tmp_path / "numbers.jsonl"
    src.write_text('{"a": 1, "b": null}\n{"a": 2, "b": 5}\n{"a": null, "b": 7}\n')
    inside = sb.upload(src)
    assert inside == f"{sb.sandbox_dir}/numbers.jsonl"
    assert (sb.workdir / "numbers.jsonl").read_text() == src.read_text()
    r = sb.run(
        "import os, pandas as pd\n"
        "df = pd.read_json('numbers.jsonl', lines=True)\n"
        "print(os.getcwd())\n"
        "print(df.isna().sum().to_dict())"
    )
    assert r.error is None, r.error
    assert r.text == f"{sb.sandbox_dir}\n{{'a': 1, 'b': 1}}\n"
    r = sb.run("open('out.txt', 'w').write('written in the sandbox')")
    assert (sb.workdir / "out.txt").read_text() == "written in the sandbox"
    assert "out.txt" in sb.files()


def test_matplotlib_show_saves_png(sb: Sandbox) -> None:
    r = sb.run("import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('t')\nplt.show()")
    assert r.error is None, r.error
    assert len(r.images) == 1
    path = Path(r.images[0])
    assert path.parent == sb.workdir and path.suffix == ".png"
    assert path.read_bytes().startswith(PNG_MAGIC)
    assert r.image_names == [sb.sandbox_path(path)]
    assert f"[image saved: {r.image_names[0]}]" in r.to_observation()
    from PIL import Image

    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] > 100 and im.size[1] > 100
    b64 = r.images_base64()
    assert b64[0]["mime"] == "image/png" and base64.b64decode(b64[0]["data"]) == path.read_bytes()


def test_last_figure_without_show_and_savefig(sb: Sandbox) -> None:
    r = sb.run("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.bar([1, 2], [3, 4])")
    assert len(r.images) == 1  # the inline backend shows the open figure at the end of the cell
    r = sb.run("fig, ax = plt.subplots()\nax.plot([0, 1])\nfig.savefig('mine.png')\nplt.close(fig)")
    assert [Path(p).name for p in r.images] == ["mine.png"]
    assert (sb.workdir / "mine.png").read_bytes().startswith(PNG_MAGIC)


def test_figures_left_open_under_a_non_interactive_backend(tmp_path: Path) -> None:
    """Code that switches matplotlib to Agg (plt.show() then draws nothing) still gets its figures."""
    with Sandbox(workdir=tmp_path / "w", timeout=20) as s:
        r = s.run(
            "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
            "plt.plot([1, 2])\nplt.show()"
        )
        assert r.error is None, r.error
        assert len(r.images) == 1, r.images
        path = Path(r.images[0])
        assert path.parent == s.workdir and path.name.startswith("figure_")
        assert path.read_bytes().startswith(PNG_MAGIC)
        assert r.image_names == [s.sandbox_path(path)]
        assert s.run("import matplotlib.pyplot as plt\nplt.get_fignums()").text == "[]\n"  # closed after
        # a figure the code saved itself is reported once, as the file it wrote
        r = s.run("plt.plot([2, 1])\nplt.savefig('x.png')\nplt.show()")
        assert [Path(p).name for p in r.images] == ["x.png"]
        assert s.run("1 + 1").images == []
        # every figure left open, none of the empty ones
        r = s.run(
            "fig1, ax1 = plt.subplots()\nax1.plot([1, 2])\nfig2, ax2 = plt.subplots()\nax2.bar([1], [2])\nplt.figure()"
        )
        assert len(r.images) == 2 and len(set(r.images)) == 2


def test_switching_to_agg_after_inline_figures_still_reports_them(tmp_path: Path) -> None:
    """After inline figures (interactive mode on, where pyplot redraws stale figures after a cell)."""
    with Sandbox(workdir=tmp_path / "w", timeout=20) as s:
        assert len(s.run("import matplotlib.pyplot as plt\nplt.plot([1, 2])").images) == 1  # inline
        r = s.run("import matplotlib\nmatplotlib.use('Agg')\nplt.plot([2, 1])\nplt.show()")
        assert r.error is None, r.error
        assert len(r.images) == 1 and Path(r.images[0]).read_bytes().startswith(PNG_MAGIC)
        r = s.run("plt.plot([3])\nplt.savefig('y.png')")
        assert [Path(p).name for p in r.images] == ["y.png"]


def test_output_is_truncated_with_marker(tmp_path: Path) -> None:
    with Sandbox(workdir=tmp_path / "w", timeout=10, max_output_chars=300) as s:
        r = s.run("for i in range(1000):\n    print(f'line {i}')")
        assert r.truncated
        assert len(r.text) < 400
        assert r.text.startswith("line 0\nline 1\n")
        assert r.text.rstrip().endswith("line 999")
        assert "[output truncated:" in r.text


def test_crashed_kernel_restarts_and_says_state_was_lost(tmp_path: Path) -> None:
    with Sandbox(workdir=tmp_path / "w", timeout=10) as s:
        s.run("keep = 123")
        r = s.run("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
        assert r.restarted
        assert r.error is not None and r.error.startswith("KernelDied:")
        assert r.to_observation().startswith(RESTART_NOTE)
        r2 = s.run("keep")
        assert r2.error is not None and "NameError" in r2.error
        assert s.run("1 + 1").text == "2\n"
        assert s.restarts == 1


def test_kernel_killed_between_cells_is_restarted_transparently(tmp_path: Path) -> None:
    with Sandbox(workdir=tmp_path / "w", timeout=10) as s:
        s.run("v = 1")
        s._proc.kill()  # e.g. the OOM killer
        s._proc.wait()
        r = s.run("'alive'")
        assert r.restarted and r.text == "'alive'\n"
        assert "SIGKILL" in r.to_observation()


def test_lost_output_channel_is_reconnected_and_state_kept(tmp_path: Path) -> None:
    import zmq

    with Sandbox(workdir=tmp_path, timeout=10, memory_mb=1024) as s:
        s.run("kept = 7")
        # the client's IOPub subscription stops hearing the kernel (what a subscription that never
        # joined looks like): the cell still runs, its output is reported lost, the channel reconnected
        s._kc.iopub_channel.socket.setsockopt(zmq.UNSUBSCRIBE, b"")
        r = s.run("kept += 1\n21 * 2")
        assert r.text == "" and not r.restarted
        assert any("output was lost" in n for n in r.notes)
        assert s.run("kept").text == "8\n"


def test_lost_output_channel_on_a_kernel_that_stops_answering_restarts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zmq

    from calltune.sandbox.kernel import SandboxError

    with Sandbox(workdir=tmp_path, timeout=10, memory_mb=1024) as s:
        s._kc.iopub_channel.socket.setsockopt(zmq.UNSUBSCRIBE, b"")

        def no_answer() -> None:
            raise SandboxError("the sandbox kernel did not answer")

        monkeypatch.setattr(s._channels, "reconnect", no_answer)
        r = s.run("21 * 2")
        assert r.restarted and any("kernel was restarted" in n for n in r.notes)
        assert s.run("6 * 7").text == "42\n"


def test_bad_arguments_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timeout must be > 0"):
        Sandbox(workdir=tmp_path, timeout=0)
    with pytest.raises(ValueError, match="memory_mb must be at least 128"):
        Sandbox(workdir=tmp_path, memory_mb=10)
    with pytest.raises(ValueError, match="isolation must be"):
        Sandbox(workdir=tmp_path, isolation="maybe")  # type: ignore[arg-type]
    s = Sandbox(workdir=tmp_path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        s.upload(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="outside the sandbox working directory"):
        s.host_path("/etc/passwd")
    with pytest.raises(TypeError, match="code must be a str"):
        s.run(b"print(1)")  # type: ignore[arg-type]
    s.close()


def test_isolation_report(sb: Sandbox) -> None:
    iso = sb.isolation
    assert set(iso) >= {"network", "filesystem", "user", "limits", "layers", "mode"}
    assert iso["network"] != ["none"] and iso["filesystem"] != ["none"]
    assert iso["limits"]["timeout_s"] == 10.0 and iso["limits"]["memory_mb"] == 1024
    json.dumps(iso)
    assert "network:" in sb.describe_isolation()
    if probe_capabilities().landlock_abi >= 1:  # the launcher loads the Landlock module on its own
        assert any(layer.startswith("landlock-abi") for layer in iso["layers"]), iso["errors"]
        assert not [e for e in iso["errors"] if e.startswith("landlock")]


def test_cell_result_helpers() -> None:
    r = CellResult(text="a\n", error="ValueError: x", image_names=["/mnt/data/f.png"], restarted=True)
    assert r.to_observation() == f"{RESTART_NOTE}\na\nValueError: x\n[image saved: /mnt/data/f.png]"
    assert CellResult().to_observation() == "[no output]"
    t = truncate_middle("0123456789" * 10, 30)
    assert t.startswith("0123456789012345678") and "[output truncated: 70 characters omitted]" in t
    assert t.endswith("0123456789")
    tb = trim_traceback(["\x1b[31mTraceback\x1b[0m", "-----", *[f"line {i}" for i in range(50)]], max_lines=5)
    assert tb.splitlines() == [
        "...[traceback trimmed]...",
        "line 45",
        "line 46",
        "line 47",
        "line 48",
        "line 49",
    ]


def test_python_tool_runs_in_one_kernel_per_conversation(tmp_path: Path) -> None:
    from calltune.tools import Toolbox, get_builtin

    tool = python_tool(lambda: Sandbox(workdir=tmp_path / "conv", timeout=10))
    assert tool.name == "python"
    assert tool.spec()["function"]["parameters"]["required"] == ["code"]
    box = Toolbox([tool])
    o1 = box.execute({"name": "python", "arguments": {"code": "counter = 41"}})
    o2 = box.execute({"name": "python", "arguments": {"code": "counter + 1"}})
    assert o1.ok and o1.content == "[no output]"
    assert o2.content == "42"
    assert tool.session.last_result.text == "42\n"
    tool.session.close()
    # the tools registry knows the built-in, and each get_builtin call is a new conversation
    t1, t2 = get_builtin("python", timeout=5), get_builtin("python", timeout=5)
    assert t1.session is not t2.session
    t1.session.close()
    t2.session.close()


def test_system_prompt_mentions_dir_and_uploads(sb: Sandbox) -> None:
    text = system_prompt(sb)
    assert sb.sandbox_dir in text
    assert f"{sb.sandbox_dir}/numbers.jsonl" in text or "numbers.jsonl" not in sb.files()
    assert "no internet access" in text


def test_shell_escapes_work_inside(sb: Sandbox) -> None:
    r = sb.run("!echo hello-from-shell")
    assert r.text.strip() == "hello-from-shell"
    r = sb.run("import subprocess\nsubprocess.run(['echo', 'sub'], capture_output=True, text=True).stdout")
    assert r.text == "'sub\\n'\n"


def test_workdir_is_given_back_to_the_host_user_on_close(tmp_path: Path) -> None:
    import os

    with Sandbox(workdir=tmp_path / "w", timeout=10) as s:
        s.run("import os\nos.makedirs('sub', exist_ok=True)\nopen('sub/f.txt', 'w').write('x')")
    assert (tmp_path / "w" / "sub" / "f.txt").read_text() == "x"
    for p in [tmp_path / "w", tmp_path / "w" / "sub", tmp_path / "w" / "sub" / "f.txt"]:
        assert p.stat().st_uid == os.getuid()


def test_workdir_outside_tmp(tmp_path: Path) -> None:
    """A workdir on the root filesystem (not under a hidden directory such as /tmp) is writable."""
    import secrets
    import shutil

    wd = Path(__file__).resolve().parents[1] / ".pytest_cache" / f"sandbox-wd-{secrets.token_hex(4)}"
    try:
        with Sandbox(workdir=wd, timeout=10) as s:
            r = s.run("open('a.txt', 'w').write('ok')\nimport os\nsorted(os.listdir('.'))")
            assert r.error is None, r.error
            assert r.text == "['a.txt']\n"
        assert (wd / "a.txt").read_text() == "ok"
    finally:
        shutil.rmtree(wd, ignore_errors=True)
