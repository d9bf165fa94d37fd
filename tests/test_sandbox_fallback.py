"""Degraded machines: without namespaces (Landlock only) and without anything (audit hook only).

The machine here has everything, so the probe is monkeypatched to pretend otherwise; the
attacks that each fallback is meant to stop must still fail.
"""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

import pytest

pytest.importorskip("ipykernel")

import calltune.sandbox.kernel as kernel_mod  # noqa: E402
from calltune.sandbox import Sandbox, SandboxError, probe_capabilities  # noqa: E402


def _fake_caps(**changes: object):
    caps = dataclasses.replace(probe_capabilities(), **changes)
    return lambda refresh=False: caps


@pytest.fixture
def loopback_port():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(0.5)
    yield srv.getsockname()[1], srv
    srv.close()


def _attacks(s: Sandbox, tmp_path: Path, port: int, srv: socket.socket) -> None:
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    outside.chmod(0o777)
    r = s.run(
        f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\nprint('CONNECTED')"
    )
    assert "CONNECTED" not in r.text and r.error is not None
    with pytest.raises(TimeoutError):
        srv.accept()
    r = s.run(f"open({str(outside / 'x.txt')!r}, 'w').write('x')")
    assert r.error is not None and not (outside / "x.txt").exists()
    r = s.run("import os, signal\nos.kill(os.getppid(), signal.SIGTERM)")
    assert r.error is not None and "PermissionError" in r.error
    assert s.run("open('inside.txt', 'w').write('ok')\n6 * 7").text == "42\n"
    assert (s.workdir / "inside.txt").read_text() == "ok"


def test_landlock_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, loopback_port) -> None:
    caps = probe_capabilities()
    if caps.landlock_abi < 6:
        pytest.skip(f"needs Landlock ABI >= 6 (TCP and signal scoping), kernel has {caps.landlock_abi}")
    monkeypatch.setattr(kernel_mod, "probe_capabilities", _fake_caps(netns=False, mountns=False))
    port, srv = loopback_port
    with Sandbox(workdir=tmp_path / "w", timeout=10) as s:
        iso = s.isolation
        assert iso["network"] == ["landlock (TCP bind/connect denied)"]
        assert iso["filesystem"] == ["landlock (writes only beneath the working and state directories)"]
        assert s.sandbox_dir == str(s.workdir)  # no /mnt/data without a mount namespace
        _attacks(s, tmp_path, port, srv)


def test_audit_hook_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, loopback_port) -> None:
    monkeypatch.setattr(
        kernel_mod, "probe_capabilities", _fake_caps(netns=False, mountns=False, landlock_abi=0)
    )
    port, srv = loopback_port
    with Sandbox(workdir=tmp_path / "w", timeout=10) as s:
        iso = s.isolation
        assert iso["network"][0].startswith("python audit hook")
        assert iso["filesystem"][0].startswith("python audit hook")
        _attacks(s, tmp_path, port, srv)
        r = s.run("import subprocess\nsubprocess.run(['id'])")
        assert r.error is not None and "starting programs is disabled" in r.error


def test_strict_refuses_a_machine_without_isolation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(
        kernel_mod, "probe_capabilities", _fake_caps(netns=False, mountns=False, landlock_abi=0)
    )
    s = Sandbox(workdir=tmp_path / "w", isolation="strict")
    with pytest.raises(SandboxError, match="isolation='strict' needs"):
        s.start()
    s.close()
