"""``Sandbox``: one isolated, stateful IPython kernel (jupyter_client + ipykernel in a child process).

    from calltune.sandbox import Sandbox
    with Sandbox(workdir="work", timeout=30, memory_mb=1024) as sb:
        sb.upload("data.jsonl")                  # -> "/mnt/data/data.jsonl"
        r = sb.run("import pandas as pd; pd.read_json('data.jsonl', lines=True).isna().sum()")
        print(r.text, r.error, r.images)

Isolation is described in ``docs/sandbox.md``; ``Sandbox.isolation`` reports what is active.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import queue
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .isolation import (
from ..errors import CalltuneError
    Capabilities,
    Cgroups,
    UidLease,
    children_of,
    kill_pids,
    pids_of_uid,
    probe_capabilities,
    python_paths,
)
from .result import CellResult, strip_ansi, trim_traceback, truncate_middle

IsolationMode = Literal["auto", "strict", "none"]

_LAUNCHER = Path(__file__).with_name("launcher.py")
# run silently in the kernel after stray processes were killed, so their zombies do not keep
# counting against the process limit
_REAP_CODE = """import os as _o
try:
    while _o.waitpid(-1, _o.WNOHANG)[0] > 0:
        pass
except ChildProcessError:
    pass
del _o"""
# Last-resort guard for machines without namespaces or Landlock: a Python audit hook (it cannot be
# removed once added, but code that reaches C directly, e.g. through ctypes, is not stopped).
_AUDIT_GUARD = """import os as _os, sys as _sys


def _calltune_guard(event, args, _os=_os, _allowed={allowed!r}, _net={net!r}, _fs={fs!r}):
    if event in ("os.kill", "os.killpg") and (args[0] <= 1 or args[0] == _os.getppid()):
        raise PermissionError("signalling processes outside the sandbox is not allowed")
    if _net and event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
        raise PermissionError("network access is disabled in this sandbox")
    if _fs and event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"):
        raise PermissionError("starting programs is disabled in this sandbox (no OS-level isolation here)")
    if _fs and event == "open" and args[0] is not None and not isinstance(args[0], int):
        mode, flags = args[1] or "", args[2] or 0
        if any(c in mode for c in "wax+") or flags & 3:
            p = _os.path.realpath(_os.fsdecode(args[0]))
            if not any(p == a or p.startswith(a.rstrip("/") + "/") for a in _allowed):
                raise PermissionError(f"writing outside the sandbox working directory is not allowed: {{p}}")


_sys.addaudithook(_calltune_guard)
del _calltune_guard, _os, _sys
"""
_IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
# how long to wait for a cell's output after the kernel replied (IOPub may lag the shell under load)
_IOPUB_GRACE_S = 3.0


def _write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` (never following or replacing a symlink the sandbox may have planted)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class SandboxError(CalltuneError, RuntimeError):
    """The sandbox could not start (or was asked for isolation this machine cannot give)."""


@dataclass
class Limits:
    """Limits applied to every kernel.

    timeout: wall-clock seconds per cell (then SIGINT; the kernel is restarted if the cell does
    not stop within ``interrupt_grace`` s). memory_mb: address space per process (RLIMIT_AS) and,
    where a memory cgroup is writable, the whole sandbox. cpu_s: CPU seconds per process over the
    kernel's life (RLIMIT_CPU; the kernel is restarted when it runs out). max_procs: processes and
    threads (RLIMIT_NPROC on the sandbox's own uid, plus a pids cgroup). max_file_mb: largest file
    (RLIMIT_FSIZE). max_output_chars: text kept per cell (head and tail, marker between).
    max_output_bytes: output collected per cell before the cell is interrupted.
    """

    timeout: float = 30.0
    memory_mb: int = 1024
    cpu_s: int = 600
    max_procs: int = 64
    max_file_mb: int = 100
    max_open_files: int = 256
    max_output_chars: int = 20_000
    max_output_bytes: int = 2_000_000
    interrupt_grace: float = 3.0
    startup_timeout: float = 60.0


class Sandbox:
    """One conversation's Python kernel.

    ``workdir``: host directory the code works in (created if missing; a temporary one that is
    deleted on ``close()`` when None). Inside the sandbox it is also visible at ``mount_at``
    (``/mnt/data``) when a mount namespace is available, and the kernel starts there.
    ``isolation``: "auto" (strongest available, reported in :attr:`isolation`), "strict" (raise
    :class:`SandboxError` unless both the network and filesystem writes are blocked by the
    operating system), "none" (resource limits and a clean environment only; for debugging).
    """

    def __init__(
        self,
        workdir: str | os.PathLike[str] | None = None,
        timeout: float = 30.0,
        memory_mb: int = 1024,
        *,
        cpu_s: int = 600,
        max_procs: int = 64,
        max_file_mb: int = 100,
        max_output_chars: int = 20_000,
        max_output_bytes: int = 2_000_000,
        isolation: IsolationMode = "auto",
        mount_at: str = "/mnt/data",
        kill_strays: bool = True,
        python: str | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        if memory_mb < 128:
            raise ValueError(
                f"memory_mb must be at least 128 (the kernel itself needs ~100 MB), got {memory_mb}"
            )
        if isolation not in ("auto", "strict", "none"):
            raise ValueError(f"isolation must be 'auto', 'strict' or 'none', got {isolation!r}")
        self.limits = Limits(
            timeout=float(timeout),
            memory_mb=int(memory_mb),
            cpu_s=int(cpu_s),
            max_procs=int(max_procs),
            max_file_mb=int(max_file_mb),
            max_output_chars=int(max_output_chars),
            max_output_bytes=int(max_output_bytes),
        )
        self.mode: IsolationMode = isolation
        self._own_workdir = workdir is None
        self.workdir = Path(
            tempfile.mkdtemp(prefix="calltune-work-") if workdir is None else workdir
        ).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._mount_at_req = mount_at
        self.kill_strays = kill_strays
        self.python = python or sys.executable
        self._lock = threading.RLock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._kc: Any = None
        self._statedir: Path | None = None
        self._private: Path = Path("/nonexistent")
        self._uid: UidLease | None = None
        self._cgroups: Cgroups | None = None
        self._report: dict[str, Any] = {}
        self._plan: dict[str, Any] = {}
        self._figure_n = 0
        self._closed = False
        self._prepared = False
        self._stderr_path: Path | None = None
        self.restarts = 0

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    @property
    def started(self) -> bool:
        return self._proc is not None

    def start(self) -> Sandbox:
        """Start the kernel (``run`` does this on first use)."""
        with self._lock:
            if self._closed:
                raise SandboxError("this sandbox is closed")
            if self._proc is None:
                self._ensure_prepared()
                self._launch()
        return self

    def _ensure_prepared(self) -> None:
        with self._lock:
            if self._closed:
                raise SandboxError("this sandbox is closed")
            if not self._prepared:
                self._prepare()
                self._prepared = True

    def close(self) -> None:
        """Stop the kernel, kill everything it started, remove its private state (HOME, TMPDIR)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop_kernel()
            if self._cgroups is not None:
                self._cgroups.remove()
            if self._uid is not None:
                with contextlib.suppress(OSError):
                    kill_pids(pids_of_uid(self._uid.uid))
                if not self._own_workdir:
                    self._return_workdir()
                self._uid.release()
            if self._statedir is not None:
                shutil.rmtree(self._statedir, ignore_errors=True)
            if self._own_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def _return_workdir(self) -> None:
        """Give the workdir back to the host user, so a later sandbox that happens to get the same
        uid cannot touch these files (symlinks are not followed)."""
        uid, gid = os.getuid(), os.getgid()
        with contextlib.suppress(OSError):
            os.chown(self.workdir, uid, gid)
            os.chmod(self.workdir, 0o755)
        for root, dirs, files in os.walk(self.workdir):
            for name in dirs + files:
                with contextlib.suppress(OSError):
                    os.lchown(os.path.join(root, name), uid, gid)

    def restart(self) -> None:
        """Kill the kernel and start a fresh one (all state is lost; files in the workdir stay)."""
        with self._lock:
            self.start()
            self._stop_kernel()
            self._launch()
            self.restarts += 1

    # ------------------------------------------------------------------ public helpers
    @property
    def sandbox_dir(self) -> str:
        """The working directory as the code sees it (``/mnt/data`` with a mount namespace)."""
        self._ensure_prepared()
        return self._plan.get("mount_at") or str(self.workdir)

    def sandbox_path(self, host_path: str | os.PathLike[str]) -> str:
        """Map a host path inside the workdir to the path the code sees."""
        rel = Path(host_path).resolve().relative_to(self.workdir)
        return str(Path(self.sandbox_dir) / rel)

    def host_path(self, sandbox_path: str) -> Path:
        """Map a path as the code sees it to the host path (must stay inside the workdir)."""
        p = Path(sandbox_path)
        if not p.is_absolute():
            p = Path(self.sandbox_dir) / p
        for base in {self.sandbox_dir, str(self.workdir)}:
            with contextlib.suppress(ValueError):
                rel = p.relative_to(base)
                host = (self.workdir / rel).resolve()
                if host == self.workdir or self.workdir in host.parents:
                    return host
        raise ValueError(f"{sandbox_path!r} is outside the sandbox working directory {self.sandbox_dir}")

    def upload(self, path: str | os.PathLike[str], name: str | None = None) -> str:
        """Copy a host file into the working directory; returns its path as the code sees it."""
        src = Path(path)
        if not src.is_file():
            raise FileNotFoundError(f"cannot upload {str(path)!r}: no such file")
        fname = name or src.name
        if "/" in fname or fname in ("", ".", ".."):
            raise ValueError(f"invalid upload name {fname!r}")
        self._ensure_prepared()
        dst = self.workdir / fname
        if dst.is_symlink() or dst.exists():
            if dst.is_dir() and not dst.is_symlink():
                raise IsADirectoryError(f"cannot upload over the directory {dst}")
            dst.unlink()
        _write_new_file(dst, src.read_bytes())
        self._give(dst)
        return self.sandbox_path(dst)

    def files(self) -> list[str]:
        """Files in the working directory (relative paths)."""
        return sorted(str(p.relative_to(self.workdir)) for p in self.workdir.rglob("*") if p.is_file())

    @property
    def isolation(self) -> dict[str, Any]:
        """What protects this sandbox right now: network, filesystem, user, limits, layers."""
        self.start()
        layers = list(self._report.get("layers", []))
        ll = self._report.get("landlock") or {}
        net = []
        if "netns" in layers:
            net.append("network namespace (no interfaces up)")
        if ll.get("tcp_denied"):
            net.append("landlock (TCP bind/connect denied)")
        if self._plan.get("audit_net"):
            net.append("python audit hook (socket calls refused; bypassable from C code)")
        fs = []
        if "mountns-readonly" in layers:
            fs.append(f"read-only mount namespace, writable: {self.sandbox_dir} and a private HOME/TMPDIR")
        if ll:
            fs.append("landlock (writes only beneath the working and state directories)")
        if self._plan.get("audit_fs"):
            fs.append("python audit hook (writes outside refused; bypassable from C code)")
        user = next((layer for layer in layers if layer.startswith("uid:")), None)
        return {
            "mode": self.mode,
            "network": net or ["none"],
            "filesystem": fs or ["none"],
            "user": f"unprivileged uid {user[4:]}" if user else f"same uid as the host ({os.getuid()})",
            "signals": "other uid"
            if user
            else ("landlock signal scope" if ll.get("signals_scoped") else "none"),
            "limits": {
                "timeout_s": self.limits.timeout,
                "memory_mb": self.limits.memory_mb,
                "cpu_s": self.limits.cpu_s,
                "max_procs": self.limits.max_procs
                if ("NPROC" in self._report.get("rlimits", {}) or "cgroup:pids" in layers)
                else None,
                "max_file_mb": self.limits.max_file_mb,
                "max_output_chars": self.limits.max_output_chars,
                "cgroups": self._cgroups.kinds if self._cgroups else [],
            },
            "layers": layers,
            "errors": list(self._report.get("errors", [])),
        }

    def describe_isolation(self) -> str:
        iso = self.isolation
        return (
            f"network: {'; '.join(iso['network'])} | filesystem: {'; '.join(iso['filesystem'])} | "
            f"user: {iso['user']} | limits: {self.limits.timeout:g} s/cell, {self.limits.memory_mb} MB, "
            f"{iso['limits']['max_procs'] or 'unlimited'} procs, cgroups {iso['limits']['cgroups'] or 'none'}"
        )

    # ------------------------------------------------------------------ setup
    def _prepare(self) -> None:
        caps = probe_capabilities()
        mode = self.mode
        plan: dict[str, Any] = {"mount_at": None, "audit_net": False, "audit_fs": False}
        use_ns = mode != "none" and caps.netns
        use_mnt = mode != "none" and caps.mountns
        use_landlock = mode != "none" and caps.landlock_abi >= 1
        drop_uid = caps.root and mode != "none" and (use_mnt or self._python_world_readable())
        if mode == "strict":
            net_ok = use_ns or caps.landlock_abi >= 4
            fs_ok = use_mnt or use_landlock
            if not (net_ok and fs_ok):
                raise SandboxError(
                    "isolation='strict' needs a network namespace or Landlock ABI >= 4 for the network and a "
                    f"mount namespace or Landlock for the filesystem; this machine offers: {self._caps_text(caps)}"
                )
        if mode != "none":
            plan["audit_net"] = not use_ns and caps.landlock_abi < 4
            plan["audit_fs"] = not use_mnt and not use_landlock
        if use_mnt and self._mount_at_req:
            plan["mount_at"] = self._mount_at_req
        plan.update(netns=use_ns, mountns=use_mnt, landlock=use_landlock, drop_uid=drop_uid)
        self._plan = plan
        # statedir (root-owned): launch config, startup code, connection file, report, stderr.
        # statedir/private (the sandbox's, writable): HOME, TMPDIR, caches and the kernel sockets.
        # The host never writes into a directory the sandbox can modify (no symlink tricks).
        self._statedir = Path(tempfile.mkdtemp(prefix="ctsb-"))
        os.chmod(self._statedir, 0o711)
        self._private = self._statedir / "private"
        for sub in ("home", "tmp", "mpl", "ipython", "run"):
            (self._private / sub).mkdir(parents=True)
        os.chmod(self._private, 0o700)
        self._seed_matplotlib_cache(self._private / "mpl")
        if caps.root and mode != "none":
            name = f"calltune-sbx-{os.getpid()}-{secrets.token_hex(4)}"
            self._cgroups = Cgroups(name, caps, self.limits.memory_mb * 2, self.limits.max_procs)
        if drop_uid:
            self._uid = UidLease()
            for p in [self._private, *self._private.rglob("*")]:
                os.lchown(p, self._uid.uid, self._uid.uid)
            os.chown(self.workdir, self._uid.uid, self._uid.uid)
            os.chmod(self.workdir, 0o700)  # other sandboxes (other uids) cannot read it
            for p in self.workdir.rglob("*"):
                with contextlib.suppress(OSError):
                    os.lchown(p, self._uid.uid, self._uid.uid)
        (self._statedir / "startup.py").write_text(self._startup_code())

    @staticmethod
    def _caps_text(caps: Capabilities) -> str:
        return (
            f"root={caps.root} netns={caps.netns} mountns={caps.mountns} userns={caps.userns} "
            f"landlock_abi={caps.landlock_abi}"
        )

    def _python_world_readable(self) -> bool:
        for p in python_paths():
            cur = Path("/")
            for part in Path(p).parts[1:]:
                cur = cur / part
                with contextlib.suppress(OSError):
                    if not cur.stat().st_mode & 0o001:
                        return False
        return True

    @staticmethod
    def _seed_matplotlib_cache(dst: Path) -> None:
        """Copy a prebuilt matplotlib font cache so each kernel skips the font scan (seconds)."""
        cache = Path.home() / ".cache" / "calltune" / "matplotlib"
        try:
            if not any(cache.glob("fontlist-*.json")):
                cache.mkdir(parents=True, exist_ok=True)
                subprocess.run(
                    [sys.executable, "-c", "import matplotlib.font_manager"],
                    env={**os.environ, "MPLCONFIGDIR": str(cache)},
                    capture_output=True,
                    timeout=120,
                )
            for f in cache.glob("fontlist-*.json"):
                shutil.copyfile(f, dst / f.name)
        except (OSError, subprocess.SubprocessError):
            pass

    def _startup_code(self) -> str:
        if not (self._plan.get("audit_net") or self._plan.get("audit_fs")):
            return "# no in-kernel guard: the operating system enforces the isolation\n"
        allowed = [str(self.workdir), str(self._private), "/dev/null"]
        return _AUDIT_GUARD.format(allowed=allowed, net=self._plan["audit_net"], fs=self._plan["audit_fs"])

    def _kernel_env(self) -> dict[str, str]:
        sd = self._private
        venv_bin = os.path.dirname(self.python)
        return {
            "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(sd / "home"),
            "TMPDIR": str(sd / "tmp"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONIOENCODING": "utf-8",
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "MPLCONFIGDIR": str(sd / "mpl"),
            "IPYTHONDIR": str(sd / "ipython"),
            "JUPYTER_RUNTIME_DIR": str(sd / "tmp"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "NUMEXPR_MAX_THREADS": "1",
            "MALLOC_ARENA_MAX": "2",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "TERM": "dumb",
        }

    def _launch(self) -> None:
        from jupyter_client.connect import write_connection_file

        assert self._statedir is not None
        sd = self._statedir
        run_dir = self._private / "run"
        for f in run_dir.glob("k-*"):
            f.unlink(missing_ok=True)
        conn_file = sd / "kernel.json"
        conn_file.unlink(missing_ok=True)
        write_connection_file(
            str(conn_file), ip=str(run_dir / "k"), transport="ipc", key=secrets.token_hex(32).encode()
        )
        uid = self._uid.uid if self._uid else None
        if uid is not None:
            os.chown(conn_file, 0, uid)
            os.chmod(conn_file, 0o640)
        mb = 1024 * 1024
        argv = [
            self.python,
            "-m",
            "ipykernel_launcher",
            "-f",
            str(conn_file),
            f"--IPKernelApp.parent_handle={os.getpid()}",
            "--HistoryManager.enabled=False",
            "--InteractiveShell.xmode=Plain",
            "--InteractiveShell.colors=nocolor",
            f"--IPKernelApp.exec_files={json.dumps([str(sd / 'startup.py')])}",
        ]
        cfg = {
            "workdir": str(self.workdir),
            "statedir": str(self._private),
            "mount_at": self._plan.get("mount_at"),
            "readable": [*python_paths(), str(sd)],
            "cwd": self._plan.get("mount_at") or str(self.workdir),
            "uid": uid,
            "gid": uid,
            "netns": self._plan["netns"],
            "mountns": self._plan["mountns"],
            "landlock": self._plan["landlock"],
            "hidepid": True,
            "strict": self.mode == "strict",
            "required": ["netns", "mountns", "landlock", "uid"] if self.mode == "strict" else [],
            "cgroups": [str(d) for d in (self._cgroups.dirs if self._cgroups else [])],
            "rlimits": {
                "AS": self.limits.memory_mb * mb,
                "CPU": self.limits.cpu_s,
                "NPROC": self.limits.max_procs,
                "FSIZE": self.limits.max_file_mb * mb,
                "NOFILE": self.limits.max_open_files,
                "CORE": 0,
            },
            "report": str(sd / "isolation.json"),
            "kernel_argv": argv,
            "env": self._kernel_env(),
        }
        if self.mode == "none":
            cfg["rlimits"].pop("NPROC")  # without a private uid NPROC would count the host's processes
        if uid is None:
            cfg["rlimits"].pop("NPROC", None)
        cfg_path = sd / "launch.json"
        cfg_path.write_text(json.dumps(cfg))
        os.chmod(cfg_path, 0o600)
        (sd / "isolation.json").unlink(missing_ok=True)
        self._stderr_path = sd / "kernel.stderr"
        stderr = open(self._stderr_path, "wb")  # noqa: SIM115 - owned by the child
        try:
            self._proc = subprocess.Popen(
                [self.python, str(_LAUNCHER), str(cfg_path)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                close_fds=True,
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                start_new_session=True,
            )
        finally:
            stderr.close()
        self._connect()
        with contextlib.suppress(OSError, ValueError):
            self._report = json.loads((sd / "isolation.json").read_text())

    def _kernel_stderr(self) -> str:
        try:
            return (self._stderr_path.read_text(errors="replace") if self._stderr_path else "")[-2000:]
        except OSError:
            return ""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.limits.startup_timeout
        kc = self._kc
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = self._proc.returncode if self._proc else None
                raise SandboxError(
                    f"the sandbox kernel exited during startup (status {code}): {self._kernel_stderr()}"
                )
            msg_id = kc.kernel_info()
            t_end = time.monotonic() + 1.0
            while time.monotonic() < t_end:
                try:
                    msg = kc.get_shell_msg(timeout=0.2)
                except queue.Empty:
                    if self._proc.poll() is not None:
                        break
                    continue
                if msg["parent_header"].get("msg_id") == msg_id:
                    # as jupyter_client does: ready only once IOPub delivers too (the kernel_info
                    # request's status messages); a subscription still joining would lose the
                    # next cell's output
                    if self._iopub_connected(0.5):
                        self._drain_iopub(0.2)
                        return
                    break
        self._stop_kernel()
        raise SandboxError(
            f"the sandbox kernel did not answer within {self.limits.startup_timeout:g} s: {self._kernel_stderr()}"
        )

    def _iopub_connected(self, wait: float) -> bool:
        try:
            self._kc.get_iopub_msg(timeout=wait)
        except queue.Empty:
            return False
        return True

    def _connect(self) -> None:
        """Client channels to the kernel of ``kernel.json``, ready once shell and IOPub answer."""
        from jupyter_client import BlockingKernelClient

        kc = BlockingKernelClient()
        kc.load_connection_file(str(self._statedir / "kernel.json"))
        kc.start_channels()
        self._kc = kc
        self._wait_ready()

    def _reconnect(self) -> None:
        """New client channels to the same kernel (state kept)."""
        with contextlib.suppress(Exception):
            self._kc.stop_channels()
        self._connect()

    def _drain_iopub(self, wait: float) -> None:
        end = time.monotonic() + wait
        while time.monotonic() < end:
            try:
                self._kc.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                break

    def _stop_kernel(self) -> None:
        if self._kc is not None:
            with contextlib.suppress(Exception):
                self._kc.stop_channels()
            self._kc = None
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
            self._proc = None
        self._kill_all()

    def _sandbox_pids(self) -> list[int]:
        pids: set[int] = set()
        if self._cgroups is not None:
            pids.update(self._cgroups.pids())
        if self._uid is not None:
            pids.update(pids_of_uid(self._uid.uid))
        elif self._proc is not None:
            pids.update(children_of(self._proc.pid))
        return sorted(pids)

    def _kill_all(self, keep: int | None = None) -> int:
        killed = 0
        for _ in range(20):  # a fork bomb may fork while we kill: repeat until nothing is left
            pids = [p for p in self._sandbox_pids() if p != keep]
            if not pids:
                break
            killed += kill_pids(pids, keep=keep)
            time.sleep(0.02)
        return killed

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _death_reason(self) -> str:
        code = self._proc.returncode if self._proc else None
        if code is None:
            return "unknown reason"
        if code < 0:
            sig = signal.Signals(-code).name
            hint = {
                "SIGKILL": "killed, e.g. out of memory",
                "SIGXCPU": f"CPU time limit of {self.limits.cpu_s} s reached",
                "SIGSEGV": "crashed",
            }.get(sig, "signal")
            return f"{sig}: {hint}"
        return f"exit status {code}"

    def _give(self, path: Path) -> None:
        if self._uid is not None:
            with contextlib.suppress(OSError):
                os.lchown(path, self._uid.uid, self._uid.uid)

    # ------------------------------------------------------------------ running code
    def run(self, code: str, timeout: float | None = None) -> CellResult:
        """Run one cell; state persists across calls. Never raises for problems in the code."""
        if not isinstance(code, str):
            raise TypeError(f"code must be a str, got {type(code).__name__}")
        with self._lock:
            self.start()
            res = CellResult()
            if not self._alive():
                reason = self._death_reason()
                self._stop_kernel()
                self._launch()
                self.restarts += 1
                res.restarted = True
                res.notes.append(f"[the previous kernel had died ({reason})]")
            t0 = time.monotonic()
            before = self._image_snapshot()
            self._collect(code, timeout or self.limits.timeout, res)
            if self.kill_strays and self._alive() and self._proc is not None:
                n = self._kill_all(keep=self._proc.pid)
                if n:
                    res.notes.append(f"[{n} background process(es) left by the cell were stopped]")
                    self._silent(_REAP_CODE)
            self._add_new_images(before, res)
            res.elapsed_s = time.monotonic() - t0
            return res

    def _collect(self, code: str, timeout: float, res: CellResult) -> None:
        kc = self._kc
        lim = self.limits
        msg_id = kc.execute(code, store_history=True, allow_stdin=False, stop_on_error=False)
        parts: list[str] = []
        size = 0
        deadline = time.monotonic() + timeout
        interrupted_at: float | None = None
        why: str | None = None
        idle = replied = seen = False
        replied_at = 0.0
        error: dict[str, Any] | None = None
        while True:
            now = time.monotonic()
            if not self._alive():
                reason = self._death_reason()
                self._stop_kernel()
                self._launch()
                self.restarts += 1
                res.restarted = True
                res.error = f"KernelDied: the Python kernel died while running this cell ({reason})."
                break
            if interrupted_at is None and now > deadline:
                why = "timeout"
                interrupted_at = self._interrupt()
            if interrupted_at is not None and now > interrupted_at + lim.interrupt_grace:
                self._stop_kernel()
                self._launch()
                self.restarts += 1
                res.restarted = True
                why = why or "timeout"
                break
            if idle or (replied and now > replied_at + _IOPUB_GRACE_S):
                break
            try:
                msg = kc.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                msg = None
            if not replied:
                with contextlib.suppress(queue.Empty):
                    while True:
                        r = kc.get_shell_msg(timeout=0)
                        if r["parent_header"].get("msg_id") == msg_id:
                            replied, replied_at = True, time.monotonic()
                            res.execution_count = r["content"].get("execution_count")
                            break
            if msg is None or msg["parent_header"].get("msg_id") != msg_id:
                continue
            seen = True
            mtype, content = msg["msg_type"], msg["content"]
            if mtype == "status" and content.get("execution_state") == "idle":
                idle = True
                continue
            if mtype == "error":
                error = content
                continue
            if mtype == "execute_input":
                res.execution_count = content.get("execution_count")
                continue
            if size > lim.max_output_bytes:
                continue  # past the cap: drain without keeping anything
            if mtype == "stream":
                text = content.get("text", "")
                size += len(text)
                parts.append(text)
            elif mtype in ("execute_result", "display_data"):
                data = content.get("data", {})
                if "image/png" in data:
                    size += len(data["image/png"])
                    self._save_png(data["image/png"], res)
                elif "text/plain" in data:
                    text = data["text/plain"]
                    size += len(text)
                    parts.append(text if text.endswith("\n") else text + "\n")
            elif mtype == "clear_output":
                parts = []
            if size > lim.max_output_bytes and interrupted_at is None:
                res.truncated = True
                why = "output"
                interrupted_at = self._interrupt()
        if replied and not seen and not res.restarted and self._alive():
            # the shell answered but IOPub carried nothing for this cell: the output channel is
            # lost (a subscription that never joined); reconnect so the next cell is heard
            try:
                self._reconnect()
                res.notes.append("[the cell ran but its output was lost; the output channel was reconnected]")
            except SandboxError:  # the kernel stopped answering: start a fresh one
                self._launch()
                self.restarts += 1
                res.restarted = True
                res.notes.append("[the cell ran but its output was lost; the kernel was restarted]")
        text = strip_ansi("".join(parts))
        if len(text) > lim.max_output_chars:
            res.truncated = True
            text = truncate_middle(text, lim.max_output_chars)
        if why == "output":
            text += f"\n...[output exceeded {lim.max_output_bytes} bytes: the rest was discarded and the cell was stopped]"
        res.text = text
        if why == "timeout":
            res.timed_out = True
            msg = f"TimeoutError: the cell ran longer than {timeout:g} s and was stopped."
            if res.restarted:
                msg += " It did not respond to the interrupt, so the kernel was restarted."
            elif error is not None:
                tb = trim_traceback(error.get("traceback") or [], max_lines=6)
                msg += "\n" + tb
            res.error = msg
        elif error is not None and why != "output" and res.error is None:
            tb = trim_traceback(error.get("traceback") or [])
            res.error = tb or f"{error.get('ename')}: {error.get('evalue')}"

    def _silent(self, code: str, timeout: float = 3.0) -> bool:
        """Run housekeeping code without output or history; True when it finished in time."""
        msg_id = self._kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                r = self._kc.get_shell_msg(timeout=0.1)
            except queue.Empty:
                if not self._alive():
                    return False
                continue
            if r["parent_header"].get("msg_id") == msg_id:
                return True
        return False

    def _interrupt(self) -> float:
        if self._proc is not None:
            with contextlib.suppress(OSError):
                os.kill(self._proc.pid, signal.SIGINT)
        return time.monotonic()

    def _save_png(self, b64: str, res: CellResult) -> None:
        try:
            raw = base64.b64decode(b64)
        except (binascii.Error, ValueError):
            return
        for _ in range(1000):
            self._figure_n += 1
            path = self.workdir / f"figure_{self._figure_n}.png"
            try:
                _write_new_file(path, raw)
                break
            except FileExistsError:
                continue
        else:
            return
        self._give(path)
        res.images.append(str(path))
        res.image_names.append(self.sandbox_path(path))

    def _image_snapshot(self) -> dict[str, float]:
        out = {}
        with contextlib.suppress(OSError):
            for p in self.workdir.iterdir():
                if p.suffix.lower() in _IMAGE_EXTS:
                    st = p.lstat()  # symlinks are never reported (they could point anywhere)
                    if stat.S_ISREG(st.st_mode):
                        out[str(p)] = st.st_mtime
        return out

    def _add_new_images(self, before: dict[str, float], res: CellResult) -> None:
        for path, mtime in sorted(self._image_snapshot().items()):
            if path in res.images or before.get(path) == mtime:
                continue
            res.images.append(path)
            res.image_names.append(self.sandbox_path(path))
