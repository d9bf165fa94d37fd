"""Escape and abuse attempts: each must fail, and the next cell must still work."""

from __future__ import annotations

import base64
import os
import socket
import stat
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("ipykernel")

from calltune.sandbox import Sandbox  # noqa: E402

SECRET = "calltune-test-secret-7f3a9c"


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory):
    os.environ["CALLTUNE_TEST_SECRET"] = SECRET  # a secret in the server's environment
    work = tmp_path_factory.mktemp("abuse")
    with Sandbox(workdir=work, timeout=3, memory_mb=1024, max_output_chars=5000) as s:
        s.run("canary = 'still here'")
        yield s
    os.environ.pop("CALLTUNE_TEST_SECRET", None)


def still_works(s: Sandbox, expect_state: bool = True) -> None:
    r = s.run("21 * 2")
    assert r.text == "42\n", r.to_observation()
    if expect_state:
        assert s.run("canary").text == "'still here'\n"


def test_no_tcp_connection_to_a_loopback_server(sb: Sandbox) -> None:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    accepted: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                accepted.append(conn)
            except TimeoutError:
                continue
            except OSError:
                break

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        r = sb.run(
            "import socket\n"
            f"s = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
            "s.sendall(b'exfiltrated')\n"
            "print('CONNECTED')"
        )
        udp = sb.run(
            f"import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', {port}))"
        )
        time.sleep(0.3)
    finally:
        stop.set()
        t.join(2)
        srv.close()
    assert accepted == []
    assert "CONNECTED" not in r.text
    assert r.error is not None and any(
        e in r.error for e in ("PermissionError", "OSError", "ConnectionRefused")
    )
    if "netns" in sb.isolation["layers"]:
        assert udp.error is not None  # no interface is up in the namespace
    still_works(sb)


def test_no_writes_outside_the_working_directory(sb: Sandbox, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    outside.chmod(0o777)  # plain permissions would allow it: only the sandbox may stop it
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    launcher = Path(__file__).parents[1] / "src/calltune/sandbox/launcher.py"
    before = launcher.read_bytes()
    targets = [outside / "pwned.txt", site / "zz_pwned.pth", launcher]
    code = "results = []\n"
    for p in targets:
        code += (
            "try:\n"
            f"    open({str(p)!r}, 'a').write('import os; os.system(\"id\")\\n')\n"
            f"    results.append('WROTE {p.name}')\n"
            "except OSError as e:\n"
            "    results.append(type(e).__name__)\n"
        )
    code += "print(results)"
    r = sb.run(code)
    assert "WROTE" not in r.text, r.text
    assert not (outside / "pwned.txt").exists()
    assert not (site / "zz_pwned.pth").exists()
    assert launcher.read_bytes() == before
    # not through a shell either
    r = sb.run(f"import subprocess\nsubprocess.run(['touch', {str(outside / 'shell.txt')!r}]).returncode")
    assert not (outside / "shell.txt").exists()
    assert r.text.strip() != "0"
    still_works(sb)


def test_environment_secrets_are_not_visible(sb: Sandbox) -> None:
    assert os.environ["CALLTUNE_TEST_SECRET"] == SECRET
    r = sb.run(
        "import os, glob\n"
        "found = [k for k, v in os.environ.items() if 'calltune-test-secret' in v]\n"
        "for p in glob.glob('/proc/*/environ') + [f'/proc/{os.getppid()}/environ']:\n"
        "    try:\n"
        "        if b'calltune-test-secret' in open(p, 'rb').read():\n"
        "            found.append(p)\n"
        "    except OSError:\n"
        "        pass\n"
        "print('FOUND', found)\n"
        "print(sorted(os.environ))"
    )
    assert "FOUND []" in r.text, r.text
    assert SECRET not in r.text
    assert "CALLTUNE_TEST_SECRET" not in r.text
    still_works(sb)


def test_infinite_loop_is_interrupted_and_state_kept(sb: Sandbox) -> None:
    t0 = time.monotonic()
    r = sb.run("while True:\n    pass")
    assert time.monotonic() - t0 < 3 + 3
    assert r.timed_out
    assert r.error is not None and r.error.startswith("TimeoutError: the cell ran longer than 3 s")
    assert not r.restarted
    still_works(sb)


def test_loop_that_ignores_interrupts_gets_the_kernel_restarted(sb: Sandbox) -> None:
    r = sb.run("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")
    assert r.timed_out and r.restarted
    assert "kernel was restarted" in r.error
    still_works(sb, expect_state=False)
    sb.run("canary = 'still here'")


def test_allocating_50_gb_fails(sb: Sandbox) -> None:
    r = sb.run("x = bytearray(50 * 1024**3)")
    assert r.error is not None and "MemoryError" in r.error
    # zero-filling ~1 GB takes seconds on a loaded machine: the cell gets time to reach the limit
    r = sb.run("chunks = []\nfor _ in range(100):\n    chunks.append(bytearray(100 * 1024**2))", timeout=60)
    assert (r.error is not None and "MemoryError" in r.error) or r.restarted, r.error
    sb.run("chunks = None")
    if not r.restarted:
        still_works(sb)


def test_fork_bomb_is_contained(sb: Sandbox) -> None:
    r = sb.run("import os\nwhile True:\n    os.fork()")
    assert r.error is not None or r.timed_out or r.restarted
    still_works(sb, expect_state=not r.restarted)
    assert [p for p in sb._kernel.pids() if p != sb._proc.pid] == []
    # a normal subprocess works again afterwards (the process budget was given back)
    assert sb.run("import subprocess\nsubprocess.run(['true']).returncode").text == "0\n"


def test_cannot_kill_the_parent(sb: Sandbox) -> None:
    r = sb.run("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)")
    assert r.error is not None and ("PermissionError" in r.error or "ProcessLookupError" in r.error)
    r = sb.run("import os\ntry:\n    os.kill(1, 9)\nexcept OSError as e:\n    print(type(e).__name__)")
    assert r.text.strip() in ("PermissionError", "ProcessLookupError")
    still_works(sb)


def test_printing_100_mb_is_capped(sb: Sandbox) -> None:
    t0 = time.monotonic()
    r = sb.run("print('x' * 100_000_000)")
    assert time.monotonic() - t0 < 30
    assert r.truncated
    assert len(r.text) < 5000 + 300
    assert "[output" in r.text
    r = sb.run("for i in range(2_000_000):\n    print('y' * 50)")
    assert not r.restarted, r.error  # the flood is dropped in the kernel, which stays alive
    assert r.truncated and len(r.text) < 5000 + 300
    still_works(sb)


def test_no_privilege_escalation(sb: Sandbox) -> None:
    if not sb.isolation["user"].startswith("unprivileged"):
        pytest.skip("the sandbox runs as the host user here (not root)")
    r = sb.run("import os\nos.setuid(0)")
    assert r.error is not None and "PermissionError" in r.error
    r = sb.run("import os\nos.getuid(), os.geteuid()")
    assert "0," not in r.text.replace(" ", "")[:3]
    still_works(sb)


def test_workdir_permissions_are_sane(sb: Sandbox) -> None:
    mode = stat.S_IMODE(sb.workdir.stat().st_mode)
    assert mode & 0o002 == 0  # not world-writable


def test_symlinks_planted_in_the_workdir_do_not_trick_the_host(sb: Sandbox, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("root-only secret")
    victim.chmod(0o600)
    r = sb.run(
        "import os\n"
        "for i in range(1, 200):\n"
        f"    os.symlink({str(victim)!r}, f'figure_{{i}}.png')\n"
        f"os.symlink({str(victim)!r}, 'leak.png')\n"
        f"os.symlink({str(victim)!r}, 'upload.csv')\n"
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"
    )
    assert r.error is None, r.error
    assert victim.read_text() == "root-only secret"  # the figure did not overwrite the target
    assert [Path(p).name for p in r.images] == ["figure_200.png"]  # symlinks are never reported
    assert all(b"root-only secret" not in base64.b64decode(i["data"]) for i in r.images_base64())
    src = tmp_path / "upload.csv"
    src.write_text("a,b\n1,2\n")
    sb.upload(src)
    assert victim.read_text() == "root-only secret"
    assert (sb.workdir / "upload.csv").read_text() == "a,b\n1,2\n"
    assert not (sb.workdir / "upload.csv").is_symlink()
    sb.run("import glob, os\nfor f in glob.glob('figure_*.png') + ['leak.png']:\n    os.remove(f)")
    still_works(sb)
