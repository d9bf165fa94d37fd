"""What the code writes reaches the host: ``Sandbox(out_dir=...)`` copies each cell's new and
changed files (figures included) out of the sandbox, and ``calltune run`` names the copies;
Ctrl-C interrupts a cell; uploads are described by their real type; the Landlock module loads
also when the checkout lies under a directory the mount namespace hides."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("ipykernel")

from calltune.cli import app  # noqa: E402
from calltune.sandbox import Sandbox, probe_capabilities, system_prompt  # noqa: E402
from calltune.sandbox.result import split_saved  # noqa: E402
from calltune.testing import hermes_call  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURE = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [3, 1, 2])\nplt.show()"


def test_new_and_changed_files_and_figures_are_copied_to_the_host(tmp_path: Path) -> None:
    out = tmp_path / "out"
    data = tmp_path / "orders.csv"
    data.write_text("a,b\n1,2\n")
    with Sandbox(timeout=20, out_dir=out) as sb:
        sb.upload(data)
        work = sb.workdir
        r = sb.run(
            "import os\nopen('summary.csv', 'w').write('total\\n3\\n')\n"
            "os.makedirs('sub', exist_ok=True)\nopen('sub/notes.txt', 'w').write('hi')\n" + FIGURE
        )
        assert r.ok, r.error
        d = sb.sandbox_dir
        assert r.copies == {
            f"{d}/figure_1.png": str(out / "figure_1.png"),
            f"{d}/sub/notes.txt": str(out / "sub" / "notes.txt"),
            f"{d}/summary.csv": str(out / "summary.csv"),
        }  # the unchanged upload is not copied
        obs = r.to_observation()
        assert f"[image saved: {d}/figure_1.png · copy for the user: {out / 'figure_1.png'}]" in obs
        assert f"[file saved: {d}/summary.csv · copy for the user: {out / 'summary.csv'}]" in obs
        assert split_saved(obs)[1] == [(name, copy) for name, copy in r.copies.items()]
        r2 = sb.run("open('orders.csv', 'a').write('3,4\\n')")  # a changed upload is copied
        assert r2.copies == {f"{d}/orders.csv": str(out / "orders.csv")}
        assert sb.run("1 + 1").copies == {}  # nothing written, nothing copied
    assert not work.exists()  # the sandbox's folder is gone ...
    assert (out / "figure_1.png").read_bytes()[:8] == PNG_MAGIC  # ... the copies stay
    assert (out / "summary.csv").read_text() == "total\n3\n"
    assert (out / "sub" / "notes.txt").read_text() == "hi"
    assert (out / "orders.csv").read_text() == "a,b\n1,2\n3,4\n"


def test_links_fifos_and_dot_files_are_never_copied(tmp_path: Path) -> None:
    out = tmp_path / "out"
    secret = tmp_path / "secret.txt"  # a host file the sandbox must not get copied out
    secret.write_text("host secret")
    with Sandbox(timeout=20, out_dir=out) as sb:
        r = sb.run(
            "import os\n"
            f"os.symlink({str(secret)!r}, 'leak.txt')\n"
            "os.symlink('/etc', 'etc_dir')\n"
            "os.mkfifo('pipe')\n"
            "open('mine.txt', 'w').write('x')\nos.link('mine.txt', 'mine_too.txt')\n"
            "open('.hidden', 'w').write('x')\n"
            "open('ok.txt', 'w').write('fine')\n"
        )
        assert r.ok, r.error
        assert list(r.copies) == [f"{sb.sandbox_dir}/ok.txt"]
    assert sorted(p.name for p in out.rglob("*")) == ["ok.txt"]


def test_without_out_dir_nothing_is_copied(tmp_path: Path) -> None:
    with Sandbox(timeout=20) as sb:
        r = sb.run("open('x.txt', 'w').write('x')\n" + FIGURE)
        assert r.copies == {} and sb.out_dir is None
        assert r.to_observation() == f"[image saved: {sb.sandbox_dir}/figure_1.png]"


def test_interrupt_stops_the_running_cell_and_the_ones_waiting(tmp_path: Path) -> None:
    with Sandbox(timeout=60) as sb:
        assert sb.run("x = 1").ok
        assert sb.interrupt() is False  # nothing runs
        got: dict = {}

        def run(key: str, code: str) -> None:
            got[key] = sb.run(code)

        first = threading.Thread(target=run, args=("first", "import time\ntime.sleep(50)"))
        first.start()
        time.sleep(2)  # the cell is running
        second = threading.Thread(target=run, args=("second", "x = 99"))
        second.start()  # waits for the first
        time.sleep(0.5)
        t0 = time.monotonic()
        assert sb.interrupt() is True
        first.join(15)
        second.join(15)
        assert time.monotonic() - t0 < 15
        assert "KeyboardInterrupt" in (got["first"].error or "") and "time.sleep" in got["first"].error
        assert got["second"].error == "KeyboardInterrupt: interrupted before the cell started"
        assert sb.run("x + 1").text == "2\n"  # the waiting cell never ran; the kernel lives on


def test_uploads_are_described_by_their_real_type() -> None:
    text = system_prompt(uploads=["people.jsonl", "sales.xlsx", "t.parquet", "a.csv", "blob.bin"])
    line = next(ln for ln in text.splitlines() if ln.startswith("Uploaded files:"))
    assert "/mnt/data/people.jsonl (JSON Lines, one JSON object per line, not CSV: " in line
    assert "pandas.read_json(path, lines=True)" in line
    assert "/mnt/data/sales.xlsx (an Excel workbook: pandas.read_excel(path, sheet_name=None)" in line
    assert "/mnt/data/t.parquet (Parquet: pandas.read_parquet(path))" in line
    assert "/mnt/data/a.csv (CSV: pandas.read_csv(path))" in line
    assert "/mnt/data/blob.bin;" in line or line.endswith("/mnt/data/blob.bin. Open each by its real type.")


def test_the_readers_named_for_uploads_work_in_the_sandbox(tmp_path: Path) -> None:
    import pandas as pd

    df = pd.DataFrame({"a": [1, None], "b": ["x", "y"]})
    df.to_json(tmp_path / "t.jsonl", orient="records", lines=True)
    df.to_excel(tmp_path / "t.xlsx", index=False)
    df.to_parquet(tmp_path / "t.parquet")
    with Sandbox(timeout=30) as sb:
        for name in ("t.jsonl", "t.xlsx", "t.parquet"):
            sb.upload(tmp_path / name)
        r = sb.run(
            "import pandas\n"
            "print(pandas.read_json('t.jsonl', lines=True).shape, "
            "pandas.read_excel('t.xlsx', sheet_name=None)['Sheet1'].shape, "
            "pandas.read_parquet('t.parquet').shape)"
        )
    assert r.ok, r.error
    assert r.text == "(2, 2) (2, 2) (2, 2)\n"


def test_run_copies_the_code_interpreters_files_and_prints_their_paths(tmp_path: Path) -> None:
    code = "open('report.txt', 'w').write('done')\n" + FIGURE
    script = {
        "outputs": [hermes_call("python", {"code": code}), "The plot is saved as figure_1.png."],
        "record": "prompts.jsonl",
    }
    (tmp_path / "script.json").write_text(json.dumps(script))
    out = tmp_path / "files"
    args = ["run", "--engine", "scripted", "-m", str(tmp_path / "script.json"), "-b", "python"]
    args += ["--no-continue", "--out-dir", str(out)]
    r = CliRunner().invoke(app, [*args, "Plot something"], env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    assert (out / "figure_1.png").read_bytes()[:8] == PNG_MAGIC
    assert (out / "report.txt").read_text() == "done"
    assert f"↳ saved {out / 'figure_1.png'}" in r.stderr and f"↳ saved {out / 'report.txt'}" in r.stderr
    # the model read where the copies are, so its answer can point the user to them
    prompts = [json.loads(line)["prompt"] for line in (tmp_path / "prompts.jsonl").read_text().splitlines()]
    assert f"copy for the user: {out / 'figure_1.png'}" in prompts[-1]
    r = CliRunner().invoke(app, [*args[:-2], "--out-dir", str(tmp_path / "j"), "--json", "Plot something"])
    trace = json.loads(r.stdout)
    (obs,) = trace["steps"][0]["observations"]
    assert f"copy for the user: {tmp_path / 'j' / 'figure_1.png'}" in obs["content"]


def test_default_out_dir_is_a_run_folder_under_the_working_dir(tmp_path: Path, monkeypatch) -> None:
    from calltune.cli import default_out_dir

    monkeypatch.chdir(tmp_path)
    a, b = default_out_dir(), default_out_dir()
    assert a.parent == b.parent == tmp_path / "calltune-out" and a != b
    assert not a.exists()  # created only when a file is copied


@pytest.mark.skipif(
    probe_capabilities().landlock_abi < 1 or not probe_capabilities().mountns,
    reason="needs Landlock and a mount namespace",
)
def test_landlock_loads_when_the_checkout_is_under_a_hidden_directory(tmp_path: Path) -> None:
    # /tmp is hidden behind an empty tmpfs inside the sandbox; a checkout there used to lose
    # its sibling landlock module ("landlock: No module named 'landlock'")
    assert str(tmp_path).startswith("/tmp/")
    src = Path(__file__).parents[1] / "src" / "calltune"
    shutil.copytree(src, tmp_path / "calltune", ignore=shutil.ignore_patterns("__pycache__"))
    code = (
        f"import calltune.sandbox as s\nassert s.__file__.startswith({str(tmp_path)!r})\n"
        "with s.Sandbox(timeout=10) as sb:\n    iso = sb.isolation\n"
        "print(iso['layers'], iso['errors'], iso['landlock'])"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "landlock-abi" in p.stdout and "No module named" not in p.stdout
    assert "active (ABI" in p.stdout
