"""``Sandbox``: one isolated, stateful IPython kernel (jupyter_client + ipykernel in a child process).

    from calltune.sandbox import Sandbox
    with Sandbox(workdir="work", timeout=30, memory_mb=1024) as sb:
        sb.upload("data.jsonl")                  # -> "/mnt/data/data.jsonl"
        r = sb.run("import pandas as pd; pd.read_json('data.jsonl', lines=True).isna().sum()")
        print(r.text, r.error, r.images)

Isolation is described in ``docs/sandbox.md``; ``Sandbox.isolation`` reports what is active. The
parts: :mod:`.workspace` (the working directory), :mod:`.plan` (which layers), :mod:`.process`
(the kernel process and its launch), :mod:`.channels` (talking to the kernel, collecting a
cell's output), :mod:`.images` (figures and image files), :mod:`.startup` (code run inside).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .channels import KernelChannels
from .errors import SandboxError
from .images import CellImages
from .isolation import probe_capabilities
from .limits import Limits
from .outputs import OutputCopier
from .plan import IsolationMode, IsolationPlan, describe_isolation, isolation_report, plan_isolation
from .process import KernelProcess
from .result import CellResult
from .startup import REAP_CODE
from .workspace import Workspace, upload_source

__all__ = ["IsolationMode", "Limits", "Sandbox", "SandboxError"]


class Sandbox:
    """One conversation's Python kernel.

    ``workdir``: host directory the code works in (created if missing; a temporary one that is
    deleted on ``close()`` when None). Inside the sandbox it is also visible at ``mount_at``
    (``/mnt/data``) when a mount namespace is available, and the kernel starts there.
    ``isolation``: "auto" (strongest available, reported in :attr:`isolation`), "strict" (raise
    :class:`SandboxError` unless both the network and filesystem writes are blocked by the
    operating system), "none" (resource limits and a clean environment only; for debugging).
    ``out_dir``: a host folder (created when first needed) where the files each cell creates or
    changes in the working directory, figures included, are copied; the cell's observation
    names each copy (:mod:`.outputs`). None: nothing is copied.
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
        out_dir: str | os.PathLike[str] | None = None,
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
        self._workspace = Workspace(workdir)
        self.workdir = self._workspace.path
        self._mount_at_req = mount_at
        self.kill_strays = kill_strays
        self.python = python or sys.executable
        self._lock = threading.RLock()
        self._kernel = KernelProcess(self.python, self.limits, self._workspace)
        self._channels = KernelChannels(self._kernel, self.limits.startup_timeout)
        self._images = CellImages(self._workspace)
        self._outputs = OutputCopier(self._workspace, out_dir) if out_dir is not None else None
        self._plan: IsolationPlan | None = None
        self._closed = False
        # what interrupt() may stop: runs are numbered as they are asked for; a run not started
        # when interrupt() comes (waiting for the kernel or for the cell before it) never starts
        self._calls = threading.Lock()
        self._asked = self._done = self._cancel_upto = 0
        self._running = False
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
        return self._kernel.popen is not None

    @property
    def _proc(self) -> subprocess.Popen[bytes] | None:
        """The kernel's launcher process (the kernel itself after its exec)."""
        return self._kernel.popen

    @property
    def _kc(self) -> Any:
        """The jupyter_client ``BlockingKernelClient`` of the running kernel."""
        return self._channels.client

    def start(self) -> Sandbox:
        """Start the kernel (``run`` does this on first use)."""
        with self._lock:
            if self._closed:
                raise SandboxError("this sandbox is closed")
            if self._kernel.popen is None:
                self._ensure_prepared()
                self._launch()
        return self

    def _ensure_prepared(self) -> None:
        with self._lock:
            if self._closed:
                raise SandboxError("this sandbox is closed")
            if self._plan is None:
                caps = probe_capabilities()
                plan = plan_isolation(self.mode, caps, self._mount_at_req)
                self._workspace.mount_at = plan.mount_at
                self._kernel.prepare(plan, caps)
                self._plan = plan

    def close(self) -> None:
        """Stop the kernel, kill everything it started, remove its private state (HOME, TMPDIR)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop_kernel()
            self._kernel.shutdown()
            if self._kernel.uid is not None and not self._workspace.owned:
                self._workspace.give_back()
            self._kernel.release()
            self._workspace.remove()

    def restart(self) -> None:
        """Kill the kernel and start a fresh one (all state is lost; files in the workdir stay)."""
        with self._lock:
            self.start()
            self._relaunch()

    def _launch(self) -> None:
        self._kernel.launch()
        self._channels.connect()
        self._kernel.read_report()

    def _relaunch(self) -> None:
        self._stop_kernel()
        self._launch()
        self.restarts += 1

    def _stop_kernel(self) -> None:
        self._channels.stop()
        self._kernel.stop()

    # ------------------------------------------------------------------ public helpers
    @property
    def sandbox_dir(self) -> str:
        """The working directory as the code sees it (``/mnt/data`` with a mount namespace)."""
        self._ensure_prepared()
        return self._workspace.sandbox_dir

    def sandbox_path(self, host_path: str | os.PathLike[str]) -> str:
        """Map a host path inside the workdir to the path the code sees."""
        self._ensure_prepared()
        return self._workspace.sandbox_path(host_path)

    def host_path(self, sandbox_path: str) -> Path:
        """Map a path as the code sees it to the host path (must stay inside the workdir)."""
        self._ensure_prepared()
        return self._workspace.host_path(sandbox_path)

    def upload(self, path: str | os.PathLike[str], name: str | None = None) -> str:
        """Copy a host file into the working directory; returns its path as the code sees it."""
        src, fname = upload_source(path, name)
        self._ensure_prepared()
        return self._workspace.sandbox_path(self._workspace.put(fname, src.read_bytes()))

    def files(self) -> list[str]:
        """Files in the working directory (relative paths)."""
        return self._workspace.files()

    @property
    def isolation(self) -> dict[str, Any]:
        """What protects this sandbox right now: network, filesystem, user, limits, layers."""
        self.start()
        assert self._plan is not None
        cgroups = self._kernel.cgroups.kinds if self._kernel.cgroups else []
        return isolation_report(self._plan, self._kernel.report, self.limits, cgroups, self.sandbox_dir)

    def describe_isolation(self) -> str:
        return describe_isolation(self.isolation, self.limits)

    @property
    def out_dir(self) -> Path | None:
        """Where the files the code writes are copied (None: they are not)."""
        return self._outputs.out_dir if self._outputs is not None else None

    def interrupt(self) -> bool:
        """Interrupt the cell running now (a ``KeyboardInterrupt`` inside it; :meth:`run` then
        returns its result as usual); runs asked for and not started yet return at once with a
        ``KeyboardInterrupt`` error. False when there was nothing to interrupt."""
        with self._calls:
            self._cancel_upto = self._asked
            if self._running and self._kernel.alive():
                self._kernel.interrupt()
            return self._asked > self._done

    # ------------------------------------------------------------------ running code
    def run(self, code: str, timeout: float | None = None) -> CellResult:
        """Run one cell; state persists across calls. Never raises for problems in the code."""
        if not isinstance(code, str):
            raise TypeError(f"code must be a str, got {type(code).__name__}")
        with self._calls:
            self._asked += 1
            ticket = self._asked
        try:
            return self._run(code, timeout, ticket)
        finally:
            with self._calls:
                self._done += 1

    def _run(self, code: str, timeout: float | None, ticket: int) -> CellResult:
        with self._lock:
            self.start()
            res = CellResult()
            if not self._kernel.alive():
                reason = self._kernel.death_reason()
                self._relaunch()
                res.restarted = True
                res.notes.append(f"[the previous kernel had died ({reason})]")
            t0 = time.monotonic()
            before = self._images.snapshot()
            written = self._outputs.snapshot() if self._outputs is not None else {}
            with self._calls:
                self._running = ticket > self._cancel_upto
            if not self._running:
                res.error = "KeyboardInterrupt: interrupted before the cell started"
                return res
            try:
                self._channels.run_cell(
                    code,
                    timeout or self.limits.timeout,
                    self.limits,
                    res,
                    save_png=self._images.save_png,
                    relaunch=self._relaunch,
                )
            finally:
                self._running = False
            if self.kill_strays:
                n = self._kernel.kill_strays()
                if n:
                    res.notes.append(f"[{n} background process(es) left by the cell were stopped]")
                    self._channels.silent(REAP_CODE)
            self._images.add_new_files(before, res)
            if self._outputs is not None:
                self._outputs.copy_new(written, res)
            res.elapsed_s = time.monotonic() - t0
            return res
