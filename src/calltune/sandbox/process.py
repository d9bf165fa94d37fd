"""The kernel's operating-system process: its private state, the launch through the isolating
launcher (``launcher.py``), limits, and killing everything it started."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .isolation import Capabilities, Cgroups, UidLease, children_of, kill_pids, pids_of_uid, python_paths
from .limits import Limits
from .plan import IsolationPlan
from .startup import startup_code
from .workspace import Workspace

_LAUNCHER = Path(__file__).with_name("launcher.py")
_MB = 1024 * 1024


class KernelProcess:
    """One sandbox's kernel process (restartable) and the state that outlives each kernel.

    ``statedir`` (root-owned): launch config, startup code, connection file, report, stderr.
    ``private`` (``statedir/private``, the sandbox's, writable): HOME, TMPDIR, caches and the
    kernel sockets. The host never writes into a directory the sandbox can modify.
    """

    def __init__(self, python: str, limits: Limits, workspace: Workspace) -> None:
        self.python = python
        self.limits = limits
        self.workspace = workspace
        self.popen: subprocess.Popen[bytes] | None = None
        self.statedir: Path | None = None
        self.private = Path("/nonexistent")
        self.uid: UidLease | None = None
        self.cgroups: Cgroups | None = None
        #: what the launcher applied (``isolation.json``)
        self.report: dict[str, Any] = {}
        self._plan: IsolationPlan | None = None
        self._stderr_path: Path | None = None

    @property
    def connection_file(self) -> Path:
        assert self.statedir is not None
        return self.statedir / "kernel.json"

    # ------------------------------------------------------------------ setup
    def prepare(self, plan: IsolationPlan, caps: Capabilities) -> None:
        """Create the state directories, cgroups and uid lease the plan needs, and the startup file."""
        self._plan = plan
        self.statedir = Path(tempfile.mkdtemp(prefix="ctsb-"))
        os.chmod(self.statedir, 0o711)
        self.private = self.statedir / "private"
        for sub in ("home", "tmp", "mpl", "ipython", "run"):
            (self.private / sub).mkdir(parents=True)
        os.chmod(self.private, 0o700)
        _seed_matplotlib_cache(self.private / "mpl")
        if caps.root and plan.mode != "none":
            name = f"calltune-sbx-{os.getpid()}-{secrets.token_hex(4)}"
            self.cgroups = Cgroups(name, caps, self.limits.memory_mb * 2, self.limits.max_procs)
        if plan.drop_uid:
            self.uid = UidLease()
            for p in [self.private, *self.private.rglob("*")]:
                os.lchown(p, self.uid.uid, self.uid.uid)
            self.workspace.hand_over(self.uid.uid)
        writable = [str(self.workspace.path), str(self.private), "/dev/null"]
        (self.statedir / "startup.py").write_text(startup_code(plan, writable, self.limits.max_output_bytes))

    def _kernel_env(self) -> dict[str, str]:
        sd = self.private
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
            # one thread each for the numeric libraries (the process limit counts threads)
            **dict.fromkeys(
                ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_MAX_THREADS"), "1"
            ),
            "MALLOC_ARENA_MAX": "2",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "TERM": "dumb",
        }

    def _launch_config(self, conn_file: Path, uid: int | None) -> dict[str, Any]:
        assert self.statedir is not None and self._plan is not None
        sd, plan = self.statedir, self._plan
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
        rlimits = {
            "AS": self.limits.memory_mb * _MB,
            "CPU": self.limits.cpu_s,
            "NPROC": self.limits.max_procs,
            "FSIZE": self.limits.max_file_mb * _MB,
            "NOFILE": self.limits.max_open_files,
            "CORE": 0,
        }
        if plan.mode == "none" or uid is None:
            rlimits.pop("NPROC")  # without a private uid NPROC would count the host's processes
        strict = plan.mode == "strict"
        return {
            "workdir": str(self.workspace.path),
            "statedir": str(self.private),
            "mount_at": plan.mount_at,
            "readable": [*python_paths(), str(sd)],
            "cwd": plan.mount_at or str(self.workspace.path),
            "uid": uid,
            "gid": uid,
            "netns": plan.netns,
            "mountns": plan.mountns,
            "landlock": plan.landlock,
            "hidepid": True,
            "strict": strict,
            "required": ["netns", "mountns", "landlock", "uid"] if strict else [],
            "cgroups": [str(d) for d in (self.cgroups.dirs if self.cgroups else [])],
            "rlimits": rlimits,
            "report": str(sd / "isolation.json"),
            "kernel_argv": argv,
            "env": self._kernel_env(),
        }

    # ------------------------------------------------------------------ launch
    def launch(self) -> None:
        """Start a kernel through the launcher (a connection file in ``connection_file``); the
        caller connects to it and then calls :meth:`read_report`."""
        from jupyter_client.connect import write_connection_file

        assert self.statedir is not None
        sd = self.statedir
        run_dir = self.private / "run"
        for f in run_dir.glob("k-*"):
            f.unlink(missing_ok=True)
        conn_file = self.connection_file
        conn_file.unlink(missing_ok=True)
        write_connection_file(
            str(conn_file), ip=str(run_dir / "k"), transport="ipc", key=secrets.token_hex(32).encode()
        )
        uid = self.uid.uid if self.uid else None
        if uid is not None:
            os.chown(conn_file, 0, uid)
            os.chmod(conn_file, 0o640)
        cfg_path = sd / "launch.json"
        cfg_path.write_text(json.dumps(self._launch_config(conn_file, uid)))
        os.chmod(cfg_path, 0o600)
        (sd / "isolation.json").unlink(missing_ok=True)
        self._stderr_path = sd / "kernel.stderr"
        stderr = open(self._stderr_path, "wb")  # noqa: SIM115 - owned by the child
        try:
            self.popen = subprocess.Popen(
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

    def read_report(self) -> None:
        assert self.statedir is not None
        with contextlib.suppress(OSError, ValueError):
            self.report = json.loads((self.statedir / "isolation.json").read_text())

    def stderr_tail(self) -> str:
        try:
            return (self._stderr_path.read_text(errors="replace") if self._stderr_path else "")[-2000:]
        except OSError:
            return ""

    # ------------------------------------------------------------------ state and signals
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def exit_status(self) -> int | None:
        return self.popen.returncode if self.popen else None

    def death_reason(self) -> str:
        code = self.exit_status()
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

    def interrupt(self) -> float:
        """SIGINT the kernel (a ``KeyboardInterrupt`` in the cell); returns when, in monotonic time."""
        if self.popen is not None:
            with contextlib.suppress(OSError):
                os.kill(self.popen.pid, signal.SIGINT)
        return time.monotonic()

    def pids(self) -> list[int]:
        """Every process of the sandbox (the kernel and whatever it started)."""
        pids: set[int] = set()
        if self.cgroups is not None:
            pids.update(self.cgroups.pids())
        if self.uid is not None:
            pids.update(pids_of_uid(self.uid.uid))
        elif self.popen is not None:
            pids.update(children_of(self.popen.pid))
        return sorted(pids)

    def kill_all(self, keep: int | None = None) -> int:
        """SIGKILL every sandbox process but ``keep``; returns how many were signalled."""
        killed = 0
        for _ in range(20):  # a fork bomb may fork while we kill: repeat until nothing is left
            pids = [p for p in self.pids() if p != keep]
            if not pids:
                break
            killed += kill_pids(pids, keep=keep)
            time.sleep(0.02)
        return killed

    def kill_strays(self) -> int:
        """Kill the processes a cell left behind (the kernel itself stays)."""
        return self.kill_all(keep=self.popen.pid) if self.alive() and self.popen is not None else 0

    def stop(self) -> None:
        """Kill the kernel and everything it started."""
        if self.popen is not None:
            with contextlib.suppress(OSError):
                self.popen.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=5)
            self.popen = None
        self.kill_all()

    # ------------------------------------------------------------------ teardown
    def shutdown(self) -> None:
        """After :meth:`stop`: remove the cgroups and kill whatever still runs as the sandbox uid."""
        if self.cgroups is not None:
            self.cgroups.remove()
        if self.uid is not None:
            with contextlib.suppress(OSError):
                kill_pids(pids_of_uid(self.uid.uid))

    def release(self) -> None:
        """Give the uid back and delete the private state (HOME, TMPDIR, sockets)."""
        if self.uid is not None:
            self.uid.release()
        if self.statedir is not None:
            shutil.rmtree(self.statedir, ignore_errors=True)


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
